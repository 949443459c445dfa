"""Attacks on the claim checks linked in round 6 (proofs7): each breaks the code under test the way the item's
answer rules out, and the item's claim check must then fail."""

import sys

import pytest
from torch.utils.data import DataLoader

import proofs.demos.loop as loop
from tests.proofs.test_attacks import claim_passes

WORKERS_ITEM = "resnet-23-num-workers-trade-off"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the demo reads workers' memory from Linux's /proc")
@pytest.mark.parametrize("workers", [0, 1])
def test_resnet_23_a_loader_that_ignores_num_workers(monkeypatch, workers):
    """num_workers=2 asked for, `workers` given: the main process loads (0), or one process does (1)."""
    monkeypatch.setattr(loop, "DataLoader", lambda dataset, **kw: DataLoader(dataset, **{**kw, "num_workers": workers}))
    assert not claim_passes(WORKERS_ITEM)
