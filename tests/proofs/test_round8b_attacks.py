"""Attacks on the claim checks linked in round 8b (proofs11): each builds the world where the item's claim is false
(dropout that does nothing, a rate too high or too low, a second dropout that adds nothing) and the item's claim
check must then fail; the project as written must pass."""

import pytest
import torch

from tests.proofs.test_attacks import claim_passes

DROPOUT_ITEM = "viva-49-dropout-rate-0-5-may"
TWO_DROPOUTS_ITEM = "keras-s5-q8-two-dropout-layers"


def _dropout_does_nothing(monkeypatch) -> None:
    """Every nn.Dropout passes its input through in training too (as a layer left in eval mode would)."""
    monkeypatch.setattr(torch.nn.Dropout, "forward", lambda self, inputs: inputs)


def _simplecnn_with_rate(monkeypatch, rate: float) -> None:
    """The project's SimpleCNN with its classifier's Dropout at `rate`: the demo reads the rate from the model."""
    from cifar_core import models

    class Changed(models.SimpleCNN):
        def __init__(self, num_classes: int = models.NUM_CLASSES) -> None:
            super().__init__(num_classes)
            next(layer for layer in self.classifier if isinstance(layer, torch.nn.Dropout)).p = rate

    monkeypatch.setattr(models, "SimpleCNN", Changed)


@pytest.mark.parametrize("item", [DROPOUT_ITEM, TWO_DROPOUTS_ITEM])
def test_the_project_as_written_passes(real_cifar10, item):
    assert claim_passes(item)


@pytest.mark.parametrize("item", [DROPOUT_ITEM, TWO_DROPOUTS_ITEM])
def test_dropout_that_does_nothing_in_training(real_cifar10, monkeypatch, item):
    _dropout_does_nothing(monkeypatch)
    assert not claim_passes(item)


def test_viva_49_a_simplecnn_whose_dropout_is_too_high(real_cifar10, monkeypatch):
    """0.8 (not the declared 0.9): the head stops fitting its training images, most of the gap goes."""
    _simplecnn_with_rate(monkeypatch, 0.8)
    assert not claim_passes(DROPOUT_ITEM)


def test_viva_49_a_simplecnn_whose_dropout_is_weak(real_cifar10, monkeypatch):
    """0.1 is no strong regularisation: the gap narrows by less than 5 points."""
    _simplecnn_with_rate(monkeypatch, 0.1)
    assert not claim_passes(DROPOUT_ITEM)
