"""Attacks on viva-17's claim check (round 11, get-data-loaders-workers-hide-loading): get_data_loaders(num_workers=2)
against 0 on the real CIFAR-10 images, this process and its workers pinned to one core, the step leaving the CPU idle.

Each attack builds a world where the claim is false (no workers, a step that computes on the core the workers need)
and the item's claim check must then fail; the timing window and the core-share probe are checked apart. The demo
skips where other jobs share every core, and so do these tests. That the check passes as written is
tests/proofs/test_claims.py's, not repeated here."""

import functools
import inspect
import sys
import time

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import proofs.demos.loop as loop
from proofs.catalogue import get_demo
from proofs.registry import Check, run
from qa_bank.loader import load_bank

ITEM = load_bank().by_id()["viva-17-training-slow-due-data-loading"]

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the demo pins cores (os.sched_setaffinity)")


def claim(broken: bool = False) -> Check:
    """The item's claim check from a run of its demo (the code under attack); skips where the demo does."""
    outcome = run(get_demo(ITEM.demo), broken=broken)
    if outcome.skipped:
        pytest.skip(outcome.skipped)
    assert outcome.error is None, outcome.error
    check = outcome.named(ITEM.claim_check)
    assert check is not None, [c.name for c in outcome.result.checks]
    return check


def _burn(seconds: float) -> None:
    """A step that computes on the CPU: `seconds` of this process's CPU time, however long that takes."""
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_viva_17_is_checked_through_get_data_loaders():
    assert ITEM.demo == "get-data-loaders-workers-hide-loading"
    measured = inspect.getsource(loop.workers_hide_loading)
    assert "get_data_loaders(batch_size, None, 0," in measured and "get_data_loaders(batch_size, None, workers," in measured
    assert loop.HIDE_GAIN >= 1.25 and loop.LOADER_BATCH == 128


def test_the_mistake_num_workers_0_fails_the_claim_check(real_cifar10):
    check = claim(broken=True)
    assert not check.passed and check.measured["gain"] < 1.1, check.measured


def test_a_step_that_computes_on_the_same_core_fails_the_claim_check(real_cifar10, monkeypatch):
    """The workers need CPU time the step leaves idle: a step that burns the core's CPU leaves them none."""
    monkeypatch.setattr(loop, "workers_hide_loading", functools.partial(loop.workers_hide_loading, step=_burn))
    check = claim()
    assert not check.passed and check.measured["gain"] < 1.2, check.measured


def test_workers_run_on_the_one_pinned_core(real_cifar10):
    outcome = run(get_demo(ITEM.demo))
    if outcome.skipped:
        pytest.skip(outcome.skipped)
    pids = next(check for check in outcome.result.checks if check.name.startswith("the batches come from 2 worker processes"))
    assert pids.passed, pids
    assert pids.measured["worker_cores"] == f"[{int(outcome.result.checks[0].measured['core'])}]"


def test_a_shared_core_makes_the_run_a_skip_not_a_verdict(real_cifar10, monkeypatch):
    """Where another job shares the core, three processes get more of it than one: a gain that is no hidden loading."""
    monkeypatch.setattr("proofs.cores.core_share", lambda core: 0.5)
    outcome = run(get_demo(ITEM.demo))
    assert outcome.skipped and "core to itself" in outcome.skipped


def test_the_window_holds_every_step_and_leaves_out_the_start():
    """Timer placement: the epoch's window starts at the first batch and ends after the last step, so it holds one step
    per batch and every batch but the first; the start is reported apart."""
    loader = DataLoader(TensorDataset(torch.zeros(40, 3), torch.zeros(40)), batch_size=8)
    epoch = loop._training_epoch(loader, 0.01)
    assert epoch.images == 40 - 8 and epoch.seconds >= 5 * 0.01 and epoch.start_up < epoch.seconds
    assert epoch.worker_pids == () and epoch.worker_cores == frozenset()
