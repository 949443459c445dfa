"""How long a learner waits after "Run checks": every exercise's reference solution checked in
the separate, limited process the app uses, with the spare process ready for that exercise (it
imports torch and runs the reference's side while the learner types), and the same check from a
cold start (the CLI's case). On a shared machine the figures move with its load: say which."""

from __future__ import annotations

import time

from bench.common import BenchResult, percentiles


def _timed_check(exercise_id: str, source: str, keep_spare: bool) -> tuple[float, bool]:
    from exercises.runner import check_in_sandbox

    started = time.perf_counter()
    result = check_in_sandbox(exercise_id, source, keep_spare=keep_spare)
    return time.perf_counter() - started, result.passed


def run(quick: bool) -> BenchResult:
    from exercises.catalogue import all_exercises
    from exercises.runner import spare_ready, warm_up

    result = BenchResult("exercises")
    exercises = list(all_exercises().values())[: 6 if quick else None]
    warm, passed = [], 0
    for exercise in exercises:
        warm_up(exercise.id)
        spare_ready()  # the learner reads and types: the spare imports torch and runs the reference side meanwhile
        seconds, ok = _timed_check(exercise.id, exercise.solution, keep_spare=True)
        warm.append((seconds, exercise.id))
        passed += ok
    cold = [_timed_check(exercises[0].id, exercises[0].solution, keep_spare=False)[0] for _ in range(3)]
    p50, _, worst = percentiles([s for s, _ in warm])
    slowest = max(warm)[1]
    result.add("exercises checked", len(warm), "exercises", f"{passed} references passed in the checking process")
    result.add("check time p50 (warm spare)", p50, "s", "Run checks to verdict, as in the app")
    result.add("check time max (warm spare)", worst, "s", f"slowest: {slowest}; target < 2 s")
    result.add("check time, cold start", min(cold), "s", f"best of 3, {exercises[0].id}: a fresh process imports torch first (the CLI)")
    return result
