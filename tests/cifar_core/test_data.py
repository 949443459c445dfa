import numpy as np
import pytest
from PIL import Image

import cifar_core.data as data_module
from cifar_core.data import (
    CIFAR10_MEAN,
    CIFAR10_STD,
    DataOptions,
    DataSourceError,
    channel_stats,
    load_splits,
    make_synthetic,
    read_image_folder,
    stratified_split,
)
from tests.conftest import require_real_cifar10


def write_tree(root, classes=("cat", "dog"), per_class=6, split="train", size=32):
    rng = np.random.default_rng(0)
    for name in classes:
        folder = root / split / name
        folder.mkdir(parents=True)
        for i in range(per_class):
            Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(folder / f"{i}.png")


def test_stratified_split_keeps_class_proportions_and_is_seeded():
    labels = np.repeat(np.arange(10), [100, 50, 100, 100, 100, 100, 100, 100, 100, 100])
    train_a, val_a = stratified_split(labels, 0.2, seed=3)
    train_b, val_b = stratified_split(labels, 0.2, seed=3)
    assert np.array_equal(val_a, val_b) and np.array_equal(train_a, train_b)
    assert not set(train_a) & set(val_a) and len(train_a) + len(val_a) == len(labels)
    counts = np.bincount(labels[val_a], minlength=10)
    assert counts[1] == 10 and all(counts[i] == 20 for i in (0, 2, 9))
    _, val_c = stratified_split(labels, 0.2, seed=4)
    assert not np.array_equal(val_a, val_c)


def test_synthetic_dataset_is_seeded_and_balanced():
    a, b = make_synthetic(500, seed=7), make_synthetic(500, seed=7)
    assert np.array_equal(a.images, b.images) and a.images.shape == (500, 32, 32, 3) and a.images.dtype == np.uint8
    assert np.bincount(a.labels).tolist() == [50] * 10


def test_image_folder_reads_train_and_test_and_caches(tmp_path, monkeypatch):
    monkeypatch.setenv("VIVA_CACHE_DIR", str(tmp_path / "cache"))
    write_tree(tmp_path / "ds")
    write_tree(tmp_path / "ds", per_class=2, split="test")
    splits = load_splits(DataOptions(data_dir=str(tmp_path / "ds"), val_split=0.5))
    assert splits.train.classes == ("cat", "dog") and len(splits.train) == 6 and len(splits.val) == 6
    assert len(splits.test) == 4
    assert "image-folder dataset" in splits.description and not splits.is_real_cifar10

    def refuse_decode(path):
        raise AssertionError("decoded again although the cache is fresh")

    monkeypatch.setattr(data_module, "_decode", refuse_decode)
    again = read_image_folder(tmp_path / "ds" / "train")
    assert len(again) == 12


def test_wrong_image_size_names_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("VIVA_CACHE_DIR", str(tmp_path / "cache"))
    write_tree(tmp_path / "ds", size=28)
    with pytest.raises(DataSourceError, match=r"0\.png: expected a 32x32 RGB image, found 28x28"):
        load_splits(DataOptions(data_dir=str(tmp_path / "ds")))


def test_directory_that_is_no_dataset_is_one_line_error(tmp_path):
    with pytest.raises(DataSourceError) as caught:
        load_splits(DataOptions(data_dir=str(tmp_path)))
    message = str(caught.value)
    assert "\n" not in message and "expected" in message and "--dataset synthetic" in message


def test_torchvision_batches_are_not_downloaded_without_permission(tmp_path):
    (tmp_path / "cifar-10-batches-py").mkdir()
    with pytest.raises(DataSourceError, match="not found and not downloaded"):
        load_splits(DataOptions(data_dir=str(tmp_path)))


def test_real_cifar10_split_is_stratified():
    root = require_real_cifar10()
    splits = load_splits(DataOptions(data_dir=str(root), val_split=0.1))
    assert splits.is_real_cifar10 and "real CIFAR-10" in splits.description
    assert len(splits.train) == 45_000 and len(splits.val) == 5_000
    assert np.bincount(splits.val.labels).tolist() == [500] * 10
    assert splits.test is None  # the test split is withheld beside the checkout
    # The quoted normalisation constants are the training set's own statistics (demo normalisation-stats says so).
    mean, std = channel_stats(splits.train.images)
    assert max(abs(a - b) for a, b in zip(mean, CIFAR10_MEAN, strict=True)) < 1e-3
    assert max(abs(a - b) for a, b in zip(std, CIFAR10_STD, strict=True)) < 1e-3
