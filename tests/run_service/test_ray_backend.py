"""The Ray backend against a real local Ray cluster started here with `ray start --head`, as an
instructor would start one, and stopped after: queueing by Ray's scheduler, positions, cancel."""

import os
import shutil
import socket
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from run_service.service import RunService
from run_service.settings import RunServiceSettings
from tests.run_service.test_local_backend import LONG, QUICK, outcome, training, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.ray]
ray = pytest.importorskip("ray", reason="Ray is optional: pip install -r requirements-cluster.txt")
RAY = Path(sys.executable).with_name("ray")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def ray_address(tmp_path_factory):
    port = _free_port()
    # A loopback cluster for the tests: no token to share between the head and this client.
    settings = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}
    saved = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    env = dict(os.environ)
    temp = tmp_path_factory.mktemp("ray")
    start = [str(RAY if RAY.exists() else shutil.which("ray")), "start", "--head", f"--port={port}", "--num-cpus=2", "--num-gpus=0",
             "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp}"]  # fmt: skip
    started = subprocess.run(start, env=env, capture_output=True, text=True, timeout=180)
    assert started.returncode == 0, started.stderr[-2000:]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([start[0], "stop", "--force"], env=env, capture_output=True, timeout=120)
        for name, value in saved.items():
            os.environ.pop(name) if value is None else os.environ.__setitem__(name, value)


@pytest.fixture(scope="module")
def service(ray_address):
    settings = RunServiceSettings(slots=1, threads_per_run=2, max_queued=4, memory_limit_mb=4096, gpus=0, ray_address=ray_address)
    svc = RunService(settings)
    yield svc
    svc.close()


# A fixed amount of work, not a time budget: on a busy 2-core CI machine a 5 s run can end
# after a step or two, and the accuracy check below is about Ray running it, not about speed.
EIGHT_EPOCHS = replace(QUICK, time_budget=None, epochs=8)  # 72 steps (about 5 s here), over 80% on the generated set


def test_runs_on_ray_queue_behind_the_cluster_and_finish(service):
    assert service.backend.slots == 1  # two CPUs, two per run
    first, second = service.submit("ana", EIGHT_EPOCHS), service.submit("ben", EIGHT_EPOCHS)
    wait_for(lambda: training(service, first), timeout=180, what="the first run to train on Ray")
    assert service.update(second).position == 1  # Ray holds it until the CPUs free
    for run_id in (first, second):
        done = outcome(service, run_id, timeout=180)
        assert done.status == "finished" and done.report.accuracy > 0.3, done.message
        assert service.update(run_id).where.startswith("Ray node ")


def test_cancel_on_ray_while_queued_and_while_running(service):
    running, queued = service.submit("ana", LONG), service.submit("ben", replace(LONG, seed=1))
    wait_for(lambda: training(service, running), timeout=180, what="the run to train on Ray")
    service.cancel(queued)
    service.cancel(running)
    # Waits, not speed limits: on CI's 2 cores a cancelled Ray task has once taken just over 60 s to report.
    stopped = outcome(service, running, timeout=180)
    assert stopped.status == "stopped" and stopped.message == "stopped by you"
    assert outcome(service, queued, timeout=180).message == "cancelled while queued"
    assert service.update(queued).steps == []


def test_a_running_ray_task_stops_on_the_cancel_mark_alone(service, monkeypatch):
    # ray.cancel's KeyboardInterrupt once took so long on CI's busy cores that a short run finished first: the
    # running task also reads the cancel mark between steps. With ray.cancel doing nothing, that mark alone stops it
    # (a LONG run would otherwise train for its whole 120 s budget and finish).
    monkeypatch.setattr(ray, "cancel", lambda *args, **kwargs: None)
    running = service.submit("ana", replace(LONG, seed=2))
    wait_for(lambda: training(service, running), timeout=180, what="the run to train on Ray")
    service.cancel(running)
    stopped = outcome(service, running, timeout=100)
    assert stopped.status == "stopped" and stopped.message == "stopped by you"
