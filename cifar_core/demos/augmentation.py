"""Augmentation: zero vs reflect padding for random crops, horizontal flips."""

import numpy as np
import torch
from torch import nn

from cifar_core.augment import flip_batch, random_crop_batch
from cifar_core.data import make_synthetic
from cifar_core.demos.registry import DemoResult, Param, demo


def _as_image(chw: torch.Tensor) -> np.ndarray:
    return (chw.permute(1, 2, 0).clamp(0, 1) * 255).to(torch.uint8).numpy()


@demo(
    "crop-zero-vs-reflect",
    "RandomCrop padding: zeros vs reflect",
    "Zero padding pastes black borders into shifted crops; reflect padding fills them with mirrored image content.",
    Param("padding", 4, 1, 8),
    mistake="taking padding_mode='reflect' to be the default (zeros is)",
)
def crop_zero_vs_reflect(padding: int, broken: bool = False) -> DemoResult:
    result = DemoResult()
    image = torch.from_numpy(make_synthetic(1, seed=3).images[0]).permute(2, 0, 1).float()[None] / 255
    image = image.clamp(min=0.05)  # no truly black pixels of its own
    batch = image.repeat(64, 1, 1, 1)
    generator = torch.Generator().manual_seed(0)
    zeros = random_crop_batch(batch, padding, "zeros", generator)
    reflect = random_crop_batch(batch, padding, "zeros" if broken else "reflect", torch.Generator().manual_seed(0))
    black_zero = (zeros.amax(1) == 0).float().mean().item()
    black_reflect = (reflect.amax(1) == 0).float().mean().item()
    result.check("zero padding introduces black pixels", black_zero > 0.01, black_fraction=black_zero)
    result.check("reflect padding introduces none", black_reflect == 0.0, black_fraction=black_reflect)
    shifted = int((zeros.amax(1) == 0).flatten(1).any(1).float().argmax())  # a crop that was shifted
    result.images.extend([_as_image(image[0]), _as_image(zeros[shifted]), _as_image(reflect[shifted])])
    result.text.append("Images: original, zero-padded crop, reflect-padded crop (same offset).")
    return result


@demo(
    "horizontal-flip",
    "Horizontal flip mirrors left and right",
    "A flip reverses the width axis; flipping twice gives the original back.",
    mistake="flipping dimension 2 (height) of an (N, C, H, W) batch: an upside-down image",
)
def horizontal_flip(broken: bool = False) -> DemoResult:
    result = DemoResult()
    images = torch.rand(100, 3, 8, 8)
    generator = torch.Generator().manual_seed(0)
    if broken:  # the same coin flips applied to the height axis
        flipped = flip_batch(images.transpose(2, 3), generator).transpose(2, 3)
    else:
        flipped = flip_batch(images, generator)
    mirrored = [bool(torch.equal(f, i.flip(2))) for f, i in zip(flipped, images, strict=True)]  # (C, H, W): dim 2 is width
    result.check("about half mirrored, the rest unchanged", 30 < sum(mirrored) < 70, mirrored=sum(mirrored))
    result.check("mirror of the mirror is the original", torch.equal(images.flip(3).flip(3), images))
    return result


def _sky_scenes(count: int, generator: torch.Generator) -> torch.Tensor:
    """Images with a bright top (sky) fading to a dark bottom (ground), plus noise: the vertical layout photos share."""
    rows = torch.linspace(1.0, 0.2, 16).view(1, 1, 16, 1)
    return (rows + 0.1 * torch.randn(count, 3, 16, 16, generator=generator)).clamp(0, 1)


@demo(
    "flip-keeps-statistics",
    "Horizontal flips look like real photos, vertical flips do not",
    "A horizontal flip keeps each row's mean brightness (sky stays on top), so flipped images match the test "
    "images' statistics; a vertical flip reverses the brightness profile, making images unlike any test image.",
    mistake="augmenting with vertical flips (dimension H) and calling them horizontal",
)
def flip_keeps_statistics(broken: bool = False) -> DemoResult:
    result = DemoResult()
    generator = torch.Generator().manual_seed(0)
    train, test = _sky_scenes(256, generator), _sky_scenes(256, generator)
    horizontal = train.flip(2 if broken else 3)
    vertical = train.flip(2)

    def profile_gap(images: torch.Tensor) -> float:  # distance between mean row-brightness profiles
        return (images.mean((0, 1, 3)) - test.mean((0, 1, 3))).abs().max().item()

    result.check("horizontal flip: row profile matches the test set", profile_gap(horizontal) < 0.05, gap=profile_gap(horizontal))
    result.check("vertical flip: row profile far from the test set", profile_gap(vertical) > 0.5, gap=profile_gap(vertical))
    return result


class RandomFlipLayer(nn.Module):
    """Keras' RandomFlip as a module: flips half the batch in train mode, the identity in eval mode."""

    def __init__(self, ignore_mode: bool = False) -> None:
        super().__init__()
        self.ignore_mode = ignore_mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training and not self.ignore_mode:
            return x
        coins = torch.rand(x.shape[0], 1, 1, 1, device=x.device) < 0.5
        return torch.where(coins, x.flip(3), x)


@demo(
    "augmentation-only-in-training",
    "Augmentation runs in training only, so predictions are deterministic",
    "An augmentation layer that checks the training flag (PyTorch's module.training, Keras' training=True) changes "
    "images call to call in train mode and passes them through unchanged in eval mode, so evaluation is repeatable.",
    mistake="an augmentation layer that ignores the mode and keeps flipping at evaluation",
)
def augmentation_only_in_training(broken: bool = False) -> DemoResult:
    result = DemoResult()
    layer = RandomFlipLayer(ignore_mode=broken)
    images = torch.rand(64, 3, 8, 8)
    layer.train()
    first, second = layer(images), layer(images)
    result.check("train mode: two calls differ", not torch.equal(first, second))
    layer.eval()
    result.check("eval mode: identity, same every call", torch.equal(layer(images), images) and torch.equal(layer(images), layer(images)))
    return result
