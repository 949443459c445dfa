"""Data: normalisation statistics, un-normalising, collation of NumPy samples, device mismatch."""

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from cifar_core.data import CIFAR10_MEAN, CIFAR10_STD, channel_stats, make_synthetic
from proofs.registry import DemoResult, Param, demo


@demo(
    "normalisation-stats",
    "Normalisation statistics computed from data",
    "Per-channel mean and std over [0, 1] are computed from the training images; normalising with them gives mean 0 and std 1.",
    Param("images", 2000, 100, 20000),
    mistake="computing the statistics on 0-255 pixels and applying them to [0, 1] tensors",
)
def normalisation_stats(images: int, broken: bool = False) -> DemoResult:
    result = DemoResult()
    data = make_synthetic(images, seed=0).images
    mean, std = channel_stats(data)
    pixels = torch.from_numpy(data).float() / 255
    if broken:
        mean, std = tuple(m * 255 for m in mean), tuple(s * 255 for s in std)
    normalised = (pixels - torch.tensor(mean)) / torch.tensor(std)
    result.check(
        "normalised mean ~0 and std ~1 per channel",
        normalised.mean((0, 1, 2)).abs().max() < 1e-3 and (normalised.std((0, 1, 2)) - 1).abs().max() < 1e-3,
    )
    rounded_mean, rounded_std = tuple(round(m, 4) for m in mean), tuple(round(v, 4) for v in std)
    result.tables.append(
        [
            {"statistic": "mean", "computed": str(rounded_mean), "CIFAR-10 quoted": str(CIFAR10_MEAN)},
            {"statistic": "std", "computed": str(rounded_std), "CIFAR-10 quoted": str(CIFAR10_STD)},
        ]
    )
    result.text.append("On the real CIFAR-10 training set the same function gives the quoted figures (see tests/cifar_core/test_data.py).")
    return result


def unnormalise(x: torch.Tensor, mean: tuple[float, ...], std: tuple[float, ...], swapped: bool = False) -> torch.Tensor:
    """Invert (x - mean) / std for display: x * std + mean (swapped: the x * mean + std slip)."""
    if swapped:
        mean, std = std, mean
    return x * torch.tensor(std).view(-1, 1, 1) + torch.tensor(mean).view(-1, 1, 1)


@demo(
    "unnormalise-for-display",
    "Un-normalising for display",
    "x * std + mean recovers the [0, 1] image that normalisation turned into negative, odd-coloured values.",
    mistake="swapping mean and std: x * mean + std",
)
def unnormalise_for_display(broken: bool = False) -> DemoResult:
    result = DemoResult()
    image = torch.rand(3, 32, 32)
    normalised = (image - torch.tensor(CIFAR10_MEAN).view(3, 1, 1)) / torch.tensor(CIFAR10_STD).view(3, 1, 1)
    result.check("normalised values leave [0, 1]", normalised.min().item() < 0 and normalised.max().item() > 1)
    gap = (unnormalise(normalised, CIFAR10_MEAN, CIFAR10_STD, swapped=broken) - image).abs().max().item()
    result.check("un-normalised image equals the original", gap < 1e-5, max_abs_difference=gap)
    return result


class _NumpyDataset(Dataset):
    def __init__(self, as_tensor: bool) -> None:
        self.images, self.labels, self.as_tensor = (
            np.random.default_rng(0).random((64, 3, 8, 8), dtype=np.float32),
            np.arange(64) % 10,
            as_tensor,
        )

    def __len__(self) -> int:
        return 64

    def __getitem__(self, index):
        image = self.images[index]
        return (torch.from_numpy(image) if self.as_tensor else image), int(self.labels[index])


@demo(
    "collate-numpy-samples",
    "The default collate turns NumPy samples into tensors",
    "A Dataset returning NumPy arrays batches to the same tensors as one returning tensors (corrects the fundamentals item 14).",
    mistake="a collate_fn that stacks with NumPy, which hands the model arrays instead of tensors",
)
def collate_numpy_samples(broken: bool = False) -> DemoResult:
    result = DemoResult()
    numpy_collate = (lambda batch: (np.stack([b[0] for b in batch]), np.array([b[1] for b in batch]))) if broken else None
    numpy_batch = next(iter(DataLoader(_NumpyDataset(False), batch_size=16, collate_fn=numpy_collate)))
    tensor_batch = next(iter(DataLoader(_NumpyDataset(True), batch_size=16)))
    result.check(
        "NumPy samples arrive as a torch.Tensor batch", isinstance(numpy_batch[0], torch.Tensor), type=type(numpy_batch[0]).__name__
    )
    result.check(
        "identical to the tensor Dataset's batch",
        all(isinstance(part, torch.Tensor) for part in numpy_batch)
        and torch.equal(numpy_batch[0], tensor_batch[0])
        and torch.equal(numpy_batch[1], tensor_batch[1]),
    )
    return result


@demo(
    "device-mismatch-error",
    "Inputs on another device than the model",
    "Moving the model does not move the batch: a CPU batch into a model on another device raises a device error.",
    mistake="leaving the model on the CPU, as if model.to(device) were optional",
)
def device_mismatch_error(broken: bool = False) -> DemoResult:
    result = DemoResult()
    device = "cuda" if torch.cuda.is_available() else "meta"  # meta: a device with no data, present everywhere
    model = nn.Linear(4, 2).to("cpu" if broken else device)
    try:
        model(torch.randn(3, 4))
        message = ""
    except (RuntimeError, NotImplementedError) as error:
        message = str(error).splitlines()[0]
    result.check(
        "the forward pass raised a device error", "device" in message.lower() or "meta" in message.lower(), error=message or "no error"
    )
    out = model(torch.randn(3, 4, device=device)) if not broken else model(torch.randn(3, 4))
    result.check("moving the batch too fixes it", out.device.type == device)
    return result


@demo(
    "pixel-range-to-tensor",
    "Raw pixels are uint8 0-255; ToTensor gives float32 in [0, 1]",
    "A decoded CIFAR-10 image is uint8 with values 0-255; torchvision's ToTensor (or dividing by 255) turns it "
    "into float32 in [0, 1], channels first.",
    mistake="converting with .float() alone, which keeps the 0-255 scale",
)
def pixel_range_to_tensor(broken: bool = False) -> DemoResult:
    from PIL import Image
    from torchvision.transforms import functional as TF

    result = DemoResult()
    raw = make_synthetic(4, seed=1).images  # (N, 32, 32, 3) uint8, as decoded PNGs are
    result.check("raw pixels: uint8 spanning 0-255", raw.dtype == np.uint8 and raw.max() > 200, dtype=str(raw.dtype), max=int(raw.max()))
    image = Image.fromarray(raw[0])
    tensor = torch.from_numpy(raw[0]).permute(2, 0, 1).float() if broken else TF.to_tensor(image)
    result.check(
        "after ToTensor: float32 in [0, 1], shape (3, 32, 32)",
        tensor.dtype == torch.float32 and tensor.min().item() >= 0 and tensor.max().item() <= 1 and tuple(tensor.shape) == (3, 32, 32),
        max=tensor.max(),
    )
    return result


@demo(
    "unnormalised-input-gradients",
    "Skipping normalisation makes the first layer's gradients 255 times larger",
    "With 0-255 inputs the first layer's weight gradient is 255 times that of the same images in [0, 1], so a "
    "learning rate that trains on [0, 1] diverges on raw pixels.",
    mistake="dividing by 255 in both runs (comparing normalised with normalised)",
)
def unnormalised_input_gradients(broken: bool = False) -> DemoResult:
    result = DemoResult()
    images, labels = torch.rand(128, 3 * 8 * 8), torch.randint(0, 10, (128,))
    raw = images if broken else images * 255

    def first_layer_grad(x: torch.Tensor) -> float:
        torch.manual_seed(0)
        layer = nn.Linear(3 * 8 * 8, 10)
        nn.functional.cross_entropy(layer(x), labels).backward()
        return layer.weight.grad.norm().item()

    ratio = first_layer_grad(raw) / first_layer_grad(images)
    result.check("raw-pixel gradient over 50x larger", ratio > 50, ratio=ratio)

    def final_loss(x: torch.Tensor) -> float:
        torch.manual_seed(0)
        layer = nn.Linear(3 * 8 * 8, 10)
        optimizer = torch.optim.SGD(layer.parameters(), lr=0.5)
        for _ in range(30):
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(layer(x), labels)
            loss.backward()
            optimizer.step()
        return loss.item()

    scaled, unit = final_loss(raw), final_loss(images)
    result.check(
        "same LR: [0, 1] trains, raw pixels blow up the loss",
        unit < 2.4 and (scaled > 10 * unit or not np.isfinite(scaled)),
        unit_range=unit,
        raw_pixels=scaled,
    )
    return result


def numpy_shuffled_run(seed_numpy: bool, seed: int = 42) -> tuple[list[int], torch.Tensor]:
    """A shuffle drawn with NumPy and an initial weight drawn with torch, after seeding torch (and maybe NumPy)."""
    torch.manual_seed(seed)
    if seed_numpy:
        np.random.seed(seed)
    order = np.random.permutation(10).tolist()
    return order, torch.randn(3)


@demo(
    "seed-numpy-and-torch",
    "Seed every generator the run draws from",
    "torch.manual_seed fixes torch's draws (initial weights, dropout) but not NumPy's (a NumPy shuffle or "
    "augmentation): only seeding both reproduces the whole run.",
    mistake="seeding torch only",
)
def seed_numpy_and_torch(broken: bool = False) -> DemoResult:
    result = DemoResult()
    first_order, first_weights = numpy_shuffled_run(seed_numpy=not broken)
    np.random.seed(None)  # something else in the program moved NumPy's generator
    second_order, second_weights = numpy_shuffled_run(seed_numpy=not broken)
    result.check("torch draws repeat", torch.equal(first_weights, second_weights))
    result.check("NumPy shuffle repeats", first_order == second_order, first=str(first_order), second=str(second_order))
    unseeded = [numpy_shuffled_run(seed_numpy=False)[0] for _ in range(3)]
    result.text.append(f"Seeding torch only, three runs shuffle as {unseeded}.")
    return result
