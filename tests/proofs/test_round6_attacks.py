"""Attacks on the claim checks linked in round 6 (proofs7): each breaks the code under test the way the item's
answer rules out, and the item's claim check must then fail."""

import pytest

from tests.proofs.test_attacks import claim_passes

PAIRS_ITEM = "keras-s8-q7-certain-confusion-pairs-expected"
VEHICLES_ITEM = "keras-s9-q8-vehicle-classification-more-accurate-than"


@pytest.mark.parametrize("item", [PAIRS_ITEM, VEHICLES_ITEM])
def test_cifar10_the_project_as_written_passes(real_cifar10, item):
    assert claim_passes(item)


@pytest.mark.parametrize("item", [PAIRS_ITEM, VEHICLES_ITEM])
def test_cifar10_a_training_step_that_never_steps(real_cifar10, monkeypatch, item):
    """What the checks read is what training learned from the images: an optimizer that never moves leaves neither pattern."""
    import cifar_core.steps

    step = cifar_core.steps.training_step

    def frozen(model, inputs, targets, criterion, optimizer, options=cifar_core.steps.PLAIN_STEP):
        for group in optimizer.param_groups:
            group["lr"] = 0.0
        return step(model, inputs, targets, criterion, optimizer, options)

    monkeypatch.setattr(cifar_core.steps, "training_step", frozen)
    assert not claim_passes(item)


@pytest.mark.parametrize("item", [PAIRS_ITEM, VEHICLES_ITEM])
def test_cifar10_a_sample_whose_vehicle_names_are_swapped_with_animals(real_cifar10, monkeypatch, item):
    """airplane<->bird, automobile<->cat, ship<->deer, truck<->dog: the class names no longer fit the pictures."""
    import numpy as np

    import proofs.dataset
    import proofs.demos.cifar10 as demos

    swap = np.array([2, 3, 0, 1, 8, 9, 6, 7, 4, 5])  # CIFAR-10's order: airplane automobile bird cat deer dog frog horse ship truck

    def swapped(per_class=200, seed=0):
        sample = proofs.dataset.training_sample(per_class, seed)
        return proofs.dataset.Sample(sample.images, swap[sample.labels], sample.classes, sample.files)

    monkeypatch.setattr(demos, "training_sample", swapped)
    assert not claim_passes(item)
