"""Augmentation on whole batches of tensors (on any device), and mixup."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def random_crop_batch(images: torch.Tensor, padding: int, mode: str, generator: torch.Generator | None = None) -> torch.Tensor:
    """Pad each image by `padding` pixels and cut a random 32x32 window: one offset per image.

    images: (B, C, H, W). `mode` is "zeros" (black border) or "reflect" (mirrored pixels).
    """
    if padding == 0:
        return images
    batch, channels, height, width = images.shape
    padded = F.pad(images, (padding,) * 4, mode="constant" if mode == "zeros" else "reflect")
    offsets = torch.randint(0, 2 * padding + 1, (2, batch), generator=generator, device="cpu").to(images.device)
    rows = offsets[0, :, None] + torch.arange(height, device=images.device)  # (B, H)
    cols = offsets[1, :, None] + torch.arange(width, device=images.device)  # (B, W)
    batch_index = torch.arange(batch, device=images.device)[:, None, None, None]
    channel_index = torch.arange(channels, device=images.device)[None, :, None, None]
    return padded[batch_index, channel_index, rows[:, None, :, None], cols[:, None, None, :]]


def flip_batch(images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Mirror a random half of the batch left-right."""
    mask = torch.rand(images.shape[0], generator=generator, device="cpu").lt(0.5).to(images.device)
    return torch.where(mask[:, None, None, None], images.flip(3), images)


def mixup_batch(
    images: torch.Tensor, targets: torch.Tensor, alpha: float, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, float]:
    """Mix each image with a shuffled partner: returns (mixed, targets_a, targets_b, lambda).

    The loss is lam * CE(out, targets_a) + (1 - lam) * CE(out, targets_b).
    """
    lam = float(torch.distributions.Beta(alpha, alpha).sample()) if generator is None else _beta(alpha, generator)
    order = torch.randperm(images.shape[0], generator=generator, device="cpu").to(images.device)
    mixed = lam * images + (1 - lam) * images[order]
    return mixed, targets, targets[order], lam


def _beta(alpha: float, generator: torch.Generator) -> float:
    """Beta(alpha, alpha) from seeded uniforms by Johnk's method (torch.distributions takes no generator)."""
    while True:
        u, v = torch.rand(2, generator=generator).tolist()
        x, y = u ** (1 / alpha), v ** (1 / alpha)
        if 0 < x + y <= 1:
            return x / (x + y)


def normalize_batch(images_uint8: torch.Tensor, mean: torch.Tensor, std: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """uint8 (B, C, H, W) in 0-255 to normalised floats: (x / 255 - mean) / std per channel."""
    return (images_uint8.to(dtype) / 255.0 - mean) / std
