"""The local backend: a fixed pool of worker processes on this machine with a FIFO queue behind it.

Workers are started on first need and reused, so torch's import and a loaded data set are paid
for once per worker. One dispatcher thread in the server owns the pool: it reads every worker's
events, hands queued runs to idle workers, kills a worker above its memory limit, and replaces
a worker that died after failing only the run it held."""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path

from run_service.records import RunRecord
from run_service.settings import MIB, RunServiceSettings

PROJECT = Path(__file__).resolve().parents[1]
POLL_SECONDS = 0.2
MEMORY_CHECK_SECONDS = 0.5
CANCEL_GRACE_SECONDS = 15.0  # a run that ignores a cancel this long (a long data load) is killed


@dataclass
class _Worker:
    index: int
    process: subprocess.Popen
    conn: Connection
    run: RunRecord | None = None
    hung_up: bool = False  # its connection reached EOF: it is dying, and is reaped next
    killed_for: str = ""  # why the dispatcher killed it, for the run's message
    cancel_sent_at: float | None = None
    send_lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, message: tuple) -> None:
        with self.send_lock:
            self.conn.send(message)

    def resident_mb(self) -> float:
        try:
            with open(f"/proc/{self.process.pid}/statm") as statm:
                return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MIB
        except (OSError, ValueError, IndexError):
            return 0.0


class LocalBackend:
    name = "local"

    def __init__(self, settings: RunServiceSettings) -> None:
        self.settings = settings
        self.slots = settings.slots
        self._workers: list[_Worker | None] = [None] * settings.slots
        self._queue: deque[RunRecord] = deque()
        self._lock = threading.RLock()  # the dispatcher re-enters it when a dying worker's last events arrive
        self._closed = threading.Event()
        self._last_memory_check = 0.0
        self._dispatcher = threading.Thread(target=self._loop, name="run-dispatcher", daemon=True)
        self._dispatcher.start()
        atexit.register(self.close)  # workers do not outlive the server

    # -- called by the service -----------------------------------------------------------------

    def submit(self, record: RunRecord) -> None:
        with self._lock:
            self._queue.append(record)
            self._dispatch()

    def cancel(self, record: RunRecord) -> None:
        with self._lock:
            if record in self._queue:
                from run_service.outcome import RunOutcome  # torch: only once a run has been queued

                self._queue.remove(record)
                record.finish(RunOutcome("stopped", "cancelled while queued", record.config))
                return
            worker = next((w for w in self._workers if w is not None and w.run is record), None)
        if worker is not None:
            worker.cancel_sent_at = worker.cancel_sent_at or time.monotonic()
            with contextlib.suppress(OSError):  # the worker is dying; the dispatcher fails the run
                worker.send(("cancel", record.run_id, None))

    def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        self._dispatcher.join(timeout=5)
        with self._lock:
            workers = [w for w in self._workers if w is not None]
        for worker in workers:
            with contextlib.suppress(OSError):
                worker.send(("exit", None, None))
        for worker in workers:
            try:
                worker.process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait(timeout=3)
            worker.conn.close()

    # -- the dispatcher thread -----------------------------------------------------------------

    def _loop(self) -> None:
        while not self._closed.is_set():
            with self._lock:
                workers = [w for w in self._workers if w is not None and not w.hung_up]
            ready = wait([w.conn for w in workers], timeout=POLL_SECONDS) if workers else []
            if not workers:
                time.sleep(POLL_SECONDS)
            for worker in workers:
                if worker.conn in ready:
                    self._drain(worker)
            with self._lock:
                self._reap_dead()
                self._enforce_limits()
                self._dispatch()

    def _drain(self, worker: _Worker) -> None:
        try:
            while worker.conn.poll():
                kind, run_id, payload = worker.conn.recv()
                self._handle(worker, kind, run_id, payload)
        except (EOFError, OSError):
            worker.hung_up = True  # the worker died; _reap_dead reports it once it has exited

    def _handle(self, worker: _Worker, kind: str, run_id: str | None, payload) -> None:
        record = worker.run
        if record is None or run_id != record.run_id:
            return  # "ready", or a late event of a run already failed
        record.apply(kind, payload)
        if kind == "done":
            with self._lock:
                worker.run, worker.cancel_sent_at = None, None

    def _reap_dead(self) -> None:
        for index, worker in enumerate(self._workers):
            if worker is None or worker.process.poll() is None:
                continue
            self._drain(worker)  # a "done" sent just before dying still counts
            if worker.run is not None:
                from run_service.outcome import RunOutcome

                reason = worker.killed_for or _describe_exit(worker.process.returncode)
                worker.run.finish(RunOutcome("failed", f"the worker process running this run {reason}; other runs were not affected",
                                             worker.run.config))  # fmt: skip
            worker.conn.close()
            self._workers[index] = None  # replaced on next need

    def _enforce_limits(self) -> None:
        now = time.monotonic()
        if now - self._last_memory_check < MEMORY_CHECK_SECONDS:
            return
        self._last_memory_check = now
        for worker in self._workers:
            if worker is None or worker.run is None or worker.process.poll() is not None:
                continue
            resident = worker.resident_mb()
            if resident > self.settings.memory_limit_mb:
                worker.killed_for = f"used {resident:.0f} MB, over the limit of {self.settings.memory_limit_mb} MB per run, and was stopped"
                worker.process.kill()
            elif worker.cancel_sent_at is not None and now - worker.cancel_sent_at > CANCEL_GRACE_SECONDS:
                from run_service.outcome import RunOutcome

                worker.run.finish(RunOutcome("stopped", "stopped by you", worker.run.config))
                worker.killed_for = "was stopped at your request"
                worker.process.kill()

    def _dispatch(self) -> None:
        for index in range(len(self._workers)):
            if not self._queue:
                return
            worker = self._workers[index]
            if worker is not None and (worker.run is not None or worker.hung_up or worker.process.poll() is not None):
                continue
            if worker is None:
                worker = self._workers[index] = self._start_worker(index)
            record = self._queue.popleft()
            worker.run, worker.killed_for = record, ""
            record.mark_started(f"worker {index + 1} (pid {worker.process.pid})")
            worker.send(("run", record.run_id, record.config))

    def _start_worker(self, index: int) -> _Worker:
        server_end, worker_end = socket.socketpair()
        threads = self.settings.threads_per_run
        command = [sys.executable, "-m", "run_service.worker", str(worker_end.fileno()), str(threads), str(os.getpid())]
        process = subprocess.Popen(command, cwd=PROJECT, pass_fds=[worker_end.fileno()], stdin=subprocess.DEVNULL)
        worker_end.close()
        return _Worker(index, process, Connection(server_end.detach()))


def _describe_exit(code: int) -> str:
    if code < 0:
        name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else f"signal {-code}"
        hint = " (out of memory, or killed)" if -code == signal.SIGKILL else " (a native crash)" if -code == signal.SIGSEGV else ""
        return f"died of {name}{hint}"
    return f"exited unexpectedly with status {code}"
