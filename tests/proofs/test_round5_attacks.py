"""Attacks on round 5's claim checks: the cited code broken the way a learner might break it, the demo
run unchanged; each attack must fail the item's claim check, and the project as written must pass it."""

import pytest
import torch

import cifar_core.data
import cifar_core.train
from proofs.catalogue import get_demo
from proofs.registry import run
from qa_bank.loader import load_bank


def _claim(item_id: str):
    item = load_bank().by_id()[item_id]
    outcome = run(get_demo(item.demo))
    assert outcome.error is None and not outcome.skipped, outcome.skipped
    return outcome.named(item.claim_check)


NORMALISATION = "viva-04-normalization-values-applied-cifar-10"


def test_the_project_s_normalisation_figures_pass(real_cifar10):
    assert _claim(NORMALISATION).passed


@pytest.mark.parametrize(
    ("mean", "std"),
    [
        (cifar_core.data.CIFAR10_MEAN, (0.2023, 0.1994, 0.2010)),  # the mean of per-image stds, copied by many repositories
        (cifar_core.data.CIFAR10_STD, cifar_core.data.CIFAR10_MEAN),  # mean and std swapped
        ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),  # the "map to [-1, 1]" figures
    ],
)
def test_other_figures_in_cifar_core_fail_the_normalisation_check(real_cifar10, monkeypatch, mean, std):
    monkeypatch.setattr(cifar_core.data, "CIFAR10_MEAN", mean)
    monkeypatch.setattr(cifar_core.data, "CIFAR10_STD", std)
    claim = _claim(NORMALISATION)
    assert not claim.passed, claim.measured


def test_a_loader_that_flips_top_bottom_fails_the_flip_check(real_cifar10, monkeypatch):
    import torchvision.transforms

    item = "keras-s4-q2-horizontal-flip-but-vertical-flip"
    assert _claim(item).passed
    monkeypatch.setattr(torchvision.transforms, "RandomHorizontalFlip", torchvision.transforms.RandomVerticalFlip)
    claim = _claim(item)
    assert not claim.passed and "RandomVerticalFlip" in claim.measured["augmentation"], claim.measured


def test_an_export_of_another_model_fails_the_onnx_check(monkeypatch, tmp_path):
    from cifar_core.models import SimpleCNN

    item = "viva-46-export-model-onnx-inference"
    original = cifar_core.train.export_onnx

    def exports_a_fresh_model(model, device, path):  # e.g. a model rebuilt before loading the trained weights
        torch.manual_seed(1)
        return original(SimpleCNN(), device, path)

    monkeypatch.setattr(cifar_core.train, "export_onnx", exports_a_fresh_model)
    claim = _claim(item)
    assert not claim.passed and claim.measured["largest_logit_gap"] > 1e-3, claim.measured
