"""GPU time to 94% on real CIFAR-10 with the speedrun recipe (only where a CUDA device exists)."""

from __future__ import annotations

from bench.common import SHARED_CIFAR10, BenchResult

PUBLISHED = "airbench94: 94.01% in 3.29 s (compiled; 3.83 s uncompiled) on one A100, 50,000 training images, test split"
TARGET = 0.94


def run(quick: bool) -> BenchResult:
    import torch

    result = BenchResult("gpu")
    name = "speedrun accuracy on one GPU"
    if not torch.cuda.is_available():
        result.add(name, None, "%", f"not measured: no CUDA device here (published for comparison: {PUBLISHED})")
        return result
    if not (SHARED_CIFAR10 / "train").is_dir():
        result.add(name, None, "%", f"not measured: real CIFAR-10 not found at {SHARED_CIFAR10} (set CIFAR10_DIR)")
        return result
    from cifar_core.data import DataOptions, load_splits
    from cifar_core.speedrun import SpeedrunConfig, speedrun, summary

    splits = load_splits(DataOptions(data_dir=str(SHARED_CIFAR10)))
    stats = summary(speedrun(SpeedrunConfig(), splits, runs=3 if quick else 10, warmup_runs=1))
    where = f"{stats['device']}, {stats['runs']} runs, {stats['train_images']:,} training / {stats['val_images']:,} held-out images"
    spread = f"sd {100 * float(stats['accuracy_sd']):.2f}"
    result.add("speedrun accuracy (TTA), mean", 100 * float(stats["accuracy_mean"]), "%", f"{spread}; {where}")
    result.add("speedrun accuracy, worst run", 100 * float(stats["accuracy_min"]), "%", f"target {TARGET:.0%}")
    result.add("speedrun training time, median", float(stats["train_seconds_median"]), "s", f"target under 5 s; {PUBLISHED}")
    evaluation_note = "evaluation with mirror and translate TTA"
    result.add("speedrun training + evaluation, median", float(stats["total_seconds_median"]), "s", evaluation_note)
    return result
