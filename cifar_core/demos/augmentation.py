"""Augmentation: zero vs reflect padding for random crops, horizontal flips."""

import numpy as np
import torch

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
