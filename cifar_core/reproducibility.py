"""Seeding and determinism switches in one place."""

from __future__ import annotations

import os
import random

import numpy as np
import torch


def seed_everything(seed: int, deterministic: bool | None = None) -> None:
    """Seed Python, NumPy and torch (all devices); with `deterministic` True or False, also set
    whether torch must use deterministic kernels (None leaves that switch as it is).

    Deterministic mode is slower and still not bitwise-identical across hardware or versions.
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if deterministic is None:
        return
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.backends.cudnn.benchmark = False
    # Set both ways: the switch is global to the process and the app trains many runs in one
    # process, so a deterministic run must not leave every later run deterministic (and failing
    # on CUDA ops that have no deterministic kernel).
    torch.use_deterministic_algorithms(deterministic)
    torch.backends.cudnn.deterministic = deterministic
