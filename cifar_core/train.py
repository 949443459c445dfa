"""CIFAR-10 training script: the `expt1/train_cifar10.py` that the first source document describes.

Run it with `python -m cifar_core.train --data-dir DIR` (or `--dataset synthetic` offline). The
functions keep the document's names and defaults (SimpleCNN, get_data_loaders, train_epoch,
eval_model, save_checkpoint, plot_curves, parse_args, main); every extension the documents ask
about ("how would you add X?") is a real option here. Under `torchrun` it trains with
DistributedDataParallel. `--time-budget SECONDS` hands over to the fast trainer.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torchvision.transforms as transforms
from torch import nn
from torch.utils.data import DataLoader, Dataset

from cifar_core.checkpoint import CheckpointError, atomic_torch_save, load_checkpoint
from cifar_core.config import AMP_MODES, OPTIMIZERS, PADDING_MODES, SCHEDULERS, ConfigError, TrainConfig
from cifar_core.data import DataOptions, DataSourceError, load_splits
from cifar_core.device import autocast_dtype, resolve_device
from cifar_core.early_stopping import EarlyStopping
from cifar_core.metrics import EvalReport, report_from_logits
from cifar_core.models import MODEL_NAMES, SimpleCNN, build_model  # noqa: F401  (SimpleCNN: the document's model)
from cifar_core.optim import build_optimizer, build_scheduler
from cifar_core.progress import StepBar, epoch_bar
from cifar_core.recipe import FAST_RECIPE
from cifar_core.reproducibility import seed_everything
from cifar_core.steps import PLAIN_STEP, StepOptions, training_step

# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------


class ArrayImageDataset(Dataset):
    """uint8 HWC images served as PIL images through torchvision transforms, like CIFAR10 does."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, transform: Callable | None = None) -> None:
        self.images = images  # (N, 32, 32, 3) uint8
        self.labels = labels
        self.transform = transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        from PIL import Image

        image = Image.fromarray(self.images[index])
        return (self.transform(image) if self.transform else image), int(self.labels[index])


@dataclass
class Loaders:
    train: DataLoader
    val: DataLoader
    classes: tuple[str, ...]
    description: str  # which dataset is in use, shown to the learner
    mean: tuple[float, float, float]
    std: tuple[float, float, float]


def get_data_loaders(
    batch_size: int = 128,
    data_dir: str | None = "./data",
    num_workers: int = 2,
    *,
    options: DataOptions | None = None,
    seed: int = 0,
    crop_padding: int = 4,
    padding_mode: str = "zeros",
    flip: bool = True,
    distributed: bool = False,
) -> Loaders:
    """Train loader with RandomCrop(32, padding=4) + RandomHorizontalFlip + Normalize; val loader
    with Normalize only, no shuffling. The validation split is carved from train, stratified."""
    options = options or DataOptions(data_dir=data_dir)
    splits = load_splits(options)
    augment: list = []
    if crop_padding:
        augment.append(transforms.RandomCrop(32, padding=crop_padding, padding_mode="constant" if padding_mode == "zeros" else "reflect"))
    if flip:
        augment.append(transforms.RandomHorizontalFlip())
    to_tensor = [transforms.ToTensor(), transforms.Normalize(splits.mean, splits.std)]
    transform_train = transforms.Compose(augment + to_tensor)
    transform_test = transforms.Compose(to_tensor)
    trainset = ArrayImageDataset(splits.train.images, splits.train.labels, transform_train)
    valset = ArrayImageDataset(splits.val.images, splits.val.labels, transform_test)
    sampler = torch.utils.data.distributed.DistributedSampler(trainset, seed=seed) if distributed else None
    common = {"num_workers": num_workers, "pin_memory": torch.cuda.is_available(), "persistent_workers": False}
    trainloader = DataLoader(
        trainset, batch_size=batch_size, shuffle=sampler is None, sampler=sampler, generator=torch.Generator().manual_seed(seed), **common
    )
    valloader = DataLoader(valset, batch_size=max(batch_size, 256), shuffle=False, **common)
    return Loaders(trainloader, valloader, splits.train.classes, splits.description, splits.mean, splits.std)


# ---------------------------------------------------------------------------------------------
# Training and evaluation
# ---------------------------------------------------------------------------------------------


def train_epoch(model, device, dataloader, criterion, optimizer, options: StepOptions = PLAIN_STEP, scheduler=None) -> tuple[float, float]:
    """One pass over the loader: returns (mean loss, accuracy in %).

    Per batch: move to device, zero_grad, forward, loss, backward, step (cifar_core/steps.py), then
    `scheduler.step()` when one is given: One Cycle moves the learning rate every batch. The loss is
    summed as loss.item() * batch size so that the mean is per sample even with a short last batch.
    """
    model.train()
    running_loss = 0.0
    correct = 0
    total = 0
    for inputs, targets in dataloader:
        inputs = inputs.to(device, non_blocking=True)
        targets = targets.to(device, non_blocking=True)
        loss, batch_correct = training_step(model, inputs, targets, criterion, optimizer, options)
        if scheduler is not None:
            scheduler.step()
        running_loss += loss.item() * inputs.size(0)
        correct += int(batch_correct)
        total += targets.size(0)
    return running_loss / max(total, 1), 100.0 * correct / max(total, 1)


def eval_model(model, device, dataloader, criterion) -> tuple[float, float]:
    """model.eval() (dropout off, BatchNorm running statistics) and no_grad: (mean loss, accuracy in %)."""
    logits, targets = collect_predictions(model, device, dataloader)
    loss = float(criterion(logits, targets)) if len(targets) else 0.0
    return loss, 100.0 * float(logits.argmax(1).eq(targets).float().mean()) if len(targets) else 0.0


@torch.no_grad()
def collect_predictions(model, device, dataloader) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, C) logits and (N,) targets on the CPU, in eval mode."""
    model.eval()
    all_logits, all_targets = [], []
    for inputs, targets in dataloader:
        all_logits.append(model(inputs.to(device, non_blocking=True)).float().cpu())
        all_targets.append(targets)
    if not all_logits:
        return torch.empty(0, 10), torch.empty(0, dtype=torch.long)
    return torch.cat(all_logits), torch.cat(all_targets)


# ---------------------------------------------------------------------------------------------
# Checkpoints, history and plots
# ---------------------------------------------------------------------------------------------


def save_checkpoint(state: dict, is_best: bool, checkpoint_dir: str | Path) -> None:
    """checkpoint.pth every epoch and best.pth when validation accuracy improved, each written atomically."""
    directory = Path(checkpoint_dir)
    atomic_torch_save(state, directory / "checkpoint.pth")
    if is_best:
        atomic_torch_save(state, directory / "best.pth")


def save_history(history: dict[str, list[float]], out_dir: str | Path) -> Path:
    """history.npz, one array per key of `history` (train_loss, val_loss, train_acc, val_acc and lr per epoch in
    main()), written atomically."""
    path = Path(out_dir) / "history.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as handle:
        np.savez(handle, **{key: np.asarray(values, dtype=np.float64) for key, values in history.items()})
    os.replace(handle.name, path)
    return path


def plot_curves(history: dict[str, list[float]], out_dir: str | Path) -> Path:
    """training_curves.png: loss and accuracy per epoch, train and validation."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    epochs = range(1, len(history["train_loss"]) + 1)
    figure, (loss_axis, acc_axis) = plt.subplots(1, 2, figsize=(10, 4))
    loss_axis.plot(epochs, history["train_loss"], label="train")
    loss_axis.plot(epochs, history["val_loss"], label="val")
    loss_axis.set(xlabel="epoch", ylabel="loss", title="Loss")
    acc_axis.plot(epochs, history["train_acc"], label="train")
    acc_axis.plot(epochs, history["val_acc"], label="val")
    acc_axis.set(xlabel="epoch", ylabel="accuracy (%)", title="Accuracy")
    for axis in (loss_axis, acc_axis):
        axis.legend()
    path = Path(out_dir) / "training_curves.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def checkpoint_state(
    epoch: int, model: nn.Module, optimizer, scheduler, best_acc: float, history, cfg: TrainConfig, loaders: Loaders
) -> dict:
    """Everything needed to resume or evaluate; only tensors and plain data, so weights_only loading works."""
    return {
        "epoch": epoch,
        "state_dict": _unwrap(model).state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "best_acc": best_acc,
        "history": history,
        "config": cfg.to_dict(),
        "classes": list(loaders.classes),
        "mean": list(loaders.mean),
        "std": list(loaders.std),
        "data_description": loaders.description,
        "torch_version": str(torch.__version__),
    }


def _unwrap(model: nn.Module) -> nn.Module:
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


# ---------------------------------------------------------------------------------------------
# Optional extras: TensorBoard and ONNX
# ---------------------------------------------------------------------------------------------


def open_tensorboard(log_dir: Path):
    """A SummaryWriter, or None with a one-line message when the package is missing."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        print("TensorBoard logging skipped: the optional package 'tensorboard' is not installed (pip install tensorboard)")
        return None
    return SummaryWriter(log_dir=str(log_dir))


def log_scalars(writer, history: dict[str, list[float]], epoch: int) -> None:
    """The epoch's losses, accuracies and learning rate to TensorBoard (no-op without a writer)."""
    if writer is None:
        return
    for key in ("train_loss", "val_loss", "train_acc", "val_acc", "lr"):
        writer.add_scalar(key, history[key][-1], epoch)


def export_onnx(model: nn.Module, device: torch.device, path: Path) -> Path | None:
    """model.onnx for a (1, 3, 32, 32) input, or None with a one-line message when onnx is missing."""
    try:
        import onnx  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError:
        print("ONNX export skipped: the optional packages 'onnx' and 'onnxscript' are not installed (pip install onnx onnxscript)")
        return None
    model = _unwrap(model).eval()
    dummy = torch.randn(1, 3, 32, 32, device=device)
    torch.onnx.export(model, (dummy,), str(path), input_names=["input"], output_names=["output"], dynamo=True)
    return path


# ---------------------------------------------------------------------------------------------
# Distributed set-up (torchrun)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DistributedContext:
    enabled: bool
    rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed(device: torch.device) -> DistributedContext:
    """Join the process group when launched by torchrun (WORLD_SIZE > 1): gloo on CPU, NCCL on CUDA."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistributedContext(False)
    import torch.distributed as dist

    dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return DistributedContext(True, dist.get_rank(), world_size)


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------


def _add_data_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", default=None, help="image-folder tree DIR/train/<class>/*.png, or a dir with cifar-10-batches-py")
    parser.add_argument("--dataset", choices=["auto", "synthetic"], default="auto", help="synthetic: the generated offline set")
    parser.add_argument("--val-split", type=float, default=0.1, help="fraction of train held out for validation (stratified)")
    parser.add_argument("--split-seed", type=int, default=0, help="seed of the validation split")
    parser.add_argument("--subset", type=int, default=None, help="train on this many images (stratified)")
    parser.add_argument("--synthetic-size", type=int, default=6000, help="images generated by --dataset synthetic")
    parser.add_argument("--download", action="store_true", help="allow torchvision to download CIFAR-10 into --data-dir")


def data_options_from_args(args: argparse.Namespace) -> DataOptions:
    return DataOptions(
        data_dir=args.data_dir, dataset=args.dataset, val_split=args.val_split, split_seed=args.split_seed,
        subset=args.subset, synthetic_size=args.synthetic_size, allow_download=args.download,
    )  # fmt: skip


# Options whose default depends on the engine: the document's recipe, or the fast recipe with --time-budget.
_RECIPE_FIELDS = (
    "model",
    "batch_size",
    "lr",
    "optimizer",
    "momentum",
    "nesterov",
    "weight_decay",
    "scheduler",
    "muon_lr",
    "muon_momentum",
    "label_smoothing",
    "crop_padding",
    "padding_mode",
    "tta",
    "tta_translate",
    "whiten",
    "resize_schedule",
    "amp",
)


def build_arg_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cifar_core.train", description="Train a CIFAR-10 classifier.")
    _add_data_arguments(parser)
    add = parser.add_argument
    recipe = FAST_RECIPE  # the --time-budget defaults, read from the recipe so the help cannot go stale
    add("--model", choices=MODEL_NAMES, default=None, help=f"default simplecnn ({recipe['model']} with --time-budget)")
    add("--pretrained", action="store_true", help="ImageNet weights for resnet18/50, from the local cache only")
    add("--epochs", type=int, default=30)
    add("--batch-size", type=int, default=None, help=f"default 128 ({recipe['batch_size']} with --time-budget)")
    add("--lr", type=float, default=None, help=f"default 1e-3 ({recipe['lr']} with --time-budget)")
    add("--optimizer", choices=OPTIMIZERS, default=None, help=f"default adam ({recipe['optimizer']} with --time-budget)")
    add("--muon-lr", type=float, default=None, help=f"muon: peak step of a filter bank, relative to its norm (default {recipe['muon_lr']})")
    add("--muon-momentum", type=float, default=None, help=f"muon: momentum of the filters' gradients (default {recipe['muon_momentum']})")
    add("--momentum", type=float, default=None)
    add("--nesterov", action=argparse.BooleanOptionalAction, default=None)
    add("--weight-decay", type=float, default=None)
    add("--scheduler", choices=SCHEDULERS, default=None, help="default step (onecycle with --time-budget)")
    add("--step-size", type=int, default=10)
    add("--gamma", type=float, default=0.1)
    add("--warmup-epochs", type=float, default=0.0)
    add("--label-smoothing", type=float, default=None)
    add("--mixup-alpha", type=float, default=0.0)
    add("--grad-clip", type=float, default=None, help="max gradient L2 norm")
    add("--crop-padding", type=int, default=None, help="default 4 (0 with --time-budget)")
    add("--padding-mode", choices=PADDING_MODES, default=None)
    add("--no-flip", action="store_true")
    add("--amp", choices=AMP_MODES, default=None, help="default off (auto with --time-budget: bf16 where the device has it)")
    add("--seed", type=int, default=0)
    add("--deterministic", action="store_true")
    add("--num-workers", type=int, default=2)
    add("--device", default="auto")
    add("--checkpoint-dir", default="checkpoints")
    add("--resume", default=None, help="checkpoint.pth to continue from")
    add("--early-stopping-patience", type=int, default=None)
    add("--export-onnx", action="store_true")
    add("--tensorboard", action="store_true")
    add("--time-budget", type=float, default=None, help="seconds for training + final evaluation (fast trainer)")
    add("--tta", action=argparse.BooleanOptionalAction, default=None, help="flip test-time augmentation (default on with --time-budget)")
    add("--tta-translate", action=argparse.BooleanOptionalAction, default=None, help="with --tta: six views (on with --time-budget)")
    add("--whiten", action=argparse.BooleanOptionalAction, default=None, help="frozen whitening first conv (on with --time-budget)")
    add("--resize-schedule", default=None, help="progressive resizing SIZE:UNTIL,... ('' for none; the recipe's with --time-budget)")
    return parser


def parse_args(argv: Sequence[str] | None = None) -> TrainConfig:
    """Command-line arguments as a validated TrainConfig (exits with one line per problem)."""
    parser = build_arg_parser()
    args = parser.parse_args(argv)
    base = TrainConfig()
    recipe = FAST_RECIPE if args.time_budget else {name: getattr(base, name) for name in _RECIPE_FIELDS}
    chosen = {
        name: getattr(args, name) if getattr(args, name) is not None else recipe.get(name, getattr(base, name)) for name in _RECIPE_FIELDS
    }
    cfg = TrainConfig(
        data=data_options_from_args(args), pretrained=args.pretrained, epochs=args.epochs, step_size=args.step_size, gamma=args.gamma,
        warmup_epochs=args.warmup_epochs, mixup_alpha=args.mixup_alpha, grad_clip=args.grad_clip,
        flip=not args.no_flip, seed=args.seed, deterministic=args.deterministic, num_workers=args.num_workers,
        device=args.device, checkpoint_dir=args.checkpoint_dir, resume=args.resume, early_stopping_patience=args.early_stopping_patience,
        export_onnx=args.export_onnx, tensorboard=args.tensorboard, time_budget=args.time_budget, **chosen,
    )  # fmt: skip
    problems = cfg.problems()
    if problems:
        parser.error("; ".join(problems))
    return cfg


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


@dataclass
class RunSummary:
    history: dict[str, list[float]]
    report: EvalReport | None
    best_acc: float  # %
    epochs_run: int
    stop_reason: str
    checkpoint_dir: Path
    data_description: str


def main(cfg: TrainConfig | None = None) -> RunSummary:
    """Train, validate, checkpoint and plot, epoch by epoch; resumable; DDP under torchrun."""
    cfg = (cfg or parse_args()).validated()
    if cfg.time_budget:
        return _main_fast(cfg)
    refuse_fast_only_options(cfg)
    setup = set_up(cfg)
    progress = resume(setup, cfg.resume) if cfg.resume else Progress.start(cfg)
    train_epochs(setup, progress)
    report = final_report(setup, progress.history)
    if setup.dist.enabled:
        torch.distributed.destroy_process_group()
    return RunSummary(
        history=progress.history,
        report=report,
        best_acc=progress.early_stopping.best,
        epochs_run=progress.epochs_run,
        stop_reason=progress.stop_reason,
        checkpoint_dir=setup.checkpoint_dir,
        data_description=setup.loaders.description,
    )


def refuse_fast_only_options(cfg: TrainConfig) -> None:
    fast_only = [f"--{name.replace('_', '-')}" for name in ("tta", "tta_translate", "whiten", "resize_schedule") if getattr(cfg, name)]
    if fast_only:
        raise ConfigError([f"{' and '.join(fast_only)} need the fast trainer: add --time-budget SECONDS"])


@dataclass
class Setup:
    """What main() builds before the first epoch."""

    cfg: TrainConfig
    device: torch.device
    dist: DistributedContext
    loaders: Loaders
    model: nn.Module  # wrapped in DistributedDataParallel under torchrun
    criterion: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler | None
    scheduler_per_batch: bool  # One Cycle steps after every batch, the others after every epoch
    step_options: StepOptions  # autocast, loss scaling, clipping, mixup
    checkpoint_dir: Path

    def say(self, message: str) -> None:
        """Print on the main process only: under torchrun every process runs this script."""
        if self.dist.is_main:
            print(message)


def set_up(cfg: TrainConfig) -> Setup:
    """The device (and the process group under torchrun), seeded loaders, model, loss, optimizer and schedule."""
    device = resolve_device(cfg.device)
    dist_ctx = init_distributed(device)
    if dist_ctx.enabled and device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    seed_everything(cfg.seed, cfg.deterministic)
    loaders = get_data_loaders(
        cfg.batch_size, cfg.data.data_dir, cfg.num_workers, options=cfg.data, seed=cfg.seed,
        crop_padding=cfg.crop_padding, padding_mode=cfg.padding_mode, flip=cfg.flip, distributed=dist_ctx.enabled,
    )  # fmt: skip
    model = build_model(cfg.model, len(loaders.classes), cfg.pretrained).to(device)
    if dist_ctx.enabled:
        model = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    optimizer = build_optimizer(model, cfg)
    scheduler, per_batch = build_scheduler(optimizer, cfg, len(loaders.train))
    setup = Setup(
        cfg=cfg,
        device=device,
        dist=dist_ctx,
        loaders=loaders,
        model=model,
        criterion=nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing),
        optimizer=optimizer,
        scheduler=scheduler,
        scheduler_per_batch=per_batch,
        step_options=StepOptions.from_config(cfg, device, autocast_dtype(cfg.amp, device)),
        checkpoint_dir=Path(cfg.checkpoint_dir),
    )
    setup.say(f"data: {loaders.description}; device: {device}; model: {cfg.model}")
    return setup


@dataclass
class Progress:
    """Where the run stands between epochs; --resume restores it from checkpoint.pth."""

    history: dict[str, list[float]]  # per epoch: train_loss, val_loss, train_acc, val_acc (%), lr
    early_stopping: EarlyStopping  # also holds the best validation accuracy (%), which decides best.pth
    next_epoch: int = 1
    epochs_run: int = 0  # by this invocation
    stop_reason: str = "completed"

    @classmethod
    def start(cls, cfg: TrainConfig) -> Progress:
        history: dict[str, list[float]] = {"train_loss": [], "val_loss": [], "train_acc": [], "val_acc": [], "lr": []}
        return cls(history, EarlyStopping(cfg.early_stopping_patience))


def resume(setup: Setup, path: str) -> Progress:
    """Weights, optimizer, schedule, history and best accuracy from a checkpoint: the run goes on
    from the epoch after the saved one."""
    state = load_checkpoint(path, map_location=setup.device)
    if state.get("optimizer") is None:
        raise CheckpointError(f"{path}: saved by a --time-budget run, which keeps no optimizer state; it can be evaluated, not resumed")
    _unwrap(setup.model).load_state_dict(state["state_dict"])
    setup.optimizer.load_state_dict(state["optimizer"])
    if setup.scheduler is not None and state.get("scheduler") is not None:
        setup.scheduler.load_state_dict(state["scheduler"])
    history = {key: list(values) for key, values in state["history"].items()}
    early_stopping = EarlyStopping.replayed(setup.cfg.early_stopping_patience, history["val_acc"])
    setup.say(f"resumed from {path} at epoch {state['epoch'] + 1}")
    return Progress(history, early_stopping, next_epoch=state["epoch"] + 1)


def train_epochs(setup: Setup, progress: Progress) -> None:
    """The loop: one epoch after another until the last, a non-finite loss, or early stopping."""
    writer = open_tensorboard(setup.checkpoint_dir / "tensorboard") if setup.cfg.tensorboard and setup.dist.is_main else None
    for epoch in range(progress.next_epoch, setup.cfg.epochs + 1):
        run_epoch(setup, progress, epoch, writer)
        if progress.stop_reason != "completed":
            setup.say(progress.stop_reason)
            break
    if writer is not None:
        writer.close()


def run_epoch(setup: Setup, progress: Progress, epoch: int, writer) -> None:
    """train_epoch, eval_model, the epoch's scheduler step, save_checkpoint, the epoch line."""
    cfg = setup.cfg
    # Each epoch's randomness (shuffle order, augmentation, dropout) is a function of
    # (seed, epoch) alone, so a resumed run repeats the uninterrupted run exactly.
    seed_everything(cfg.seed * 100_003 + epoch, cfg.deterministic)
    setup.loaders.train.generator.manual_seed(cfg.seed * 100_003 + epoch)
    if setup.dist.enabled:
        setup.loaders.train.sampler.set_epoch(epoch)
    lr = setup.optimizer.param_groups[0]["lr"]
    batches = epoch_bar(setup.loaders.train, epoch, cfg.epochs) if setup.dist.is_main else setup.loaders.train
    batch_scheduler = setup.scheduler if setup.scheduler_per_batch else None
    train_loss, train_acc = train_epoch(
        setup.model, setup.device, batches, setup.criterion, setup.optimizer, setup.step_options, batch_scheduler
    )
    progress.epochs_run += 1
    if not np.isfinite(train_loss):
        progress.stop_reason = f"loss became {train_loss} in epoch {epoch}: lower the learning rate or enable --grad-clip"
        return
    val_loss, val_acc = eval_model(setup.model, setup.device, setup.loaders.val, setup.criterion)
    if setup.scheduler is not None and not setup.scheduler_per_batch:
        setup.scheduler.step()
    for key, value in zip(progress.history, (train_loss, val_loss, train_acc, val_acc, lr), strict=True):
        progress.history[key].append(value)
    is_best = progress.early_stopping.update(val_acc)
    if setup.dist.is_main:
        state = checkpoint_state(
            epoch, setup.model, setup.optimizer, setup.scheduler, progress.early_stopping.best, progress.history, cfg, setup.loaders
        )
        save_checkpoint(state, is_best, setup.checkpoint_dir)
        log_scalars(writer, progress.history, epoch)
    setup.say(
        f"Epoch {epoch}/{cfg.epochs} - train_loss: {train_loss:.4f} train_acc: {train_acc:.2f}"
        f" - val_loss: {val_loss:.4f} val_acc: {val_acc:.2f}"
    )
    if progress.early_stopping.should_stop:
        progress.stop_reason = f"early stopping: no validation improvement for {progress.early_stopping.epochs_without_gain} epochs"


def final_report(setup: Setup, history: dict[str, list[float]]) -> EvalReport | None:
    """On the main process, after at least one epoch: the validation report, history.npz,
    training_curves.png, eval_report.json and, if asked, model.onnx."""
    if not (setup.dist.is_main and history["train_loss"]):
        return None
    logits, targets = collect_predictions(setup.model, setup.device, setup.loaders.val)
    report = report_from_logits(logits, targets, setup.loaders.classes)
    _write_outputs(history, report, setup.checkpoint_dir)
    if setup.cfg.export_onnx:
        export_onnx(setup.model, setup.device, setup.checkpoint_dir / "model.onnx")
    setup.say(f"validation accuracy {report.accuracy:.4f}, ECE {report.ece:.4f}; outputs in {setup.checkpoint_dir}")
    return report


def _write_outputs(history: dict[str, list[float]], report: EvalReport, checkpoint_dir: Path) -> None:
    save_history(history, checkpoint_dir)
    plot_curves(history, checkpoint_dir)
    (checkpoint_dir / "eval_report.json").write_text(json.dumps(report.to_dict(), indent=1))


def _main_fast(cfg: TrainConfig) -> RunSummary:
    from cifar_core.fast import EpochInfo, train

    bar = StepBar()

    def print_epoch(info: EpochInfo) -> None:
        bar.close()
        print(f"epoch {info.epoch}: train_loss {info.train_loss:.4f} train_acc {100 * info.train_acc:.2f}")

    result = train(cfg, on_step=bar, on_epoch=print_epoch)
    bar.close()
    print(
        f"data: {result.data_description}; device: {result.device}; {result.steps} steps in {result.seconds:.1f} s ({result.stop_reason})"
    )
    checkpoint_dir = Path(cfg.checkpoint_dir)
    history = {key: [100 * v if key.endswith("acc") else v for v in values] for key, values in result.history.items()}
    state = {
        "epoch": len(history["train_loss"]), "state_dict": result.model.state_dict(), "optimizer": None, "scheduler": None,
        "best_acc": 100 * result.report.accuracy if result.report else 0.0, "history": history, "config": cfg.to_dict(),
        "classes": list(result.classes), "mean": list(result.mean), "std": list(result.std),
        "data_description": result.data_description, "torch_version": str(torch.__version__),
    }  # fmt: skip
    save_checkpoint(state, True, checkpoint_dir)
    if result.report is not None:
        (checkpoint_dir / "eval_report.json").write_text(json.dumps(result.report.to_dict(), indent=1))
        held_out = f"held-out {cfg.data.val_split:.0%} of train, stratified"
        print(f"validation accuracy {result.report.accuracy:.4f} ({held_out}), ECE {result.report.ece:.4f}")
    best = 100 * result.report.accuracy if result.report else 0.0
    return RunSummary(history, result.report, best, len(history["train_loss"]), result.stop_reason, checkpoint_dir, result.data_description)


def cli(argv: Sequence[str] | None = None) -> int:
    """Entry point: learner-caused problems become one line on stderr and exit status 1."""
    try:
        main(parse_args(argv))
    except (DataSourceError, CheckpointError, ConfigError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(cli())
