"""Check a learner's code in a separate, contained process: a fresh interpreter in its own
session, with limits on memory, CPU time and file size, inside bubblewrap where it is usable,
made a subreaper and killed with everything below it when it ends (sandbox.process), the same
runner snippets use. In it the judge (exercises.harness) forks the learner's process, which
runs the learner's code; the verdict comes back on the judge's stdout, which no learner process
holds: what learner code prints goes to stderr and is never read as a verdict.

With HOSTED=1 coding exercises run only inside bubblewrap (sandbox.bwrap); without it they are
off, since a shared server must not run its users' code with only these limits (drills need no
code and stay on)."""

from __future__ import annotations

import atexit
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from exercises.harness import TIMEOUT_S, CheckResult, one_outcome
from exercises.report import CheckOutcome
from sandbox.bwrap import learner_code_allowed
from sandbox.process import PR_SET_DUMPABLE, Finished, Limits, finish, kill_group, prctl, start_contained, thread_environment

REPO_ROOT = Path(__file__).resolve().parents[1]
MEMORY_MB = 2048  # private writable memory (RLIMIT_DATA), for the judge and for each learner process
OUTPUT_BYTES = 1_000_000  # kept of each of stdout and stderr
STARTUP_LIMIT_S = 120.0  # importing torch on a busy machine; not the learner's time
JUDGE_MARGIN_S = 60.0  # beyond the learner's limit: the reference's own runs, forks, comparisons

# The verdict's channel is the judge's original stdout, kept on a descriptor of its own before
# anything else runs; fd 1 then points at stderr, so a stray print can only land there.
_CHILD = """
import os, sys
verdict = os.dup(1)
os.dup2(2, 1)
sys.path.insert(0, sys.argv[1])
from exercises.harness import serve
serve(verdict, sys.argv[2])
"""


class CodingExercisesOff(PermissionError):
    """Raised in hosted mode."""


def coding_enabled() -> bool:
    return learner_code_allowed()[0]


class _Checker:
    """Starts checking processes; keeps one spare, already past its imports, for the next check."""

    def __init__(self) -> None:
        self._spare: subprocess.Popen | None = None
        self._lock = threading.Lock()

    def start(self, memory_mb: int, timeout_s: float, exercise_id: str = "") -> subprocess.Popen:
        if os.getuid() == 0:  # learner code may run as root without capabilities: it must not open our end of the pipes
            prctl(PR_SET_DUMPABLE, 0)
        workdir = tempfile.mkdtemp(prefix="exercise-")
        limits = Limits(
            cpu_s=int(timeout_s * 2 + JUDGE_MARGIN_S), memory_mb=memory_mb, threads=1
        )  # the same limits as every learner program
        env = {"PATH": os.environ.get("PATH", ""), "HOME": workdir, "TMPDIR": workdir, **thread_environment(limits)}
        command = [sys.executable, "-I", "-c", _CHILD, str(REPO_ROOT), exercise_id]  # it prepares that exercise's reference side
        child = start_contained(command, limits, workdir, env, die_with_parent=False)  # a spare outlives its script run
        child.workdir, child.memory_mb, child.exercise_id = workdir, memory_mb, exercise_id  # type: ignore[attr-defined]
        return child

    def take_spare(self, memory_mb: int) -> subprocess.Popen | None:
        spare, self._spare = self._spare, None
        if spare is not None and (spare.poll() is not None or spare.memory_mb != memory_mb):
            _discard(spare)
            return None
        return spare

    def run(self, exercise_id: str, source: str, timeout_s: float, memory_mb: int, keep_spare: bool, seed: int | None) -> CheckResult:
        with self._lock:
            child = self.take_spare(memory_mb) or self.start(memory_mb, timeout_s, exercise_id)
            finished = None
            try:
                if not _ready(child):
                    died = child.stderr.read().decode(errors="replace") if child.poll() is not None else ""
                    return one_outcome("the checking process starts", "it did not start: " + _tail(died))
                job = json.dumps({"exercise": exercise_id, "source": source, "timeout_s": timeout_s, "seed": seed})
                finished = finish(child, Limits(wall_s=timeout_s * 2 + JUDGE_MARGIN_S, output_bytes=OUTPUT_BYTES), job)
            finally:
                _discard(child, pipes_closed=finished is not None)
                if keep_spare:
                    self._spare = self.start(
                        memory_mb, timeout_s, exercise_id
                    )  # the learner's next try is on the same exercise, most likely
        return _verdict(finished, memory_mb)

    def close(self) -> None:
        with self._lock:
            if self._spare is not None:
                _discard(self._spare)
                self._spare = None


_CHECKER = _Checker()
atexit.register(_CHECKER.close)  # no spare process and no temporary folder outlive the app


def check_in_sandbox(exercise_id: str, source: str, timeout_s: float | None = None, memory_mb: int = MEMORY_MB, keep_spare: bool = True,
                     seed: int | None = None) -> CheckResult:  # fmt: skip
    """The checks of `exercise_id` on `source`, run in a separate contained process (timeout_s,
    the learner code's time for all checks, defaults to TIMEOUT_S; seed None draws the hidden
    cases afresh). keep_spare starts the next check's process now (the app); a one-off check
    (the CLI) passes False."""
    if not coding_enabled():
        raise CodingExercisesOff(
            f"coding exercises are off on this shared deployment (HOSTED=1): {learner_code_allowed()[1]}; drills stay on"
        )
    return _CHECKER.run(exercise_id, source, timeout_s or TIMEOUT_S, memory_mb, keep_spare, seed)


def warm_up(exercise_id: str = "", memory_mb: int = MEMORY_MB, timeout_s: float = TIMEOUT_S) -> None:
    """Start the spare checking process ahead of the first check (the Exercises page calls it,
    with the exercise it shows: the spare runs that exercise's reference side meanwhile)."""
    if coding_enabled():
        with _CHECKER._lock:
            spare = _CHECKER._spare
            if spare is None or spare.poll() is not None or spare.exercise_id != exercise_id:
                if spare is not None:
                    _discard(spare)  # it died, or prepares another exercise: close its pipes, remove its folder
                _CHECKER._spare = _CHECKER.start(memory_mb, timeout_s, exercise_id)


def spare_ready(limit_s: float = STARTUP_LIMIT_S) -> bool:
    """Wait until the spare has said "ready" (without reading it): how the bench measures a warm check."""
    spare = _CHECKER._spare
    return spare is not None and bool(select.select([spare.stdout], [], [], limit_s)[0])


def _ready(child: subprocess.Popen, limit_s: float = STARTUP_LIMIT_S) -> bool:
    """Wait until the child has finished its imports (its first line), so that the learner's
    time limit covers only their code; False if it died or hung on the way."""
    readable, _, _ = select.select([child.stdout], [], [], limit_s)
    return bool(readable) and child.stdout.readline().strip() == b"ready"


def _tail(stderr: str) -> str:
    return " / ".join([line for line in stderr.strip().splitlines() if line.strip()][-3:]) or "no error output"


def _discard(child: subprocess.Popen, pipes_closed: bool = False) -> None:
    """Kill the checking process and all below it, close its pipes, remove its folder."""
    kill_group(child)
    if not pipes_closed:  # finish()'s readers close them once drained
        for stream in (child.stdin, child.stdout, child.stderr):
            if stream is not None:
                stream.close()
    shutil.rmtree(child.workdir, ignore_errors=True)


def _verdict(finished: Finished, memory_mb: int) -> CheckResult:
    """The judge's verdict line, or what became of the judge when there is none."""
    if not finished.timed_out and finished.stdout.strip():
        try:
            payload = json.loads(finished.stdout.strip().splitlines()[-1])
            return CheckResult(payload["passed"], tuple(CheckOutcome(**c) for c in payload["checks"]), payload.get("seed"))
        except (ValueError, KeyError, TypeError):
            pass  # not a verdict: the judge died mid-line
    if finished.timed_out:
        return one_outcome("your code finishes in time", "the checking process itself ran out of time (the machine is very busy?)")
    if any(s in finished.stderr for s in ("MemoryError", "DefaultCPUAllocator", "bad_alloc")) or finished.crashed_by == "SIGKILL":
        return one_outcome("your code stays within memory", f"stopped: the checking process ran out of its {memory_mb} MB")
    return one_outcome("the checks run", f"the checking process ended with code {finished.returncode}: " + _tail(finished.stderr))
