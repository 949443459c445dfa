import pytest
import torch


@pytest.fixture(autouse=True)
def _restore_determinism_switch():
    # torch.use_deterministic_algorithms is global to the process: a test that turns it on must
    # not change how later tests run (on CUDA, ops without a deterministic kernel then fail).
    before = torch.are_deterministic_algorithms_enabled()
    yield
    torch.use_deterministic_algorithms(before)


@pytest.fixture
def real_cifar10(monkeypatch):
    """The real CIFAR-10 folders for the demos that read them (skipped, saying where it looked, where absent)."""
    from tests.conftest import require_real_cifar10

    monkeypatch.setenv("CIFAR10_DIR", str(require_real_cifar10()))


@pytest.fixture
def real_cifar10_one_thread(real_cifar10):
    """The real CIFAR-10 folders, and torch on one thread, as the training demos run (threads=1) and as their figures
    were measured."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
