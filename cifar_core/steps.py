"""One optimisation step, shared by the classic script and the fast trainer."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
from torch import nn

from cifar_core.augment import mixup_batch
from cifar_core.config import TrainConfig


def autocast_context(device: torch.device, dtype: torch.dtype | None) -> contextlib.AbstractContextManager:
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def make_scaler(device: torch.device, amp_dtype: torch.dtype | None) -> torch.amp.GradScaler | None:
    # Only float16 on CUDA needs loss scaling; bfloat16 has float32's exponent range.
    if amp_dtype is torch.float16 and device.type == "cuda":
        return torch.amp.GradScaler("cuda")
    return None


@dataclass(frozen=True)
class StepOptions:
    """What a step adds to the plain zero_grad, forward, backward, step; the defaults are the plain step."""

    amp_dtype: torch.dtype | None = None  # autocast to this dtype for the forward pass and the loss
    scaler: torch.amp.GradScaler | None = None  # float16 on CUDA only (make_scaler)
    grad_clip: float | None = None  # max global L2 norm of the gradient
    mixup_alpha: float = 0.0  # Beta(alpha, alpha) mixing weight; 0 disables mixup
    generator: torch.Generator | None = None  # mixup's random draws; None: torch's global generator

    @classmethod
    def from_config(
        cls, cfg: TrainConfig, device: torch.device, amp_dtype: torch.dtype | None, generator: torch.Generator | None = None
    ) -> StepOptions:
        """The run's options: the scaler follows from the device and the autocast dtype."""
        return cls(amp_dtype, make_scaler(device, amp_dtype), cfg.grad_clip, cfg.mixup_alpha, generator)


PLAIN_STEP = StepOptions()  # frozen, so one shared default is safe


def training_step(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    criterion: nn.Module,
    optimizer: torch.optim.Optimizer,
    options: StepOptions = PLAIN_STEP,
) -> tuple[torch.Tensor, torch.Tensor]:
    """zero_grad, forward, loss, backward, (unscale, clip), step. Returns (loss, correct) as
    detached tensors so the caller decides when to synchronise with the device."""
    optimizer.zero_grad(set_to_none=True)
    mixed = options.mixup_alpha > 0
    if mixed:
        inputs, targets_a, targets_b, lam = mixup_batch(inputs, targets, options.mixup_alpha, options.generator)
    with autocast_context(inputs.device, options.amp_dtype):
        outputs = model(inputs)
        if mixed:
            loss = lam * criterion(outputs, targets_a) + (1 - lam) * criterion(outputs, targets_b)
        else:
            loss = criterion(outputs, targets)
    if options.scaler is not None:
        options.scaler.scale(loss).backward()
        if options.grad_clip is not None:
            options.scaler.unscale_(optimizer)  # clip the true gradients, not the scaled ones
            nn.utils.clip_grad_norm_(model.parameters(), max_norm=options.grad_clip)
        options.scaler.step(optimizer)
        options.scaler.update()
    else:
        loss.backward()
        if options.grad_clip is not None:
            nn.utils.clip_grad_norm_(model.parameters(), max_norm=options.grad_clip)
        optimizer.step()
    correct = outputs.detach().argmax(dim=1).eq(targets).sum()
    return loss.detach(), correct
