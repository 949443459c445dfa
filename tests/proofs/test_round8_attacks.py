"""Attacks on the claim checks linked in round 8 (proofs10): each breaks the code under test the way the item's
answer (or its note) rules out, and the item's claim check must then fail."""

import numpy as np

from tests.proofs.test_attacks import claim_passes

VALIDATION_ITEM = "keras-s8-q1-test-accuracy-compare-validation"


def test_s8_q1_the_project_as_written_passes(real_cifar10):
    assert claim_passes(VALIDATION_ITEM)


def test_s8_q1_a_test_split_carved_from_the_training_images(real_cifar10, monkeypatch):
    """A split that hands back the test images inside the part the model trains on (the test set is no longer
    held out): the test score rises towards the training score and leaves the validation score."""
    from cifar_core import data

    split, calls = data.stratified_split, []

    def leaky(labels: np.ndarray, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
        calls.append(seed)
        rest, held_out = split(labels, val_fraction, seed)
        return (np.arange(len(labels)), held_out) if len(calls) == 1 else (rest, held_out)

    monkeypatch.setattr(data, "stratified_split", leaky)
    assert not claim_passes(VALIDATION_ITEM)


def test_s8_q1_validation_images_partly_trained_on(real_cifar10, monkeypatch):
    """Half of the validation images also in the training part (a leak smaller than the declared mistake's)."""
    from cifar_core import data

    split, calls = data.stratified_split, []

    def half_leak(labels: np.ndarray, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
        calls.append(seed)
        train, val = split(labels, val_fraction, seed)
        return (np.union1d(train, val[::2]), val) if len(calls) == 2 else (train, val)

    monkeypatch.setattr(data, "stratified_split", half_leak)
    assert not claim_passes(VALIDATION_ITEM)
