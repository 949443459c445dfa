"""The fast trainer behind the labs and `--time-budget`: the whole dataset as a uint8 tensor on
the device, augmentation on batched tensors, no worker processes, and under a time budget a
schedule planned (cifar_core/budget.py) to finish training plus the final evaluation inside it."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from cifar_core.augment import flip_batch, normalize_batch, random_crop_batch
from cifar_core.budget import BudgetPlan, plan_budget
from cifar_core.config import TrainConfig
from cifar_core.data import DataSplits, load_splits
from cifar_core.device import autocast_dtype, resolve_device, synchronize
from cifar_core.metrics import EvalReport, report_from_logits
from cifar_core.models import build_model
from cifar_core.optim import build_optimizer, build_scheduler
from cifar_core.recipe import FAST_RECIPE  # noqa: F401  (the recipe's values; kept torch-free for the lab's form)
from cifar_core.reproducibility import seed_everything
from cifar_core.resolution import ResizeStage, parse_resize_schedule, resize_batch, size_at
from cifar_core.steps import autocast_context, make_scaler, training_step
from cifar_core.tta import tta_logits
from cifar_core.whitening import whiten_first_conv

CALIBRATION_STEPS = 6  # steps timed (after one untimed warm-up step) before the budget is planned
EVAL_PROBE_IMAGES = 256  # validation images timed (after an untimed warm-up pass) to predict the final evaluation
# The final evaluation runs in batches of the probe's size: a bigger batch costs more per image
# on a CPU (its activations leave the cache), and the budget would overrun by the difference.
EVAL_BATCH_SIZE = EVAL_PROBE_IMAGES
_clock = time.perf_counter  # the budget's clock; tests replace it with a simulated one


@dataclass(frozen=True)
class StepInfo:
    step: int
    total_steps: int  # planned; under a budget, an estimate once calibrated (the deadline decides)
    epoch: float
    loss: float
    lr: float
    images_per_second: float
    elapsed: float  # seconds since train() started
    eta: float  # seconds left, estimated
    image_size: int = 0  # pixels per side of this step's images (progressive resizing changes it)
    steps_per_epoch: int = 0


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
    tta_level: int = 0,
) -> torch.Tensor | None:
    """(N, C) logits of the whole split in eval mode, or None when stopped part-way.

    `tta_level` 1 averages each image's logits with its mirror's; 2 adds one-pixel translations
    (cifar_core/tta.py)."""
    model.eval()
    chunks = []
    for start in range(0, len(data), batch_size):
        if should_stop is not None and should_stop():
            return None
        images = normalize_batch(data.images[start : start + batch_size], mean, std)
        with autocast_context(images.device, amp_dtype):
            chunks.append(tta_logits(model, images.contiguous(memory_format=torch.channels_last), tta_level))
    return torch.cat(chunks)


# ---------------------------------------------------------------------------------------------
# One run's parts: data on the device, model, optimiser, and the batches it trains on
# ---------------------------------------------------------------------------------------------


@dataclass
class Run:
    cfg: TrainConfig
    device: torch.device
    splits: DataSplits
    train_data: DeviceData
    val_data: DeviceData | None
    mean: torch.Tensor  # (1, 3, 1, 1), for normalising on the device
    std: torch.Tensor
    model: nn.Module
    optimizer: torch.optim.Optimizer
    criterion: nn.Module
    amp_dtype: torch.dtype | None
    scaler: torch.amp.GradScaler | None
    generator: torch.Generator  # every random choice of the run: shuffles, crops, flips, mixup
    resize_stages: tuple[ResizeStage, ...]
    batch_size: int

    @property
    def steps_per_epoch(self) -> int:
        return max(1, len(self.train_data) // self.batch_size)  # drop the ragged last batch: BN needs full batches

    def epoch_batches(self) -> list[torch.Tensor]:
        """Indices of each batch of one epoch, in a fresh random order."""
        order = torch.randperm(len(self.train_data), generator=self.generator).to(self.device)
        return [order[i * self.batch_size : (i + 1) * self.batch_size] for i in range(self.steps_per_epoch)]

    def augmented(self, index: torch.Tensor, size: int | None) -> torch.Tensor:
        """The batch's images normalised, cropped, flipped and resized, channels-last for the convs."""
        images = normalize_batch(self.train_data.images[index], self.mean, self.std)
        images = random_crop_batch(images, self.cfg.crop_padding, self.cfg.padding_mode, self.generator)
        if self.cfg.flip:
            images = flip_batch(images, self.generator)
        if size is not None:
            images = resize_batch(images, size)
        return images.contiguous(memory_format=torch.channels_last)

    @property
    def tta_level(self) -> int:
        return (2 if self.cfg.tta_translate else 1) if self.cfg.tta else 0

    def evaluate(self, batch_size: int = 1000, should_stop: Callable[[], bool] | None = None, tta_level: int = 0):
        return collect_logits(self.model, self.val_data, self.mean, self.std, batch_size, self.amp_dtype, should_stop, tta_level=tta_level)


def prepare_run(cfg: TrainConfig, splits: DataSplits | None) -> Run:
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
    amp_dtype = autocast_dtype(cfg.amp, device)
    return Run(
        cfg, device, splits, train_data, val_data, mean, std, model, build_optimizer(model, cfg),
        nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing), amp_dtype, make_scaler(device, amp_dtype),
        torch.Generator().manual_seed(cfg.seed), parse_resize_schedule(cfg.resize_schedule, full_size=train_data.images.shape[-1]),
        min(cfg.batch_size, len(train_data)),
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Pacing: what sets the learning rate, how far into the run a step is, and when it ends
# ---------------------------------------------------------------------------------------------


class EpochPace:
    """A fixed number of epochs, validated after each; the configured torch scheduler sets the LR."""

    validates_each_epoch = True

    def __init__(self, run: Run) -> None:
        self.scheduler, self.per_step = build_scheduler(run.optimizer, run.cfg, run.steps_per_epoch)
        self.epochs = run.cfg.epochs
        self.total_steps = run.steps_per_epoch * run.cfg.epochs

    def progress(self, step: int, elapsed: float) -> float:
        return step / self.total_steps

    def set_lr(self, optimizer: torch.optim.Optimizer, progress: float) -> None:
        pass  # the scheduler moved it after the previous step or epoch

    def finished(self, step: int, elapsed: float) -> bool:
        return step >= self.total_steps

    def after_step(self, step: int, elapsed: Callable[[], float]) -> None:
        if self.scheduler is not None and self.per_step:
            self.scheduler.step()

    def after_epoch(self, epoch: int) -> bool:
        """Whether another epoch follows."""
        if self.scheduler is not None and not self.per_step:
            self.scheduler.step()
        return epoch < self.epochs

    def seconds_left(self, step: int, elapsed: float) -> float:
        return (self.total_steps - step) * elapsed / max(step, 1)


# Share of a budgeted run spent ramping the learning rate up. With Muon, 10% did 0.4 points better
# than 25% or 3% (60 s on a 2-core CPU, seeds 0-1, simulated clock: within the spread of one run).
BUDGET_WARMUP = 0.1


def one_cycle_lr(progress: float, peak: float, warmup: float = BUDGET_WARMUP, start_div: float = 25.0) -> float:
    """Linear ramp from peak/start_div to peak over `warmup` of the run, then linear decay to 0.

    `progress` is the elapsed share of the training time, so the schedule ends exactly at the
    deadline however fast the machine runs."""
    progress = min(max(progress, 0.0), 1.0)
    if progress < warmup:
        return peak / start_div + (peak - peak / start_div) * progress / warmup
    return peak * (1.0 - progress) / (1.0 - warmup)


class BudgetPace:
    """A time budget: one untimed step, CALIBRATION_STEPS timed ones at the starting LR, then a plan
    (cifar_core/budget.py) whose deadline leaves room for the final evaluation. From then on the LR
    and the image size follow elapsed time, so the schedule ends on time on any machine."""

    validates_each_epoch = False  # every second of the budget goes to training

    def __init__(self, run: Run) -> None:
        self.run = run
        self.plan: BudgetPlan | None = None
        self.steps_at_plan = 0
        self.calibration_start = 0.0
        for group in run.optimizer.param_groups:
            group["initial_lr"] = group["lr"]  # each group's peak: Muon's filters have their own (cfg.muon_lr)
        self.set_lr(run.optimizer, 0.0)

    @property
    def total_steps(self) -> int:
        return self.steps_at_plan + self.plan.steps if self.plan is not None else 0  # 0: not planned yet

    def progress(self, step: int, elapsed: float) -> float:
        return self.plan.progress(elapsed) if self.plan is not None else 0.0

    def set_lr(self, optimizer: torch.optim.Optimizer, progress: float) -> None:
        for group in optimizer.param_groups:
            group["lr"] = one_cycle_lr(progress, group["initial_lr"])

    def finished(self, step: int, elapsed: float) -> bool:
        return self.plan is not None and self.plan.finished(elapsed)

    def after_step(self, step: int, elapsed: Callable[[], float]) -> None:
        if step not in (1, 1 + CALIBRATION_STEPS):
            return
        synchronize(self.run.device)  # the clock must time finished work, not queued work
        if step == 1:
            self.calibration_start = elapsed()
            return
        step_seconds = (elapsed() - self.calibration_start) / CALIBRATION_STEPS
        eval_seconds = self._time_final_evaluation()
        first_size = size_at(self.run.resize_stages, 0.0) or self.run.train_data.images.shape[-1]
        self.plan = plan_budget(
            self.run.cfg.time_budget, elapsed=elapsed(), train_start=self.calibration_start, step_seconds=step_seconds,
            measured_size=first_size, eval_seconds=eval_seconds, steps_per_epoch=self.run.steps_per_epoch,
            stages=self.run.resize_stages, full_size=self.run.train_data.images.shape[-1],
        )  # fmt: skip
        self.steps_at_plan = step

    def after_epoch(self, epoch: int) -> bool:
        return True  # the deadline ends the run, not an epoch count

    def seconds_left(self, step: int, elapsed: float) -> float:
        return max(0.0, self.run.cfg.time_budget - elapsed)

    def _time_final_evaluation(self) -> float:
        """Seconds the final evaluation will take, from the faster of two timed passes over a few
        validation images (after one untimed pass, which pays for allocations and kernel choice).

        The faster of two: a busy moment on a shared machine (another learner's page drawing its
        report) inflates one pass, and an inflated estimate ends training seconds early."""
        run = self.run
        if run.val_data is None or len(run.val_data) == 0:
            return 0.0
        probe = run.val_data.head(max(1, min(EVAL_PROBE_IMAGES, len(run.val_data) // 4)))  # a small split is not evaluated three times
        timings = []
        for attempt in range(3):
            start = _clock()
            collect_logits(run.model, probe, run.mean, run.std, batch_size=len(probe), amp_dtype=run.amp_dtype, tta_level=run.tta_level)
            synchronize(run.device)
            if attempt > 0:
                timings.append(_clock() - start)
        run.model.train()
        return min(timings) / len(probe) * len(run.val_data)


# ---------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------


HISTORY_KEYS = ("train_loss", "train_acc", "val_loss", "val_acc", "lr", "step_loss", "step_lr")


@dataclass
class EarlyStopping:
    patience: int | None  # epochs without a better validation accuracy before stopping; None: never
    best: float = -1.0
    epochs_without_gain: int = 0

    def should_stop(self, val_acc: float | None) -> bool:
        if val_acc is None or self.patience is None:
            return False
        self.best, self.epochs_without_gain = (val_acc, 0) if val_acc > self.best else (self.best, self.epochs_without_gain + 1)
        return self.epochs_without_gain >= self.patience


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
    cfg, started = cfg.validated(), _clock()

    def elapsed() -> float:
        return _clock() - started

    run = prepare_run(cfg, splits)
    pace = BudgetPace(run) if cfg.time_budget else EpochPace(run)
    history: dict[str, list[float]] = {key: [] for key in HISTORY_KEYS}
    early_stopping, step, epoch, stop_reason = EarlyStopping(cfg.early_stopping_patience), 0, 0, "completed"
    while stop_reason == "completed" and not pace.finished(step, elapsed()):
        epoch += 1
        run.model.train()
        # Sums stay on the device: reading them every step would wait for the device every step.
        loss_sum, correct_sum, seen = torch.zeros((), device=run.device), torch.zeros((), device=run.device, dtype=torch.long), 0
        for index in run.epoch_batches():
            if should_stop is not None and should_stop():
                stop_reason = "stopped"
                break
            if pace.finished(step, elapsed()):
                break
            progress = pace.progress(step, elapsed())
            pace.set_lr(run.optimizer, progress)
            images = run.augmented(index, size_at(run.resize_stages, progress))
            loss, correct = training_step(
                run.model, images, run.train_data.labels[index], run.criterion, run.optimizer, amp_dtype=run.amp_dtype,
                scaler=run.scaler, grad_clip=cfg.grad_clip, mixup_alpha=cfg.mixup_alpha, generator=run.generator,
            )  # fmt: skip
            loss_value = float(loss)  # synchronises; the check below needs the value anyway
            if not math.isfinite(loss_value):
                stop_reason = f"loss became {loss_value} at step {step + 1}: lower the learning rate or enable gradient clipping"
                break
            loss_sum, correct_sum, seen, step = loss_sum + loss * len(index), correct_sum + correct, seen + len(index), step + 1
            lr = run.optimizer.param_groups[0]["lr"]
            history["step_loss"].append(loss_value)
            history["step_lr"].append(lr)
            pace.after_step(step, elapsed)
            if on_step is not None:
                on_step(step_info(run, pace, step, loss_value, lr, elapsed(), images.shape[-1]))
        if seen == 0:
            break
        train_loss, train_acc = float(loss_sum) / seen, float(correct_sum) / seen
        val_loss = val_acc = None
        if pace.validates_each_epoch and run.val_data is not None and stop_reason == "completed":
            logits = run.evaluate(should_stop=should_stop)
            if logits is None:
                stop_reason = "stopped"
            else:
                val_loss = float(nn.functional.cross_entropy(logits, run.val_data.labels))
                val_acc = float(logits.argmax(1).eq(run.val_data.labels).float().mean())
        another_epoch = pace.after_epoch(epoch)
        info = EpochInfo(epoch, train_loss, train_acc, val_loss, val_acc, run.optimizer.param_groups[0]["lr"], elapsed())
        for key in ("train_loss", "train_acc", "val_loss", "val_acc", "lr"):
            history[key].append(math.nan if getattr(info, key) is None else getattr(info, key))
        if on_epoch is not None:
            on_epoch(info)
        if early_stopping.should_stop(val_acc):
            stop_reason = "early stopping"
        if not another_epoch:
            break
    return finish_run(run, history, stop_reason, step, started, training_seconds=elapsed(), should_stop=should_stop)


def step_info(run: Run, pace: EpochPace | BudgetPace, step: int, loss: float, lr: float, elapsed: float, size: int) -> StepInfo:
    rate = step * run.batch_size / max(elapsed, 1e-9)
    return StepInfo(
        step, pace.total_steps, step / run.steps_per_epoch, loss, lr, rate, elapsed, pace.seconds_left(step, elapsed), size,
        run.steps_per_epoch,
    )  # fmt: skip


def finish_run(
    run: Run, history: dict[str, list[float]], stop_reason: str, steps: int, started: float, training_seconds: float,
    should_stop: Callable[[], bool] | None,
) -> TrainResult:  # fmt: skip
    """The final evaluation (unless the run failed) and the result; `training_seconds` is what the
    budget's deadline bounds, the evaluation comes on top."""
    report = None
    if run.val_data is not None and stop_reason in ("completed", "early stopping"):
        logits = run.evaluate(EVAL_BATCH_SIZE, should_stop, tta_level=run.tta_level)
        if logits is None:
            stop_reason = "stopped"
        else:
            report = report_from_logits(logits, run.val_data.labels, run.splits.train.classes)
    if stop_reason == "early stopping":
        stop_reason = "completed"
    splits = run.splits
    return TrainResult(
        config=run.cfg, model=run.model, history=history, report=report, stop_reason=stop_reason,
        seconds=_clock() - started, training_seconds=training_seconds, steps=steps, device=str(run.device),
        data_description=splits.description, classes=splits.train.classes, mean=splits.mean, std=splits.std,
    )  # fmt: skip
