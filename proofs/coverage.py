"""Proof coverage by source document: items proved under the strict rule, partly proved, and unlinked.

Strict: the item's claim check passes as written and fails with the demo's mistake (measured now) and
the audit (proofs/audit.yaml) judged that the check proves the item's central claim. Partial: any
other item with a demo. Unlinked: an item with `unproved` and its reason."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

from qa_bank.schema import Bank

AUDIT_FILE = Path(__file__).resolve().parent / "audit.yaml"
KINDS = ("strict", "partial", "unlinked")


def audit_verdicts(path: Path = AUDIT_FILE) -> dict[str, str]:
    """item id -> "proves" or "partial", from the audit file."""
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return {entry["item"]: entry["verdict"] for entry in entries}


@dataclass(frozen=True)
class Coverage:
    by_document: dict[str, Counter]

    def totals(self) -> Counter:
        return sum(self.by_document.values(), Counter())

    def to_dict(self) -> dict[str, dict[str, int]]:
        rows = {document: {kind: counts[kind] for kind in KINDS} for document, counts in self.by_document.items()}
        return {**rows, "all": {kind: self.totals()[kind] for kind in KINDS}}

    def markdown(self) -> str:
        lines = ["| source document | strict | partial | unlinked | items |", "|---|---|---|---|---|"]
        for document, counts in [*self.by_document.items(), ("**all**", self.totals())]:
            lines.append(f"| {document} | {counts['strict']} | {counts['partial']} | {counts['unlinked']} | {sum(counts.values())} |")
        return "\n".join(lines)


def coverage(bank: Bank, caught: set[str], verdicts: dict[str, str]) -> Coverage:
    """caught: ids of items whose claim check passed as written and failed with the mistake."""
    by_document: dict[str, Counter] = {}
    for item in bank.items:
        if item.demo is None:
            kind = "unlinked"
        elif item.id in caught and verdicts.get(item.id) == "proves":
            kind = "strict"
        else:
            kind = "partial"
        by_document.setdefault(item.source.document, Counter())[kind] += 1
    return Coverage(by_document)


def caught_from_report(report: dict) -> set[str]:
    """Item ids CAUGHT in a `run-all --broken --json` report (a GPU-only demo skipped there is not)."""
    return {entry["id"] for entry in report["items"] if (entry["normal"], entry["broken"]) == ("passed", "failed")}
