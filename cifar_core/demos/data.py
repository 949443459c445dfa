"""Data: normalisation statistics, un-normalising, collation of NumPy samples, device mismatch."""

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from cifar_core.data import CIFAR10_MEAN, CIFAR10_STD, channel_stats, make_synthetic
from cifar_core.demos.registry import DemoResult, Param, demo


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
