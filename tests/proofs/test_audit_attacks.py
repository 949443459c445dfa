"""Attacks from the independent audit (round 2) that once passed a claim check: each must now fail it.

The audit's reader broke cifar_core in the ways a learner would and ran the demo unchanged; a claim
check that still passed proved nothing about the code it names."""

import pytest

import cifar_core.augment
from proofs.catalogue import get_demo
from proofs.registry import run
from qa_bank.loader import load_bank

ORIGINAL_MIXUP = cifar_core.augment.mixup_batch


def _partner_label_twice(images, targets, alpha, generator=None):
    mixed, _own, partner, lam = ORIGINAL_MIXUP(images, targets, alpha, generator)
    return mixed, partner, partner, lam  # each image's own label dropped: the audit's attack


def _labels_swapped(images, targets, alpha, generator=None):
    mixed, own, partner, lam = ORIGINAL_MIXUP(images, targets, alpha, generator)
    return mixed, partner, own, lam  # lam weighs the partner's label


def _lam_halved(images, targets, alpha, generator=None):
    mixed, own, partner, lam = ORIGINAL_MIXUP(images, targets, alpha, generator)
    return mixed, own, partner, lam / 2  # the labels mixed with another weight than the images


def _mixup_claim(item_id: str = "viva-21-show-minimal-code-snippet-add"):
    item = load_bank().by_id()[item_id]
    return run(get_demo(item.demo)).named(item.claim_check)


@pytest.mark.parametrize("bug", [_partner_label_twice, _labels_swapped, _lam_halved])
def test_a_mixup_that_mislabels_fails_the_claim_check(monkeypatch, bug):
    import cifar_core.steps
    import proofs.demos.losses

    for module in (cifar_core.steps, proofs.demos.losses):  # the audit patched both: what training_step and the demo call
        monkeypatch.setattr(module, "mixup_batch", bug)
    claim = _mixup_claim()
    assert not claim.passed, claim.measured


def test_the_project_mixup_passes_it():
    claim = _mixup_claim()
    assert claim.passed and abs(claim.measured["step_loss"] - claim.measured["expected_from_pixels"]) < 1e-5
