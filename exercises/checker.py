"""Check a learner's source in this process: compile it, find the function the exercise asks
for, run the hidden checks against the reference. The runner calls this in a separate, limited
process; tests call it directly on the reference and on the typical mistakes."""

from __future__ import annotations

import linecache
from dataclasses import dataclass

from exercises.model import Exercise
from exercises.report import LEARNER_FILE, CheckOutcome, LearnerError, Report, learner_traceback


@dataclass(frozen=True)
class CheckResult:
    passed: bool
    checks: tuple[CheckOutcome, ...]

    def to_dict(self) -> dict[str, object]:
        return {"passed": self.passed, "checks": [c.to_dict() for c in self.checks]}

    @property
    def first_failure(self) -> str:
        failed = next((c for c in self.checks if not c.passed), None)
        return f"{failed.name}: {failed.message}" if failed else ""


def define(source: str, name: str, filename: str):
    """Execute `source` and return what it defines as `name`."""
    namespace: dict = {"__name__": "learner"}
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)  # tracebacks show the line
    exec(compile(source, filename, "exec"), namespace)
    if name not in namespace:
        raise LookupError(f"your code defines no `{name}`: keep the name from the starter")
    return namespace[name]


def check_source(exercise: Exercise, source: str) -> CheckResult:
    """Every check of `exercise` on `source`; problems in the code itself become one outcome."""
    reference = define(exercise.solution, exercise.function, "<reference>")
    try:
        learner = define(source, exercise.function, LEARNER_FILE)
    except SyntaxError as error:
        return _one_error("your code compiles", f"SyntaxError on line {error.lineno}: {error.msg}")
    except LookupError as error:
        return _one_error("your code defines the function", str(error))
    except Exception as error:  # noqa: BLE001 - code at the top level of the learner's file raised
        return _one_error("your code runs", learner_traceback(error))
    report = Report()
    try:
        exercise.checks(learner, reference, report)
    except LearnerError as error:  # raised outside any single check, e.g. while building a model
        report.outcomes.append(CheckOutcome("your code runs", "error", message=error.summary))
    return CheckResult(report.passed, tuple(report.outcomes))


def _one_error(name: str, message: str) -> CheckResult:
    return CheckResult(False, (CheckOutcome(name, "error", message=message),))
