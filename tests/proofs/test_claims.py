"""Each bank item with a demo names its claim check; that check passes with the demo as written and
fails with the demo's declared mistake (a side check failing does not count)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from proofs.catalogue import demo_ids
from proofs.claims import prove_item
from proofs.registry import Check, DemoResult, DemoRun
from qa_bank.loader import load_bank
from tests.proofs.runs import demo_run

REPO_ROOT = Path(__file__).resolve().parents[2]
LINKED = [item for item in load_bank().items if item.demo]


@pytest.mark.parametrize("item", LINKED, ids=[item.id for item in LINKED])
def test_claim_check_passes_as_written_and_fails_with_the_mistake(item):
    normal, broken = demo_run(item.demo), demo_run(item.demo, broken=True)
    if normal.skipped or broken.skipped:  # a demo that needs free cores may find them busy in one of its two runs
        pytest.skip(f"{item.demo}: {normal.skipped or broken.skipped}")
    claim = normal.named(item.claim_check)
    assert claim is not None, f"{item.demo} reports no check {item.claim_check!r}: {[c.name for c in normal.result.checks]}"
    assert claim.passed, claim.measured
    assert broken.error is None, broken.error
    refuted = broken.named(item.claim_check)
    assert refuted is not None and not refuted.passed, f"with '{broken.id}' broken, failed only: {broken.failed_checks}"


def _fake_run(broken: bool, checks: dict[str, bool], error: str | None = None, skipped: str | None = None) -> DemoRun:
    result = DemoResult([Check(name, passed, {"x": 1.0}) for name, passed in checks.items()])
    return DemoRun("d", all(checks.values()), 0.0, result, skipped=skipped, broken=broken, error=error)


@pytest.mark.parametrize(
    ("normal", "broken", "expected", "detail"),
    [
        ({"claim": True, "side": True}, {"claim": False, "side": True}, ("passed", "failed", "CAUGHT"), ""),
        ({"claim": True, "side": True}, {"claim": True, "side": False}, ("passed", "passed", "MISSED"), "only side checks failed: side"),
        ({"claim": False}, {"claim": False}, ("failed", "failed", "MISSED"), "fails with the demo as written"),
        ({"side": True}, {"side": False}, ("failed", "passed", "MISSED"), "no check named 'claim'"),
        ({"claim": True}, {}, ("passed", "passed", "MISSED"), "never reports the claim check"),
    ],
)
def test_an_item_is_caught_only_by_its_own_check(normal, broken, expected, detail):
    proof = prove_item("item", "d", "claim", _fake_run(False, normal), _fake_run(True, broken))
    assert (proof.normal, proof.broken, proof.status) == expected
    assert detail in proof.detail


def test_an_exception_under_the_mistake_is_not_a_refutation():
    proof = prove_item("item", "d", "claim", _fake_run(False, {"claim": True}), _fake_run(True, {}, error="ValueError: boom"))
    assert proof.status == "MISSED" and "raised (ValueError: boom)" in proof.detail


def test_a_gpu_demo_skips_with_its_reason():
    why = "needs a CUDA GPU; none is available here"
    proof = prove_item("item", "d", "claim", _fake_run(False, {}, skipped=why), _fake_run(True, {}, skipped=why))
    assert (proof.normal, proof.broken, proof.status, proof.detail) == ("skipped", "skipped", "SKIP", why)


def test_run_all_broken_json_reports_every_linked_item():
    ran = subprocess.run([sys.executable, "-m", "proofs", "run-all", "--broken", "--json"], capture_output=True, text=True, cwd=REPO_ROOT)
    report = json.loads(ran.stdout)
    assert [entry["id"] for entry in report["items"]] == [item.id for item in LINKED]
    for entry, item in zip(report["items"], LINKED, strict=True):
        assert (entry["demo"], entry["claim_check"]) == (item.demo, item.claim_check)
        assert entry["normal"] in ("passed", "failed", "skipped") and entry["broken"] in ("failed", "passed", "skipped")
    # a demo that needs free cores may find them busy in either of its two runs: either skip is a SKIP (prove_item)
    ran_items = [entry for entry in report["items"] if "skipped" not in (entry["normal"], entry["broken"])]
    missed = [entry["id"] for entry in ran_items if (entry["normal"], entry["broken"]) != ("passed", "failed")]
    assert ran.returncode == (1 if missed else 0) and not missed, missed
    assert report["summary"]["items_caught"] + report["summary"]["items_skipped"] == len(LINKED)
    assert {entry["id"] for entry in report["demos"]} == set(demo_ids())
    assert all(entry["caught"] and entry["failed_checks"] and entry["normal_passed"] for entry in report["demos"] if not entry["skipped"])


def test_run_all_broken_text_names_each_item_caught_or_missed(monkeypatch, capsys):
    import proofs.__main__ as cli

    monkeypatch.setattr(cli, "run_both", lambda: {demo_id: (demo_run(demo_id), demo_run(demo_id, broken=True)) for demo_id in demo_ids()})
    assert cli.main(["run-all", "--broken"]) == 0
    lines = capsys.readouterr().out.splitlines()
    first = next(line for line in lines if LINKED[0].id in line)
    assert first.split()[0] in ("CAUGHT", "SKIP") and f"{LINKED[0].demo} :: {LINKED[0].claim_check}" in first
    assert lines[-1].startswith(f"items: {sum(1 for line in lines if line.startswith('CAUGHT ') and '::' in line)} caught")
