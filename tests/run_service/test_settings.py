"""How many runs train at once and with how many threads, hosted and local."""

import pytest

import run_service.settings as settings_module
from run_service.settings import RunServiceSettings


@pytest.fixture
def cores(monkeypatch):
    def set_cores(count: int) -> None:
        monkeypatch.setattr(settings_module.os, "cpu_count", lambda: count)
        monkeypatch.setattr(settings_module, "_gpu_count", lambda: 0)

    return set_cores


@pytest.mark.parametrize(("count", "slots", "threads"), [(1, 1, 1), (2, 1, 1), (4, 1, 3), (8, 3, 2), (16, 7, 2)])
def test_hosted_keeps_a_core_for_the_server_and_gives_each_run_two(cores, count, slots, threads):
    cores(count)
    chosen = RunServiceSettings.from_environment({"HOSTED": "1"})
    assert (chosen.slots, chosen.threads_per_run) == (slots, threads)
    assert chosen.slots * chosen.threads_per_run <= max(1, count - 1)  # never oversubscribed


def test_a_local_learner_gets_one_run_with_every_core(cores):
    cores(8)
    chosen = RunServiceSettings.from_environment({})
    assert (chosen.slots, chosen.threads_per_run, chosen.ray_address) == (1, 8, None)


def test_the_deployer_overrides_each_figure(cores):
    cores(8)
    env = {"HOSTED": "1", "VIVA_RUN_SLOTS": "4", "VIVA_RUN_QUEUE": "40", "VIVA_RUN_MEMORY_MB": "1500", "VIVA_RAY_ADDRESS": "auto"}
    chosen = RunServiceSettings.from_environment(env)
    assert (chosen.slots, chosen.threads_per_run, chosen.max_queued, chosen.memory_limit_mb, chosen.ray_address) == (4, 2, 40, 1500, "auto")
