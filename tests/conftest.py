import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
# The real CIFAR-10 training set sits beside the checkout on developer machines and in CI.
SHARED_CIFAR10 = Path(os.environ.get("CIFAR10_DIR", REPO_ROOT.parent / "shared" / "datasets" / "cifar10"))


@pytest.fixture
def repo_root() -> Path:
    return REPO_ROOT


def require_real_cifar10() -> Path:
    """The real dataset's directory, or skip the test saying where it was looked for."""
    if not (SHARED_CIFAR10 / "train").is_dir():
        pytest.skip(f"real CIFAR-10 not found at {SHARED_CIFAR10}/train (set CIFAR10_DIR to run this test)")
    return SHARED_CIFAR10
