"""Which is right: each misconception the item knows, set beside its true statement; the learner picks
one, checked exactly.

The typed-answer grader reads a stated misconception from its words and misses some (docs/grading.md,
blind sets G and I); a pick between the belief and its truth cannot be fooled by wording, and it asks
about the very belief the learner may hold."""

from __future__ import annotations

import random
from dataclasses import dataclass

from qa_bank.schema import Misconception, QAItem


@dataclass(frozen=True)
class BeliefQuestion:
    """One pair per misconception with a truth, in the item's order; each pair's two statements shuffled."""

    item_id: str
    pairs: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class BeliefResult:
    """How the picks went: pairs picked right out of all, the beliefs picked as right, the pairs left open."""

    right: int
    total: int
    believed: tuple[Misconception, ...]
    unanswered: int

    @property
    def passed(self) -> bool:
        return not self.believed and not self.unanswered


def asked_misconceptions(item: QAItem) -> tuple[Misconception, ...]:
    """Only a misconception with a truth is asked: a belief alone would always be the wrong pick."""
    return tuple(m for m in item.misconceptions if m.truth)


def belief_question(item: QAItem, seed: int) -> BeliefQuestion | None:
    """None for an item with nothing to ask. Each pair's order comes from `seed`, so the truth is not
    always first (or always second)."""
    asked = asked_misconceptions(item)
    if not asked:
        return None
    rng = random.Random(f"{item.id}:{seed}")
    pairs = tuple(tuple(rng.sample((m.belief, m.truth), 2)) for m in asked)
    return BeliefQuestion(item.id, pairs)  # type: ignore[arg-type]  # each sample is a pair


def check_beliefs(item: QAItem, picked: list[str | None]) -> BeliefResult:
    """`picked[n]` is the statement the learner chose for the n-th pair (None: not answered)."""
    asked = asked_misconceptions(item)
    picks = [*picked, *[None] * (len(asked) - len(picked))][: len(asked)]
    believed = tuple(m for m, pick in zip(asked, picks, strict=True) if pick == m.belief)
    right = sum(pick == m.truth for m, pick in zip(asked, picks, strict=True))
    # Anything else (None, or a statement that is neither) counts as left open, never as right.
    return BeliefResult(right, len(asked), believed, len(asked) - right - len(believed))
