"""One entry point for every data source: image-folder trees, torchvision's CIFAR-10, and a
generated offline set. Everything comes back as uint8 arrays (N, 32, 32, 3) plus int64 labels,
so the classic DataLoader path and the fast on-device path read the same bytes."""

from __future__ import annotations

import hashlib
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
# Per-channel statistics of the CIFAR-10 training set over [0, 1] (the figures the first source
# document quotes, to three decimals).
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp")
SYNTHETIC_DESCRIPTION = "the generated offline set (synthetic 10-class 32x32 colour images, not CIFAR-10)"


class DataSourceError(Exception):
    """A data directory or option a learner gave cannot be used; the message is one line."""


@dataclass(frozen=True)
class ArrayDataset:
    images: np.ndarray  # (N, 32, 32, 3) uint8, HWC as stored in PNGs
    labels: np.ndarray  # (N,) int64 class indices
    classes: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, indices: np.ndarray) -> ArrayDataset:
        return ArrayDataset(self.images[indices], self.labels[indices], self.classes)


@dataclass(frozen=True)
class DataSplits:
    """Train and validation carved from the training data; test only if the source has one."""

    train: ArrayDataset
    val: ArrayDataset | None
    test: ArrayDataset | None
    description: str  # always shown to the learner: which dataset is in use
    is_real_cifar10: bool
    mean: tuple[float, float, float]
    std: tuple[float, float, float]


# ---------------------------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------------------------


def cache_dir() -> Path:
    return Path(os.environ.get("VIVA_CACHE_DIR", Path.home() / ".cache" / "viva-drill"))


def _class_dirs(split_dir: Path) -> list[Path]:
    return sorted(p for p in split_dir.iterdir() if p.is_dir() and not p.name.startswith("."))


def _image_files(class_dir: Path) -> list[Path]:
    return sorted(p for p in class_dir.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)


def _decode(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as image:
        array = np.asarray(image.convert("RGB"), dtype=np.uint8)
    if array.shape != (32, 32, 3):
        raise DataSourceError(f"{path}: expected a 32x32 RGB image, found {array.shape[1]}x{array.shape[0]}")
    return array


def _folder_fingerprint(files: list[Path]) -> str:
    digest = hashlib.sha1()
    for path in files:
        stat = path.stat()
        digest.update(f"{path}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def read_image_folder(split_dir: Path, use_cache: bool = True) -> ArrayDataset:
    """Decode `split_dir/<class>/*.png` (ImageFolder layout), caching the uint8 arrays.

    The cache is keyed by every file's path, size and mtime, so edits to the folder invalidate
    it; decoding 50,000 PNGs takes ~15 s on 2 cores, loading the cache well under a second.
    """
    class_dirs = _class_dirs(split_dir)
    if not class_dirs:
        raise DataSourceError(f"{split_dir}: no class folders found (expected {split_dir}/<class>/*.png)")
    files_per_class = [_image_files(d) for d in class_dirs]
    files = [f for group in files_per_class for f in group]
    if not files:
        raise DataSourceError(f"{split_dir}: class folders hold no images ({', '.join(IMAGE_EXTENSIONS)})")
    classes = tuple(d.name for d in class_dirs)
    labels = np.concatenate([np.full(len(g), i, dtype=np.int64) for i, g in enumerate(files_per_class)])
    cache_file = cache_dir() / f"imagefolder-{_folder_fingerprint(files)}.npz"
    if use_cache and cache_file.is_file():
        try:
            with np.load(cache_file, allow_pickle=False) as cached:
                if cached["labels"].shape == labels.shape:
                    return ArrayDataset(cached["images"], cached["labels"], classes)
        except (OSError, ValueError, KeyError):
            pass  # unreadable cache: decode again and overwrite it
    # PIL releases the GIL while decoding, so threads give a real speed-up on PNGs.
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        images = np.stack(list(pool.map(_decode, files, chunksize=256)))
    if use_cache:
        _write_cache(cache_file, images, labels)
    return ArrayDataset(images, labels, classes)


def _write_cache(cache_file: Path, images: np.ndarray, labels: np.ndarray) -> None:
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=cache_file.parent, suffix=".tmp", delete=False) as handle:
            np.savez(handle, images=images, labels=labels)
        os.replace(handle.name, cache_file)
    except OSError:
        pass  # a cache we cannot write only costs time on the next load


def read_torchvision_cifar10(root: Path, train: bool, allow_download: bool) -> ArrayDataset:
    """torchvision's `cifar-10-batches-py` under `root`, downloaded only if the learner allows it."""
    from torchvision.datasets import CIFAR10

    try:
        dataset = CIFAR10(root=str(root), train=train, download=allow_download)
    except RuntimeError as error:
        raise DataSourceError(f"{root}: CIFAR-10 batches not found and not downloaded ({error})") from None
    except OSError as error:
        raise DataSourceError(f"{root}: could not download CIFAR-10 (offline?): {error}") from None
    return ArrayDataset(np.asarray(dataset.data, dtype=np.uint8), np.asarray(dataset.targets, dtype=np.int64), CIFAR10_CLASSES)


def make_synthetic(size: int, seed: int) -> ArrayDataset:
    """A generated 10-class 32x32 colour dataset that needs nothing on disk or on the network.

    Each class is a coloured oriented grating with a class-specific blob position; random phase,
    shift, contrast and noise make it learnable but not trivially separable by mean colour.
    """
    rng = np.random.default_rng(seed)
    labels = np.arange(size, dtype=np.int64) % 10
    rng.shuffle(labels)
    yy, xx = np.mgrid[0:32, 0:32].astype(np.float32) / 32.0
    angles = np.linspace(0, np.pi, 10, endpoint=False)
    base_colours = rng.uniform(0.2, 0.8, size=(10, 3)).astype(np.float32)
    centres = rng.uniform(0.25, 0.75, size=(10, 2)).astype(np.float32)
    images = np.empty((size, 32, 32, 3), dtype=np.uint8)
    for start in range(0, size, 1024):
        batch = labels[start : start + 1024]
        n = len(batch)
        phase = rng.uniform(0, 2 * np.pi, size=(n, 1, 1))
        freq = 6.0 + rng.uniform(-1.0, 1.0, size=(n, 1, 1))
        angle = angles[batch][:, None, None] + rng.normal(0, 0.12, size=(n, 1, 1))
        grating = np.sin(freq * 2 * np.pi * (np.cos(angle) * xx + np.sin(angle) * yy) + phase)
        shift = rng.normal(0, 0.08, size=(n, 2))
        cy = centres[batch, 0][:, None, None] + shift[:, 0, None, None]
        cx = centres[batch, 1][:, None, None] + shift[:, 1, None, None]
        blob = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 0.02)
        contrast = rng.uniform(0.15, 0.35, size=(n, 1, 1, 1))
        colour = base_colours[batch][:, None, None, :] + rng.normal(0, 0.1, size=(n, 1, 1, 3))
        pixels = colour + contrast * grating[..., None] + 0.3 * blob[..., None] + rng.normal(0, 0.12, size=(n, 32, 32, 3))
        images[start : start + n] = (np.clip(pixels, 0, 1) * 255).astype(np.uint8)
    return ArrayDataset(images, labels, tuple(f"pattern-{i}" for i in range(10)))


# ---------------------------------------------------------------------------------------------
# Splits
# ---------------------------------------------------------------------------------------------


def stratified_split(labels: np.ndarray, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, val) with each class split in the same proportion, reproducible by seed."""
    if not 0.0 < val_fraction < 1.0:
        raise DataSourceError(f"val split must be between 0 and 1, got {val_fraction}")
    rng = np.random.default_rng(seed)
    train_parts, val_parts = [], []
    for cls in np.unique(labels):
        members = np.flatnonzero(labels == cls)
        rng.shuffle(members)
        n_val = int(round(len(members) * val_fraction))
        val_parts.append(members[:n_val])
        train_parts.append(members[n_val:])
    train_idx, val_idx = np.concatenate(train_parts), np.concatenate(val_parts)
    return np.sort(train_idx), np.sort(val_idx)


@dataclass(frozen=True)
class DataOptions:
    """What to load; built from argparse or from the app's widgets."""

    data_dir: str | None = None  # image-folder tree, or a directory holding cifar-10-batches-py
    dataset: str = "auto"  # "auto" reads data_dir; "synthetic" generates the offline set
    val_split: float = 0.1  # fraction of train held out, stratified
    split_seed: int = 0  # seed of the validation split (kept apart from the training seed)
    subset: int | None = None  # keep this many training images (stratified), for quick labs
    synthetic_size: int = 6000  # images generated when dataset == "synthetic"
    allow_download: bool = False  # torchvision download, only when the learner asks
    use_cache: bool = True


def _describe_folder(data_dir: Path) -> tuple[str, bool]:
    is_cifar = {p.name for p in _class_dirs(data_dir / "train")} == set(CIFAR10_CLASSES)
    label = "real CIFAR-10" if is_cifar else "an image-folder dataset"
    return f"{label} from {data_dir}", is_cifar


def _read_sources(options: DataOptions) -> tuple[ArrayDataset, ArrayDataset | None, str, bool]:
    if options.dataset == "synthetic":
        full = make_synthetic(options.synthetic_size, seed=1234)
        return full, None, SYNTHETIC_DESCRIPTION, False
    if options.dataset != "auto":
        raise DataSourceError(f"unknown dataset '{options.dataset}' (choose auto or synthetic)")
    if not options.data_dir:
        raise DataSourceError("no --data-dir given: pass an image-folder tree or a CIFAR-10 directory, or use --dataset synthetic")
    root = Path(options.data_dir).expanduser()
    if (root / "train").is_dir():
        description, is_cifar = _describe_folder(root)
        test = read_image_folder(root / "test", options.use_cache) if (root / "test").is_dir() else None
        return read_image_folder(root / "train", options.use_cache), test, description, is_cifar
    if (root / "cifar-10-batches-py").is_dir() or options.allow_download:
        train = read_torchvision_cifar10(root, True, options.allow_download)
        test = read_torchvision_cifar10(root, False, options.allow_download)
        return train, test, f"real CIFAR-10 (torchvision batches) from {root}", True
    raise DataSourceError(
        f"{root}: not a dataset directory (expected {root}/train/<class>/*.png with optional test/, "
        f"or {root}/cifar-10-batches-py; or use --dataset synthetic)"
    )


def load_splits(options: DataOptions) -> DataSplits:
    """Train/val carved from the source's training data (stratified, seeded); test kept apart.

    Training never reads the test split; it is returned only for a final report the learner asks for.
    """
    full, test, description, is_real = _read_sources(options)
    train_idx, val_idx = stratified_split(full.labels, options.val_split, options.split_seed)
    if options.subset is not None and options.subset < len(train_idx):
        keep = _stratified_take(full.labels[train_idx], options.subset, options.split_seed)
        train_idx = train_idx[keep]
    mean, std = (CIFAR10_MEAN, CIFAR10_STD) if is_real else channel_stats(full.images[train_idx])
    return DataSplits(full.subset(train_idx), full.subset(val_idx), test, description, is_real, mean, std)


def train_on_all_report_on_test(splits: DataSplits) -> DataSplits:
    """The official protocol for a final figure: train on every training image (train and
    validation together) and report on the test split, which now stands where `val` was.

    Nothing is left to tune on, so settings must be chosen on the validation split first."""
    if splits.test is None:
        raise DataSourceError(f"{splits.description}: no test split to report on (expected DIR/test/<class>/*.png or cifar-10-batches-py)")
    if splits.test.classes != splits.train.classes:
        raise DataSourceError(f"{splits.description}: the test classes {splits.test.classes} differ from train's {splits.train.classes}")
    parts = [splits.train] + ([splits.val] if splits.val is not None else [])
    everything = ArrayDataset(np.concatenate([p.images for p in parts]), np.concatenate([p.labels for p in parts]), splits.train.classes)
    return replace(splits, train=everything, val=splits.test)


def _stratified_take(labels: np.ndarray, count: int, seed: int) -> np.ndarray:
    fraction = count / len(labels)
    _, taken = stratified_split(labels, min(max(fraction, 1e-6), 1 - 1e-6), seed + 1)
    return taken


def channel_stats(images: np.ndarray) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """Per-channel mean and std over [0, 1] of uint8 HWC images."""
    pixels = images.reshape(-1, 3).astype(np.float64) / 255.0
    mean, std = pixels.mean(axis=0), pixels.std(axis=0)
    return (float(mean[0]), float(mean[1]), float(mean[2])), (float(std[0]), float(std[1]), float(std[2]))
