"""Bank claims about the real CIFAR-10 images, checked on all 50,000 training images wherever they
are present. The demos of family cifar10 check the same claims on a 2,000-image sample in under
two seconds (what a learner's card shows); these are the full-dataset versions."""

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
    # keras-s2-q8: 6,000 images a class, 5,000 of them in the training set (the test split's 1,000 is not stored here).
    labels = read_image_folder(require_real_cifar10() / "train").labels
    assert np.bincount(labels).tolist() == [5000] * 10


def test_raw_cifar10_pixels_are_uint8_spanning_0_to_255():
    # keras-s2-q5: raw pixels are uint8 0-255 (demo cifar10-raw-pixel-range checks a sample and ToTensor).
    images = read_image_folder(require_real_cifar10() / "train").images
    assert images.dtype == np.uint8 and images.min() == 0 and images.max() == 255


def test_cifar10_channels_are_correlated_so_standardising_leaves_the_surface_elongated():
    # resnet-05's note: RGB pixels correlate 0.78-0.91; standardised, their covariance's condition number is about 58.
    pixels = read_image_folder(require_real_cifar10() / "train").images.reshape(-1, 3)[::7].astype(np.float64)
    correlation = np.corrcoef(pixels.T)
    off_diagonal = correlation[np.triu_indices(3, 1)]
    assert off_diagonal.min() > 0.75 and off_diagonal.max() < 0.93
    eigenvalues = np.linalg.eigvalsh(correlation)  # the covariance of the standardised channels
    assert 40 < eigenvalues[-1] / eigenvalues[0] < 80
