import pytest
import torch


@pytest.fixture(autouse=True)
def _restore_determinism_switch():
    # torch.use_deterministic_algorithms is global to the process: a test that turns it on must
    # not change how later tests run (on CUDA, ops without a deterministic kernel then fail).
    before = torch.are_deterministic_algorithms_enabled()
    yield
    torch.use_deterministic_algorithms(before)
