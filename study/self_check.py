"""What the Quiz's exact checks do to a suggested rating: "Which does what?" (study/roles_check.py) and
"Which is right?" (study/belief_check.py). On an item that asks either, a Good or Easy stands only once
every check it asks is passed; before that, or after a wrong pick, it is held at Hard, because the typed
answer's grader can be fooled by a fluent reversal and these checks cannot."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from qa_bank.schema import QAItem
from study.belief_check import BeliefResult, asked_misconceptions
from study.roles_check import RoleResult


class CheckResult(Protocol):
    @property
    def passed(self) -> bool: ...


@dataclass(frozen=True)
class SelfCheck:
    """One check the item asks: what the learner is told to do, and its result once checked (None: not yet)."""

    todo: str
    result: CheckResult | None

    @property
    def pending(self) -> bool:
        return self.result is None


def self_checks(item: QAItem, roles: RoleResult | None, beliefs: BeliefResult | None) -> list[SelfCheck]:
    """The checks `item` asks, in the order the page shows them."""
    checks = [SelfCheck("match the roles", roles)] if item.roles else []
    return checks + ([SelfCheck("pick the right statements", beliefs)] if asked_misconceptions(item) else [])


def asks_checks(item: QAItem) -> bool:
    """Whether the item asks any exact check at all."""
    return bool(self_checks(item, None, None))


def rating_after_checks(suggested: str, checks: list[SelfCheck]) -> str:
    """A Good or Easy stands only once every check passed; Again and Hard are left as they are."""
    if suggested not in ("Good", "Easy") or all(c.result is not None and c.result.passed for c in checks):
        return suggested
    return "Hard"


def held_because(suggested: str, checks: list[SelfCheck]) -> str:
    """Why a rating was held, for the caption beside it ("" if it was not)."""
    if rating_after_checks(suggested, checks) == suggested:
        return ""
    if any(c.result is not None and not c.result.passed for c in checks):
        return "held at Hard: a check went wrong"
    return f"your answer reads {suggested}: {' and '.join(c.todo for c in checks if c.pending)} to earn it"
