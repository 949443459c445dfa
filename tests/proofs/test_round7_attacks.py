"""Attacks on the claim checks linked in round 7 (proofs9): each breaks the code under test the way the item's
answer rules out, and the item's claim check must then fail."""

import pytest
from torch import nn

import proofs.demos.keras3 as keras3
from cifar_core import models
from tests.proofs.test_attacks import claim_passes

pytest.importorskip("keras", reason="requirements.txt installs keras; the keras3 demos skip without it")

IDLE_ITEM = "keras-s5-q1-use-resnet50-cifar-10"


def test_s5_q1_a_cifar_network_whose_last_stage_works_on_one_pixel(monkeypatch):
    """ResNet9 with a 4x4 max pool before its last residual block: those convs meet only padding outside their centre,
    as ResNet50's conv5 does at 32 pixels, and the CIFAR network no longer uses all its weights."""

    class PooledToOnePixel(models.ResNet9):
        def __init__(self) -> None:
            super().__init__()
            layers = list(self.net)
            self.net = nn.Sequential(*layers[:5], nn.MaxPool2d(4), *layers[5:])

    monkeypatch.setattr(models, "ResNet9", PooledToOnePixel)
    assert not claim_passes(IDLE_ITEM)


def test_s5_q1_taps_taken_for_idle_that_meet_data(monkeypatch):
    """The forward route checks the gradient route: if the centre taps of conv2-conv4's 3x3 kernels (which all get
    gradient) were counted as idle too, the count only grows, but redrawing them moves the outputs and the check fails."""
    dead_taps = keras3._dead_taps

    def with_centres(kernel_grad):
        taps = dead_taps(kernel_grad)
        if taps.shape == (3, 3) and not taps.any():
            taps[1, 1] = True
        return taps

    monkeypatch.setattr(keras3, "_dead_taps", with_centres)
    assert not claim_passes(IDLE_ITEM)
