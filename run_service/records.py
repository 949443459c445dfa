"""The server's record of each run: what the page reads, kept behind one lock per run."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cifar_core.config import TrainConfig

if TYPE_CHECKING:  # torch loads when a result arrives, not when a page asks for the queue
    from run_service.outcome import RunOutcome

QUEUED = "queued"
ACTIVE = (QUEUED, "loading data", "training", "evaluating")
FINAL = ("finished", "stopped", "failed")


class QueueFull(Exception):
    """Every slot is busy and the queue is at its bound; the message says when to try again."""


class LearnerBusy(Exception):
    """This learner already has a run queued or training."""


@dataclass(frozen=True)
class RunUpdate:
    """What changed since the page last asked: new steps and epochs only, plus the current state."""

    run_id: str
    status: str
    message: str
    where: str  # which worker or node runs it, once it has started
    position: int | None  # 1 = next to start; None once it has started
    starts_in_s: float | None  # estimate, while queued
    steps: list  # StepInfo after the page's cursor
    epochs: list  # EpochInfo after the page's cursor
    data_description: str
    outcome: RunOutcome | None  # once final


@dataclass
class RunRecord:
    run_id: str
    learner: str
    config: TrainConfig
    submitted_at: float = field(default_factory=time.time)
    status: str = QUEUED
    message: str = ""
    where: str = ""
    started_at: float | None = None
    finished_at: float | None = None
    data_description: str = ""
    steps: list = field(default_factory=list)
    epochs: list = field(default_factory=list)
    outcome: RunOutcome | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def mark_started(self, where: str) -> None:
        with self._lock:
            self.started_at, self.where, self.status = time.time(), where, "loading data"

    def set_status(self, status: str) -> None:
        with self._lock:
            if self.status not in FINAL:
                self.status = status

    def set_data(self, description: str) -> None:
        with self._lock:
            self.data_description = description

    def add_step(self, info) -> None:
        with self._lock:
            self.steps.append(info)

    def add_epoch(self, info) -> None:
        with self._lock:
            self.epochs.append(info)

    def apply(self, kind: str, payload) -> None:
        """One event a backend received from the run's worker: the same words on every backend."""
        handlers = {"started": self.mark_started, "status": self.set_status, "data": self.set_data,
                    "step": self.add_step, "epoch": self.add_epoch, "done": self.finish}  # fmt: skip
        handlers[kind](payload)

    def finish(self, outcome: RunOutcome) -> None:
        with self._lock:
            if self.status in FINAL:
                return  # the first verdict stands (a cancel racing a finish, say)
            self.outcome, self.status, self.message = outcome, outcome.status, outcome.message
            self.data_description = self.data_description or outcome.data_description
            self.finished_at = time.time()

    def update_since(self, step_cursor: int, epoch_cursor: int, position: int | None, starts_in_s: float | None) -> RunUpdate:
        with self._lock:
            return RunUpdate(
                self.run_id, self.status, self.message, self.where, position, starts_in_s,
                self.steps[step_cursor:], self.epochs[epoch_cursor:], self.data_description, self.outcome,
            )  # fmt: skip
