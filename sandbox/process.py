"""One contained run of a learner's program. The verdict is taken from the main process's
exit, not from its output pipes closing (a background child can hold those open for ever);
then every process it started is killed, so nothing outlives it; and output is kept to a
capped tail, so a program printing in a loop cannot fill the server's memory.

"Every process it started" includes those that left its process group (`setsid`, a
double-forked daemon): the contained process is made a child subreaper, so its orphans stay
its descendants instead of moving to init, and the kill walks that whole tree."""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TORCH_NUM_THREADS")


@dataclass(frozen=True)
class Limits:
    wall_s: float = 20.0  # seconds of real time for the whole run
    cpu_s: int = 60  # seconds of CPU time (all threads); a busy loop meets wall_s first on an idle machine
    memory_mb: int = 2048  # private writable memory (RLIMIT_DATA): allocations count, mapped libraries barely
    file_mb: int = 16  # largest file it may write
    processes: int = 256  # RLIMIT_NPROC (per user: root is exempt, which is why bwrap's PID namespace matters)
    threads: int = 2  # BLAS / OpenMP / torch threads: the runner's share of the machine
    output_bytes: int = 200_000  # kept from each of stdout and stderr (the tail: tracebacks end there)


@dataclass(frozen=True)
class Finished:
    returncode: int | None  # None: stopped at the wall-clock limit
    stdout: str
    stderr: str
    timed_out: bool
    output_truncated: bool
    seconds: float

    @property
    def crashed_by(self) -> str:
        """The signal that ended the learner's program ('' when it exited): -N from the process
        itself, 128 + N from bwrap, which reports its child's signal the way shells do."""
        code = self.returncode
        if not code:
            return ""
        number = -code if code < 0 else code - 128
        try:
            return signal.Signals(number).name if 0 < number < 65 else ""
        except ValueError:  # a number no signal has
            return ""


PR_SET_CHILD_SUBREAPER = 36
PR_SET_DUMPABLE = 4
_LIBC = ctypes.CDLL(None, use_errno=True)


def prctl(option: int, value: int) -> bool:
    """Linux's prctl(2) with one argument; False where it failed (not Linux, not allowed)."""
    try:
        return _LIBC.prctl(option, value, 0, 0, 0) == 0
    except AttributeError:  # pragma: no cover - a libc without prctl
        return False


def apply_limits(limits: Limits):
    """A preexec_fn: the limits are set in the child, before the learner's program starts; the
    child becomes a subreaper (kept across exec) so whatever it starts stays in its tree."""

    def apply() -> None:
        prctl(PR_SET_CHILD_SUBREAPER, 1)
        for name, value in (
            (resource.RLIMIT_DATA, limits.memory_mb << 20),
            (resource.RLIMIT_CPU, limits.cpu_s),
            (resource.RLIMIT_FSIZE, limits.file_mb << 20),
            (resource.RLIMIT_NPROC, limits.processes),
            (resource.RLIMIT_CORE, 0),  # a native crash leaves no core file
        ):
            resource.setrlimit(name, (value, value))

    return apply


def thread_environment(limits: Limits) -> dict[str, str]:
    return {name: str(limits.threads) for name in THREAD_VARIABLES}


def _parents() -> dict[int, int]:
    """pid -> parent pid of every process /proc shows."""
    parents = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as stat:
                    fields = stat.read().rsplit(b")", 1)[1].split()  # the name may hold spaces and parentheses
            except OSError:
                continue  # it ended while we looked
            parents[int(entry.name)] = int(fields[1])
    return parents


def descendants(root: int) -> set[int]:
    """Every live process below `root` (children, their children...), from /proc."""
    children: dict[int, list[int]] = {}
    for pid, parent in _parents().items():
        children.setdefault(parent, []).append(pid)
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def kill_tree(root: int, include_root: bool = True) -> None:
    """SIGKILL `root` and everything below it. Each process found is stopped first, so none can
    fork a new one between the look and the kill; the look is repeated until it finds nothing
    new. Processes that died meanwhile are skipped."""
    stopped: set[int] = set()
    for _ in range(100):
        found = descendants(root) | ({root} if include_root else set())
        new = found - stopped
        if not new:
            break
        for pid in new:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGSTOP)
        stopped |= new
    for pid in stopped:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def kill_group(child: subprocess.Popen) -> None:
    """SIGKILL the child, everything it started (in its group or not) and its group, then reap it."""
    if child.returncode is None:
        kill_tree(child.pid)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signal.SIGKILL)
    child.wait()


@dataclass
class _CappedTail:
    """Drains a pipe to the end, keeping only the last `cap` bytes."""

    cap: int
    data: bytearray = field(default_factory=bytearray)
    dropped: bool = False

    def drain(self, pipe) -> None:
        """Read to end of file, then close the pipe (possibly long after finish() returned,
        when a process that left the group held it)."""
        with pipe:
            for chunk in iter(lambda: pipe.read(65536), b""):
                self.data += chunk
                if len(self.data) > self.cap:
                    del self.data[: len(self.data) - self.cap]
                    self.dropped = True

    def text(self) -> str:
        return self.data.decode(errors="replace")


def start_contained(argv: list[str], limits: Limits, cwd: str, env: dict[str, str], die_with_parent: bool = True) -> subprocess.Popen:
    """Start argv in its own session and process group with the limits; inside bubblewrap where
    it is usable (sandbox.bwrap), with `cwd` its only writable place. Pipes are binary."""
    from sandbox.bwrap import bwrap_usable, wrap

    argv = wrap(argv, cwd, die_with_parent) if bwrap_usable() else argv
    return subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd,
        env={**env, **thread_environment(limits)}, start_new_session=True, preexec_fn=apply_limits(limits),
    )  # fmt: skip


def finish(child: subprocess.Popen, limits: Limits, stdin_text: str = "") -> Finished:
    """Send stdin, wait for the main process's exit or the wall-clock limit, kill its group
    either way, and return the capped tails of its output."""
    started = time.perf_counter()
    tails = (_CappedTail(limits.output_bytes), _CappedTail(limits.output_bytes))
    readers = [
        threading.Thread(target=tail.drain, args=(pipe,), daemon=True)
        for tail, pipe in zip(tails, (child.stdout, child.stderr), strict=True)
    ]
    for reader in readers:
        reader.start()
    with contextlib.suppress(BrokenPipeError):
        child.stdin.write(stdin_text.encode())
        child.stdin.close()
    try:
        returncode: int | None = child.wait(timeout=limits.wall_s)
    except subprocess.TimeoutExpired:
        returncode = None
    kill_group(child)  # the main process has exited or is stopped: nothing it started may stay
    for reader in readers:
        reader.join(timeout=1.0)  # a process that left the group may hold a pipe: do not wait for it
    stdout, stderr = tails
    return Finished(
        returncode, stdout.text(), stderr.text(), returncode is None, stdout.dropped or stderr.dropped, time.perf_counter() - started
    )


def run_contained(argv: list[str], limits: Limits, cwd: str, env: dict[str, str], stdin_text: str = "") -> Finished:
    """Run argv to its main process's exit or the wall-clock limit; kill its group either way."""
    return finish(start_contained(argv, limits, cwd, env), limits, stdin_text)
