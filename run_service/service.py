"""The run service pages talk to: admission (one active run per learner, a bounded queue),
queue positions with estimated starts, updates since the page's cursor, cancel."""

from __future__ import annotations

import itertools
import threading
import time
import uuid

from cifar_core.config import TrainConfig
from run_service.estimate import expected_seconds, seconds_until_start
from run_service.records import QUEUED, LearnerBusy, QueueFull, RunRecord, RunUpdate
from run_service.settings import RunServiceSettings

RECORDS_KEPT = 500  # finished runs remembered for their pages; older ones are forgotten


class RunService:
    def __init__(self, settings: RunServiceSettings | None = None, backend=None) -> None:
        self.settings = settings or RunServiceSettings.from_environment()
        self.backend = backend or _backend_for(self.settings)
        self._records: dict[str, RunRecord] = {}
        self._lock = threading.Lock()
        self._counter = itertools.count(1)

    # -- submitting ----------------------------------------------------------------------------

    def submit(self, learner: str, cfg: TrainConfig) -> str:
        """Queue a run and return its id; refuses a second active run or a full queue."""
        cfg = cfg.validated()  # an impossible configuration fails here, never in a worker
        with self._lock:
            mine = self.active_run(learner)
            if mine is not None:
                raise LearnerBusy(f"you already have a run {self._records[mine].status}: stop it or wait for it to finish")
            queued = [r for r in self._records.values() if r.status == QUEUED]
            if len(queued) >= self.settings.max_queued:
                wait = self._starts_in(len(queued) + 1)
                raise QueueFull(
                    f"the training queue is full ({len(queued)} runs waiting for {self.backend.slots} slot(s)); "
                    f"a place should free in about {_minutes(wait)}: try again then"
                )
            record = RunRecord(f"run-{next(self._counter)}-{uuid.uuid4().hex[:8]}", learner, cfg)
            self._records[record.run_id] = record
            self._forget_old()
        self.backend.submit(record)
        return record.run_id

    def cancel(self, run_id: str) -> None:
        record = self._records.get(run_id)
        if record is not None and record.active:
            self.backend.cancel(record)

    # -- reading -------------------------------------------------------------------------------

    def active_run(self, learner: str) -> str | None:
        """The learner's queued or running run, so a page opened anew finds it."""
        return next((r.run_id for r in self._records.values() if r.learner == learner and r.active), None)

    def update(self, run_id: str, step_cursor: int = 0, epoch_cursor: int = 0) -> RunUpdate | None:
        record = self._records.get(run_id)
        if record is None:
            return None
        position = starts_in = None
        if record.status == QUEUED:
            waiting = self._queued_in_order()
            position = next((i + 1 for i, r in enumerate(waiting) if r is record), None)
            starts_in = self._starts_in(position) if position else None
        return record.update_since(step_cursor, epoch_cursor, position, starts_in)

    def records(self, learner: str | None = None) -> list[RunRecord]:
        return [r for r in self._records.values() if learner is None or r.learner == learner]

    def close(self) -> None:
        self.backend.close()

    # -- estimates -----------------------------------------------------------------------------

    def _queued_in_order(self) -> list[RunRecord]:
        return sorted((r for r in self._records.values() if r.status == QUEUED), key=lambda r: r.submitted_at)

    def _starts_in(self, position: int) -> float:
        """Seconds until the run at queue `position` (1-based) starts."""
        finished = [r for r in self._records.values() if r.finished_at and r.started_at and r.outcome]
        overheads = [r.finished_at - r.started_at - r.config.time_budget for r in finished if r.config.time_budget]
        unbudgeted = [r.finished_at - r.started_at for r in finished if not r.config.time_budget]
        overhead = sum(overheads) / len(overheads) if overheads else None
        typical = sum(unbudgeted) / len(unbudgeted) if unbudgeted else None

        def length(record: RunRecord) -> float:
            return expected_seconds(record.config.time_budget, overhead, typical)

        now = time.time()
        running = [length(r) - (now - r.started_at) for r in self._records.values() if r.active and r.started_at]
        ahead = [length(r) for r in self._queued_in_order()[: position - 1]]
        return seconds_until_start(running, ahead, self.backend.slots)

    def _forget_old(self) -> None:
        finished = [r for r in self._records.values() if not r.active]
        for record in sorted(finished, key=lambda r: r.submitted_at)[: max(0, len(finished) - RECORDS_KEPT)]:
            del self._records[record.run_id]


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def _backend_for(settings: RunServiceSettings):
    if settings.ray_address:
        from run_service.ray_backend import RayBackend

        return RayBackend(settings)
    from run_service.local import LocalBackend

    return LocalBackend(settings)


_service: RunService | None = None
_service_lock = threading.Lock()


def get_service() -> RunService:
    """The server process's one run service, created on first use (pages of every session share it)."""
    global _service
    with _service_lock:
        if _service is None:
            _service = RunService()
        return _service
