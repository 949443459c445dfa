"""The checks' side of a check run: each check compares the learner's function with the
reference and records passed, failed (expected against got, and the mistake it points at), or
an error with the learner's own traceback lines only."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

LEARNER_FILE = "<your code>"  # the filename the learner's source is compiled under


class LearnerError(Exception):
    """The learner's code raised; carries the lines of the traceback that are theirs."""

    def __init__(self, summary: str) -> None:
        super().__init__(summary)
        self.summary = summary


@dataclass(frozen=True)
class CheckOutcome:
    name: str
    status: str  # "passed", "failed", "error"
    expected: str = ""
    got: str = ""
    message: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "expected": self.expected, "got": self.got, "message": self.message}


def learner_traceback(error: BaseException) -> str:
    """The exception with only the frames in the learner's own code: the checker's frames would
    only distract."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == LEARNER_FILE]
    lines = [f"line {f.lineno}, in {f.name}: {(f.line or '').strip()}" for f in frames]
    return "\n".join([*lines, f"{type(error).__name__}: {error}"])


def describe(value: Any) -> str:
    """A short text for expected/got: tensors by shape, dtype and a few values."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a project dependency
        torch = None
    if torch is not None and isinstance(value, torch.Tensor):
        flat = value.detach().flatten()[:6].tolist()
        shown = ", ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in flat)
        more = ", ..." if value.numel() > 6 else ""
        return f"tensor of shape {tuple(value.shape)}, {str(value.dtype).replace('torch.', '')}: [{shown}{more}]"
    if isinstance(value, float):
        return f"{value:.6g}"
    text = repr(value)
    return text if len(text) <= 160 else text[:157] + "..."


@dataclass
class Report:
    outcomes: list[CheckOutcome] = field(default_factory=list)

    def call(self, fn: Callable, *args: Any, **kwargs: Any) -> Any:
        """Call the learner's code; an exception becomes LearnerError with their traceback lines."""
        try:
            return fn(*args, **kwargs)
        except Exception as error:  # noqa: BLE001 - any learner exception is reported, not raised
            raise LearnerError(learner_traceback(error)) from None

    def check(self, name: str, body: Callable[[], tuple[bool, Any, Any, str]], if_error: str = "") -> bool:
        """Run one check. `body` returns (ok, expected, got, what a failure usually means);
        `if_error` says what an exception in the learner's code here usually means."""
        try:
            ok, expected, got, meaning = body()
        except LearnerError as error:
            unwritten = error.summary.splitlines()[-1].startswith("NotImplementedError")
            likely = f"\nLikely: {if_error}" if if_error and not unwritten else ""  # a starter stub needs no diagnosis
            self.outcomes.append(CheckOutcome(name, "error", message=error.summary + likely))
            return False
        status = "passed" if ok else "failed"
        self.outcomes.append(CheckOutcome(name, status, describe(expected), describe(got), "" if ok else meaning))
        return ok

    @property
    def passed(self) -> bool:
        return bool(self.outcomes) and all(o.passed for o in self.outcomes)


def same(got: Any, expected: Any, atol: float = 1e-5) -> bool:
    """Equal within atol: tensors by shape and values, numbers, and sequences element by element."""
    import torch

    if isinstance(expected, torch.Tensor):
        return isinstance(got, torch.Tensor) and got.shape == expected.shape and torch.allclose(got.double(), expected.double(), atol=atol)
    if isinstance(expected, int | float) and not isinstance(expected, bool):
        return isinstance(got, int | float) and not isinstance(got, bool) and abs(float(got) - float(expected)) <= atol
    if isinstance(expected, tuple | list):
        return (
            isinstance(got, tuple | list)
            and len(got) == len(expected)
            and all(same(g, e, atol) for g, e in zip(got, expected, strict=True))
        )
    return got == expected


def compare(
    report: Report, name: str, learner: Callable, reference: Callable, make_args: Callable, meaning: str, atol: float = 1e-5
) -> bool:
    """Call both on fresh copies of the same arguments and compare the results."""

    def body():
        expected = reference(*make_args())
        got = report.call(learner, *make_args())
        return same(got, expected, atol), expected, got, meaning

    return report.check(name, body, if_error=meaning)
