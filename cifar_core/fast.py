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
from cifar_core.budget import plan_budget
from cifar_core.config import TrainConfig
from cifar_core.data import DataSplits, load_splits
from cifar_core.device import autocast_dtype, resolve_device, synchronize
from cifar_core.early_stopping import EarlyStopping
from cifar_core.metrics import EvalReport, report_from_logits
from cifar_core.models import build_model
from cifar_core.optim import build_optimizer, build_scheduler
from cifar_core.pace import BudgetPace, EpochPace
from cifar_core.recipe import FAST_RECIPE  # noqa: F401  (the recipe's values; kept torch-free for the lab's form)
from cifar_core.reproducibility import seed_everything
from cifar_core.resolution import ResizeStage, parse_resize_schedule, resize_batch, size_at
from cifar_core.steps import StepOptions, autocast_context, training_step
from cifar_core.tta import tta_logits
from cifar_core.whitening import whiten_first_conv

CALIBRATION_STEPS = 6  # steps timed (after one untimed warm-up step) before the budget is planned
EVAL_PROBE_IMAGES = 256  # validation images timed (after an untimed warm-up pass) to predict the final evaluation
# The final evaluation runs in batches of the probe's size: a bigger batch costs more per image
# on a CPU (its activations leave the cache), and the budget would overrun by the difference.
EVAL_BATCH_SIZE = EVAL_PROBE_IMAGES
_clock = time.perf_counter  # the budget's clock; tests replace it with a simulated one
Pace = EpochPace | BudgetPace  # what sets the learning rate and ends the run (cifar_core/pace.py)


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
# One run's parts: data on the device, model, optimiser, schedule, and the batches it trains on
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
    scheduler: torch.optim.lr_scheduler.LRScheduler | None  # None under a time budget: the BudgetPace sets the LR
    scheduler_per_batch: bool  # One Cycle steps after every batch, the others after every epoch
    criterion: nn.Module
    step_options: StepOptions  # autocast, loss scaling, clipping, mixup
    generator: torch.Generator  # every random choice of the run: shuffles, crops, flips, mixup
    resize_stages: tuple[ResizeStage, ...]
    batch_size: int

    @property
    def steps_per_epoch(self) -> int:
        return steps_per_epoch(len(self.train_data), self.batch_size)

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
        amp_dtype = self.step_options.amp_dtype
        return collect_logits(self.model, self.val_data, self.mean, self.std, batch_size, amp_dtype, should_stop, tta_level=tta_level)


def steps_per_epoch(images: int, batch_size: int) -> int:
    return max(1, images // batch_size)  # drop the ragged last batch: BatchNorm needs full batches


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
    optimizer = build_optimizer(model, cfg)
    batch_size = min(cfg.batch_size, len(train_data))
    scheduler, per_batch = None, False  # under a time budget the BudgetPace sets the LR from the clock
    if not cfg.time_budget:
        scheduler, per_batch = build_scheduler(optimizer, cfg, steps_per_epoch(len(train_data), batch_size))
    generator = torch.Generator().manual_seed(cfg.seed)
    return Run(
        cfg=cfg,
        device=device,
        splits=splits,
        train_data=train_data,
        val_data=val_data,
        mean=mean,
        std=std,
        model=model,
        optimizer=optimizer,
        scheduler=scheduler,
        scheduler_per_batch=per_batch,
        criterion=nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing),
        step_options=StepOptions.from_config(cfg, device, autocast_dtype(cfg.amp, device), generator),
        generator=generator,
        resize_stages=parse_resize_schedule(cfg.resize_schedule, full_size=train_data.images.shape[-1]),
        batch_size=batch_size,
    )


# ---------------------------------------------------------------------------------------------
# What the loop has done so far, and how the caller watches it
# ---------------------------------------------------------------------------------------------


HISTORY_KEYS = ("train_loss", "train_acc", "val_loss", "val_acc", "lr", "step_loss", "step_lr")


@dataclass(frozen=True)
class Hooks:
    """The caller's view of a run: `should_stop` is polled before every step and evaluation batch."""

    on_step: Callable[[StepInfo], None] | None = None
    on_epoch: Callable[[EpochInfo], None] | None = None
    should_stop: Callable[[], bool] | None = None

    def stop_requested(self) -> bool:
        return self.should_stop is not None and self.should_stop()


@dataclass
class LoopState:
    started: float  # _clock() when train() began: the budget covers everything from here
    history: dict[str, list[float]] = field(default_factory=lambda: {key: [] for key in HISTORY_KEYS})
    step: int = 0
    epoch: int = 0
    stop_reason: str = "completed"  # or "stopped", "early stopping", or why the run failed
    # The current epoch's tally. `correct` stays on the device: reading it every step would wait
    # for the device every step (the loss is read anyway, to catch a NaN).
    epoch_loss: float = 0.0  # summed over the epoch's images
    epoch_correct: torch.Tensor | int = 0
    epoch_images: int = 0

    @property
    def running(self) -> bool:
        return self.stop_reason == "completed"

    def elapsed(self) -> float:
        return _clock() - self.started

    def record_step(self, loss: float, correct: torch.Tensor, images: int, lr: float) -> None:
        self.step += 1
        self.epoch_loss += loss * images
        self.epoch_correct = self.epoch_correct + correct
        self.epoch_images += images
        self.history["step_loss"].append(loss)
        self.history["step_lr"].append(lr)

    def close_epoch(self) -> tuple[float, float] | None:
        """The epoch's mean training loss and accuracy (0-1), or None when it took no step; the
        tally starts again at zero."""
        if self.epoch_images == 0:
            return None
        metrics = (self.epoch_loss / self.epoch_images, float(self.epoch_correct) / self.epoch_images)
        self.epoch_loss = 0.0
        self.epoch_correct = 0
        self.epoch_images = 0
        return metrics

    def record_epoch(self, info: EpochInfo) -> None:
        for key in ("train_loss", "train_acc", "val_loss", "val_acc", "lr"):
            value = getattr(info, key)
            self.history[key].append(math.nan if value is None else value)


# ---------------------------------------------------------------------------------------------
# One step, and the calibration that times a few of them before a budget is planned
# ---------------------------------------------------------------------------------------------


def take_step(run: Run, pace: Pace, index: torch.Tensor, state: LoopState, hooks: Hooks) -> bool:
    """One optimisation step at the pace's learning rate and image size, recorded in `state`.
    False when the run must end instead: a Stop, or a loss that is no longer finite
    (`state.stop_reason` says which)."""
    if hooks.stop_requested():
        state.stop_reason = "stopped"
        return False
    progress = pace.progress(state.step, state.elapsed())
    pace.set_lr(run.optimizer, progress)
    images = run.augmented(index, size_at(run.resize_stages, progress))
    loss, correct = training_step(run.model, images, run.train_data.labels[index], run.criterion, run.optimizer, run.step_options)
    loss_value = float(loss)  # synchronises with the device
    if not math.isfinite(loss_value):
        state.stop_reason = f"loss became {loss_value} at step {state.step + 1}: lower the learning rate or enable gradient clipping"
        return False
    lr = run.optimizer.param_groups[0]["lr"]
    state.record_step(loss_value, correct, len(index), lr)
    pace.after_step()
    if hooks.on_step is not None:
        hooks.on_step(step_info(run, pace, state, loss_value, lr, images.shape[-1]))
    return True


def calibrate(run: Run, state: LoopState, hooks: Hooks) -> BudgetPace:
    """Time this device, then plan the budget (cifar_core/budget.py): one untimed step (it pays for
    allocations and kernel choice), CALIBRATION_STEPS timed ones at the starting learning rate and
    image size, and a probe of the final evaluation. These steps train the model like any other and
    count in the first epoch's tally.

    Stopped or failed part-way, the pace is returned without a plan, and the run ends there."""
    pace = BudgetPace(run.optimizer, run.cfg.time_budget)
    batches = calibration_batches(run)
    run.model.train()
    if not take_step(run, pace, batches[0], state, hooks):
        return pace
    synchronize(run.device)  # the clock must time finished work, not queued work
    train_start = state.elapsed()
    for index in batches[1:]:
        if not take_step(run, pace, index, state, hooks):
            return pace
    synchronize(run.device)
    step_seconds = (state.elapsed() - train_start) / CALIBRATION_STEPS
    eval_seconds = time_final_evaluation(run)
    full_size = run.train_data.images.shape[-1]
    plan = plan_budget(
        run.cfg.time_budget,
        elapsed=state.elapsed(),
        train_start=train_start,
        step_seconds=step_seconds,
        measured_size=size_at(run.resize_stages, 0.0) or full_size,
        eval_seconds=eval_seconds,
        steps_per_epoch=run.steps_per_epoch,
        stages=run.resize_stages,
        full_size=full_size,
    )
    pace.start(plan, state.step)
    return pace


def calibration_batches(run: Run) -> list[torch.Tensor]:
    """The untimed step's batch and the timed steps' batches, from shuffles of their own: the loop's
    first epoch then starts on a full pass. As many shuffles as it takes (the lab's smallest subset
    is one batch an epoch)."""
    batches: list[torch.Tensor] = []
    while len(batches) < 1 + CALIBRATION_STEPS:
        batches += run.epoch_batches()
    return batches[: 1 + CALIBRATION_STEPS]


def time_final_evaluation(run: Run) -> float:
    """Seconds the final evaluation will take, from the faster of two timed passes over a few
    validation images (after one untimed pass, which pays for allocations and kernel choice).

    The faster of two: a busy moment on a shared machine (another learner's page drawing its
    report) inflates one pass, and an inflated estimate ends training seconds early."""
    if run.val_data is None or len(run.val_data) == 0:
        return 0.0
    probe = run.val_data.head(max(1, min(EVAL_PROBE_IMAGES, len(run.val_data) // 4)))  # a small split is not evaluated three times
    amp_dtype = run.step_options.amp_dtype
    timings = []
    for attempt in range(3):
        start = _clock()
        collect_logits(run.model, probe, run.mean, run.std, batch_size=len(probe), amp_dtype=amp_dtype, tta_level=run.tta_level)
        synchronize(run.device)
        if attempt > 0:
            timings.append(_clock() - start)
    run.model.train()
    return min(timings) / len(probe) * len(run.val_data)


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
    state = LoopState(started=_clock())  # the budget covers everything from here on
    cfg = cfg.validated()
    hooks = Hooks(on_step, on_epoch, should_stop)
    run = prepare_run(cfg, splits)
    pace = calibrate(run, state, hooks) if cfg.time_budget else epoch_pace(run)
    early_stopping = EarlyStopping(cfg.early_stopping_patience)
    while state.running:
        state.epoch += 1
        train_metrics = train_one_epoch(run, pace, state, hooks)
        if train_metrics is None:
            break  # not one step: a Stop, or a loss that was not finite
        val_loss, val_acc = validate(run, state, hooks) if pace.validates_each_epoch and state.running else (None, None)
        lr = run.optimizer.param_groups[0]["lr"]  # the epoch's last step's, read before the scheduler moves it for the next
        another_epoch = pace.after_epoch(state.epoch)
        info = EpochInfo(state.epoch, *train_metrics, val_loss, val_acc, lr, state.elapsed())
        state.record_epoch(info)
        if hooks.on_epoch is not None:
            hooks.on_epoch(info)
        early_stopping.update(val_acc)
        if early_stopping.should_stop:
            state.stop_reason = "early stopping"
        if not another_epoch or pace.finished(state.step, state.elapsed()):
            break
    return finish_run(run, state, hooks, training_seconds=state.elapsed())


def epoch_pace(run: Run) -> EpochPace:
    return EpochPace(run.scheduler, run.scheduler_per_batch, run.cfg.epochs, run.steps_per_epoch)


def train_one_epoch(run: Run, pace: Pace, state: LoopState, hooks: Hooks) -> tuple[float, float] | None:
    """One pass over a fresh shuffle, cut short by the deadline, a Stop or a failed step. Returns
    the epoch's mean training loss and accuracy (0-1); None when it took no step."""
    run.model.train()
    for index in run.epoch_batches():
        if pace.finished(state.step, state.elapsed()) or not take_step(run, pace, index, state, hooks):
            break
    return state.close_epoch()


def validate(run: Run, state: LoopState, hooks: Hooks) -> tuple[float | None, float | None]:
    """The validation loss and accuracy (0-1) after an epoch; None for both without a validation
    split, or when a Stop came part-way (then `state` records it)."""
    if run.val_data is None:
        return None, None
    logits = run.evaluate(should_stop=hooks.should_stop)
    if logits is None:
        state.stop_reason = "stopped"
        return None, None
    loss = float(nn.functional.cross_entropy(logits, run.val_data.labels))
    return loss, float(logits.argmax(1).eq(run.val_data.labels).float().mean())


def step_info(run: Run, pace: Pace, state: LoopState, loss: float, lr: float, size: int) -> StepInfo:
    elapsed = state.elapsed()
    return StepInfo(
        step=state.step,
        total_steps=pace.total_steps,
        epoch=state.step / run.steps_per_epoch,
        loss=loss,
        lr=lr,
        images_per_second=state.step * run.batch_size / max(elapsed, 1e-9),
        elapsed=elapsed,
        eta=pace.seconds_left(state.step, elapsed),
        image_size=size,
        steps_per_epoch=run.steps_per_epoch,
    )


def finish_run(run: Run, state: LoopState, hooks: Hooks, training_seconds: float) -> TrainResult:
    """The final evaluation (unless the run failed) and the result; `training_seconds` is what the
    budget's deadline bounds, the evaluation comes on top."""
    report = None
    stop_reason = state.stop_reason
    if run.val_data is not None and stop_reason in ("completed", "early stopping"):
        logits = run.evaluate(EVAL_BATCH_SIZE, hooks.should_stop, tta_level=run.tta_level)
        if logits is None:
            stop_reason = "stopped"
        else:
            report = report_from_logits(logits, run.val_data.labels, run.splits.train.classes)
    if stop_reason == "early stopping":
        stop_reason = "completed"
    return TrainResult(
        config=run.cfg,
        model=run.model,
        history=state.history,
        report=report,
        stop_reason=stop_reason,
        seconds=state.elapsed(),
        training_seconds=training_seconds,
        steps=state.step,
        device=str(run.device),
        data_description=run.splits.description,
        classes=run.splits.train.classes,
        mean=run.splits.mean,
        std=run.splits.std,
    )
