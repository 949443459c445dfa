"""What the exercises' checks share: checks built from argument makers, seeded tensors and small
models, and the guards a probe puts on a learner's result before using it."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

from exercises.observe import WrongResult, capture
from exercises.report import Check, Variant, call_text, cases, values


def draw_seed(rng: random.Random) -> int:
    return rng.randrange(2**31)


def generator(seed: int):
    import torch

    return torch.Generator().manual_seed(seed)


def call_check(name: str, make_args: Callable[[], tuple], meaning: str, **compare: Any) -> Check:
    """fn(*make_args()) compared with the reference's result (report.values for the options)."""
    return Check(name, lambda fn: fn(*make_args()), values(meaning, **compare))


def cases_check(name: str, function: str, arguments: Sequence[tuple], meaning: str, **compare: Any) -> Check:
    """Several calls with plain arguments (sizes, steps...); the first that differs is shown as
    the call it was, with the expected and the learner's result."""
    labelled = [(call_text(function, *args), args) for args in arguments]

    def probe(fn):
        return [(label, capture(fn, *args)) for label, args in labelled]

    return Check(name, probe, cases(values(meaning, **compare)))


def variant(function: Callable, message: str) -> Variant:
    return Variant(function, message)


def need_tensor(value: Any, what: str, shape: tuple | None = None):
    """In a probe: the learner's `value` must be a tensor (of `shape`) before it is used."""
    import torch

    from exercises.report import kind_of

    if value is None:
        raise WrongResult(f"{what} is None: did you forget `return`?")
    if isinstance(value, int | float):
        raise WrongResult(f"{what} is a Python number: return the tensor itself (no `.item()`), so it can be backpropagated")
    if not isinstance(value, torch.Tensor):
        raise WrongResult(f"{what} is {kind_of(value)}, expected a tensor")
    if shape is not None and tuple(value.shape) != tuple(shape):
        raise WrongResult(f"{what} has shape {tuple(value.shape)}, expected {tuple(shape)}")
    return value


def learner_call(fn: Callable, *args: Any, **kwargs: Any) -> Any:
    """Call into the learner's code from inside a probe that goes on afterwards."""
    return fn(*args, **kwargs)


def weights(model) -> list:
    return [p.detach().clone() for p in model.parameters()]
