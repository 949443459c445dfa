"""Optimizers and learning-rate schedules built from a TrainConfig."""

from __future__ import annotations

import torch
from torch import nn
from torch.optim import lr_scheduler

from cifar_core.config import TrainConfig
from cifar_core.muon import muon_for


def build_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    # Frozen parameters (transfer learning) stay out of the optimizer, so step() never moves them.
    params = [p for p in model.parameters() if p.requires_grad]
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "muon":
        return muon_for(
            params, lr=cfg.lr, filter_lr=cfg.muon_lr, momentum=cfg.momentum, filter_momentum=cfg.muon_momentum,
            weight_decay=cfg.weight_decay,
        )  # fmt: skip
    return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)


def build_scheduler(
    optimizer: torch.optim.Optimizer, cfg: TrainConfig, steps_per_epoch: int
) -> tuple[lr_scheduler.LRScheduler | None, bool]:
    """The schedule and whether it steps per batch (True) or per epoch (False)."""
    if cfg.scheduler == "onecycle":
        # One Cycle has its own warmup: the rising phase lasts warmup_epochs (default 30%).
        pct_start = cfg.warmup_epochs / cfg.epochs if cfg.warmup_epochs > 0 else 0.3
        total = cfg.epochs * steps_per_epoch
        peaks = [group["lr"] for group in optimizer.param_groups]  # Muon's filters peak at muon_lr, the rest at lr
        return lr_scheduler.OneCycleLR(optimizer, max_lr=peaks, total_steps=total, pct_start=pct_start), True
    if cfg.scheduler == "step":
        main: lr_scheduler.LRScheduler | None = lr_scheduler.StepLR(optimizer, step_size=cfg.step_size, gamma=cfg.gamma)
    elif cfg.scheduler == "cosine":
        main = lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, cfg.epochs - int(cfg.warmup_epochs)))
    else:
        main = None
    warmup = int(round(cfg.warmup_epochs))
    if warmup == 0:
        return main, False
    ramp = lr_scheduler.LinearLR(optimizer, start_factor=0.1, total_iters=warmup)
    if main is None:
        return ramp, False
    return lr_scheduler.SequentialLR(optimizer, [ramp, main], milestones=[warmup]), False
