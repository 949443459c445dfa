"""The sample the dataset demos read: stratified, seeded, decoded from the files named."""

import numpy as np
from PIL import Image

from proofs.dataset import _decoded_sample, cifar10_dir, missing_reason, training_sample
from tests.conftest import require_real_cifar10


def test_the_sample_is_stratified_seeded_and_decoded_from_its_files(monkeypatch):
    monkeypatch.setenv("CIFAR10_DIR", str(require_real_cifar10()))
    assert missing_reason() is None
    sample = training_sample(20, seed=3)
    assert sample.images.shape == (200, 32, 32, 3) and sample.images.dtype == np.uint8
    assert np.bincount(sample.labels).tolist() == [20] * 10 and len(set(sample.files)) == 200
    assert all(path.parent.name == sample.classes[label] for path, label in zip(sample.files, sample.labels, strict=True))
    with Image.open(sample.files[57]) as image:
        assert np.array_equal(np.asarray(image.convert("RGB")), sample.images[57])
    assert _decoded_sample.__wrapped__(cifar10_dir() / "train", 20, 3).files == sample.files  # the same seed draws the same files
    assert _decoded_sample.__wrapped__(cifar10_dir() / "train", 20, 4).files != sample.files
    assert not sample.images.flags.writeable


def test_a_missing_dataset_is_reported_with_the_place_looked_in(monkeypatch, tmp_path):
    monkeypatch.setenv("CIFAR10_DIR", str(tmp_path / "nowhere"))
    assert cifar10_dir() == tmp_path / "nowhere"
    assert str(tmp_path / "nowhere" / "train") in missing_reason() and "CIFAR10_DIR" in missing_reason()
    (tmp_path / "nowhere" / "train").mkdir(parents=True)
    assert missing_reason() is not None  # an empty train/ is no dataset either
