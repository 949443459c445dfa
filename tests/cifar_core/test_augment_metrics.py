import itertools

import torch
import torch.nn.functional as F

from cifar_core.augment import flip_batch, mixup_batch, random_crop_batch
from cifar_core.metrics import confusion_matrix, expected_calibration_error, report_from_logits


def test_random_crop_is_a_window_of_the_padded_image():
    images = torch.rand(16, 3, 32, 32)
    generator = torch.Generator().manual_seed(0)
    for mode in ("zeros", "reflect"):
        cropped = random_crop_batch(images, 4, mode, generator)
        padded = F.pad(images, (4,) * 4, mode="constant" if mode == "zeros" else "reflect")
        offsets_seen = set()
        for i in range(16):
            matches = [
                (r, c) for r, c in itertools.product(range(9), repeat=2) if torch.equal(cropped[i], padded[i, :, r : r + 32, c : c + 32])
            ]
            assert matches, f"image {i} is not a window of its padded source ({mode})"
            offsets_seen.add(matches[0])
        assert len(offsets_seen) > 1  # offsets differ per image


def test_flip_mirrors_about_half():
    images = torch.rand(200, 3, 8, 8)
    flipped = flip_batch(images, torch.Generator().manual_seed(1))
    mirrored = [torch.equal(f, i.flip(2)) for f, i in zip(flipped, images, strict=True)]
    unchanged = [torch.equal(f, i) for f, i in zip(flipped, images, strict=True)]
    assert all(m or u for m, u in zip(mirrored, unchanged, strict=True))
    assert 60 < sum(mirrored) < 140


def test_mixup_is_a_convex_combination_of_two_images():
    images, targets = torch.rand(8, 3, 4, 4), torch.arange(8)
    mixed, targets_a, targets_b, lam = mixup_batch(images, targets, 0.4, torch.Generator().manual_seed(2))
    assert 0 <= lam <= 1 and torch.equal(targets_a, targets)
    partner = images[targets_b]
    assert torch.allclose(mixed, lam * images + (1 - lam) * partner)


def test_confusion_matrix_matches_a_brute_force_count():
    targets = torch.randint(0, 4, (300,))
    predictions = torch.randint(0, 4, (300,))
    matrix = confusion_matrix(targets, predictions, 4)
    for i, j in itertools.product(range(4), repeat=2):
        assert matrix[i, j] == int(((targets == i) & (predictions == j)).sum())


def test_ece_is_zero_when_confidence_equals_accuracy_and_large_when_overconfident():
    # 100 predictions at confidence 0.8, 80 of them right: perfectly calibrated.
    probabilities = torch.tensor([[0.8, 0.2]] * 100)
    targets = torch.tensor([0] * 80 + [1] * 20)
    assert expected_calibration_error(probabilities, targets) < 1e-6
    overconfident = torch.tensor([[0.99, 0.01]] * 100)
    assert abs(expected_calibration_error(overconfident, targets) - 0.19) < 1e-5


def test_report_per_class_and_f1():
    logits = torch.tensor([[5.0, 0.0], [5.0, 0.0], [0.0, 5.0], [5.0, 0.0]])
    targets = torch.tensor([0, 0, 1, 1])
    report = report_from_logits(logits, targets, ("a", "b"))
    assert report.accuracy == 0.75
    assert report.per_class == {"a": 1.0, "b": 0.5}
    assert abs(report.precision["a"] - 2 / 3) < 1e-6 and abs(report.f1["a"] - 0.8) < 1e-6
    assert report.confusion == [[2, 0], [1, 1]]
