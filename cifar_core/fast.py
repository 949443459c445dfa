"""The fast trainer behind the labs and `--time-budget`: the whole dataset as a uint8 tensor on
the device, augmentation on batched tensors, no worker processes, and a schedule planned to
finish training plus the final evaluation inside the time budget."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from cifar_core.augment import flip_batch, normalize_batch, random_crop_batch
from cifar_core.config import TrainConfig
from cifar_core.data import DataSplits, load_splits
from cifar_core.device import autocast_dtype, resolve_device, synchronize
from cifar_core.metrics import EvalReport, report_from_logits
from cifar_core.models import build_model
from cifar_core.optim import build_optimizer, build_scheduler
from cifar_core.recipe import FAST_RECIPE  # noqa: F401  (the recipe's values; kept torch-free for the lab's form)
from cifar_core.reproducibility import seed_everything
from cifar_core.resolution import parse_resize_schedule, resize_batch, size_at
from cifar_core.steps import autocast_context, make_scaler, training_step
from cifar_core.whitening import whiten_first_conv

CALIBRATION_STEPS = 6  # steps timed (after one untimed warm-up step) before the schedule is planned
BUDGET_SAFETY_FRACTION = 0.03  # of the budget, kept free for jitter on a noisy machine
EVAL_SHARE_MAX = 0.25  # of the budget, the most the plan keeps for the final evaluation
EVAL_PROBE_IMAGES = 256  # validation images timed (after an untimed warm-up pass) to predict the final evaluation
# The final evaluation runs in batches of the probe's size: a bigger batch costs more per image
# on a CPU (its activations leave the cache), and the budget would overrun by the difference.
EVAL_BATCH_SIZE = EVAL_PROBE_IMAGES
_clock = time.perf_counter  # the budget's clock; tests replace it with a simulated one


@dataclass(frozen=True)
class StepInfo:
    step: int
    total_steps: int  # planned; under a budget, an upper bound set after calibration (the deadline decides)
    epoch: float
    loss: float
    lr: float
    images_per_second: float
    elapsed: float  # seconds since train() started
    eta: float  # seconds left, estimated
    image_size: int = 0  # pixels per side of this step's images (progressive resizing changes it)


@dataclass(frozen=True)
class EpochInfo:
    epoch: int
    train_loss: float
    train_acc: float
    val_loss: float | None
    val_acc: float | None
    lr: float
    elapsed: float


@dataclass
class TrainResult:
    config: TrainConfig
    model: nn.Module
    history: dict[str, list[float]]
    report: EvalReport | None  # on the validation split
    stop_reason: str  # "completed", "stopped", or why the run failed (a budgeted run that used its time is "completed")
    seconds: float  # all of train(): what the time budget covers
    training_seconds: float  # up to the last training step, before the final evaluation
    steps: int
    device: str
    data_description: str
    classes: tuple[str, ...]
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DeviceData:
    """A split held on the device as uint8 (N, 3, 32, 32) plus int64 labels."""

    images: torch.Tensor
    labels: torch.Tensor

    @classmethod
    def from_arrays(cls, images_hwc, labels, device: torch.device) -> DeviceData:
        return cls(torch.from_numpy(images_hwc).permute(0, 3, 1, 2).contiguous().to(device), torch.from_numpy(labels).to(device))

    def head(self, count: int) -> DeviceData:
        return DeviceData(self.images[:count], self.labels[:count])

    def __len__(self) -> int:
        return len(self.labels)


# ---------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------


@torch.no_grad()
def collect_logits(
    model: nn.Module,
    data: DeviceData,
    mean: torch.Tensor,
    std: torch.Tensor,
    batch_size: int = 1000,
    amp_dtype: torch.dtype | None = None,
    should_stop: Callable[[], bool] | None = None,
    tta: bool = False,
) -> torch.Tensor | None:
    """(N, C) logits of the whole split in eval mode, or None when stopped part-way.

    With `tta`, each image's logits are averaged with those of its left-right mirror."""
    model.eval()
    chunks = []
    for start in range(0, len(data), batch_size):
        if should_stop is not None and should_stop():
            return None
        images = normalize_batch(data.images[start : start + batch_size], mean, std)
        with autocast_context(images.device, amp_dtype):
            logits = model(images.contiguous(memory_format=torch.channels_last)).float()
            if tta:
                logits = 0.5 * (logits + model(images.flip(3).contiguous(memory_format=torch.channels_last)).float())
        chunks.append(logits)
    return torch.cat(chunks)


# ---------------------------------------------------------------------------------------------
# Planning the time budget
# ---------------------------------------------------------------------------------------------


@dataclass
class BudgetPlan:
    """Steps that fit the budget once the time per step is measured."""

    budget: float  # seconds for everything inside train()
    eval_images: int  # validation images evaluated at the end
    train_start: float = 0.0  # elapsed seconds when the first step began
    total_steps: int | None = None  # an estimate, for the progress bar; the deadline decides
    deadline: float | None = None  # elapsed seconds after which no new training step starts

    def plan(self, elapsed: float, step_seconds: float, eval_seconds_per_image: float, steps_done: int) -> None:
        # The probe is timed once, early; on a busy shared machine it can read several times too
        # high and the run would train for half its budget. An evaluation that truly needs more
        # than this share overruns the budget instead: the budget is too short for the split.
        eval_seconds = min(self.eval_images * eval_seconds_per_image, EVAL_SHARE_MAX * self.budget)
        reserve = eval_seconds + self.budget * BUDGET_SAFETY_FRACTION + 0.3
        self.deadline = self.budget - reserve
        remaining = max(0.0, self.deadline - elapsed)
        # Headroom so the loop runs to the deadline even if steps get faster; the deadline stops it.
        self.total_steps = steps_done + max(1, int(1.5 * remaining / step_seconds))


def one_cycle_lr(progress: float, peak: float, warmup: float = 0.25, start_div: float = 25.0) -> float:
    """Linear ramp from peak/start_div to peak over `warmup` of the run, then linear decay to 0.

    `progress` is the elapsed share of the training time, so the schedule ends exactly at the
    deadline however fast the machine runs."""
    progress = min(max(progress, 0.0), 1.0)
    if progress < warmup:
        return peak / start_div + (peak - peak / start_div) * progress / warmup
    return peak * (1.0 - progress) / (1.0 - warmup)


def _eval_seconds_per_image(
    model: nn.Module, val_data: DeviceData | None, mean: torch.Tensor, std: torch.Tensor, amp_dtype: torch.dtype | None, tta: bool
) -> float:
    """Time the final evaluation's forward passes on a few validation images (after one untimed
    pass, which pays for allocations and kernel selection); the model is left in train mode.

    The faster of two timed passes: a busy moment on a shared machine (another learner's page
    drawing its report) inflates one pass, and an inflated estimate ends training seconds early."""
    if val_data is None or len(val_data) == 0:
        return 0.0
    probe = val_data.head(max(1, min(EVAL_PROBE_IMAGES, len(val_data) // 4)))  # a small split is not evaluated three times
    collect_logits(model, probe, mean, std, batch_size=len(probe), amp_dtype=amp_dtype, tta=tta)
    timings = []
    for _ in range(2):
        synchronize(mean.device)
        start = _clock()
        collect_logits(model, probe, mean, std, batch_size=len(probe), amp_dtype=amp_dtype, tta=tta)
        synchronize(mean.device)
        timings.append(_clock() - start)
    model.train()
    return min(timings) / len(probe)


# ---------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------


def train(
    cfg: TrainConfig,
    on_step: Callable[[StepInfo], None] | None = None,
    on_epoch: Callable[[EpochInfo], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    splits: DataSplits | None = None,
) -> TrainResult:
    """Train on the device-resident data; returns the history and the validation report.

    `should_stop` is polled before every step and every evaluation batch, so a Stop takes effect
    within one step. A NaN or infinite loss ends the run with that reason instead of an exception.
    """
    cfg = cfg.validated()
    started = _clock()
    device = resolve_device(cfg.device)
    seed_everything(cfg.seed, cfg.deterministic)
    splits = splits or load_splits(cfg.data)
    train_data = DeviceData.from_arrays(splits.train.images, splits.train.labels, device)
    val_data = DeviceData.from_arrays(splits.val.images, splits.val.labels, device) if splits.val is not None else None
    mean = torch.tensor(splits.mean, device=device).view(1, 3, 1, 1)
    std = torch.tensor(splits.std, device=device).view(1, 3, 1, 1)
    model = build_model(cfg.model, len(splits.train.classes), cfg.pretrained).to(device, memory_format=torch.channels_last)
    if cfg.whiten:
        whiten_first_conv(model, train_data.images, mean, std, torch.Generator().manual_seed(cfg.seed))
    optimizer = build_optimizer(model, cfg)
    criterion = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
    amp_dtype = autocast_dtype(cfg.amp)
    scaler = make_scaler(device, amp_dtype)
    generator = torch.Generator().manual_seed(cfg.seed)
    resize_stages = parse_resize_schedule(cfg.resize_schedule, full_size=train_data.images.shape[-1])
    batch_size = min(cfg.batch_size, len(train_data))
    steps_per_epoch = max(1, len(train_data) // batch_size)  # drop the ragged last batch: BN needs full batches

    budget = BudgetPlan(cfg.time_budget, len(val_data) if val_data is not None else 0) if cfg.time_budget else None
    if budget is not None:
        # Calibration steps run at One Cycle's starting LR; after them the LR follows elapsed time.
        for group in optimizer.param_groups:
            group["lr"] = cfg.lr / 25
        scheduler, per_step = None, True
        total_steps = 10**9  # until the deadline
    else:
        scheduler, per_step = build_scheduler(optimizer, cfg, steps_per_epoch)
        total_steps = steps_per_epoch * cfg.epochs

    history: dict[str, list[float]] = {k: [] for k in ("train_loss", "train_acc", "val_loss", "val_acc", "lr", "step_loss", "step_lr")}
    stop_reason, step, calibration_start = "completed", 0, 0.0
    best_val, epochs_without_gain = -1.0, 0
    epoch = 0
    while stop_reason == "completed" and step < total_steps:
        model.train()
        order = torch.randperm(len(train_data), generator=generator).to(device)
        loss_sum = torch.zeros((), device=device)
        correct_sum = torch.zeros((), device=device, dtype=torch.long)
        seen = 0
        for batch_index in range(steps_per_epoch):
            elapsed = _clock() - started
            if should_stop is not None and should_stop():
                stop_reason = "stopped"
                break
            if step >= total_steps:
                break
            progress = step / total_steps  # share of the run done; time, not steps, under a budget
            if budget is not None:
                progress = 0.0
                if budget.deadline is not None:
                    if elapsed > budget.deadline:
                        break
                    progress = (elapsed - budget.train_start) / max(budget.deadline - budget.train_start, 1e-9)
                    for group in optimizer.param_groups:
                        group["lr"] = one_cycle_lr(progress, cfg.lr)
            index = order[batch_index * batch_size : (batch_index + 1) * batch_size]
            images = normalize_batch(train_data.images[index], mean, std)
            images = random_crop_batch(images, cfg.crop_padding, cfg.padding_mode, generator)
            if cfg.flip:
                images = flip_batch(images, generator)
            size = size_at(resize_stages, progress)
            if size is not None:
                images = resize_batch(images, size)
            images = images.contiguous(memory_format=torch.channels_last)
            loss, correct = training_step(
                model, images, train_data.labels[index], criterion, optimizer,
                amp_dtype=amp_dtype, scaler=scaler, grad_clip=cfg.grad_clip, mixup_alpha=cfg.mixup_alpha, generator=generator,
            )  # fmt: skip
            loss_value = float(loss)  # synchronises; the check below needs the value anyway
            if not math.isfinite(loss_value):
                stop_reason = f"loss became {loss_value} at step {step + 1}: lower the learning rate or enable gradient clipping"
                break
            loss_sum += loss * len(index)
            correct_sum += correct
            seen += len(index)
            step += 1
            lr = optimizer.param_groups[0]["lr"]
            history["step_loss"].append(loss_value)
            history["step_lr"].append(lr)
            if scheduler is not None and per_step:
                scheduler.step()
            if budget is not None and step == 1:
                synchronize(device)
                calibration_start = _clock()
                budget.train_start = calibration_start - started
            if budget is not None and step == 1 + CALIBRATION_STEPS:
                synchronize(device)
                step_seconds = (_clock() - calibration_start) / CALIBRATION_STEPS
                eval_per_image = _eval_seconds_per_image(model, val_data, mean, std, amp_dtype, cfg.tta)
                budget.plan(_clock() - started, step_seconds, eval_per_image, step)
                total_steps = budget.total_steps or step
            if on_step is not None:
                now = _clock() - started
                rate = step * batch_size / max(now, 1e-9)
                eta = max(0.0, cfg.time_budget - now) if budget is not None else (total_steps - step) * batch_size / rate
                on_step(StepInfo(step, total_steps, step / steps_per_epoch, loss_value, lr, rate, now, eta, images.shape[-1]))
        epoch += 1
        if seen == 0:
            break
        train_loss, train_acc = float(loss_sum) / seen, float(correct_sum) / seen
        val_loss = val_acc = None
        if budget is None and val_data is not None and stop_reason == "completed":
            logits = collect_logits(model, val_data, mean, std, amp_dtype=amp_dtype, should_stop=should_stop)
            if logits is None:
                stop_reason = "stopped"
            else:
                val_loss = float(nn.functional.cross_entropy(logits, val_data.labels))
                val_acc = float(logits.argmax(1).eq(val_data.labels).float().mean())
        if scheduler is not None and not per_step:
            scheduler.step()
        lr = optimizer.param_groups[0]["lr"]
        for key, value in (("train_loss", train_loss), ("train_acc", train_acc), ("val_loss", val_loss), ("val_acc", val_acc), ("lr", lr)):
            history[key].append(float("nan") if value is None else value)
        if on_epoch is not None:
            on_epoch(EpochInfo(epoch, train_loss, train_acc, val_loss, val_acc, lr, _clock() - started))
        if val_acc is not None and cfg.early_stopping_patience is not None:
            best_val, epochs_without_gain = (val_acc, 0) if val_acc > best_val else (best_val, epochs_without_gain + 1)
            if epochs_without_gain >= cfg.early_stopping_patience:
                stop_reason = "early stopping"
        if budget is None and epoch >= cfg.epochs:
            break

    training_seconds = _clock() - started  # the deadline bounds this; the final evaluation comes on top
    report = None
    failed = stop_reason not in ("completed", "early stopping")
    if val_data is not None and not failed:
        logits = collect_logits(model, val_data, mean, std, EVAL_BATCH_SIZE, amp_dtype, should_stop, tta=cfg.tta)
        if logits is None:
            stop_reason = "stopped"
        else:
            report = report_from_logits(logits, val_data.labels, splits.train.classes)
    if stop_reason == "early stopping":
        stop_reason = "completed"
    return TrainResult(
        config=cfg, model=model, history=history, report=report, stop_reason=stop_reason,
        seconds=_clock() - started, training_seconds=training_seconds, steps=step, device=str(device),
        data_description=splits.description, classes=splits.train.classes, mean=splits.mean, std=splits.std,
    )  # fmt: skip
