"""Augmentation: what RandomCrop and RandomHorizontalFlip do to an image (in get_data_loaders'
pipeline and in cifar_core.augment's batch versions), zero against reflect padding, augmentation
only at training time, what it buys on a small training set and what it costs, and where
normalisation goes relative to it.

Expected images come from a second route: NumPy index arithmetic (shifts, mirrors, reflections)
against the tensors torchvision and cifar_core return."""

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


def _synthetic_batch(count: int, seed: int) -> torch.Tensor:
    """The project's offline images as (N, 3, 32, 32) floats in [0, 1]."""
    return torch.from_numpy(make_synthetic(count, seed=seed).images).permute(0, 3, 1, 2).float() / 255


def _mirror_index(size: int, padding: int) -> np.ndarray:
    """Source index of each padded position under reflect padding: -1 -> 1, size -> size - 2."""
    index = np.abs(np.arange(-padding, size + padding))
    return np.where(index > size - 1, 2 * (size - 1) - index, index)


def _windows(padded: np.ndarray, size: int = 32) -> dict[tuple[int, int], np.ndarray]:
    """Every size x size window of a (C, H, W) array, by its (row, column) offset."""
    rows, cols = padded.shape[1] - size + 1, padded.shape[2] - size + 1
    return {(dy, dx): padded[:, dy : dy + size, dx : dx + size] for dy in range(rows) for dx in range(cols)}


def _match(crop: np.ndarray, windows: dict[tuple[int, int], np.ndarray]) -> tuple[int, int] | None:
    """The offset whose window equals the crop (to float rounding), or None."""
    return next((offset for offset, window in windows.items() if np.abs(window - crop).max() < 1e-4), None)


def _seam_contrast(crop: np.ndarray, dy: int, dx: int, padding: int) -> float:
    """Mean |difference| across the vertical seam where a horizontally shifted crop's border meets the image."""
    rows = slice(max(0, padding - dy), min(32, 32 + padding - dy))  # rows that come from the image
    if dx < padding:  # border on the left, `padding - dx` columns wide
        left = padding - dx
        return float(np.abs(crop[:, rows, left] - crop[:, rows, left - 1]).mean())
    right = 32 - (dx - padding)  # border on the right starts at this column
    return float(np.abs(crop[:, rows, right] - crop[:, rows, right - 1]).mean())


@demo(
    "crop-zero-vs-reflect",
    "RandomCrop padding: zeros vs reflect",
    "cifar_core's random_crop_batch with reflect padding fills a shifted crop's border with the image mirrored about "
    "its edge; with zeros (the default here and in torchvision) the border is black, and where it meets the image "
    "there is an edge far stronger than the image's own, which an edge filter (a conv) responds to and test images never show.",
    Param("padding", 4, 1, 8),
    mistake="leaving padding_mode at its default, zeros, where reflect was meant",
)
def crop_zero_vs_reflect(padding: int, broken: bool = False) -> DemoResult:
    result = DemoResult()
    images = _synthetic_batch(16, seed=3)
    zeros = random_crop_batch(images, padding, "zeros", torch.Generator().manual_seed(0)).numpy()
    reflect = random_crop_batch(images, padding, "zeros" if broken else "reflect", torch.Generator().manual_seed(0)).numpy()
    mirrored_rows = _mirror_index(32, padding)
    shifted = mirrored = 0
    zero_seams, reflect_seams = [], []
    for index, image in enumerate(images.numpy()):
        zero_padded = np.pad(image, ((0, 0), (padding, padding), (padding, padding)))  # NumPy's own zero padding
        dy, dx = _match(zeros[index], _windows(zero_padded)) or (padding, padding)
        if dx == padding:
            continue  # no horizontal shift, so no vertical seam to look at
        shifted += 1
        reflected = image[:, mirrored_rows][:, :, mirrored_rows]  # reflect padding by index arithmetic
        mirrored += bool(np.abs(reflected[:, dy : dy + 32, dx : dx + 32] - reflect[index]).max() < 1e-6)
        zero_seams.append(_seam_contrast(zeros[index], dy, dx, padding))
        reflect_seams.append(_seam_contrast(reflect[index], dy, dx, padding))
    result.check(
        "reflect: each shifted crop's border is the image mirrored about its edge",
        shifted >= 8 and mirrored == shifted,
        mirrored=mirrored,
        shifted_crops=shifted,
    )
    inside = float(np.abs(np.diff(images.numpy(), axis=3)).mean())  # the images' own edges, left-right
    zero_seam, reflect_seam = float(np.mean(zero_seams)), float(np.mean(reflect_seams))
    result.check(
        "zeros: the seam is an edge over 2x the image's own; reflect: no stronger than them",
        zero_seam > 2 * inside and reflect_seam < 1.5 * inside,
        zero_seam=zero_seam,
        reflect_seam=reflect_seam,
        image_edges=inside,
    )
    crop = int(np.argmax([np.abs(z - i).max() for z, i in zip(zeros, images.numpy(), strict=True)]))
    result.images.extend([_as_image(images[crop]), _as_image(torch.from_numpy(zeros[crop])), _as_image(torch.from_numpy(reflect[crop]))])
    result.text.append("Images: original, zero-padded crop, reflect-padded crop (same offset).")
    return result


def _all_shifts(image: np.ndarray, padding: int) -> list[np.ndarray]:
    """Every shift of a (3, 32, 32) image by up to `padding` pixels with a zero border, and each mirrored."""
    padded = np.pad(image, ((0, 0), (padding, padding), (padding, padding)))
    windows = list(_windows(padded).values())
    return windows + [w[:, :, ::-1] for w in windows]


@demo(
    "random-crop-shifts",
    "RandomCrop(32, padding=4): pad to 40x40, cut a random 32x32 window",
    "Padding a 32x32 image by 4 pixels makes it 40x40; a random 32x32 window of that is the image shifted by up to "
    "4 pixels each way (81 possible shifts, black where it moved in). get_data_loaders' training transform does this "
    "and mirrors half the images; cifar_core.augment.random_crop_batch does the same on whole batches.",
    mistake="RandomCrop(32) without padding (crop_padding=0): a 32x32 crop of a 32x32 image never moves",
)
def random_crop_shifts(broken: bool = False) -> DemoResult:
    from cifar_core.config import DataOptions
    from cifar_core.train import get_data_loaders

    result = DemoResult()
    padding = 0 if broken else 4
    options = DataOptions(dataset="synthetic", synthetic_size=60, val_split=0.2)
    loaders = get_data_loaders(16, None, 0, options=options, crop_padding=padding)
    mean, std = torch.tensor(loaders.mean).view(3, 1, 1), torch.tensor(loaders.std).view(3, 1, 1)
    original = loaders.train.dataset.images[0].transpose(2, 0, 1).astype(np.float32) / 255
    candidates = torch.from_numpy(np.stack(_all_shifts(original, 4)))  # the 81 shifts, then their mirrors
    torch.manual_seed(0)
    outputs = [loaders.train.dataset[0][0] * std + mean for _ in range(200)]  # Normalize undone
    distances = [(candidates - output).abs().amax((1, 2, 3)) for output in outputs]
    found, matched = [int(d.argmin()) for d in distances], all(d.min() < 1e-4 for d in distances)
    shifts, mirrored = {i % 81 for i in found}, {i >= 81 for i in found}
    result.check(
        "training transform: each output is the image shifted up to 4 px, maybe mirrored; 40+ of the 81 shifts and both flips occur",
        matched and len(shifts) >= 40 and mirrored == {True, False},
        every_output_a_shift=str(matched),
        distinct_shifts=len(shifts),
        flips_seen=len(mirrored),
    )
    val_image = loaders.val.dataset.images[0].transpose(2, 0, 1).astype(np.float32) / 255
    val_outputs = [loaders.val.dataset[0][0] * std + mean for _ in range(5)]
    result.check(
        "validation transform: the image itself, unshifted, every time",
        all((v - torch.from_numpy(val_image)).abs().max() < 1e-4 for v in val_outputs),
    )
    batch = torch.from_numpy(np.stack([original] * 64))
    crops = random_crop_batch(batch, padding, "zeros", torch.Generator().manual_seed(0))
    windows = _windows(np.pad(original, ((0, 0), (4, 4), (4, 4))))  # 40x40, windows at offsets 0-8
    offsets = [_match(crop, windows) for crop in crops.numpy()]
    rows, cols = {o[0] for o in offsets if o}, {o[1] for o in offsets if o}
    result.check(
        "random_crop_batch: each crop is a 32x32 window of the 40x40 padded image, at offsets 0-8 both ways",
        None not in offsets and rows == cols == set(range(9)),
        row_offsets=len(rows),
        column_offsets=len(cols),
    )
    return result


@demo(
    "horizontal-flip",
    "Horizontal flip mirrors left and right",
    "torchvision's RandomHorizontalFlip reverses the width axis (column j becomes column W-1-j), so an object on the "
    "left ends up on the right, facing the other way; cifar_core's flip_batch does it to a random half of a batch.",
    mistake="flipping dimension 2 (height) of an (N, C, H, W) batch: an upside-down image",
)
def horizontal_flip(broken: bool = False) -> DemoResult:
    from torchvision import transforms

    result = DemoResult()
    images = _synthetic_batch(100, seed=2)
    flip = transforms.RandomHorizontalFlip(p=1.0)
    flipped = flip(images.transpose(2, 3)).transpose(2, 3) if broken else flip(images)
    expected = torch.from_numpy(images.numpy()[..., ::-1].copy())  # columns in reverse order, by NumPy
    result.check(
        "RandomHorizontalFlip: column j becomes column W-1-j",
        torch.equal(flipped, expected),
        max_abs_difference=(flipped - expected).abs().max(),
    )
    halves = flip_batch(images, torch.Generator().manual_seed(0))
    mirrored = sum(bool(torch.equal(h, e)) for h, e in zip(halves, expected, strict=True))
    unchanged = sum(bool(torch.equal(h, i)) for h, i in zip(halves, images, strict=True))
    result.check(
        "flip_batch: about half mirrored, the rest unchanged", 30 < mirrored < 70 and mirrored + unchanged == 100, mirrored=mirrored
    )
    return result


@demo(
    "augmentation-only-in-training",
    "Augmentation at evaluation makes predictions random",
    "get_data_loaders augments (random crop and flip) only in the training transform; through it the same image "
    "gets a different prediction call to call, while the evaluation transform (ToTensor and Normalize) gives the same "
    "prediction every time: evaluation is deterministic because augmentation is left out.",
    mistake="evaluating through the training transform (augmentation left on at inference)",
)
def augmentation_only_in_training(broken: bool = False) -> DemoResult:
    from cifar_core.config import DataOptions
    from cifar_core.models import SimpleCNN
    from cifar_core.train import get_data_loaders

    result = DemoResult()
    loaders = get_data_loaders(16, None, 0, options=DataOptions(dataset="synthetic", synthetic_size=60, val_split=0.2))
    train_set, val_set = loaders.train.dataset, loaders.val.dataset
    evaluate = train_set.transform if broken else val_set.transform
    model = SimpleCNN().eval()
    image = val_set.images[0]
    from PIL import Image

    photo = Image.fromarray(image)
    torch.manual_seed(0)
    with torch.no_grad():
        augmented = torch.cat([model(train_set.transform(photo)[None]) for _ in range(8)])
        evaluated = torch.cat([model(evaluate(photo)[None]) for _ in range(8)])
    spread = (augmented - augmented[0]).abs().amax().item()
    result.check("training transform: the same image's logits change call to call", spread > 1e-3, max_change=spread)
    repeat = (evaluated - evaluated[0]).abs().amax().item()
    result.check("evaluation transform: the same image gets the same logits every call", repeat == 0.0, max_change=repeat)
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
    """A linear classifier, full batch, each image flipped afresh at random every step by
    cifar_core's flip_batch (flip = "none", "horizontal", or "vertical": the same on the height axis)."""
    torch.manual_seed(0)
    coins = torch.Generator().manual_seed(1)
    model = nn.Linear(images[0].numel(), 3)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.2)
    for _ in range(steps):
        batch = images
        if flip == "horizontal":
            batch = flip_batch(images, coins)
        elif flip == "vertical":
            batch = flip_batch(images.transpose(2, 3), coins).transpose(2, 3)
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
    "flips, a model answers the same for an image and its mirror far more often than one trained without them "
    "(on a task whose images vary by left-right mirroring, as photos do).",
    mistake="augmenting with vertical flips where the data varies by left-right mirroring",
    threads=1,
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
    "the overfitting gap shrinks (on a task whose images vary by left-right mirroring, as photos do).",
    mistake="building the augmentation but training on the plain images (the flip never reaches the loader)",
    threads=1,
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


def _cpu_seconds_per_image(pipelines: list, photos: list, passes: int = 5) -> list[float]:
    """Each pipeline's best pass in CPU time of this process, the passes taken in turn.

    CPU time (time.process_time) counts the work itself, not the time other programs held the
    cores; taking turns means a noisy moment touches one pass of each pipeline, not all of one."""
    best = [float("inf")] * len(pipelines)
    for _ in range(passes):
        for index, pipeline in enumerate(pipelines):
            started = time.process_time()
            for photo in photos:
                pipeline(photo)
            best[index] = min(best[index], time.process_time() - started)
    return [seconds / len(photos) for seconds in best]


@demo(
    "augmentation-costs-cpu",
    "The price of augmentation: CPU time per image, and slower fitting",
    "RandomCrop and RandomHorizontalFlip add CPU work to every image of every epoch (time that can starve a fast "
    "GPU), and because the images change each epoch the training loss falls more slowly than on fixed images.",
    mistake="timing the augmented epoch with the augmentation switched off, as if it were free",
    threads=1,
)
def augmentation_costs_cpu(broken: bool = False) -> DemoResult:
    from PIL import Image
    from torchvision import transforms

    result = DemoResult()
    photos = [Image.fromarray(image) for image in make_synthetic(200, seed=0).images]
    to_tensor = [transforms.ToTensor(), transforms.Normalize((0.5,) * 3, (0.25,) * 3)]
    augment = [] if broken else [transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip()]
    plain_s, augmented_s = _cpu_seconds_per_image([transforms.Compose(to_tensor), transforms.Compose(augment + to_tensor)], photos)
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


@demo(
    "normalise-then-augment",
    "Normalise before or after augmenting: the same images for flips, zooms and reflect-filled crops",
    "torchvision's per-channel Normalize commutes with augmentations that only move or interpolate pixels (flips, "
    "zooms, and crops or rotations that fill with reflected content, Keras' default), so normalising once before "
    "augmenting gives the same images as after; only a constant fill (zero padding) or a colour change makes the order matter.",
    mistake="a brightness change (pixels x 1.2) treated like a flip: scaling does not commute with subtracting the mean",
)
def normalise_then_augment(broken: bool = False) -> DemoResult:
    from torchvision import transforms
    from torchvision.transforms import functional as TF

    from cifar_core.data import CIFAR10_MEAN, CIFAR10_STD

    result = DemoResult()
    images = _synthetic_batch(8, seed=1)
    normalise = transforms.Normalize(CIFAR10_MEAN, CIFAR10_STD)
    augmentations = {
        "flip": TF.hflip,
        "zoom in 1.2x": lambda x: TF.resized_crop(x, 3, 3, 26, 26, [32, 32], antialias=False),
        "reflect-padded crop": lambda x: TF.crop(TF.pad(x, 4, padding_mode="reflect"), 3, 1, 32, 32),
    }
    if broken:
        augmentations["brightness x 1.2"] = lambda x: TF.adjust_brightness(x, 1.2)
    gaps = {name: (augment(normalise(images)) - normalise(augment(images))).abs().max().item() for name, augment in augmentations.items()}
    result.check(
        "flip, zoom, reflect-padded crop: normalise-then-augment equals augment-then-normalise",
        max(gaps.values()) < 1e-4,
        **{name.replace(" ", "_"): gap for name, gap in gaps.items()},
    )

    def zero_padded_crop(x: torch.Tensor) -> torch.Tensor:
        return TF.crop(TF.pad(x, 4, fill=0), 3, 1, 32, 32)

    zeros_after, zeros_before = zero_padded_crop(normalise(images)), normalise(zero_padded_crop(images))  # 0 = the mean, or black
    border = (zeros_after[..., :1, :] - zeros_before[..., :1, :]).abs().max().item()
    inside = (zeros_after[..., 4:, 4:] - zeros_before[..., 4:, 4:]).abs().max().item()
    result.check(
        "zero-padded crop: the order changes the padded border only",
        border > 1.0 and inside < 1e-5,
        border_difference=border,
        inside_difference=inside,
    )
    return result
