"""The judging side of a check: what a check is (a probe that runs an implementation on inputs
it draws, and a comparison of the learner's observation with the reference's), and how a
difference becomes a verdict: failed with expected against got and the problem named from what
was observed (None, a tensor for a float, a shape, a known mistake's exact output), or an
error with the learner's own traceback lines only."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from exercises.observe import Opaque, Raised

MEMORY_HINT = "your code asked for more memory than the checks allow (a huge tensor, or a list that never stops growing?)"


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


@dataclass(frozen=True)
class Finding:
    """Why a check did not pass: "failed" (a wrong result) or "error" (the code raised)."""

    status: str
    expected: str
    got: str
    message: str


@dataclass(frozen=True)
class Variant:
    """A known wrong implementation: when the learner's observation equals its observation
    exactly, its message names the mistake (the hint follows the failure observed)."""

    function: Callable
    message: str


@dataclass
class Context:
    """What a comparison may ask of the judge: the learner-facing name of the function, and
    this check's probe run with another implementation of ours (a known mistake)."""

    function: str
    run_probe: Callable[[Callable], Any]
    pick: Callable[[Any], Any] = field(default=lambda observation: observation)
    _seen: dict = field(default_factory=dict)

    def observe(self, implementation: Callable) -> Any:
        key = id(implementation)
        if key not in self._seen:
            self._seen[key] = (implementation, self.run_probe(implementation))  # the tuple keeps `implementation` alive
        return self.pick(self._seen[key][1])

    def narrowed(self, pick: Callable[[Any], Any]) -> Context:
        return Context(self.function, self.run_probe, lambda observation: pick(self.pick(observation)), self._seen)


Compare = Callable[[Any, Any, Context], "Finding | None"]


@dataclass(frozen=True)
class Check:
    """One hidden check. `probe(fn)` runs `fn` (the learner's or the reference) on inputs it
    makes itself from values drawn when the check was built, and returns what to compare;
    it runs in the learner's process for the learner and in the judge for the reference.
    `compare(expected, got, context)` runs in the judge only."""

    name: str
    probe: Callable[[Callable], Any]
    compare: Compare
    on_error: str = ""  # what an exception here usually means, when the probe stopped on one


# ---------------------------------------------------------------- showing values


def kind_of(value: Any) -> str:
    """'a tensor', 'a Python float'... for messages about a result of the wrong type."""
    import numpy as np
    import torch

    if value is None:
        return "None"
    if isinstance(value, bool | np.bool_):
        return "a bool"
    if isinstance(value, torch.Tensor):
        return "a tensor" if value.dim() else "a 0-d tensor"
    if isinstance(value, np.ndarray):
        return "a NumPy array"
    if isinstance(value, numbers.Integral):
        return "an int"
    if isinstance(value, numbers.Real):
        return "a float"
    if isinstance(value, Opaque):
        return f"a {value.type}"
    return {list: "a list", tuple: "a tuple", dict: "a dict", str: "a string"}.get(type(value), f"a {type(value).__name__}")


def show(value: Any, digits: int = 6) -> str:
    import numpy as np
    import torch

    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return _number(float(value), digits)
    if isinstance(value, torch.Tensor | np.ndarray):
        return _array(value, digits)
    if isinstance(value, Raised):
        return value.summary.splitlines()[-1]
    if isinstance(value, Opaque):
        return f"a {value.type}" + (f": {value.text}" if value.text else "")
    if isinstance(value, tuple | list):
        inner = ", ".join(show(v, digits) for v in value[:8]) + (", ..." if len(value) > 8 else "")
        return f"({inner}{',' if len(value) == 1 else ''})" if isinstance(value, tuple) else f"[{inner}]"
    text = repr(value)
    return text if len(text) <= 160 else text[:157] + "..."


def _number(value: float, digits: int) -> str:
    if math.isnan(value) or math.isinf(value):
        return str(value)
    return f"{value:.{digits}g}"


def _array(value: Any, digits: int) -> str:
    import torch

    flat = value.detach().reshape(-1)[:6].tolist() if isinstance(value, torch.Tensor) else value.reshape(-1)[:6].tolist()
    shown = ", ".join(_number(v, min(digits, 4)) if isinstance(v, float) else str(v) for v in flat)
    more = ", ..." if math.prod(value.shape) > 6 else ""
    name = "tensor" if isinstance(value, torch.Tensor) else "array"
    dtype = str(value.dtype).replace("torch.", "")
    return f"{name} of shape {tuple(value.shape)}, {dtype}: [{shown}{more}]"


def _digits_to_tell(expected: float, got: float) -> int:
    """The fewest significant digits (6 at least) at which the two print differently."""
    for digits in range(6, 18):
        if _number(expected, digits) != _number(got, digits):
            return digits
    return 17


def relative_error(expected: float, got: float) -> float:
    return abs(got - expected) / max(abs(expected), 1e-12)


def error_text(expected: float, got: float) -> str:
    """'relative error 1.2e-07', or the absolute error where the expected value is 0."""
    if expected == 0:
        return f"off by {abs(got):.2g}"
    return f"relative error {relative_error(expected, got):.1e}"


# ---------------------------------------------------------------- comparing


@dataclass(frozen=True)
class Mismatch:
    kind: str  # "none", "type", "length", "keys", "shape", "dtype", "nonfinite", "value"
    expected: str
    got: str
    message: str  # a generic line; the check's own meaning follows it for value mismatches
    ratio: float | None = None  # got / expected, for scalar value mismatches


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    import numpy as np

    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def close(expected: float, got: float, rtol: float, atol: float) -> bool:
    if math.isnan(expected):
        return math.isnan(got)
    return got == expected or abs(got - expected) <= atol + rtol * abs(expected)


def mismatch(
    expected: Any, got: Any, rtol: float = 1e-5, atol: float = 1e-6, exact_dtype: bool = False, where: str = ""
) -> Mismatch | None:
    """How `got` differs from `expected`, or None when it matches within tolerance."""
    import numpy as np
    import torch

    at = f" ({where})" if where else ""
    if isinstance(got, Raised):
        return Mismatch("type", show(expected), got.summary, f"raised {got.type}{at}")
    if expected is None:
        return None if got is None else Mismatch("type", "None", show(got), f"returned {kind_of(got)}{at}, expected None")
    if got is None:
        return Mismatch("none", show(expected), "None", f"returned None{at}: did you forget `return`?")
    if isinstance(expected, bool | np.bool_):
        if not isinstance(got, bool | np.bool_):
            return Mismatch("type", show(expected), show(got), f"returned {kind_of(got)}{at}: return True or False")
        return None if bool(got) == bool(expected) else Mismatch("value", show(expected), show(got), "")
    if _is_int(expected):
        return _int_mismatch(expected, got, at)
    if _is_real(expected):
        return _real_mismatch(float(expected), got, rtol, atol, at)
    if isinstance(expected, torch.Tensor | np.ndarray):
        return _array_mismatch(expected, got, rtol, atol, exact_dtype, at)
    if isinstance(expected, tuple | list):
        return _sequence_mismatch(expected, got, rtol, atol, exact_dtype, where)
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return Mismatch("type", "a dict", show(got), f"returned {kind_of(got)}{at}, expected a dict")
        if set(got) != set(expected):
            keys = lambda d: sorted(map(str, d))  # noqa: E731
            return Mismatch("keys", f"keys {keys(expected)}", f"keys {keys(got)}", f"the keys differ{at}")
        for key in expected:
            found = mismatch(expected[key], got[key], rtol, atol, exact_dtype, f"{where} [{key!r}]".strip())
            if found:
                return found
        return None
    if isinstance(expected, Opaque):
        same_type = isinstance(got, Opaque) and got.type == expected.type
        return None if same_type else Mismatch("type", show(expected), show(got), f"returned {kind_of(got)}{at}")
    return None if got == expected else Mismatch("value", show(expected), show(got), "")


def _int_mismatch(expected: Any, got: Any, at: str) -> Mismatch | None:
    import torch

    if _is_int(got):
        return None if int(got) == int(expected) else Mismatch("value", show(expected), show(got), "", _ratio(expected, got))
    if _is_real(got):
        message = f"returned {show(got)} (a float){at}: the answer is a whole number, use `//` (floor division) or int()"
        return Mismatch("type", show(expected), show(got), message)
    if isinstance(got, torch.Tensor) and got.numel() == 1:
        return Mismatch("type", show(expected), show(got), f"returned a tensor{at}: return a Python int (`.item()`)")
    return Mismatch("type", show(expected), show(got), f"returned {kind_of(got)}{at}, expected an int")


def _real_mismatch(expected: float, got: Any, rtol: float, atol: float, at: str) -> Mismatch | None:
    import numpy as np
    import torch

    if isinstance(got, torch.Tensor | np.ndarray):
        what = "a tensor" if isinstance(got, torch.Tensor) else "a NumPy array"
        fix = "`.item()`" if math.prod(got.shape) == 1 else "one number, not one per element"
        return Mismatch("type", show(expected), show(got), f"returned {what}{at}: return a Python float ({fix})")
    if not _is_real(got):
        return Mismatch("type", show(expected), show(got), f"returned {kind_of(got)}{at}, expected a float")
    got = float(got)
    if close(expected, got, rtol, atol):
        return None
    if not math.isfinite(got) and math.isfinite(expected):
        return Mismatch("nonfinite", show(expected), show(got), f"got {got}{at}: the computation overflowed or divided by zero")
    digits = _digits_to_tell(expected, got)
    got_text = f"{_number(got, digits)} ({error_text(expected, got)})"
    return Mismatch("value", _number(expected, digits), got_text, "", _ratio(expected, got))


def _ratio(expected: float, got: float) -> float | None:
    return float(got) / float(expected) if expected else None


def _array_mismatch(expected: Any, got: Any, rtol: float, atol: float, exact_dtype: bool, at: str) -> Mismatch | None:
    import numpy as np
    import torch

    is_tensor = isinstance(expected, torch.Tensor)
    want = "a tensor" if is_tensor else "a NumPy array"
    if is_tensor and isinstance(got, np.ndarray):
        return Mismatch(
            "type", show(expected), show(got), f"returned a NumPy array{at}: return a torch tensor (torch.from_numpy or torch.tensor)"
        )
    if is_tensor and _is_real(got) and not expected.dim():
        return Mismatch(
            "type",
            show(expected),
            show(got),
            f"returned a Python number{at}: return the tensor itself (no `.item()`), so it can be backpropagated",
        )
    if not isinstance(got, torch.Tensor | np.ndarray):
        return Mismatch("type", show(expected), show(got), f"returned {kind_of(got)}{at}, expected {want}")
    e, g = _as_tensor(expected), _as_tensor(got)
    if tuple(e.shape) != tuple(g.shape):
        return Mismatch(
            "shape", f"shape {tuple(e.shape)}", f"shape {tuple(g.shape)}", f"the shape is {tuple(g.shape)}{at}, expected {tuple(e.shape)}"
        )
    if _dtype_kind(e) != _dtype_kind(g) or (exact_dtype and e.dtype != g.dtype):
        name = lambda t: str(t.dtype).replace("torch.", "")  # noqa: E731
        return Mismatch("dtype", f"dtype {name(e)}", f"dtype {name(g)}", f"the dtype is {name(g)}{at}, expected {name(e)}")
    e64, g64 = e.detach().double(), g.detach().double()
    bad = ~_close_mask(e64, g64, rtol, atol)
    if not bad.any():
        return None
    if not torch.isfinite(g64[bad]).all() and torch.isfinite(e64).all():
        return Mismatch("nonfinite", show(expected), show(got), f"got nan or inf{at}: the computation overflowed or divided by zero")
    excess = ((g64 - e64).abs() - atol - rtol * e64.abs()).masked_fill(~bad, -1)
    index = tuple(int(i) for i in np.unravel_index(int(excess.reshape(-1).argmax()), tuple(e.shape))) if e.dim() else ()
    ev, gv = float(e64[index]), float(g64[index])
    digits = _digits_to_tell(ev, gv)
    place = f" at {list(index)}" if index else ""
    expected_text = f"{show(expected)}; {place.strip() + ': ' if place else ''}{_number(ev, digits)}"
    differ = f"{int(bad.sum())} of {bad.numel()} values differ"
    got_text = f"{_number(gv, digits)}{place} ({error_text(ev, gv)}; {differ})"
    return Mismatch("value", expected_text, got_text, "", gv / ev if (ev and not e.dim()) else None)


def _as_tensor(value: Any):
    import torch

    return value if isinstance(value, torch.Tensor) else torch.from_numpy(value.copy())


def _dtype_kind(tensor) -> str:
    if tensor.dtype.is_floating_point:
        return "float"
    return "bool" if str(tensor.dtype).endswith("bool") else "int"


def _close_mask(e64, g64, rtol: float, atol: float):
    import torch

    return (g64 == e64) | ((g64 - e64).abs() <= atol + rtol * e64.abs()) | (torch.isnan(e64) & torch.isnan(g64))


def _sequence_mismatch(expected: Sequence, got: Any, rtol: float, atol: float, exact_dtype: bool, where: str) -> Mismatch | None:
    at = f" ({where})" if where else ""
    if not isinstance(got, tuple | list):
        return Mismatch(
            "type",
            f"{kind_of(expected)} of {len(expected)}",
            show(got),
            f"returned {kind_of(got)}{at}, expected {kind_of(expected)} of {len(expected)} values",
        )
    if len(got) != len(expected):
        return Mismatch(
            "length", f"{len(expected)} values", f"{len(got)} values", f"returned {len(got)} values{at}, expected {len(expected)}"
        )
    for index, (e, g) in enumerate(zip(expected, got, strict=True)):
        found = mismatch(e, g, rtol, atol, exact_dtype, f"{where} item {index}".strip() if len(expected) > 1 else where)
        if found:
            return found
    return None


# ---------------------------------------------------------------- verdicts


def error_finding(error: Raised, on_error: str = "") -> Finding:
    """An exception in the learner's code (or a result a probe could not use) as a verdict."""
    if error.kind == "result":
        return Finding("failed", "", "", error.message)
    if error.type == "SystemExit":
        lines = "\n".join(error.lines)
        return Finding(
            "error",
            "",
            "",
            (lines + "\n" if lines else "")
            + "your code called sys.exit() or exit(): a function returns its result, it must not end the program",
        )
    message = error.summary
    if not error.lines:
        message = f"your result could not be used: {message}"
    hint = on_error
    if error.type == "MemoryError" or any(s in error.message for s in ("can't allocate memory", "DefaultCPUAllocator", "bad_alloc")):
        hint = MEMORY_HINT
    elif error.type == "RecursionError":
        hint = "a function that calls itself without end"
    elif error.type == "NotImplementedError":
        hint = ""  # a starter stub needs no diagnosis
    return Finding("error", "", "", message + (f"\nLikely: {hint}" if hint else ""))


def first_raised(value: Any, depth: int = 0) -> Raised | None:
    """What the learner's code raised, wherever in an observation it was recorded."""
    if isinstance(value, Raised):
        return value
    if depth < 4 and isinstance(value, list | tuple | dict):
        for item in value.values() if isinstance(value, dict) else value:
            found = first_raised(item, depth + 1)
            if found is not None:
                return found
    return None


def values(meaning: str, *, rtol: float = 1e-5, atol: float = 1e-6, variants: Sequence[Variant] = (), on_error: str = "",
           exact_dtype: bool = False, percent: bool = False) -> Compare:  # fmt: skip
    """Compare an observation with the reference's: equal within tolerance, else a finding whose
    message names the problem seen (a type or shape problem, a known mistake's exact output, a
    percentage where a fraction is due), falling back on `meaning`."""

    def compare(expected: Any, got: Any, context: Context) -> Finding | None:
        error = first_raised(got)
        if error is not None:
            return error_finding(error, on_error or meaning)
        found = mismatch(expected, got, rtol, atol, exact_dtype)
        if found is None:
            return None
        return Finding("failed", found.expected, found.got, diagnose(found, got, context, meaning, variants, rtol, atol, percent))

    compare.on_error = on_error or meaning  # type: ignore[attr-defined]
    return compare


def diagnose(found: Mismatch, got: Any, context: Context, meaning: str, variants: Sequence[Variant], rtol: float, atol: float,
             percent: bool = False) -> str:  # fmt: skip
    if found.kind in ("none", "type", "dtype", "keys"):
        return found.message
    for variant in variants:
        observed = context.observe(variant.function)
        if not isinstance(observed, Raised) and mismatch(observed, got, rtol, atol) is None:
            return variant.message
    if percent and found.ratio is not None and abs(found.ratio - 100) < 1e-3:
        return "this looks like a percentage: return a fraction in [0, 1]"
    return f"{found.message}: {meaning}" if found.message else meaning


def cases(compare: Compare) -> Compare:
    """For a probe that returns [(label, observation), ...]: the first case that differs, its
    label (the inputs, as a call) shown with the expected value."""

    def compare_cases(expected: Any, got: Any, context: Context) -> Finding | None:
        if isinstance(got, Raised):
            return error_finding(got)
        if not isinstance(got, list) or len(got) != len(expected):
            return Finding("error", "", "", "your code interfered with the checks (their observations came back damaged)")
        for index, ((label, e), pair) in enumerate(zip(expected, got, strict=True)):
            g = pair[1] if isinstance(pair, list | tuple) and len(pair) == 2 else pair
            found = compare(e, g, context.narrowed(lambda observation, i=index: observation[i][1]))
            if found:
                expected_text = f"{label} → {found.expected}" if found.expected else label
                message = found.message if found.expected else f"{found.message}\nin the call {label}"
                return Finding(found.status, expected_text, found.got, message)
        return None

    compare_cases.on_error = getattr(compare, "on_error", "")  # type: ignore[attr-defined]
    return compare_cases


def call_text(name: str, *args: Any) -> str:
    return f"{name}({', '.join(show(a) if not isinstance(a, str) else repr(a) for a in args)})"
