"""A small, seeded, stratified sample of the real CIFAR-10 training PNGs, for the demos that measure
the dataset itself (its pixel statistics, its range, which flips leave it alike).

The directory is found as the tests, the benchmarks and the Lab find it: $CIFAR10_DIR, else
../shared/datasets/cifar10 beside the checkout. Where it is missing such a demo is skipped with a
reason naming where it looked, as a GPU-only demo is skipped without CUDA. Decoding 200 PNGs a class
(2,000 images) takes about 0.3 s here, listing the 50,000 file names 0.05 s."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]


def cifar10_dir() -> Path:
    """Where the real CIFAR-10 is looked for (read at each call, so a changed $CIFAR10_DIR counts)."""
    return Path(os.environ.get("CIFAR10_DIR", REPO_ROOT.parent / "shared" / "datasets" / "cifar10"))


def missing_reason() -> str | None:
    """None when the training images are there; else one line saying where they were looked for."""
    train = cifar10_dir() / "train"
    if train.is_dir() and any(p.is_dir() for p in train.iterdir()):
        return None
    return f"needs the real CIFAR-10 training images; none at {train} (set CIFAR10_DIR to the directory holding train/<class>/*.png)"


@dataclass(frozen=True)
class Sample:
    images: np.ndarray  # (N, 32, 32, 3) uint8, as decoded from the PNGs, read-only
    labels: np.ndarray  # (N,) int64 class indices, in the order of `classes`
    classes: tuple[str, ...]
    files: tuple[Path, ...]  # the PNG each image was decoded from


def training_sample(per_class: int = 200, seed: int = 0) -> Sample:
    """`per_class` PNGs drawn without replacement from each class folder (seeded), decoded with PIL.

    Cached per directory: the demos that share it decode it once per process (the first to run pays it)."""
    return _decoded_sample(cifar10_dir() / "train", per_class, seed)


@contextlib.contextmanager
def training_tree(per_class: int = 200, seed: int = 0) -> Iterator[Path]:
    """The PNGs `training_sample` decodes, as an image-folder tree (DIR/train/<class>/*.png) of symbolic links in a
    temporary directory, for code that reads a dataset directory itself, as cifar_core's get_data_loaders does.

    The links go in /dev/shm where there is one: on a disk a link costs about 0.25 ms here, in memory 2 microseconds."""
    classes, files = _sampled_files(cifar10_dir() / "train", per_class, seed)
    memory = Path("/dev/shm")
    with tempfile.TemporaryDirectory(prefix="cifar10-sample-", dir=memory if memory.is_dir() else None) as directory:
        root = Path(directory)
        for name in classes:
            (root / "train" / name).mkdir(parents=True)
        for path in files:
            (root / "train" / path.parent.name / path.name).symlink_to(path)
        yield root


@cache
def _sampled_files(train: Path, per_class: int, seed: int) -> tuple[tuple[str, ...], tuple[Path, ...]]:
    """(class names, `per_class` PNGs drawn without replacement from each class folder, seeded)."""
    classes = tuple(sorted(entry.name for entry in os.scandir(train) if entry.is_dir()))
    rng = np.random.default_rng(seed)
    files = []
    for name in classes:
        pngs = sorted(f for f in os.listdir(train / name) if f.lower().endswith(".png"))
        files += [train / name / f for f in rng.choice(pngs, per_class, replace=False)]
    return classes, tuple(files)


@cache
def _decoded_sample(train: Path, per_class: int, seed: int) -> Sample:
    from PIL import Image

    classes, files = _sampled_files(train, per_class, seed)
    decoded = []
    for path in files:
        with Image.open(path) as image:
            decoded.append(np.asarray(image.convert("RGB")))
    images = np.stack(decoded)
    labels = np.repeat(np.arange(len(classes), dtype=np.int64), per_class)
    images.flags.writeable = False  # shared between demos: none may change it
    return Sample(images, labels, classes, files)
