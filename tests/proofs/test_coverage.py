"""The coverage table: strict only where the claim check was caught and the audit says it proves the claim."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from proofs.coverage import AUDIT_FILE, audit_verdicts, caught_from_report, coverage
from qa_bank.loader import load_bank
from qa_bank.schema import Bank, QAItem, Source, Unproved

REPO_ROOT = Path(__file__).resolve().parents[2]


def _item(item_id: str, document: str, demo: str | None) -> QAItem:
    unproved = None if demo else Unproved("opinion", "a judgement")
    return QAItem(item_id, "q", "a", ("short",), ("autograd",), 1, Source(document, 1), ("a", "b"), demo=demo,
                  claim_check="c" if demo else None, unproved=unproved)  # fmt: skip


def test_strict_needs_both_the_measured_catch_and_the_audit():
    bank = Bank(items=[_item("caught-proves", "A", "d"), _item("caught-partial", "A", "d"), _item("missed-proves", "B", "d"),
                       _item("unaudited", "B", "d"), _item("unproved", "B", None)])  # fmt: skip
    verdicts = {"caught-proves": "proves", "caught-partial": "partial", "missed-proves": "proves"}
    table = coverage(bank, {"caught-proves", "caught-partial", "unaudited"}, verdicts).to_dict()
    assert table["A"] == {"strict": 1, "partial": 1, "unlinked": 0}
    assert table["B"] == {"strict": 0, "partial": 2, "unlinked": 1}
    assert table["all"] == {"strict": 1, "partial": 3, "unlinked": 1}


def test_only_passed_then_failed_counts_as_caught():
    verdicts = {"a": ("passed", "failed"), "b": ("passed", "passed"), "c": ("skipped", "skipped"), "d": ("failed", "failed")}
    report = {"items": [{"id": k, "normal": normal, "broken": broken} for k, (normal, broken) in verdicts.items()]}
    assert caught_from_report(report) == {"a"}


def test_every_audit_entry_is_a_linked_bank_item_with_a_verdict():
    items = load_bank().by_id()
    entries = yaml.safe_load(AUDIT_FILE.read_text())
    assert len({e["item"] for e in entries}) == len(entries)
    for entry in entries:
        assert entry["item"] in items and items[entry["item"]].demo, entry
        assert entry["verdict"] in ("proves", "partial"), entry
        assert entry["verdict"] == "proves" or entry.get("why"), entry
    assert set(audit_verdicts()) == {e["item"] for e in entries}


@pytest.mark.parametrize("as_json", [False, True])
def test_cli_coverage_from_a_saved_report(tmp_path, as_json):
    bank = load_bank()
    linked = [item for item in bank.items if item.demo]
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"items": [{"id": i.id, "normal": "passed", "broken": "failed"} for i in linked]}))
    command = [sys.executable, "-m", "proofs", "coverage", "--report", str(report)] + (["--json"] if as_json else [])
    ran = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT)
    assert ran.returncode == 0, ran.stderr
    proves = sum(1 for v in audit_verdicts().values() if v == "proves")
    if as_json:
        totals = json.loads(ran.stdout)["all"]
        assert totals == {"strict": proves, "partial": len(linked) - proves, "unlinked": len(bank.items) - len(linked)}
    else:
        last = ran.stdout.strip().splitlines()[-1]
        assert last == f"| **all** | {proves} | {len(linked) - proves} | {len(bank.items) - len(linked)} | {len(bank.items)} |"
