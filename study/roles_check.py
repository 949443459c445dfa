"""Which does what: the learner matches each of an item's roles to what it does, checked exactly.

The typed-answer grader misses a third of the answers that swap two named things inside a fluent
sentence ("beta scales and gamma shifts"; docs/grading.md). A match between the item's own roles cannot
be fooled that way, so on an item with roles a Quiz answer the grader rates Good or Easy is suggested as Hard
until every role is matched right (study/self_check.py): a fluent swap cannot earn a Good by its wording alone."""

from __future__ import annotations

import random
from dataclasses import dataclass

from qa_bank.schema import QAItem

UNANSWERED = "…"  # what a role's choice shows before the learner picks a subject


@dataclass(frozen=True)
class RoleQuestion:
    """The item's `does` texts in a shuffled order, and the subjects to choose from (sorted)."""

    item_id: str
    does: tuple[str, ...]
    subjects: tuple[str, ...]


@dataclass(frozen=True)
class Swap:
    """One `does` given to the wrong subject: what the learner chose and whose it is."""

    does: str
    chosen: str
    right: str


@dataclass(frozen=True)
class RoleResult:
    """How a match went: roles matched right out of all, the swaps, and the roles left open."""

    right: int
    total: int
    swaps: tuple[Swap, ...]
    unanswered: int

    @property
    def passed(self) -> bool:
        return not self.swaps and not self.unanswered


def role_question(item: QAItem, seed: int) -> RoleQuestion | None:
    """None for an item with no roles. The texts are shuffled by `seed`, so their order does not give
    away the order the model answer names the subjects in."""
    if not item.roles:
        return None
    does = [role.does for role in item.roles]
    random.Random(f"{item.id}:{seed}").shuffle(does)
    return RoleQuestion(item.id, tuple(does), tuple(sorted(role.subject for role in item.roles)))


def check_roles(item: QAItem, chosen: dict[str, str]) -> RoleResult:
    """`chosen` maps each `does` text to the subject the learner picked (UNANSWERED or absent: not answered)."""
    owner = {role.does: role.subject for role in item.roles}
    picked = {does: chosen.get(does, UNANSWERED) for does in owner}
    swaps = tuple(Swap(does, picked[does], right) for does, right in owner.items() if picked[does] not in (UNANSWERED, right))
    unanswered = sum(choice == UNANSWERED for choice in picked.values())
    return RoleResult(len(owner) - len(swaps) - unanswered, len(owner), swaps, unanswered)
