"""Attacks on the claim checks linked in round 7 (proofs9): each breaks the code under test the way the item's
answer rules out, and the item's claim check must then fail."""

import dataclasses

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


def test_s7_q4_a_conv4_that_costs_nothing_to_unfreeze(monkeypatch):
    """As if conv4 added no weights and no work: a base whose layer3 is a parameter-free stand-in giving layer4 the
    input it expects, so unfreezing it too costs what conv5 alone costs."""
    import proofs.demos.transfer as transfer

    build = transfer.resnet50_without_top

    def without_conv4(device: str = "cpu") -> nn.Module:
        model = build(device)
        model.layer3 = _Widen(512, 1024)
        return model

    monkeypatch.setattr(transfer, "resnet50_without_top", without_conv4)
    assert not claim_passes("keras-s7-q4-unfreeze-conv5-specifically-conv4-conv5")


class _Widen(nn.Module):
    """Repeat channels to the width layer4 expects and halve the map, with no parameters."""

    def __init__(self, channels: int, width: int) -> None:
        super().__init__()
        self.times = width // channels

    def forward(self, x):
        return x.repeat(1, self.times, 1, 1)[:, :, ::2, ::2]


PRECISION_ITEM = "keras-s8-q2-best-worst-performing-classes"


def test_s8_q2_the_project_as_written_passes(real_cifar10):
    assert claim_passes(PRECISION_ITEM)


def test_s8_q2_metrics_whose_precision_is_the_recall(real_cifar10, monkeypatch):
    """cifar_core.metrics with precision computed over the class's images instead of over its predictions."""
    import cifar_core.metrics

    report = cifar_core.metrics.report_from_logits

    def recall_as_precision(logits, targets, classes):
        computed = report(logits, targets, classes)
        return dataclasses.replace(computed, precision=dict(computed.per_class))

    monkeypatch.setattr(cifar_core.metrics, "report_from_logits", recall_as_precision)
    assert not claim_passes(PRECISION_ITEM)


def test_s8_q2_a_model_whose_confidence_means_nothing(real_cifar10, monkeypatch):
    """A training step whose optimizer never moves: the margins are noise, so withholding the less confident half of a
    class's predictions does not make the rest more precise."""
    import cifar_core.steps

    step = cifar_core.steps.training_step

    def frozen(model, inputs, targets, criterion, optimizer, options=cifar_core.steps.PLAIN_STEP):
        for group in optimizer.param_groups:
            group["lr"] = 0.0
        return step(model, inputs, targets, criterion, optimizer, options)

    monkeypatch.setattr(cifar_core.steps, "training_step", frozen)
    assert not claim_passes(PRECISION_ITEM)
