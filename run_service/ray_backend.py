"""The Ray backend (`VIVA_RAY_ADDRESS`): each run is a Ray task asking for `num_cpus` (or one
GPU), so Ray's scheduler queues the runs and a cluster gains capacity by adding nodes.

Step and epoch updates come back through one small actor that buffers them. Cancel marks the run
there, which the running task reads between steps and stops on, as a local run does; `ray.cancel`
also goes out (a pending task never starts; a running one gets KeyboardInterrupt, which on a busy
machine has taken over a minute to arrive, long enough for a short run to finish first). Training data reaches each
Ray worker once: workers read it from a path every node sees (a shared disk) and keep it for the
next run (run_service/execution.py), so nothing moves per step. Ray is optional: requirements-cluster.txt."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path

from run_service.outcome import RunOutcome
from run_service.records import RunRecord
from run_service.settings import RunServiceSettings

PROJECT = Path(__file__).resolve().parents[1]
POLL_SECONDS = 0.2
FLUSH_SECONDS = 0.5  # a task sends its steps in batches, not one actor call per step
CANCEL_CHECK_SECONDS = 0.5  # how often a running task asks whether it was cancelled
# What a worker node needs of the project: the code, not the environment, history or pictures.
NOT_SHIPPED = [".venv", ".git", "docs", "bench_out", "tests", "*.db", "*.db-wal", "*.db-shm", "__pycache__"]


class EventBuffer:
    """A Ray actor (made in RayBackend) holding the runs' events until the server collects them."""

    def __init__(self) -> None:
        self.events: list[tuple] = []
        self.cancelled: set[str] = set()

    def push(self, batch: list[tuple]) -> None:
        self.events.extend(batch)

    def drain(self) -> list[tuple]:
        taken, self.events = self.events, []
        return taken

    def cancel(self, run_id: str) -> None:
        self.cancelled.add(run_id)

    def is_cancelled(self, run_id: str) -> bool:
        return run_id in self.cancelled


def _cancel_poller(run_id: str, events):
    """`should_stop` for a Ray task: asks the buffer at most every CANCEL_CHECK_SECONDS and never waits for the
    answer (a task blocked in ray.get lends its CPUs to the next queued task); it reads the answer once it is in."""
    import ray

    asked, answer, last = None, False, 0.0

    def should_stop() -> bool:
        nonlocal asked, answer, last
        if asked is not None and ray.wait([asked], timeout=0)[0]:
            answer, asked = ray.get(asked), None
        if not answer and asked is None and time.monotonic() - last > CANCEL_CHECK_SECONDS:
            asked, last = events.is_cancelled.remote(run_id), time.monotonic()
        return answer

    return should_stop


def _train_on_ray(run_id: str, cfg, threads: int, events) -> RunOutcome:
    """The Ray task: runs on whichever node Ray picks."""
    import ray

    from run_service.execution import limit_threads, run_one

    limit_threads(threads)
    pending: list[tuple] = []
    last_flush = time.monotonic()

    def emit(kind: str, payload) -> None:
        # Fire and forget: a task waiting in ray.get lends its CPUs to the next queued task, which
        # would then train beside it on the same cores. An actor runs one caller's calls in order.
        nonlocal last_flush
        pending.append((run_id, kind, payload))
        if kind != "step" or time.monotonic() - last_flush > FLUSH_SECONDS:
            events.push.remote(list(pending))
            pending.clear()
            last_flush = time.monotonic()

    emit("started", f"Ray node {ray.util.get_node_ip_address()} (pid {os.getpid()})")
    try:
        return run_one(cfg, emit, _cancel_poller(run_id, events))
    finally:
        ray.get(events.push.remote(pending))  # the last steps land before the result is seen


class RayBackend:
    name = "ray"

    def __init__(self, settings: RunServiceSettings) -> None:
        import ray

        self.settings = settings
        runtime_env = {"working_dir": str(PROJECT), "excludes": NOT_SHIPPED}
        if settings.ray_address == "local":  # a Ray started inside this process, on this machine's run slots
            cpus = settings.slots * settings.threads_per_run
            ray.init(num_cpus=cpus, include_dashboard=False, runtime_env=runtime_env, log_to_driver=False)
        else:
            ray.init(address=settings.ray_address, runtime_env=runtime_env, log_to_driver=False)
        resources = ray.cluster_resources()
        gpus = int(resources.get("GPU", 0))
        threads = 1 if gpus else settings.threads_per_run
        self.threads = threads
        self.slots = gpus or max(1, int(resources.get("CPU", 1)) // threads)
        self._events = ray.remote(num_cpus=0)(EventBuffer).remote()
        options = {"num_cpus": threads, "num_gpus": 1 if gpus else 0, "max_retries": 0}
        self._task = ray.remote(_train_on_ray).options(**options)
        self._running: dict = {}  # ObjectRef -> RunRecord
        self._by_id: dict[str, RunRecord] = {}
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._poller = threading.Thread(target=self._loop, name="ray-run-poller", daemon=True)
        self._poller.start()

    def submit(self, record: RunRecord) -> None:
        ref = self._task.remote(record.run_id, record.config, self.threads, self._events)
        with self._lock:
            self._running[ref] = record
            self._by_id[record.run_id] = record

    def cancel(self, record: RunRecord) -> None:
        import ray

        with self._lock:
            ref = next((r for r, rec in self._running.items() if rec is record), None)
        if ref is not None:
            self._events.cancel.remote(record.run_id)  # read by the running task between steps
            ray.cancel(ref)

    def close(self) -> None:
        import ray

        self._closed.set()
        self._poller.join(timeout=5)
        with contextlib.suppress(Exception):
            ray.kill(self._events)
        ray.shutdown()

    def _loop(self) -> None:
        while not self._closed.is_set():
            self._drain_events()
            self._collect_finished()
            time.sleep(POLL_SECONDS)

    def _drain_events(self) -> None:
        import ray
        from ray.exceptions import RayError

        try:
            events = ray.get(self._events.drain.remote(), timeout=10)
        except RayError:  # the buffer is going away with the backend
            return
        for run_id, kind, payload in events:
            record = self._by_id.get(run_id)
            if record is not None:
                record.apply(kind, payload)

    def _collect_finished(self) -> None:
        import ray
        from ray.exceptions import RayError, TaskCancelledError

        with self._lock:
            refs = list(self._running)
        if not refs:
            return
        done, _ = ray.wait(refs, num_returns=len(refs), timeout=0)
        if done:
            self._drain_events()  # the task's last steps before its verdict
        for ref in done:
            with self._lock:
                record = self._running.pop(ref)
                self._by_id.pop(record.run_id, None)  # its events have all been drained above
            try:
                outcome = ray.get(ref)
            except TaskCancelledError:
                message = "stopped by you" if record.started_at else "cancelled while queued"
                outcome = RunOutcome("stopped", message, record.config)
            except RayError as error:  # the task raised, or its worker or node died
                cause = getattr(error, "cause", None) or error
                reason = f"{type(cause).__name__}: {str(cause).strip().splitlines()[-1] if str(cause).strip() else ''}"
                outcome = RunOutcome("failed", f"the Ray task failed ({reason}); other runs were not affected", record.config)
            record.finish(outcome)
