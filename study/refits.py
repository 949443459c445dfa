"""Refits in the background: `python -m study optimize --auto` in a process of its own, started by
the app after every N reviews and by Settings' Optimize button, so the app's server never imports
torch, never waits 10-40 s for a fit, and never changes torch's process-wide thread count.

A hosted server may have many learners crossing their refit count at once, and each fit is one
torch process: at most `max_running` run at a time per server, the others wait in a queue (one
place per learner) and start as running ones finish. A thread per running process waits for it,
so each is reaped the moment it exits (no zombies) and the next in the queue starts then."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

RUNNING, QUEUED = "running", "queued"
REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class RefitLimits:
    max_running: int = 2  # refit processes at once per app server (each one torch thread, 10-40 s); the rest queue
    # After a failed refit, seconds before a review starts another for that learner: a failure
    # stores no report, so the refit stays due and every review would start one more doomed fit.
    retry_after_s: float = 600.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> RefitLimits:
        """VIVA_MAX_REFITS, when set; a bad value is one line naming it."""
        text = environ.get("VIVA_MAX_REFITS", "").strip()
        if not text:
            return cls()
        if not text.isdigit() or int(text) < 1:
            raise ValueError(f"VIVA_MAX_REFITS must be a whole number of at least 1, not {text!r}")
        return cls(max_running=int(text))


@dataclass(frozen=True)
class RefitStatus:
    state: str | None  # RUNNING, QUEUED, or None when this learner has no refit under way
    since: float | None = None  # time.time() when it started (running) or joined the queue (queued)
    ahead: int = 0  # refits queued before this one
    last_exit: int | None = None  # exit status of this learner's last refit in this server, None before any
    last_error: str = ""  # that refit's last line on stderr, when it failed
    last_ended: float | None = None  # time.time() when that refit ended (or failed to start)


def launch_refit(target: str, profile: str) -> subprocess.Popen:
    """`python -m study optimize --profile P --auto` (it lowers its own priority). The database
    travels in the environment, not the command line (a URL may hold a password)."""
    command = [sys.executable, "-m", "study", "optimize", "--profile", profile, "--auto"]
    env = {**os.environ, "VIVA_DATABASE_URL": target if "://" in target else f"sqlite:///{target}"}
    return subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)


class RefitPool:
    """At most `limits.max_running` refit processes at once; one place per (store, learner)."""

    def __init__(self, limits: RefitLimits = RefitLimits(), launch: Callable[[str, str], subprocess.Popen] = launch_refit) -> None:
        self.limits = limits
        self._launch = launch
        self._changed = threading.Condition()
        self._running: dict[tuple[str, str], tuple[subprocess.Popen, float]] = {}
        self._queued: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._finished: dict[tuple[str, str], tuple[int, str, float]] = {}

    def request(self, target: str, profile: str, automatic: bool = False) -> RefitStatus:
        """Start a refit for this learner, or queue it when `max_running` are running; nothing
        when theirs is already running or queued, nor for an `automatic` request (the one a
        review makes) within `limits.retry_after_s` of a failed refit (Optimize still retries)."""
        key = (target, profile)
        with self._changed:
            if key not in self._running and key not in self._queued and not (automatic and self._failed_lately(key)):
                self._queued[key] = time.time()
                self._start_queued()
            return self._status(key)

    def status(self, target: str, profile: str) -> RefitStatus:
        with self._changed:
            return self._status((target, profile))

    def running(self) -> int:
        with self._changed:
            return len(self._running)

    def wait(self, target: str, profile: str, timeout: float) -> bool:
        """Block until this learner's refit has finished (tests, scripts); False on timeout."""
        key = (target, profile)
        with self._changed:
            return self._changed.wait_for(lambda: key not in self._running and key not in self._queued, timeout)

    # -- under the lock ----------------------------------------------------------------------------

    def _status(self, key: tuple[str, str]) -> RefitStatus:
        last_exit, last_error, last_ended = self._finished.get(key, (None, "", None))
        if key in self._running:
            return RefitStatus(RUNNING, self._running[key][1], 0, last_exit, last_error, last_ended)
        if key in self._queued:
            return RefitStatus(QUEUED, self._queued[key], list(self._queued).index(key), last_exit, last_error, last_ended)
        return RefitStatus(None, None, 0, last_exit, last_error, last_ended)

    def _failed_lately(self, key: tuple[str, str]) -> bool:
        last_exit, _, last_ended = self._finished.get(key, (0, "", 0.0))
        return last_exit != 0 and time.time() - last_ended < self.limits.retry_after_s

    def _start_queued(self) -> None:
        while self._queued and len(self._running) < self.limits.max_running:
            key, _ = self._queued.popitem(last=False)
            try:
                process = self._launch(*key)
            except OSError as error:  # no interpreter, no process slots: say so on Settings, try the next
                self._finished[key] = (-1, f"could not start the refit: {error}", time.time())
                continue
            self._running[key] = (process, time.time())
            threading.Thread(target=self._reap, args=(key, process), name=f"refit-{key[1]}", daemon=True).start()

    def _reap(self, key: tuple[str, str], process: subprocess.Popen) -> None:
        """Wait for the process (which reaps it), note how it ended, and start the next one."""
        _, stderr = process.communicate()
        lines = (stderr or b"").decode(errors="replace").strip().splitlines()
        with self._changed:
            del self._running[key]
            self._finished[key] = (process.returncode, lines[-1] if lines and process.returncode else "", time.time())
            self._start_queued()
            self._changed.notify_all()


_pool: RefitPool | None = None
_pool_lock = threading.Lock()


def pool() -> RefitPool:
    """The server's one pool (every session of a Streamlit server shares it), limits read once."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = RefitPool(RefitLimits.from_env())
        return _pool
