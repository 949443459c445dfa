"""The judge and the learner's process. The judge never runs learner code: it forks a learner
process that executes the learner's source and each check's probe with the learner's function,
and sends back only observations, one frame per check, on a pipe of its own. The judge runs
the same probes with the reference, compares, and builds the verdict in its own memory; the
verdict leaves on a file descriptor the learner's process closed before running anything.

So a forged result marker is just output, a patched report object is a patch in another
process, and whatever the learner's code does to its own process (sys.exit, os._exit, a crash,
an endless loop, a kill for memory) costs it the check in progress only: the judge records
that check's verdict and forks a fresh learner process for the next ones.

Where the judge runs as root (containers), the learner's process drops to the `nobody` user
before running any learner code, so it cannot open the judge's or the app's descriptors
through /proc, signal them or trace them; the judge is marked not dumpable for the same reason
when it is not root. With bubblewrap, the app is not even visible (its own PID namespace)."""

from __future__ import annotations

import contextlib
import ctypes
import functools
import json
import linecache
import os
import random
import select
import signal
import struct
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass

from exercises.model import Exercise
from exercises.observe import LEARNER_FILE, Raised, TooLarge, capture, decode, encode, raised
from exercises.report import Check, CheckOutcome, Context, Finding, error_finding
from sandbox.process import kill_tree

TIMEOUT_S = 10.0  # the learner's code, all checks together
NOBODY = 65534
PR_SET_NO_NEW_PRIVS = 38
PR_CAPBSET_DROP = 24
PR_SET_SECUREBITS = 28
_LIBC = ctypes.CDLL(None, use_errno=True)
_FRAME = struct.Struct(">I")
MAX_FRAME = 64 << 20
SIGNALS = {
    signal.SIGKILL: "it was killed (SIGKILL): most often for using more memory than allowed",
    signal.SIGSEGV: "it crashed the process (a segmentation fault in native code)",
    signal.SIGXCPU: "it used up its CPU time",
    signal.SIGXFSZ: "it wrote a file past the size limit",
    signal.SIGABRT: "it aborted the process (SIGABRT)",
}


@dataclass(frozen=True)
class CheckResult:
    passed: bool
    checks: tuple[CheckOutcome, ...]
    seed: int | None = None  # the hidden cases' seed: the same seed draws the same cases

    def to_dict(self) -> dict[str, object]:
        return {"passed": self.passed, "checks": [c.to_dict() for c in self.checks], "seed": self.seed}

    @property
    def first_failure(self) -> str:
        failed = next((c for c in self.checks if not c.passed), None)
        return f"{failed.name}: {failed.expected} / {failed.got} / {failed.message}" if failed else ""


def one_outcome(name: str, message: str, status: str = "error") -> CheckResult:
    return CheckResult(False, (CheckOutcome(name, status, message=message),))


def define(source: str, name: str, filename: str):
    """Execute `source` and return what it defines as `name`."""
    namespace: dict = {"__name__": "learner"}
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)  # tracebacks show the line
    exec(compile(source, filename, "exec"), namespace)
    if name not in namespace:
        raise LookupError(f"your code defines no `{name}`: keep the name from the starter")
    return namespace[name]


# ---------------------------------------------------------------- frames on pipes


def write_frame(fd: int, payload: dict) -> None:
    data = json.dumps(payload, allow_nan=True).encode()
    view = memoryview(_FRAME.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


class _Frames:
    """Reads length-prefixed JSON frames from a non-blocking pipe."""

    def __init__(self, fd: int) -> None:
        self.fd, self.buffer, self.closed = fd, bytearray(), False
        os.set_blocking(fd, False)

    def pull(self) -> None:
        while not self.closed:
            try:
                chunk = os.read(self.fd, 1 << 20)
            except BlockingIOError:
                return
            if not chunk:
                self.closed = True
            self.buffer += chunk
            if len(self.buffer) > MAX_FRAME + _FRAME.size:
                raise ValueError("a frame past the size limit")

    def next(self) -> dict | None:
        if len(self.buffer) < _FRAME.size:
            return None
        (size,) = _FRAME.unpack_from(self.buffer)
        if size > MAX_FRAME:
            raise ValueError("a frame past the size limit")
        if len(self.buffer) < _FRAME.size + size:
            return None
        data = bytes(self.buffer[_FRAME.size : _FRAME.size + size])
        del self.buffer[: _FRAME.size + size]
        frame = json.loads(data)
        if not isinstance(frame, dict):
            raise ValueError("a frame that is not an object")
        return frame


# ---------------------------------------------------------------- the learner's process


@dataclass
class Learner:
    """A forked learner process: it waits for one job on job_w, then sends frames on obs_r."""

    pid: int
    pidfd: int
    job_w: int
    frames: _Frames
    status: int | None = None  # its wait status once reaped

    def send_job(self, job: dict) -> None:
        with contextlib.suppress(BrokenPipeError, OSError):
            write_frame(self.job_w, job)
        with contextlib.suppress(OSError):
            os.close(self.job_w)

    def wait(self, deadline: float):
        """The next frame; "exited" once the process ended with no frame left; "timeout";
        "garbled" for bytes that are not frames. The process's exit is what counts, not its pipe
        closing: a background child of the learner's may hold the pipe open for ever."""
        while True:
            try:
                self.frames.pull()
                frame = self.frames.next()
            except (ValueError, UnicodeDecodeError):
                return "garbled"
            if frame is not None:
                return frame
            self._reap(block=False)
            if self.status is not None:
                return "exited"
            left = deadline - time.monotonic()
            if left <= 0:
                return "timeout"
            select.select([self.pidfd] + ([] if self.frames.closed else [self.frames.fd]), [], [], left)

    def _reap(self, block: bool) -> None:
        if self.status is None:
            with contextlib.suppress(ChildProcessError):
                pid, status = os.waitpid(self.pid, 0 if block else os.WNOHANG)
                if pid:
                    self.status = status

    def end(self, everything_below_judge: bool) -> None:
        """Kill it and all it started, reap it, close its pipes."""
        if self.status is None:
            kill_tree(self.pid)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)  # its group, for what left its tree
        self._reap(block=True)
        if everything_below_judge:  # the judge is a subreaper: orphans of the learner came to it
            kill_tree(os.getpid(), include_root=False)
            _reap_all()
        for fd in (self.pidfd, self.frames.fd, self.job_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def death(self) -> str:
        status = self.status or 0
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            return SIGNALS.get(sig, f"it was stopped by signal {signal.Signals(sig).name if sig in signal.valid_signals() else sig}")
        return f"it ended the process (exit code {os.WEXITSTATUS(status)}: os._exit or a native exit)"


def _reap_all() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.005)  # killed, not yet gone


def spawn_learner(workdir: str) -> Learner:
    job_r, job_w = os.pipe()
    obs_r, obs_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the learner's process: never returns
        try:
            os.close(job_w)
            os.close(obs_r)
            _learner_main(job_r, obs_w, workdir)
        finally:
            os._exit(70)
    os.close(job_r)
    os.close(obs_w)
    return Learner(pid, os.pidfd_open(pid), job_w, _Frames(obs_r))


def _isolate(keep: tuple[int, ...], workdir: str) -> None:
    """Before any learner code: its own process group, no descriptor but its two pipes and
    stdout/stderr (both to the judge's stderr: learner output, never the verdict), a private
    working and temporary directory, and, where the judge is root, the `nobody` user."""
    os.setpgid(0, 0)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(2, 1)
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd not in keep:
            with contextlib.suppress(OSError):
                os.close(fd)
    import torch

    torch.set_num_threads(1)  # a thread pool forked mid-use can deadlock; the checks' tensors are small
    warnings.resetwarnings()  # the judge's filters (a test run's "error") are not the learner's: warnings are printed, not raised
    os.chdir(workdir)
    os.environ.update(TMPDIR=workdir, HOME=workdir)
    tempfile.tempdir = workdir
    from sandbox.process import prctl

    prctl(PR_SET_NO_NEW_PRIVS, 1)
    if os.getuid() == 0:
        _drop_root()


def _drop_root() -> None:
    """Become `nobody` where the Python installation is readable to it; otherwise stay root but
    without any capability, for good (bounding set emptied, root's exec privileges locked off):
    then the judge, marked not dumpable, cannot be traced nor its descriptors opened."""
    from sandbox.process import prctl

    if others_can_read_python():
        with contextlib.suppress(PermissionError):  # inside bubblewrap without the capability: its namespaces contain it
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            return
    prctl(PR_SET_SECUREBITS, 0x2F)  # NOROOT and NO_SETUID_FIXUP, both locked
    for capability in range(64):
        prctl(PR_CAPBSET_DROP, capability)
    header, data = _CapHeader(0x20080522, 0), (_CapData * 2)()  # version 3: every set empty
    _LIBC.capset(ctypes.byref(header), data)


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


@functools.cache
def others_can_read_python() -> bool:
    """Whether a process of another user could import what learner code imports: the standard
    library, the site-packages and this project (a Python installed under /root cannot)."""
    import numpy
    import torch

    for start in (
        os.path.dirname(os.__file__),
        os.path.dirname(torch.__file__),
        os.path.dirname(numpy.__file__),
        os.path.dirname(os.path.dirname(__file__)),
    ):
        path = os.path.realpath(start)
        while True:
            if os.stat(path).st_mode & 0o005 != 0o005:
                return False
            parent = os.path.dirname(path)
            if parent == path:
                break
            path = parent
    return True


def _learner_main(job_r: int, obs_w: int, workdir: str) -> None:
    _isolate((job_r, obs_w), workdir)
    with os.fdopen(job_r, "rb") as jobs:
        data = jobs.read()
    job = json.loads(data[_FRAME.size :])
    from exercises.catalogue import get_exercise

    exercise = get_exercise(job["exercise"])
    checks = exercise.build_checks(job["seed"])
    try:
        learner = define(job["source"], exercise.function, LEARNER_FILE)
    except BaseException as error:  # noqa: BLE001 - the top level of the learner's file
        write_frame(obs_w, {"defined": False, "problem": encode(_top_level_problem(error))})
        os._exit(0)
    write_frame(obs_w, {"defined": True})
    for index in range(job["start"], len(checks)):
        observation = capture(checks[index].probe, learner)
        try:
            payload = encode(observation)
        except TooLarge as error:
            payload = encode(Raised("WrongResult", f"your result is too large to compare ({error})", (), "result"))
        except BaseException as error:  # noqa: BLE001 - a learner object whose methods raise
            payload = encode(raised(error))
        write_frame(obs_w, {"check": index, "obs": payload})
    os._exit(0)


def _top_level_problem(error: BaseException) -> Raised:
    if isinstance(error, LookupError) and str(error).startswith("your code defines no"):
        return Raised("WrongResult", str(error), (), "result")
    if isinstance(error, SystemExit):
        return Raised("WrongResult", "your file calls sys.exit() or exit() at the top level: define the function only", (), "result")
    return raised(error)


# ---------------------------------------------------------------- the judge


@dataclass
class _Judging:
    exercise: Exercise
    checks: list[Check]
    reference: object
    cache: dict

    def expected(self, index: int):
        if index not in self.cache:
            self.cache[index] = self.observe(index, self.reference)
        return self.cache[index]

    def observe(self, index: int, implementation):
        """The probe of check `index` run here with one of our implementations, through the
        same encoding as the learner's observations."""
        return decode(json.loads(json.dumps(encode(capture(self.checks[index].probe, implementation)), allow_nan=True)))

    def verdict(self, index: int, got) -> CheckOutcome:
        check, expected = self.checks[index], self.expected(index)
        if isinstance(expected, Raised):
            print(f"reference failed check {check.name!r}: {expected.summary}", file=sys.stderr)
            return CheckOutcome(check.name, "error", message="this check failed on the reference solution itself: a bug in the exercise")
        context = Context(self.exercise.function, lambda implementation: self.observe(index, implementation))
        try:
            if isinstance(got, Raised):  # the probe stopped: the learner's code raised, or its result was unusable
                finding: Finding | None = error_finding(got, check.on_error or getattr(check.compare, "on_error", ""))
            else:
                finding = check.compare(expected, got, context)
        except Exception as error:  # noqa: BLE001 - an observation no comparison foresaw
            print(f"comparison of {check.name!r} failed: {error!r}", file=sys.stderr)
            return CheckOutcome(
                check.name,
                "failed",
                message=f"your result could not be compared ({type(error).__name__}): is it of the type the prompt asks for?",
            )
        if finding is None:
            return CheckOutcome(check.name, "passed")
        return CheckOutcome(check.name, finding.status, finding.expected, finding.got, finding.message)


def judge(exercise: Exercise, source: str, *, seed: int | None = None, timeout_s: float = TIMEOUT_S, workdir: str,
          learner: Learner | None = None, stop_at_first_failure: bool = False, reference_cache: dict | None = None,
          subreaper: bool = False) -> CheckResult:  # fmt: skip
    """Every check of `exercise` on `source`: learner code in forked learner processes, the
    comparisons here. `learner` is one already forked (the warm spare's); `subreaper` says this
    process adopts the learner's orphans (the checking process) and may kill all below it."""
    import torch

    from sandbox.process import PR_SET_DUMPABLE, prctl

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as in the learner's process: the same float sums on both sides, and no pool to fork mid-use
    warm_torch()
    prctl(PR_SET_DUMPABLE, 0)  # the learner's process cannot open this one's descriptors through /proc
    try:
        return _judge(exercise, source, seed, timeout_s, workdir, learner, stop_at_first_failure, reference_cache, subreaper)
    finally:
        torch.set_num_threads(threads)
        if not subreaper:  # judging from a test or a tool: give it back its debuggability
            prctl(PR_SET_DUMPABLE, 1)


def _judge(exercise: Exercise, source: str, seed: int | None, timeout_s: float, workdir: str, learner: Learner | None,
           stop_at_first_failure: bool, reference_cache: dict | None, subreaper: bool) -> CheckResult:  # fmt: skip
    try:
        compile(source, LEARNER_FILE, "exec")
    except SyntaxError as error:
        if learner:
            learner.end(subreaper)
        return one_outcome("your code compiles", f"SyntaxError on line {error.lineno}: {error.msg}")
    except ValueError as error:  # null bytes
        return one_outcome("your code compiles", str(error))
    seed = random.SystemRandom().randrange(2**31) if seed is None else seed
    checks = exercise.build_checks(seed)
    judging = _Judging(
        exercise,
        checks,
        define(exercise.solution, exercise.function, "<reference>"),
        reference_cache if reference_cache is not None else {},
    )
    outcomes: list[CheckOutcome | None] = [None] * len(checks)
    deadline = time.monotonic() + timeout_s
    per_check_s = max(1.0, timeout_s / 2)
    start = 0
    while start < len(checks):
        learner = learner or spawn_learner(workdir)
        learner.send_job({"exercise": exercise.id, "source": source, "seed": seed, "start": start})
        try:
            event = learner.wait(deadline)
            if event == {"defined": True}:
                start = _run_checks(judging, learner, outcomes, start, deadline, per_check_s, stop_at_first_failure)
            elif start == 0:
                return _not_defined(event, learner, timeout_s)
            else:  # it loaded before; this time its top level ran out of time or ended the process
                outcomes[start] = CheckOutcome(
                    checks[start].name, "error", message="not run: your file did not load again after the check before"
                )
                start += 1
        finally:
            learner.end(subreaper)
            learner = None
        if start < len(checks) and (deadline - time.monotonic() < 0.5 or stop_at_first_failure):
            why = "an earlier check failed" if stop_at_first_failure else "your code used up its time on the checks before"
            _not_run(checks, outcomes, start, f"not run: {why}")
            break
    done = tuple(o for o in outcomes if o is not None)
    return CheckResult(bool(done) and all(o.passed for o in done), done, seed)


def _run_checks(judging: _Judging, learner: Learner, outcomes: list, start: int, deadline: float, per_check_s: float,
                stop_at_first_failure: bool) -> int:  # fmt: skip
    """Read the learner's frames from check `start` on; the index to restart from."""
    for index in range(start, len(judging.checks)):
        judging.expected(index)  # the reference runs here while the learner's process works
        began = time.monotonic()
        event = learner.wait(min(deadline, began + per_check_s))
        name = judging.checks[index].name
        if isinstance(event, dict) and event.get("check") == index:
            try:
                got = decode(event.get("obs"))
            except (ValueError, TypeError, KeyError, AttributeError):
                outcomes[index] = CheckOutcome(
                    name, "error", message="your code interfered with the checks: its observation came back unreadable"
                )
                return index + 1
            outcomes[index] = judging.verdict(index, got)
            if stop_at_first_failure and not outcomes[index].passed:
                return index + 1
            continue
        if event == "timeout":
            message = f"stopped after {time.monotonic() - began:.0f} s: an infinite loop, or far too much work?"
        elif event == "exited":
            message = (
                f"your code did not return: {learner.death()}. A function returns its result; do not call os._exit() or end the process"
            )
        else:
            message = "your code interfered with the checks: it wrote to their channel"
        outcomes[index] = CheckOutcome(name, "error", message=message)
        return index + 1
    return len(judging.checks)


def _not_defined(event, learner: Learner, timeout_s: float) -> CheckResult:
    if isinstance(event, dict) and event.get("defined") is False:
        try:
            problem = decode(event.get("problem"))
        except (ValueError, TypeError, KeyError, AttributeError):
            problem = None
        if isinstance(problem, Raised) and problem.kind == "result":
            name = "your code defines the function" if "defines no" in problem.message else "your code runs"
            return one_outcome(name, problem.message)
        if isinstance(problem, Raised):
            return one_outcome("your code runs", problem.summary)
    if event == "timeout":
        return one_outcome(
            "your code finishes in time", f"stopped after {timeout_s:.0f} s: the top level of your file did not finish (an infinite loop?)"
        )
    if event == "exited":
        return one_outcome("your code runs", f"your file did not load: {learner.death()}")
    return one_outcome("your code runs", "your code interfered with the checks: it wrote to their channel")


def _not_run(checks: list[Check], outcomes: list, start: int, message: str) -> None:
    for index in range(start, len(checks)):
        if outcomes[index] is None:
            outcomes[index] = CheckOutcome(checks[index].name, "error", message=message)


def prepare_workdir(workdir: str) -> str:
    """A directory inside `workdir` the learner's process may write (owned by `nobody` when the
    judge is root: the learner's process drops to that user)."""
    os.chmod(workdir, 0o711)
    private = os.path.join(workdir, "learner")
    os.makedirs(private, exist_ok=True)
    if os.getuid() == 0 and others_can_read_python():  # the learner's process will be `nobody`
        with contextlib.suppress(PermissionError):
            os.chown(private, NOBODY, NOBODY)
    os.chmod(private, 0o700)
    return private


# ---------------------------------------------------------------- the checking process


def serve(verdict_fd: int, expected_exercise: str = "") -> None:
    """The checking process's life: import and warm up torch, fork the learner's process ahead
    of the job, run the reference's side of the checks of `expected_exercise` (the one open on
    the page) with a seed of its own, say "ready" on the verdict descriptor, read one job from
    stdin, judge it, write the verdict, exit. All but the judging happens while the learner
    types. Only this process holds `verdict_fd`."""
    import torch

    from exercises.catalogue import all_exercises
    from sandbox.process import PR_SET_DUMPABLE, prctl

    torch.set_num_threads(1)
    exercises = all_exercises()
    warm_torch()
    prctl(PR_SET_DUMPABLE, 0)  # a same-user process cannot open this one's descriptors through /proc
    workdir = prepare_workdir(os.getcwd())
    learner = spawn_learner(workdir)
    seed, cache = random.SystemRandom().randrange(2**31), {}
    if expected_exercise in exercises:
        _reference_side(exercises[expected_exercise], seed, cache)
    _write_all(verdict_fd, b"ready\n")  # the learner's time starts after this, not during the imports
    job = json.loads(sys.stdin.buffer.read())
    if job["exercise"] != expected_exercise or job.get("seed") is not None:
        seed, cache = job.get("seed"), {}
    result = judge(exercises[job["exercise"]], job["source"], seed=seed, timeout_s=float(job["timeout_s"]), workdir=workdir,
                   learner=learner, subreaper=True, reference_cache=cache)  # fmt: skip
    _write_all(verdict_fd, json.dumps(result.to_dict()).encode() + b"\n")
    os._exit(0)  # the verdict is out; tearing down torch would only make the learner wait


def _reference_side(exercise: Exercise, seed: int, cache: dict) -> None:
    """The reference's observations of every check, into `cache` (what judge() would compute)."""
    import torch

    torch.set_num_threads(1)
    judging = _Judging(exercise, exercise.build_checks(seed), define(exercise.solution, exercise.function, "<reference>"), cache)
    for index in range(len(judging.checks)):
        judging.expected(index)


@functools.cache
def warm_torch() -> None:
    """Torch loads parts of itself on a first optimizer step (seconds on a busy machine): pay that
    once here, before learner processes are forked, not in each of them."""
    import torch
    from torch import nn

    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(), nn.Linear(8, 3), nn.Dropout(0.1))
    for make in (lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=1e-4), lambda p: torch.optim.Adam(p, lr=1e-3)):
        optimizer = make(model.parameters())
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(torch.zeros(2, 1, 4, 4)), torch.tensor([0, 1]), label_smoothing=0.1).backward()
        optimizer.step()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
