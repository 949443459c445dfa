"""Per-item verdicts: does the check an item names (its `claim_check`) pass with the demo as written
and fail with the demo's declared mistake? Only that check counts; a side check failing under the
mistake does not prove the item."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from proofs.catalogue import all_demos
from proofs.registry import DemoRun, run


@dataclass(frozen=True)
class ItemProof:
    """One bank item's proof: its demo, its claim check, and that check's verdict in both runs."""

    id: str
    demo: str
    claim_check: str
    normal: str  # "passed" | "failed" | "skipped"
    broken: str  # "failed" (the mistake refutes the claim: caught) | "passed" | "skipped"
    detail: str = ""  # why an item is missed, in one line

    @property
    def status(self) -> str:
        """CAUGHT, MISSED or SKIP, as `run-all --broken` prints it."""
        if "skipped" in (self.normal, self.broken):
            return "SKIP"
        return "CAUGHT" if self.normal == "passed" and self.broken == "failed" else "MISSED"

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def _missed_because(claim_check: str, normal: DemoRun, broken: DemoRun) -> str:
    if normal.skipped or broken.skipped:
        return normal.skipped or broken.skipped
    if normal.named(claim_check) is None:
        return f"the demo reports no check named {claim_check!r}"
    if normal.claim_verdict(claim_check) == "failed":
        return "the claim check fails with the demo as written"
    if broken.error:
        return f"with the mistake the demo raised ({broken.error}); an exception is not a refutation"
    if broken.named(claim_check) is None:
        return "with the mistake the demo never reports the claim check"
    if broken.claim_verdict(claim_check) == "passed":
        side = ", ".join(broken.failed_checks)
        return "with the mistake the claim check still passes" + (f" (only side checks failed: {side})" if side else "")
    return ""


def prove_item(item_id: str, demo_id: str, claim_check: str, normal: DemoRun, broken: DemoRun) -> ItemProof:
    """The verdict for one item from its demo's normal and broken runs."""
    return ItemProof(
        item_id,
        demo_id,
        claim_check,
        normal.claim_verdict(claim_check),
        broken.claim_verdict(claim_check),
        _missed_because(claim_check, normal, broken),
    )


def run_both(demo_ids: list[str] | None = None) -> dict[str, tuple[DemoRun, DemoRun]]:
    """Each demo (default: all) run as written and with its mistake: id -> (normal, broken)."""
    demos = [d for d in all_demos() if demo_ids is None or d.id in demo_ids]
    return {d.id: (run(d), run(d, broken=True)) for d in demos}


def prove_bank_items(runs: dict[str, tuple[DemoRun, DemoRun]]) -> list[ItemProof]:
    """A verdict for every bank item with a demo, in bank order."""
    from qa_bank.loader import load_bank

    proofs = []
    for item in load_bank().items:
        if item.demo and item.claim_check:
            normal, broken = runs[item.demo]
            proofs.append(prove_item(item.id, item.demo, item.claim_check, normal, broken))
    return proofs
