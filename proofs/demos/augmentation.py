"""Augmentation: zero vs reflect padding for random crops, horizontal flips, what augmentation
buys on a small training set (invariance, a smaller gap) and what it costs, and where
normalisation goes relative to it."""

import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from cifar_core.augment import flip_batch, random_crop_batch
from cifar_core.data import make_synthetic
from proofs.registry import DemoResult, Param, demo


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


@dataclass(frozen=True)
class _MirroredClasses:
    """A small task whose only nuisance is left-right mirroring: each class is one noisy 12x12
    template, seen as it is or mirrored, at random. Six training images a class, 300 for validation."""

    train_images: torch.Tensor
    train_labels: torch.Tensor
    val_images: torch.Tensor
    val_labels: torch.Tensor

    @classmethod
    def make(cls, seed: int = 0, per_class: int = 6, noise: float = 2.5) -> "_MirroredClasses":
        generator = torch.Generator().manual_seed(seed)
        templates = torch.randn(3, 1, 12, 12, generator=generator)

        def draw(count: int) -> tuple[torch.Tensor, torch.Tensor]:
            labels = torch.arange(3).repeat_interleave(count)
            mirrored = torch.rand(len(labels), generator=generator) < 0.5
            images = torch.where(mirrored[:, None, None, None], templates[labels].flip(3), templates[labels])
            return images + noise * torch.randn(images.shape, generator=generator), labels

        return cls(*draw(per_class), *draw(300))


def _fit_linear(images: torch.Tensor, labels: torch.Tensor, flip: str = "none", steps: int = 150) -> tuple[nn.Module, float]:
    """A linear classifier, full batch, with a fresh random flip of each image every step
    (flip = "none", "horizontal" or "vertical"); returns it and its last training loss."""
    torch.manual_seed(0)
    coins = torch.Generator().manual_seed(1)
    model = nn.Linear(images[0].numel(), 3)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.2)
    for _ in range(steps):
        batch = images
        if flip != "none":
            heads = torch.rand(len(images), generator=coins) < 0.5
            batch = torch.where(heads[:, None, None, None], images.flip(3 if flip == "horizontal" else 2), images)
        loss = nn.functional.cross_entropy(model(batch.flatten(1)), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model, loss.item()


@torch.no_grad()
def _accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    return (model(images.flatten(1)).argmax(1) == labels).float().mean().item()


@demo(
    "augmentation-learns-invariance",
    "Augmentation: new pixels, same label, invariant features",
    "A random crop or flip changes an image's pixels and leaves its label alone; trained with random horizontal "
    "flips, a model answers the same for an image and its mirror far more often than one trained without them.",
    mistake="augmenting with vertical flips where the data varies by left-right mirroring",
)
def augmentation_learns_invariance(broken: bool = False) -> DemoResult:
    from PIL import Image
    from torchvision import transforms

    result = DemoResult()
    photo = Image.fromarray(make_synthetic(1, seed=3).images[0])
    augment = transforms.Compose([transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip(), transforms.PILToTensor()])
    torch.manual_seed(0)
    original = transforms.PILToTensor()(photo)
    changed = sum(not torch.equal(augment(photo), original) for _ in range(20))
    result.check("RandomCrop + RandomHorizontalFlip: new pixel values (the label is not an input)", changed >= 18, changed_of_20=changed)
    task = _MirroredClasses.make()
    agreement = {}
    for flip in ("none", "vertical" if broken else "horizontal"):
        model, _ = _fit_linear(task.train_images, task.train_labels, flip)
        with torch.no_grad():
            same = model(task.val_images.flatten(1)).argmax(1) == model(task.val_images.flip(3).flatten(1)).argmax(1)
        agreement[flip] = same.float().mean().item()
    plain, augmented = agreement["none"], agreement.get("horizontal", agreement.get("vertical"))
    result.check(
        "trained with flips, the model gives an image and its mirror the same class far more often",
        augmented > plain + 0.1,
        agreement_without=plain,
        agreement_with=augmented,
    )
    return result


@demo(
    "augmentation-small-data-gap",
    "On a small training set, augmentation narrows the train-validation gap",
    "With six images a class a model fits the training set perfectly with or without augmentation, but with "
    "random flips (variations of each image it would otherwise memorise) it scores higher on validation: "
    "the overfitting gap shrinks.",
    mistake="building the augmentation but training on the plain images (the flip never reaches the loader)",
)
def augmentation_small_data_gap(broken: bool = False) -> DemoResult:
    result = DemoResult()
    task = _MirroredClasses.make()
    rows = []
    for flip in ("none", "horizontal"):
        model, _ = _fit_linear(task.train_images, task.train_labels, "none" if broken else flip)
        train, val = _accuracy(model, task.train_images, task.train_labels), _accuracy(model, task.val_images, task.val_labels)
        rows.append({"augmentation": flip, "train_acc": round(train, 3), "val_acc": round(val, 3), "gap": round(train - val, 3)})
    plain, augmented = rows
    result.tables.append(rows)
    result.check("18 training images: both runs fit the training set", min(plain["train_acc"], augmented["train_acc"]) >= 0.99)
    result.check(
        "with flips the gap to validation is at least 5 points smaller",
        augmented["gap"] <= plain["gap"] - 0.05,
        gap_without=plain["gap"],
        gap_with=augmented["gap"],
    )
    return result


def _seconds_per_image(pipelines: list, photos: list, passes: int = 5) -> list[float]:
    """Each pipeline's best pass, the passes taken in turn: the CPU cost of the pipelines themselves.

    Taking turns matters on a shared machine: a busy moment then slows one pass of each pipeline,
    instead of every pass of one of them."""
    best = [float("inf")] * len(pipelines)
    for _ in range(passes):
        for index, pipeline in enumerate(pipelines):
            started = time.perf_counter()
            for photo in photos:
                pipeline(photo)
            best[index] = min(best[index], time.perf_counter() - started)
    return [seconds / len(photos) for seconds in best]


@demo(
    "augmentation-costs-cpu",
    "The price of augmentation: CPU time per image, and slower fitting",
    "RandomCrop and RandomHorizontalFlip add CPU work to every image of every epoch (time that can starve a fast "
    "GPU), and because the images change each epoch the training loss falls more slowly than on fixed images.",
    mistake="timing the augmented epoch with the augmentation switched off, as if it were free",
)
def augmentation_costs_cpu(broken: bool = False) -> DemoResult:
    from PIL import Image
    from torchvision import transforms

    result = DemoResult()
    photos = [Image.fromarray(image) for image in make_synthetic(200, seed=0).images]
    to_tensor = [transforms.ToTensor(), transforms.Normalize((0.5,) * 3, (0.25,) * 3)]
    augment = [] if broken else [transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip()]
    plain_s, augmented_s = _seconds_per_image([transforms.Compose(to_tensor), transforms.Compose(augment + to_tensor)], photos)
    result.check(
        "the augmented pipeline costs at least 20% more CPU time per image",
        augmented_s > 1.2 * plain_s,
        plain_us=1e6 * plain_s,
        augmented_us=1e6 * augmented_s,
    )
    task = _MirroredClasses.make()
    _, plain_loss = _fit_linear(task.train_images, task.train_labels, "none")
    _, augmented_loss = _fit_linear(task.train_images, task.train_labels, "none" if broken else "horizontal")
    result.check(
        "after the same 150 steps the training loss is higher on changing images (more epochs to converge)",
        augmented_loss > 1.5 * plain_loss,
        loss_fixed=plain_loss,
        loss_augmented=augmented_loss,
    )
    return result


def _normalise(images: torch.Tensor) -> torch.Tensor:
    mean, std = torch.tensor([0.49, 0.48, 0.45]).view(3, 1, 1), torch.tensor([0.25, 0.24, 0.26]).view(3, 1, 1)
    return (images - mean) / std


def _padded_crop(images: torch.Tensor, mode: str, top: int = 3, left: int = 1) -> torch.Tensor:
    padded = nn.functional.pad(images, (4, 4, 4, 4), mode=mode)
    return padded[..., top : top + 32, left : left + 32]


@demo(
    "normalise-then-augment",
    "Normalise before or after augmenting: the same images for flips and reflect-filled crops",
    "Per-channel normalisation commutes with augmentations that only move pixels (flips, crops, and rotations or "
    "zooms that fill with reflected content, Keras' default), so normalising once before augmenting gives the "
    "same images as after; only a constant fill (zero padding) or a colour change makes the order matter.",
    mistake="a brightness jitter (pixels x 1.2) treated like a flip: scaling does not commute with subtracting the mean",
)
def normalise_then_augment(broken: bool = False) -> DemoResult:
    result = DemoResult()
    images = torch.from_numpy(make_synthetic(8, seed=1).images).permute(0, 3, 1, 2).float() / 255

    def move_pixels(batch: torch.Tensor) -> torch.Tensor:
        return batch * 1.2 if broken else batch.flip(3)

    def gap(first: torch.Tensor, second: torch.Tensor) -> float:
        return (first - second).abs().max().item()

    flip_gap = gap(move_pixels(_normalise(images)), _normalise(move_pixels(images)))
    result.check("flip: normalise-then-flip equals flip-then-normalise", flip_gap < 1e-5, max_difference=flip_gap)
    reflect_gap = gap(_padded_crop(_normalise(images), "reflect"), _normalise(_padded_crop(images, "reflect")))
    result.check("reflect-padded crop: the order does not matter", reflect_gap < 1e-5, max_difference=reflect_gap)
    zeros_after = _padded_crop(_normalise(images), "constant")  # pad value 0 = the mean colour
    zeros_before = _normalise(_padded_crop(images, "constant"))  # pad value 0 = black
    border, inside = gap(zeros_after[..., :1, :], zeros_before[..., :1, :]), gap(zeros_after[..., 4:, 4:], zeros_before[..., 4:, 4:])
    result.check(
        "zero-padded crop: the order changes the padded border only",
        border > 1.0 and inside < 1e-5,
        border_difference=border,
        inside_difference=inside,
    )
    return result
