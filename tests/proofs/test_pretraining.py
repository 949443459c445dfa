"""The weights pretrained here (proofs/pretraining.py), behind round 9c's measurements of the three "pretrained
weights" items: the source and target tasks split the real classes and images as documented, pretraining learns
the source classes (and shuffled labels do not), and a fine-tune changes the body it is given."""

import numpy as np
import pytest
import torch

from proofs import pretraining
from tests.conftest import require_real_cifar10


@pytest.fixture
def sample(monkeypatch):
    monkeypatch.setenv("CIFAR10_DIR", str(require_real_cifar10()))
    from proofs.dataset import training_sample

    return training_sample()


def test_source_and_target_split_the_ten_classes(sample):
    assert set(pretraining.SOURCE_CLASSES) | set(pretraining.TARGET_CLASSES) == set(sample.classes)
    assert not set(pretraining.SOURCE_CLASSES) & set(pretraining.TARGET_CLASSES)


def test_a_task_holds_its_classes_images_split_per_class(sample):
    target = pretraining.task(sample, pretraining.TARGET_CLASSES, 20, seed=3)
    assert target.inputs.shape == (1000, 3, pretraining.SIZE, pretraining.SIZE)
    assert np.bincount(target.labels[target.train].numpy()).tolist() == [20] * 5
    assert np.bincount(target.labels[target.test].numpy()).tolist() == [180] * 5
    assert not set(target.train) & set(target.test)
    # The images are the sample's own, of the named classes: the first cat of the task is the sample's first cat,
    # averaged to 16 x 16 and normalised (oracle: numpy block means of the decoded pixels).
    first_cat = sample.images[list(sample.labels).index(sample.classes.index("cat"))].astype(np.float64) / 255
    blocks = first_cat.reshape(16, 2, 16, 2, 3).mean(axis=(1, 3))
    from cifar_core.data import CIFAR10_MEAN, CIFAR10_STD

    expected = ((blocks - np.array(CIFAR10_MEAN)) / np.array(CIFAR10_STD)).transpose(2, 0, 1)
    cat = pretraining.TARGET_CLASSES.index("cat")
    assert np.allclose(target.inputs[target.labels == cat][0].numpy(), expected, atol=1e-5)


def test_pretraining_learns_the_source_classes_and_shuffled_labels_do_not(sample):
    torch.set_num_threads(1)
    model, source = pretraining.pretrained(sample, seed=0)
    shuffled, _ = pretraining.pretrained(sample, seed=0, shuffle_labels=True)
    learned, by_chance = pretraining.accuracy(model, source), pretraining.accuracy(shuffled, source)
    # Held out: 250 source images, 5 classes (chance 0.2, its standard error about 0.025).
    assert learned > 0.35 and by_chance < 0.3, (learned, by_chance)


def test_a_new_head_keeps_the_body_and_a_fine_tune_moves_it(sample):
    model, _ = pretraining.pretrained(sample, seed=1, steps=20)
    tuned = pretraining.with_new_head(model, 5, seed=7)
    assert tuned[0] is model[0] and tuned[-1] is not model[-1]
    before = tuned[0].weight.detach().clone()
    curve = pretraining.fit(tuned, pretraining.task(sample, pretraining.TARGET_CLASSES, 20), steps=30, lr=1e-3, every=15)
    assert len(curve) == 2 and all(0 <= value <= 1 for value in curve)
    assert not torch.equal(before, tuned[0].weight)


def test_the_forgetting_measurement_behind_keras_s7_q2(sample):
    """What held in every run (2 samples x 10 seeds) and is pinned here for one: at 1e-3 the pretrained body moves
    further and keeps fewer of its source predictions than at 1e-4, while the target is learned at both rates. (What
    did not hold in every run, source accuracy kept, is why the item stays unlinked: see its note.)"""
    torch.set_num_threads(1)
    figures = pretraining.forgetting_by_lr(sample, seed=0)
    high, low = figures[1e-3], figures[1e-4]
    assert high["moved"] > 2 * low["moved"] > 0
    assert high["source_predictions_kept"] < low["source_predictions_kept"] <= 1
    assert min(high["target_accuracy"], low["target_accuracy"]) > low["target_accuracy_head_only"] == high["target_accuracy_head_only"]
