"""Bank claims about the real CIFAR-10 images (unproved reason "dataset": demos never read them),
checked wherever the training set is present."""

import numpy as np

from cifar_core.data import read_image_folder
from tests.conftest import require_real_cifar10


def test_cifar10_photos_are_brighter_at_the_top_so_a_vertical_flip_makes_unlike_images():
    # keras-s4-q2: objects do not appear upside down; a vertical flip makes unrealistic examples.
    images = read_image_folder(require_real_cifar10() / "train").images.astype(np.float32) / 255
    rows, columns = images.mean(axis=(0, 2, 3)), images.mean(axis=(0, 1, 3))
    assert rows[:4].mean() - rows[-4:].mean() > 0.05  # sky and light above, ground below
    vertical_gap = np.abs(rows[::-1] - rows).max()  # what a vertical flip does to the brightness profile
    horizontal_gap = np.abs(columns[::-1] - columns).max()  # and a horizontal flip to the column profile
    assert vertical_gap > 0.05 and horizontal_gap < 0.01 and vertical_gap > 5 * horizontal_gap


def test_cifar10_training_classes_are_balanced():
    # keras-s2-q8: 6,000 images a class, 5,000 of them in the training set.
    labels = read_image_folder(require_real_cifar10() / "train").labels
    assert np.bincount(labels).tolist() == [5000] * 10
