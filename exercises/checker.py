"""Check a learner's source from this process: this process judges, and the learner's code runs
in forked learner processes (exercises.harness). The app and the CLI go through the contained
checking process (exercises.runner), which runs exactly this; tests call it directly."""

from __future__ import annotations

import shutil
import tempfile

from exercises.harness import TIMEOUT_S, CheckResult, judge, prepare_workdir
from exercises.model import Exercise

__all__ = ["CheckResult", "check_source"]


def check_source(exercise: Exercise, source: str, *, seed: int | None = 0, timeout_s: float = TIMEOUT_S,
                 stop_at_first_failure: bool = False, reference_cache: dict | None = None) -> CheckResult:  # fmt: skip
    """Every check of `exercise` on `source`, its hidden cases drawn from `seed` (None: a fresh
    random seed, as the app does). reference_cache keeps the reference's observations between
    calls with the same exercise and seed (the mutation guard checks many sources)."""
    workdir = tempfile.mkdtemp(prefix="exercise-")
    try:
        return judge(exercise, source, seed=seed, timeout_s=timeout_s, workdir=prepare_workdir(workdir),
                     stop_at_first_failure=stop_at_first_failure, reference_cache=reference_cache)  # fmt: skip
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
