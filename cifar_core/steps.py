"""One optimisation step, shared by the classic script and the fast trainer."""

from __future__ import annotations

import contextlib

import torch
from torch import nn

from cifar_core.augment import mixup_batch


def autocast_context(device: torch.device, dtype: torch.dtype | None) -> contextlib.AbstractContextManager:
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def training_step(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    criterion: nn.Module,
    optimizer: torch.optim.Optimizer,
    *,
    amp_dtype: torch.dtype | None = None,
    scaler: torch.amp.GradScaler | None = None,
    grad_clip: float | None = None,
    mixup_alpha: float = 0.0,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """zero_grad, forward, loss, backward, (unscale, clip), step. Returns (loss, correct) as
    detached tensors so the caller decides when to synchronise with the device."""
    optimizer.zero_grad(set_to_none=True)
    mixed = mixup_alpha > 0
    if mixed:
        inputs, targets_a, targets_b, lam = mixup_batch(inputs, targets, mixup_alpha, generator)
    with autocast_context(inputs.device, amp_dtype):
        outputs = model(inputs)
        if mixed:
            loss = lam * criterion(outputs, targets_a) + (1 - lam) * criterion(outputs, targets_b)
        else:
            loss = criterion(outputs, targets)
    if scaler is not None:
        scaler.scale(loss).backward()
        if grad_clip is not None:
            scaler.unscale_(optimizer)  # clip the true gradients, not the scaled ones
            nn.utils.clip_grad_norm_(model.parameters(), max_norm=grad_clip)
        scaler.step(optimizer)
        scaler.update()
    else:
        loss.backward()
        if grad_clip is not None:
            nn.utils.clip_grad_norm_(model.parameters(), max_norm=grad_clip)
        optimizer.step()
    correct = outputs.detach().argmax(dim=1).eq(targets).sum()
    return loss.detach(), correct


def make_scaler(device: torch.device, amp_dtype: torch.dtype | None) -> torch.amp.GradScaler | None:
    # Only float16 on CUDA needs loss scaling; bfloat16 has float32's exponent range.
    if amp_dtype is torch.float16 and device.type == "cuda":
        return torch.amp.GradScaler("cuda")
    return None
