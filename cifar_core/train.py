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
from cifar_core.metrics import EvalReport, report_from_logits
from cifar_core.models import MODEL_NAMES, SimpleCNN, build_model  # noqa: F401  (SimpleCNN: the document's model)
from cifar_core.optim import build_optimizer, build_scheduler
from cifar_core.progress import StepBar, epoch_bar
from cifar_core.recipe import FAST_RECIPE
from cifar_core.reproducibility import seed_everything
from cifar_core.steps import make_scaler, training_step

# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------


class ArrayImageDataset(Dataset):
    """uint8 HWC images served as PIL images through torchvision transforms, like CIFAR10 does."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, transform: Callable | None = None) -> None:
        self.images, self.labels, self.transform = images, labels, transform

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


@dataclass(frozen=True)
class StepOptions:
    """What train_epoch adds to the plain recipe; the defaults are the plain recipe."""

    amp_dtype: torch.dtype | None = None
    scaler: torch.amp.GradScaler | None = None
    grad_clip: float | None = None
    mixup_alpha: float = 0.0
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None  # stepped per batch (One Cycle)


def train_epoch(model, device, dataloader, criterion, optimizer, options: StepOptions = StepOptions()) -> tuple[float, float]:  # noqa: B008
    """One pass over the loader: returns (mean loss, accuracy in %).

    Per batch: move to device, zero_grad, forward, loss, backward, step. The loss is summed as
    loss.item() * batch size so that the mean is per sample even with a short last batch.
    """
    model.train()
    running_loss, correct, total = 0.0, 0, 0
    for inputs, targets in dataloader:
        inputs, targets = inputs.to(device, non_blocking=True), targets.to(device, non_blocking=True)
        loss, batch_correct = training_step(
            model, inputs, targets, criterion, optimizer,
            amp_dtype=options.amp_dtype, scaler=options.scaler, grad_clip=options.grad_clip, mixup_alpha=options.mixup_alpha,
        )  # fmt: skip
        if options.scheduler is not None:
            options.scheduler.step()
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
    """history.npz (train_loss, val_loss, train_acc, val_acc per epoch), written atomically."""
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


def checkpoint_state(epoch: int, model: nn.Module, optimizer, scheduler, best_acc: float, history, cfg: TrainConfig, loaders_meta) -> dict:
    """Everything needed to resume or evaluate; only tensors and plain data, so weights_only loading works."""
    classes, mean, std, description = loaders_meta
    return {
        "epoch": epoch,
        "state_dict": _unwrap(model).state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "best_acc": best_acc,
        "history": history,
        "config": cfg.to_dict(),
        "classes": list(classes),
        "mean": list(mean),
        "std": list(std),
        "data_description": description,
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
    fast_only = [f"--{name.replace('_', '-')}" for name in ("tta", "tta_translate", "whiten", "resize_schedule") if getattr(cfg, name)]
    if fast_only:
        raise ConfigError([f"{' and '.join(fast_only)} need the fast trainer: add --time-budget SECONDS"])
    device = resolve_device(cfg.device)
    dist_ctx = init_distributed(device)
    if dist_ctx.enabled and device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    say = print if dist_ctx.is_main else (lambda *_: None)
    seed_everything(cfg.seed, cfg.deterministic)
    loaders = get_data_loaders(
        cfg.batch_size, cfg.data.data_dir, cfg.num_workers, options=cfg.data, seed=cfg.seed,
        crop_padding=cfg.crop_padding, padding_mode=cfg.padding_mode, flip=cfg.flip, distributed=dist_ctx.enabled,
    )  # fmt: skip
    say(f"data: {loaders.description}; device: {device}; model: {cfg.model}")
    model = build_model(cfg.model, len(loaders.classes), cfg.pretrained).to(device)
    if dist_ctx.enabled:
        model = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    criterion = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
    optimizer = build_optimizer(model, cfg)
    scheduler, per_step = build_scheduler(optimizer, cfg, len(loaders.train))
    amp_dtype = autocast_dtype(cfg.amp, device)
    step_options = StepOptions(amp_dtype, make_scaler(device, amp_dtype), cfg.grad_clip, cfg.mixup_alpha, scheduler if per_step else None)

    history: dict[str, list[float]] = {"train_loss": [], "val_loss": [], "train_acc": [], "val_acc": [], "lr": []}
    start_epoch, best_acc, epochs_without_gain = 1, 0.0, 0
    if cfg.resume:
        state = load_checkpoint(cfg.resume, map_location=device)
        if state.get("optimizer") is None:
            raise CheckpointError(
                f"{cfg.resume}: saved by a --time-budget run, which keeps no optimizer state; it can be evaluated, not resumed"
            )
        _unwrap(model).load_state_dict(state["state_dict"])
        optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None and state.get("scheduler") is not None:
            scheduler.load_state_dict(state["scheduler"])
        history = {key: list(values) for key, values in state["history"].items()}
        start_epoch, best_acc = state["epoch"] + 1, state["best_acc"]
        say(f"resumed from {cfg.resume} at epoch {start_epoch}")
    checkpoint_dir = Path(cfg.checkpoint_dir)
    writer = open_tensorboard(checkpoint_dir / "tensorboard") if cfg.tensorboard and dist_ctx.is_main else None
    meta = (loaders.classes, loaders.mean, loaders.std, loaders.description)
    stop_reason = "completed"
    epoch = start_epoch - 1
    for epoch in range(start_epoch, cfg.epochs + 1):
        # Each epoch's randomness (shuffle order, augmentation, dropout) is a function of
        # (seed, epoch) alone, so a resumed run repeats the uninterrupted run exactly.
        seed_everything(cfg.seed * 100_003 + epoch, cfg.deterministic)
        loaders.train.generator.manual_seed(cfg.seed * 100_003 + epoch)
        if dist_ctx.enabled:
            loaders.train.sampler.set_epoch(epoch)
        lr = optimizer.param_groups[0]["lr"]
        batches = epoch_bar(loaders.train, epoch, cfg.epochs) if dist_ctx.is_main else loaders.train
        train_loss, train_acc = train_epoch(model, device, batches, criterion, optimizer, step_options)
        if not np.isfinite(train_loss):
            stop_reason = f"loss became {train_loss} in epoch {epoch}: lower the learning rate or enable --grad-clip"
            say(stop_reason)
            break
        val_loss, val_acc = eval_model(model, device, loaders.val, criterion)
        if scheduler is not None and not per_step:
            scheduler.step()
        for key, value in zip(history, (train_loss, val_loss, train_acc, val_acc, lr), strict=True):
            history[key].append(value)
        is_best = val_acc > best_acc
        best_acc, epochs_without_gain = (val_acc, 0) if is_best else (best_acc, epochs_without_gain + 1)
        if dist_ctx.is_main:
            save_checkpoint(checkpoint_state(epoch, model, optimizer, scheduler, best_acc, history, cfg, meta), is_best, checkpoint_dir)
            if writer is not None:
                for key in ("train_loss", "val_loss", "train_acc", "val_acc", "lr"):
                    writer.add_scalar(key, history[key][-1], epoch)
        say(
            f"Epoch {epoch}/{cfg.epochs} - train_loss: {train_loss:.4f} train_acc: {train_acc:.2f}"
            f" - val_loss: {val_loss:.4f} val_acc: {val_acc:.2f}"
        )
        if cfg.early_stopping_patience is not None and epochs_without_gain >= cfg.early_stopping_patience:
            stop_reason = f"early stopping: no validation improvement for {epochs_without_gain} epochs"
            say(stop_reason)
            break

    report = None
    if dist_ctx.is_main and history["train_loss"]:
        logits, targets = collect_predictions(model, device, loaders.val)
        report = report_from_logits(logits, targets, loaders.classes)
        _write_outputs(history, report, checkpoint_dir)
        if cfg.export_onnx:
            export_onnx(model, device, checkpoint_dir / "model.onnx")
        say(f"validation accuracy {report.accuracy:.4f}, ECE {report.ece:.4f}; outputs in {checkpoint_dir}")
    if writer is not None:
        writer.close()
    if dist_ctx.enabled:
        torch.distributed.destroy_process_group()
    return RunSummary(history, report, best_acc, epoch - start_epoch + 1, stop_reason, checkpoint_dir, loaders.description)


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
