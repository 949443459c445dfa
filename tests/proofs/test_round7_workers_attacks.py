"""Attacks on the DataLoader-worker claim checks made strict in round 7 (resnet-23): each builds the world
where the item's claim is false (workers started before the timer, one core, metadata that is not Python objects,
a get_data_loaders that ignores num_workers) and the item's claim check must then fail, at the part the world breaks.

The demos need two free cores (proofs/cores.py measures it before and after the run and skips otherwise), so on a busy
machine these tests skip. That each check passes as written is tests/proofs/test_claims.py's, not repeated here."""

import os
import sys

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

import proofs.demos.loop as loop
from proofs.catalogue import get_demo
from proofs.registry import Check, run
from qa_bank.loader import load_bank

ITEMS = load_bank().by_id()
WORKERS_ITEM = "resnet-23-num-workers-trade-off"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the demos pin cores and read /proc (Linux)")


def claim(item_id: str) -> Check:
    """The item's claim check from a run of its demo as written (the code under attack); skips where the demo does."""
    outcome = run(get_demo(ITEMS[item_id].demo))
    if outcome.skipped:
        pytest.skip(outcome.skipped)
    check = outcome.named(ITEMS[item_id].claim_check)
    assert check is not None, [c.name for c in outcome.result.checks]
    return check


@pytest.fixture
def one_core_posing_as_two(monkeypatch):
    """This process pinned to one core while the demo is told both cores are free: the world with no parallelism."""
    before = os.sched_getaffinity(0)
    if len(before) < 2:
        pytest.skip("needs 2 cores to take one away")
    os.sched_setaffinity(0, {min(before)})
    monkeypatch.setattr("proofs.cores.missing_cores_reason", lambda count: None)
    yield
    os.sched_setaffinity(0, before)


@pytest.mark.parametrize("workers", [0, 1])
def test_resnet_23_a_loader_that_ignores_num_workers(real_cifar10, monkeypatch, workers):
    """num_workers=2 asked for, `workers` given: the main process loads (0, with nothing to keep persistent), or one
    process does (1)."""

    def ignoring(dataset, **kw):
        return DataLoader(dataset, **{**kw, "num_workers": workers, "persistent_workers": bool(workers and kw.get("persistent_workers"))})

    monkeypatch.setattr(loop, "DataLoader", ignoring)
    check = claim(WORKERS_ITEM)
    assert not check.passed and check.measured["worker_processes"] == workers


def test_resnet_23_workers_started_before_the_timer(real_cifar10, monkeypatch):
    """Every loader's workers already running when the demo calls iter(loader): no start-up is left to measure."""

    def prestarted(dataset, **kw):
        if not kw.get("num_workers"):
            return DataLoader(dataset, **kw)
        loader = DataLoader(dataset, **{**kw, "persistent_workers": True})
        for _ in loader:  # one epoch now: the workers are forked and running; the demo's iter() only resets them
            pass
        return loader

    monkeypatch.setattr(loop, "DataLoader", prestarted)
    check = claim(WORKERS_ITEM)
    measured = check.measured
    assert not check.passed
    assert measured["first_batch_s_new_workers"] - measured["first_batch_s_running_workers"] < 0.010, measured


@pytest.mark.filterwarnings("ignore:This DataLoader will create:UserWarning")  # torch sees one core: the point
def test_resnet_23_on_one_core(real_cifar10, one_core_posing_as_two):
    check = claim(WORKERS_ITEM)
    measured = check.measured
    assert not check.passed
    assert measured["epoch_s_two_workers_free_cores"] >= 0.75 * measured["epoch_s_no_workers"], measured


def test_resnet_23_sleep_as_the_loading_work(real_cifar10, monkeypatch):
    """The issue's complaint about the old demo: time.sleep per sample overlaps even on one core, so a check that
    cannot tell waiting from CPU work would pass. Here the one-core epoch gets faster too, and that fails it."""
    import time

    def sleeping(self, index):
        time.sleep(0.002)
        return torch.zeros(3, 32, 32), os.getpid()

    monkeypatch.setattr(loop.DecodingDataset, "__getitem__", sleeping)
    check = claim(WORKERS_ITEM)
    assert not check.passed
    assert check.measured["epoch_s_two_workers_one_core"] <= 0.9 * check.measured["epoch_s_no_workers"], check.measured


def test_resnet_23_metadata_that_is_not_python_objects(real_cifar10, monkeypatch):
    """ImageFolder's (path, class) entries kept in NumPy arrays, a known fix: reading them touches no reference count,
    so the workers copy nothing however long the list is."""
    from torchvision.datasets import ImageFolder

    class ArrayFolder(ImageFolder):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.paths = np.array([path for path, _ in self.samples])
            self.labels = np.array([label for _, label in self.samples])

        def __getitem__(self, index):
            return self.loader(str(self.paths[index])), int(self.labels[index])

    monkeypatch.setattr("torchvision.datasets.ImageFolder", ArrayFolder)
    check = claim(WORKERS_ITEM)
    assert not check.passed
    growth = [float(mib) for mib in check.measured["private_mib_growth_per_worker"].strip("[]").split(",")]
    assert min(growth) <= 0.3 * check.measured["metadata_mib"], check.measured


@pytest.mark.parametrize("item_id", [WORKERS_ITEM])
def test_on_a_one_core_machine_the_demos_skip_and_say_why(real_cifar10, item_id):
    """taskset -c 0, or a one-core machine: nothing can load in parallel, so the demo says so instead of failing."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(before)})
    try:
        outcome = run(get_demo(ITEMS[item_id].demo))
    finally:
        os.sched_setaffinity(0, before)
    assert outcome.skipped == "needs 2 CPU cores to show work in parallel; this process may run on 1 (os.sched_getaffinity)"


def test_a_run_counts_only_if_the_cores_were_free_before_and_after(monkeypatch):
    """A job that starts beside a free-core demo can hide its gain or fake one: that run is a skip, whatever it found."""
    from proofs.registry import Demo, DemoResult

    answers = iter([None, "needs 2 free CPU cores; two processes working at once got 1.10x the work of one"])
    monkeypatch.setattr("proofs.cores.missing_cores_reason", lambda count: next(answers))
    ran = []

    def measures(broken=False):
        ran.append(broken)
        result = DemoResult()
        result.check("a gain", True)
        return result

    outcome = run(Demo("d", "t", "c.", "loop", (), measures, "m", needs_free_cores=2))
    assert ran == [False] and outcome.skipped.startswith("the cores were taken during the run: needs 2 free CPU cores")
    assert not outcome.result.checks


def test_a_timed_gain_is_the_best_of_three_runs_and_its_mistake_gets_one(monkeypatch):
    """Wall-clock gains on shared cores: the demo as written may retry a failed run twice; the broken run never retries,
    so a retry can hide a loss but never makes the mistake pass."""
    from proofs.registry import TIMED_GAIN_ATTEMPTS, Demo, DemoResult

    monkeypatch.setattr("proofs.cores.missing_cores_reason", lambda count: None)
    verdicts = iter([False, False, True, True])

    def measures(broken=False):
        result = DemoResult()
        result.check("a gain", False if broken else next(verdicts))
        return result

    timed = Demo("d", "t", "c.", "loop", (), measures, "m", needs_free_cores=2)
    outcome = run(timed)
    assert outcome.passed and outcome.attempts == 3 == TIMED_GAIN_ATTEMPTS
    assert run(timed).attempts == 1  # passed at once: no further runs
    broken = run(timed, broken=True)
    assert not broken.passed and broken.attempts == 1
    untimed = Demo("u", "t", "c.", "loop", (), lambda broken=False: DemoResult([]) if broken else _failing(), "m")
    assert run(untimed).attempts == 1


def _failing():
    from proofs.registry import DemoResult

    result = DemoResult()
    result.check("a deterministic claim", False)
    return result
