"""Demo registry: each demo states one claim, takes typed parameters, and returns named checks
with the values it measured, so the learner (and CI) sees the claim hold or fail."""

from __future__ import annotations

import ast
import contextlib
import importlib
import inspect
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import torch


@dataclass(frozen=True)
class Param:
    """A parameter the UI draws as a widget: int, float, bool or choice, with its range."""

    name: str
    default: Any
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    help: str = ""

    def coerce(self, raw: Any) -> Any:
        """Convert a CLI or widget value to the default's type, checking the range."""
        if isinstance(self.default, bool):
            value: Any = raw if isinstance(raw, bool) else str(raw).lower() in ("1", "true", "yes", "on")
        elif isinstance(self.default, int):
            value = int(raw)
        elif isinstance(self.default, float):
            value = float(raw)
        else:
            value = str(raw)
        if self.choices and value not in self.choices:
            raise ValueError(f"{self.name} must be one of {', '.join(self.choices)}, not {value!r}")
        if self.low is not None and value < self.low or self.high is not None and value > self.high:
            raise ValueError(f"{self.name} must be in [{self.low}, {self.high}], not {value}")
        return value


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    measured: dict[str, float | str]

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "passed": self.passed, "measured": self.measured}


@dataclass
class DemoResult:
    checks: list[Check] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    tables: list[list[dict[str, object]]] = field(default_factory=list)
    figures: list[Any] = field(default_factory=list)  # plotly figures
    images: list[Any] = field(default_factory=list)  # (H, W, 3) uint8 arrays with captions in text

    def check(self, name: str, passed: bool, **measured: float | str) -> None:
        self.checks.append(Check(name, bool(passed), {k: _plain(v) for k, v in measured.items()}))

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)


def _plain(value: Any) -> float | str:
    if isinstance(value, torch.Tensor):
        value = value.item()
    if isinstance(value, bool | int | float):
        return float(value) if not isinstance(value, bool) else str(value)
    return str(value)


@dataclass(frozen=True)
class Demo:
    id: str
    title: str
    claim: str  # one sentence the checks prove
    family: str
    params: tuple[Param, ...]
    function: Callable[..., DemoResult]
    mistake: str  # the mistake the checks guard against; run(..., broken=True) makes it
    needs_cuda: bool = False
    needs_dataset: bool = False  # reads a sample of the real CIFAR-10 training PNGs (proofs/dataset.py)
    # free CPU cores it needs (DataLoader workers' parallel loading): measured before the timer (proofs/cores.py)
    needs_free_cores: int = 0
    # torch intra-op threads while it runs: 1 for loops over tiny models, which gain nothing from a
    # thread pool and, on a busy machine, wait at every op for a descheduled thread (13 s of CPU
    # against 0.6 s for residual-degradation at load 10 on 2 cores). None leaves torch's setting.
    threads: int | None = None
    # Libraries the demo imports (e.g. ("keras",)): `run` imports them before its timer starts, as torch is
    # imported before any demo runs, so a demo's time is its own work (keras' import takes about 2.6 s on top of
    # torch's). Missing ones make the run a skip with the reason; the demo modules never import them at load, so
    # listing or loading demos (and the app's first page) stays free of them.
    imports: tuple[str, ...] = ()

    @property
    def source(self) -> str:
        """The snippet shown to the learner: the demo's own code."""
        return inspect.getsource(self.function)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    @property
    def check_names(self) -> tuple[str, ...]:
        """The names the demo's source passes to `result.check(...)` as literals, in source order.

        Read from the code rather than from a run, so lint can check an item's `claim_check`
        without torch doing any work (a GPU-only demo's checks are listed too)."""
        tree = ast.parse(textwrap.dedent(self.source))
        calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)]
        found = [c.args[0].value for c in calls if c.func.attr == "check" and c.args and isinstance(c.args[0], ast.Constant)]
        return tuple(dict.fromkeys(name for name in found if isinstance(name, str)))


@dataclass(frozen=True)
class DemoRun:
    id: str
    passed: bool
    seconds: float
    result: DemoResult
    skipped: str | None = None  # why a GPU-only or dataset demo did not run
    broken: bool = False  # run with the demo's mistake in place
    error: str | None = None  # a broken run that raised instead of failing a check
    attempts: int = 1  # runs it took: a timed gain on shared cores gets up to TIMED_GAIN_ATTEMPTS

    @property
    def failed_checks(self) -> list[str]:
        return [check.name for check in self.result.checks if not check.passed]

    @property
    def caught(self) -> bool:
        """A broken run is caught when a named check failed; an exception proves nothing."""
        return self.broken and self.error is None and bool(self.failed_checks)

    def named(self, check_name: str) -> Check | None:
        return next((check for check in self.result.checks if check.name == check_name), None)

    def claim_verdict(self, check_name: str) -> str:
        """The verdict of one named check in this run: "passed", "failed" or "skipped".

        A check that is missing counts as "failed" in a normal run (the claim was not shown) and as
        "passed" in a broken run (the mistake was not caught by it); so does a broken run that
        raised, since an exception is not a measured refutation."""
        if self.skipped:
            return "skipped"
        check = self.named(check_name)
        if self.broken:
            return "failed" if self.error is None and check is not None and not check.passed else "passed"
        return "passed" if check is not None and check.passed else "failed"

    def to_dict(self) -> dict[str, object]:
        if self.broken:
            return {
                "id": self.id,
                "broken": True,
                "caught": self.caught,
                "failed_checks": self.failed_checks,
                "error": self.error,
                "seconds": round(self.seconds, 4),
                "checks": [c.to_dict() for c in self.result.checks],
                "skipped": self.skipped,
            }
        return {
            "id": self.id,
            "passed": self.passed,
            "seconds": round(self.seconds, 4),
            "checks": [c.to_dict() for c in self.result.checks],
            "text": self.result.text,
            "skipped": self.skipped,
        }


class SkipDemo(Exception):
    """Raised by a demo that cannot run in this process (its one-line message says why): the run is a skip."""


_REGISTRY: dict[str, Demo] = {}


def demo(
    id: str,
    title: str,
    claim: str,
    *params: Param,
    mistake: str,
    needs_cuda: bool = False,
    needs_dataset: bool = False,
    needs_free_cores: int = 0,
    threads: int | None = None,
    imports: tuple[str, ...] = (),
) -> Callable:
    """Register the decorated function (its module name is the family).

    `mistake` names the error the checks must catch; the function takes `broken: bool` and,
    when it is true, makes that mistake, so `run-all --broken` proves each check can fail.
    `imports` names the libraries the demo imports, which `run` imports before timing it."""

    def register(function: Callable[..., DemoResult]) -> Callable[..., DemoResult]:
        if id in _REGISTRY:
            raise ValueError(f"demo id '{id}' registered twice")
        if "broken" not in inspect.signature(function).parameters:
            raise ValueError(f"demo '{id}': {function.__name__} must take broken: bool = False")
        family = function.__module__.rsplit(".", 1)[-1]
        _REGISTRY[id] = Demo(
            id,
            title,
            claim,
            family,
            params,
            function,
            mistake,
            needs_cuda,
            needs_dataset,
            needs_free_cores=needs_free_cores,
            threads=threads,
            imports=tuple(imports),
        )
        return function

    return register


def registered() -> dict[str, Demo]:
    return _REGISTRY


# A demo that times a gain on free cores (needs_free_cores) measures wall-clock time, which a job
# starting beside it can shorten or stretch between the core checks before and after. Its verdict as
# written is the best of up to three runs, so a passing job does not fail CI; its mistake gets one run.
# The price: where the gain is truly absent but timing noise can fake one (one core posing as two, which
# the core probe is there to rule out), three tries fake it more often than one (docs/proofs.md).
TIMED_GAIN_ATTEMPTS = 3


def run(demo_def: Demo, overrides: dict[str, Any] | None = None, broken: bool = False) -> DemoRun:
    """Run with defaults plus overrides (coerced and range-checked); seeded for reproducibility.

    With broken=True the demo makes its declared mistake; an exception is then recorded, since
    the point of that run is to see which check fails."""
    allowed = TIMED_GAIN_ATTEMPTS if demo_def.needs_free_cores and not broken else 1
    outcome, attempts = _run_once(demo_def, overrides, broken), 1
    while not (outcome.passed or outcome.skipped) and attempts < allowed:
        outcome, attempts = _run_once(demo_def, overrides, broken), attempts + 1
    return replace(outcome, attempts=attempts)


def _run_once(demo_def: Demo, overrides: dict[str, Any] | None, broken: bool) -> DemoRun:
    values = demo_def.defaults()
    by_name = {p.name: p for p in demo_def.params}
    for name, raw in (overrides or {}).items():
        if name not in by_name:
            raise ValueError(f"demo '{demo_def.id}' has no parameter '{name}' (has: {', '.join(by_name) or 'none'})")
        values[name] = by_name[name].coerce(raw)
    # before the timer: library import is not demo time
    skipped = _missing_requirement(demo_def) or import_libraries(demo_def.imports)
    if skipped:
        return DemoRun(demo_def.id, True, 0.0, DemoResult(), skipped=skipped, broken=broken)
    torch.manual_seed(0)
    with _threads(demo_def.threads):
        started, error = time.perf_counter(), None
        try:
            result = demo_def.function(**values, broken=True) if broken else demo_def.function(**values)
        except SkipDemo as skip:  # the process cannot run it (say, Keras imported with another backend)
            return DemoRun(demo_def.id, True, 0.0, DemoResult(), skipped=str(skip), broken=broken)
        except Exception as exception:  # noqa: BLE001 - re-raised as written; recorded with the mistake
            if not broken:
                raise
            # recorded: with the mistake in place a crash is not a caught mistake
            result, error = DemoResult(), f"{type(exception).__name__}: {exception}"
        seconds = time.perf_counter() - started
    if demo_def.needs_free_cores and (busy := _cores_taken_during_run(demo_def.needs_free_cores)):
        # a job that started beside the demo can hide a gain or fake one (a slow baseline): neither run counts
        return DemoRun(demo_def.id, True, 0.0, DemoResult(), skipped=busy, broken=broken)
    return DemoRun(demo_def.id, result.passed, seconds, result, broken=broken, error=error)


def _cores_taken_during_run(count: int) -> str | None:
    """Asked again after a demo that needs free cores: were they still free when it ended?"""
    from proofs.cores import missing_cores_reason

    reason = missing_cores_reason(count)
    return f"the cores were taken during the run: {reason}" if reason else None


def import_libraries(names: tuple[str, ...]) -> str | None:
    """Import each named library; the reason to skip (one line naming the package) if one is not installed."""
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError as error:
            return f"needs {name}, which is not installed here ({error}); pip install -r requirements.txt"
    return None


def _missing_requirement(demo_def: Demo) -> str | None:
    """Why the demo cannot run on this machine (no GPU, no CIFAR-10, no two free cores), or None."""
    if demo_def.needs_cuda and not torch.cuda.is_available():
        return "needs a CUDA GPU; none is available here"
    if demo_def.needs_dataset:
        from proofs.dataset import missing_reason

        if reason := missing_reason():
            return reason
    if demo_def.needs_free_cores:
        from proofs.cores import missing_cores_reason

        return missing_cores_reason(demo_def.needs_free_cores)
    return None


@contextlib.contextmanager
def _threads(count: int | None) -> Iterator[None]:
    before = torch.get_num_threads()
    if count is not None:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def line_figure(title: str, x: list[float], series: dict[str, list[float]], x_title: str = "", y_title: str = "", log_x: bool = False):
    """A plotly line chart (plotly is imported only when a demo draws one)."""
    import plotly.graph_objects as go

    figure = go.Figure([go.Scatter(x=x, y=y, mode="lines+markers", name=name) for name, y in series.items()])
    figure.update_layout(title=title, xaxis_title=x_title, yaxis_title=y_title, height=320, margin={"t": 40, "b": 30})
    if log_x:
        figure.update_xaxes(type="log")
    return figure
