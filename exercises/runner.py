"""Check a learner's code in a separate process: a fresh interpreter in its own session, with
limits on memory, CPU time and file size, killed as a whole group at the time limit. The
verdict comes back as JSON on stdout; whatever the learner prints is kept out of it.

With HOSTED=1 coding exercises run only inside bubblewrap (sandbox.bwrap); without it they are
off, since a shared server must not run its users' code with only these limits (drills need no
code and stay on)."""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from exercises.checker import CheckResult
from exercises.report import CheckOutcome
from sandbox.bwrap import learner_code_allowed
from sandbox.process import Finished, Limits, finish, kill_group, start_contained, thread_environment

REPO_ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_S = 10.0
MEMORY_MB = 2048  # private writable memory (RLIMIT_DATA)
OUTPUT_BYTES = 1_000_000  # of the checking process's stdout: the verdict comes last, in the kept tail
STARTUP_LIMIT_S = 120.0  # importing torch on a busy machine; not the learner's time
RESULT_MARK = "@@exercise-result@@"  # the verdict follows it on stdout

# The child imports torch and the exercises first, then waits for the job on stdin: a spare one
# is started while the learner types, so a check costs the checks, not a torch import.
_CHILD = """
import io, json, sys
sys.path.insert(0, sys.argv[1])
import torch
torch.set_num_threads(1)
from exercises.catalogue import all_exercises
from exercises.checker import check_source
exercises = all_exercises()
warm = torch.nn.Conv2d(1, 1, 3)  # torch loads parts of itself on the first step: pay that now
optimizer = torch.optim.SGD(warm.parameters(), lr=0.1, momentum=0.9)
warm(torch.zeros(1, 1, 4, 4)).sum().backward()
optimizer.step()
print("ready", flush=True)  # the time limit starts now, not during the imports
job = json.loads(sys.stdin.read())
learner_output, sys.stdout = sys.stdout, io.StringIO()  # the learner's prints stay out of the verdict
result = check_source(exercises[job["exercise"]], job["source"])
learner_output.write(sys.argv[2] + json.dumps(result.to_dict()))
learner_output.flush()
import os
os._exit(0)  # the verdict is out; tearing down torch would only make the learner wait
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

    def _start(self, memory_mb: int, cpu_s: int) -> subprocess.Popen:
        workdir = tempfile.mkdtemp(prefix="exercise-")
        limits = Limits(cpu_s=cpu_s, memory_mb=memory_mb, threads=1)  # the same limits as every learner program
        env = {"PATH": os.environ.get("PATH", ""), "HOME": workdir, **thread_environment(limits)}
        command = [sys.executable, "-I", "-c", _CHILD, str(REPO_ROOT), RESULT_MARK]
        child = start_contained(command, limits, workdir, env, die_with_parent=False)  # a spare outlives its script run
        child.workdir = workdir  # type: ignore[attr-defined]
        return child

    def run(self, exercise_id: str, source: str, timeout_s: float, memory_mb: int, keep_spare: bool) -> CheckResult:
        cpu_s = int(timeout_s) + 30  # the imports count too; the wall-clock limit below is the one learners meet
        with self._lock:
            spare, self._spare = self._spare, None
            usable = spare is not None and spare.poll() is None and spare.memory_mb == memory_mb
            if spare is not None and not usable:
                _kill_group(spare)
            child = spare if usable else self._start(memory_mb, cpu_s)
            child.memory_mb = memory_mb  # type: ignore[attr-defined]
            finished = None
            try:
                if not _ready(child):
                    died = child.stderr.read().decode(errors="replace") if child.poll() is not None else ""
                    return _verdict("the checking process starts", "it did not start: " + _tail(died))
                job = json.dumps({"exercise": exercise_id, "source": source})
                finished = finish(child, Limits(wall_s=timeout_s, output_bytes=OUTPUT_BYTES), job)
            finally:
                (kill_group if finished else _kill_group)(child)  # finish()'s readers close its pipes
                shutil.rmtree(child.workdir, ignore_errors=True)
                if keep_spare:
                    self._spare = self._start(memory_mb, cpu_s)
                    self._spare.memory_mb = memory_mb  # type: ignore[attr-defined]
        if finished.timed_out:
            return _verdict("your code finishes in time", f"stopped after {timeout_s:.0f} s: an infinite loop, or far too much work?")
        if RESULT_MARK in finished.stdout:
            payload = json.loads(finished.stdout.rsplit(RESULT_MARK, 1)[1])
            return CheckResult(payload["passed"], tuple(CheckOutcome(**c) for c in payload["checks"]))
        return _crash(finished, memory_mb)


_CHECKER = _Checker()


def check_in_sandbox(
    exercise_id: str, source: str, timeout_s: float | None = None, memory_mb: int = MEMORY_MB, keep_spare: bool = True
) -> CheckResult:
    """The checks of `exercise_id` on `source`, run in a separate limited process (timeout_s
    defaults to TIMEOUT_S). keep_spare starts the next check's process now (the app); a one-off
    check (the CLI) passes False."""
    if not coding_enabled():
        raise CodingExercisesOff(
            f"coding exercises are off on this shared deployment (HOSTED=1): {learner_code_allowed()[1]}; drills stay on"
        )
    return _CHECKER.run(exercise_id, source, timeout_s or TIMEOUT_S, memory_mb, keep_spare)


def warm_up(memory_mb: int = MEMORY_MB, timeout_s: float = TIMEOUT_S) -> None:
    """Start the spare checking process ahead of the first check (the Exercises page calls it)."""
    if coding_enabled():
        with _CHECKER._lock:
            if _CHECKER._spare is None or _CHECKER._spare.poll() is not None:
                if _CHECKER._spare is not None:
                    _kill_group(_CHECKER._spare)  # it died: close its pipes before replacing it
                _CHECKER._spare = _CHECKER._start(memory_mb, int(timeout_s) + 30)
                _CHECKER._spare.memory_mb = memory_mb  # type: ignore[attr-defined]


def _ready(child: subprocess.Popen, limit_s: float = STARTUP_LIMIT_S) -> bool:
    """Wait until the child has finished its imports (its first line), so that the learner's
    time limit covers only their code; False if it died or hung on the way."""
    readable, _, _ = select.select([child.stdout], [], [], limit_s)
    return bool(readable) and child.stdout.readline().strip() == b"ready"


def _tail(stderr: str) -> str:
    return " / ".join([line for line in stderr.strip().splitlines() if line.strip()][-3:]) or "no error output"


def _kill_group(child: subprocess.Popen) -> None:
    kill_group(child)
    for stream in (child.stdin, child.stdout, child.stderr):
        if stream is not None:
            stream.close()


def _crash(finished: Finished, memory_mb: int) -> CheckResult:
    if any(s in finished.stderr for s in ("MemoryError", "DefaultCPUAllocator", "bad_alloc")):
        return _verdict("your code stays within memory", f"stopped: it asked for more than the {memory_mb} MB allowed (a huge tensor?)")
    if finished.crashed_by in ("SIGXCPU", "SIGKILL"):
        return _verdict("your code finishes in time", "stopped: it used up its CPU time")
    return _verdict("your code runs", f"the checking process ended with code {finished.returncode}: " + _tail(finished.stderr))


def _verdict(name: str, message: str) -> CheckResult:
    return CheckResult(False, (CheckOutcome(name, "error", message=message),))
