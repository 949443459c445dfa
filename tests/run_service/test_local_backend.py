"""The local run service with real worker processes: admission, queueing, cancel, worker death."""

import os
import signal
import time
from dataclasses import replace

import pytest

from cifar_core.config import TrainConfig
from cifar_core.data import DataOptions
from run_service.records import LearnerBusy, QueueFull
from run_service.service import RunService
from run_service.settings import RunServiceSettings

pytestmark = pytest.mark.slow

DATA = DataOptions(dataset="synthetic", synthetic_size=1000)
QUICK = TrainConfig(data=DATA, model="fastnet", optimizer="sgd", lr=0.4, batch_size=100, scheduler="onecycle", time_budget=5)
LONG = replace(QUICK, time_budget=120)  # never runs to its end: the tests kill or cancel it


def settings(**changes) -> RunServiceSettings:
    base = RunServiceSettings(slots=1, threads_per_run=1, max_queued=4, memory_limit_mb=4096, gpus=0, ray_address=None)
    return replace(base, **changes)


@pytest.fixture
def service():
    created = []

    def make(**changes) -> RunService:
        created.append(RunService(settings(**changes)))
        return created[-1]

    yield make
    for one in created:
        one.close()


def wait_for(predicate, timeout: float = 90.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return value


def outcome(svc: RunService, run_id: str, timeout: float = 90.0):
    return wait_for(lambda: svc.update(run_id).outcome, timeout, f"{run_id} to end")


def training(svc: RunService, run_id: str) -> bool:
    return bool(svc.update(run_id).steps)


def test_a_killed_worker_fails_only_its_run_and_the_next_queued_run_starts(service):
    svc = service()
    doomed, waiting = svc.submit("ana", LONG), svc.submit("ben", QUICK)
    wait_for(lambda: training(svc, doomed), what="the first run to train")
    assert svc.update(waiting).position == 1
    pid = int(svc.update(doomed).where.split("pid ")[1].rstrip(")"))
    os.kill(pid, signal.SIGKILL)
    failed = outcome(svc, doomed)
    assert failed.status == "failed" and "died of SIGKILL" in failed.message and "other runs were not affected" in failed.message
    finished = outcome(svc, waiting)
    assert finished.status == "finished" and finished.report.accuracy > 0.3
    assert f"(pid {pid})" not in svc.update(waiting).where  # a fresh worker replaced the dead one


def test_cancel_while_queued_and_while_running(service):
    svc = service()
    running, queued = svc.submit("ana", LONG), svc.submit("ben", LONG)
    svc.cancel(queued)
    assert svc.update(queued).outcome.message == "cancelled while queued" and svc.update(queued).steps == []
    wait_for(lambda: training(svc, running), what="the run to train")
    svc.cancel(running)
    stopped = outcome(svc, running, timeout=30)
    assert stopped.status == "stopped" and stopped.message == "stopped by you" and stopped.steps < 1000


def test_one_active_run_per_learner_and_a_bounded_queue(service):
    svc = service(max_queued=1)
    first = svc.submit("ana", LONG)
    with pytest.raises(LearnerBusy, match="already have a run"):
        svc.submit("ana", QUICK)
    svc.submit("ben", QUICK)  # ben waits in the one queue place (ana's run holds the slot)
    with pytest.raises(QueueFull) as refused:
        svc.submit("cy", QUICK)
    assert "queue is full (1 runs waiting for 1 slot(s))" in str(refused.value) and "try again" in str(refused.value)
    svc.cancel(first)
    outcome(svc, first, timeout=30)
    assert svc.submit("ana", QUICK)  # once ana's run has ended she may start another


def test_a_worker_over_its_memory_limit_is_stopped_with_a_message(service):
    svc = service(memory_limit_mb=50)  # less than torch itself: the first check kills the worker
    failed = outcome(svc, svc.submit("ana", LONG))
    assert failed.status == "failed" and "over the limit of 50 MB per run" in failed.message


def test_data_loaded_once_is_reused_by_the_next_run_in_the_same_worker(service, tmp_path):
    import shutil

    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for label in range(4):
        folder = tmp_path / "images" / "train" / f"class{label}"
        folder.mkdir(parents=True)
        for index in range(30):
            pixels = np.clip(rng.normal(60 * label + 30, 20, (32, 32, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(folder / f"{index}.png")
    options = DataOptions(data_dir=str(tmp_path / "images"), use_cache=False, val_split=0.2)
    svc = service()
    first = outcome(svc, svc.submit("ana", replace(QUICK, data=options, batch_size=32)))
    assert first.status == "finished", first.message
    shutil.rmtree(tmp_path / "images")  # a second read from disk would now fail
    second = outcome(svc, svc.submit("ana", replace(QUICK, data=options, batch_size=32, seed=1)))
    assert second.status == "finished", second.message
    assert "image-folder dataset" in second.data_description
