"""Patch-whitening initialisation: the filters really whiten the data's patches, come in
sign pairs, and stay frozen while the rest of the model trains."""

from dataclasses import replace

import pytest
import torch
from torch import nn

import cifar_core.fast as fast
from cifar_core.config import TrainConfig
from cifar_core.data import DataOptions, load_splits
from cifar_core.models import FastNet, SimpleCNN
from cifar_core.whitening import first_conv, patch_whitening_filters, whiten_first_conv


def correlated_images(count: int = 200, seed: int = 0) -> torch.Tensor:
    """Smooth images whose channels are mixed, so neighbouring pixels and colours correlate."""
    generator = torch.Generator().manual_seed(seed)
    base = torch.randn(count, 3, 8, 8, generator=generator)
    smooth = nn.functional.interpolate(base, size=32, mode="bilinear", align_corners=False)
    mixing = torch.tensor([[1.0, 0.8, 0.6], [0.0, 0.6, 0.5], [0.0, 0.0, 0.3]])
    return torch.einsum("ij,njhw->nihw", mixing, smooth) + 0.05 * torch.randn(count, 3, 32, 32, generator=generator)


def test_positive_filters_give_unit_variance_uncorrelated_outputs():
    images = correlated_images()
    filters = patch_whitening_filters(images, kernel_size=3, out_channels=16, eps=1e-8)
    responses = nn.functional.conv2d(images.double(), filters[0::2].double())  # (N, 8, 30, 30), one per direction
    flat = responses.permute(1, 0, 2, 3).reshape(8, -1)
    covariance = torch.cov(flat)
    assert torch.allclose(covariance, torch.eye(8, dtype=torch.float64), atol=1e-3), covariance
    # The raw patches were far from white: the strongest direction dwarfs the eighth.
    raw = nn.functional.unfold(images, 3).transpose(1, 2).reshape(-1, 27)
    eigenvalues = torch.linalg.eigvalsh(torch.cov(raw.T.double()))
    assert eigenvalues[-1] / eigenvalues[-8] > 10


def test_filters_come_in_sign_pairs_ordered_by_variance():
    images = correlated_images()
    filters = patch_whitening_filters(images, kernel_size=3, out_channels=6, eps=1e-8)
    assert torch.equal(filters[1::2], -filters[0::2])
    # Before scaling, the first direction carries the most variance: its scaled filter is the smallest.
    norms = filters[0::2].flatten(1).norm(dim=1)
    assert norms[0] < norms[1] < norms[2]


def test_whiten_first_conv_freezes_the_filters_through_training():
    cfg = TrainConfig(data=DataOptions(dataset="synthetic", synthetic_size=600), epochs=1, **fast.FAST_RECIPE)
    assert cfg.whiten
    result = fast.train(replace(cfg, batch_size=64))
    conv = first_conv(result.model)
    assert not conv.weight.requires_grad
    # Still exactly the whitening filters of the same sample (same seed): training did not move them.
    device = conv.weight.device  # the same device's eigensolver: eigenvector signs may differ between devices
    fresh = FastNet().to(device)
    splits_images = torch.from_numpy(load_splits(cfg.data).train.images).permute(0, 3, 1, 2).to(device)
    mean = torch.tensor(result.mean, device=device).view(1, 3, 1, 1)
    std = torch.tensor(result.std, device=device).view(1, 3, 1, 1)
    expected = whiten_first_conv(fresh, splits_images.contiguous(), mean, std, torch.Generator().manual_seed(cfg.seed)).weight
    assert torch.allclose(conv.weight, expected)
    # And the rest of the model did learn.
    assert result.report is not None and result.report.accuracy > 0.2


def test_models_without_a_suitable_first_conv_are_refused():
    with pytest.raises(ValueError, match="no convolution"):
        first_conv(nn.Sequential(nn.Flatten(), nn.Linear(3, 2)))
    grouped = nn.Sequential(nn.Conv2d(3, 6, 3, groups=3))
    with pytest.raises(ValueError, match="ungrouped RGB"):
        whiten_first_conv(grouped, torch.zeros(4, 3, 8, 8, dtype=torch.uint8), torch.zeros(1, 3, 1, 1), torch.ones(1, 3, 1, 1))
    with pytest.raises(ValueError, match="at least 2 output channels"):
        patch_whitening_filters(torch.randn(2, 3, 8, 8), 3, 1)


def test_whitening_works_for_the_documents_model_too():
    model = SimpleCNN()
    images = (torch.rand(64, 3, 32, 32) * 255).to(torch.uint8)
    conv = whiten_first_conv(model, images, torch.full((1, 3, 1, 1), 0.5), torch.full((1, 3, 1, 1), 0.25))
    assert conv is model.features[0] and not conv.weight.requires_grad
    assert torch.isfinite(conv.weight).all() and conv.weight.abs().sum() > 0
