"""What an exercise is: a prompt, a starter stub, a reference solution, a hint, the bank items
it practises, hidden checks, and the typical mistakes those checks must catch."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Mistake:
    """A wrong solution a learner typically writes, and a word the failing check's message must
    contain so the learner is told which mistake it is."""

    name: str  # "forgetting optimizer.zero_grad()"
    code: str
    named_by: str  # a phrase of the failure message, e.g. "zero_grad"


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    function: str  # the name the learner's code must define (a function or a class)
    prompt: str  # Markdown
    starter: str
    solution: str
    hint: str
    checks: Callable  # checks(rng) -> [Check]: the hidden checks, their cases drawn from rng
    mistakes: tuple[Mistake, ...]
    items: tuple[str, ...] = field(default_factory=tuple)  # bank item ids it practises

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "title": self.title, "function": self.function, "items": list(self.items)}

    def build_checks(self, seed: int) -> list:
        """The checks with their cases drawn from `seed`: the learner's process and the judge
        build the same ones from the same seed."""
        return list(self.checks(random.Random(seed)))
