"""Grad-CAM (Selvaraju et al., 2017): which regions of an image a class score depends on."""

from __future__ import annotations

import torch
from torch import nn


def grad_cam(model: nn.Module, features: nn.Module, image: torch.Tensor, target: int) -> torch.Tensor:
    """The Grad-CAM heatmap of `features` (a layer of `model`) for class `target`, scaled to [0, 1].

    Each feature map is weighted by its spatially averaged gradient of the class score, the maps
    are summed, and the ReLU keeps only evidence *for* the class: regions that lower the score
    would otherwise show up as strongly as those that raise it.

    Args:
        model: the classifier, in eval mode (BatchNorm and dropout as at test time).
        features: the layer whose output maps are weighted, usually the last conv.
        image: one normalised image, (1, C, H, W).
        target: the class whose score is explained.

    Returns:
        (h, w) heatmap at the resolution of `features`' output.
    """
    stored = {}
    hook = features.register_forward_hook(lambda _module, _inputs, output: stored.update(maps=output))
    score = model(image)[0, target]
    hook.remove()
    (grads,) = torch.autograd.grad(score, stored["maps"])
    weights = grads.mean((2, 3), keepdim=True)  # (1, C, 1, 1): one weight per feature map
    cam = torch.relu((weights * stored["maps"]).sum(1))[0]  # (h, w)
    return cam / cam.max().clamp(min=1e-12)
