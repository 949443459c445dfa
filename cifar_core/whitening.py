"""Patch-whitening initialisation of a model's first convolution (the trick behind airbench).

The first layer's filters are set to the principal directions of the training images' k x k
patches, scaled by 1/sqrt(eigenvalue), each with its negation so a ReLU keeps both signs, and
then frozen. The next layer sees decorrelated, equal-variance inputs from the first step, which
is what makes a one-minute budget on a CPU reach a better accuracy: no steps are spent learning
edge and colour detectors that the data's own statistics already give.
"""

from __future__ import annotations

import torch
from torch import nn

WHITENING_SAMPLE = 2000  # images whose patches estimate the covariance (enough for a 27x27 matrix)
WHITENING_EPS = 1e-2  # added to the eigenvalues so near-zero directions are not blown up


def patch_whitening_filters(images: torch.Tensor, kernel_size: int, out_channels: int, eps: float = WHITENING_EPS) -> torch.Tensor:
    """(out_channels, C, k, k) filters from normalised float images (N, C, H, W).

    Filter 2i is the i-th principal direction of the patches over sqrt(eigenvalue + eps), and
    filter 2i+1 its negation; directions are taken by decreasing variance.
    """
    if out_channels < 2:
        raise ValueError(f"whitening needs a first convolution with at least 2 output channels, not {out_channels}")
    channels = images.shape[1]
    dims = channels * kernel_size * kernel_size
    total = torch.zeros(dims, dtype=torch.float64, device=images.device)
    outer = torch.zeros(dims, dims, dtype=torch.float64, device=images.device)
    count = 0
    for chunk in images.split(250):  # chunks keep the unfolded patches to tens of MB
        patches = nn.functional.unfold(chunk.float(), kernel_size).transpose(1, 2).reshape(-1, dims).double()
        total += patches.sum(dim=0)
        outer += patches.T @ patches
        count += len(patches)
    mean = total / count
    covariance = outer / count - torch.outer(mean, mean)
    eigenvalues, eigenvectors = torch.linalg.eigh(covariance)  # ascending
    eigenvalues, eigenvectors = eigenvalues.flip(0), eigenvectors.flip(1)
    pairs = min((out_channels + 1) // 2, dims)
    directions = eigenvectors[:, :pairs].T / torch.sqrt(eigenvalues[:pairs, None].clamp_min(0) + eps)
    signed = torch.stack([directions, -directions], dim=1).reshape(2 * pairs, dims)
    if len(signed) < out_channels:  # more channels than patch dimensions: repeat the strongest ones
        signed = signed.repeat((out_channels + len(signed) - 1) // len(signed), 1)
    return signed[:out_channels].reshape(out_channels, channels, kernel_size, kernel_size).float()


def first_conv(model: nn.Module) -> nn.Conv2d:
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            return module
    raise ValueError(f"{type(model).__name__} has no convolution to whiten")


def whiten_first_conv(
    model: nn.Module,
    images_uint8: torch.Tensor,
    mean: torch.Tensor,
    std: torch.Tensor,
    generator: torch.Generator | None = None,
    sample: int = WHITENING_SAMPLE,
    eps: float = WHITENING_EPS,
) -> nn.Conv2d:
    """Set the first convolution's filters from a random sample of uint8 (N, C, H, W) training
    images and freeze them (requires_grad False, so the optimizer leaves them out)."""
    conv = first_conv(model)
    if conv.groups != 1 or conv.in_channels != images_uint8.shape[1]:
        raise ValueError(
            f"the first convolution takes {conv.in_channels} channels in {conv.groups} groups; whitening needs an ungrouped RGB conv"
        )
    pick = torch.randperm(len(images_uint8), generator=generator)[:sample].to(images_uint8.device)
    images = (images_uint8[pick].float() / 255.0 - mean) / std
    filters = patch_whitening_filters(images, conv.kernel_size[0], conv.out_channels, eps)
    with torch.no_grad():
        conv.weight.copy_(filters.to(conv.weight.device, conv.weight.dtype))
    conv.weight.requires_grad_(False)
    return conv
