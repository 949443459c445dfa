"""Data: normalisation statistics, un-normalising, collation of NumPy samples, devices."""

import contextlib
import io
import tempfile

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from cifar_core.data import CIFAR10_MEAN, CIFAR10_STD, make_synthetic
from proofs.registry import DemoResult, demo


@demo(
    "normalisation-stats",
    "Normalisation statistics computed from the training images",
    "get_data_loaders normalises with the per-channel mean and std of the training split over [0, 1] (CIFAR-10's "
    "quoted figures on CIFAR-10, computed by channel_stats on any other data), so training pixels come out centred "
    "at 0 with unit spread in every channel.",
    mistake="copying ImageNet's statistics (0.485, 0.456, 0.406; 0.229, 0.224, 0.225) for a dataset with other colours",
)
def normalisation_stats(broken: bool = False) -> DemoResult:
    from torchvision import transforms

    from cifar_core.config import DataOptions
    from cifar_core.train import get_data_loaders

    result = DemoResult()
    loaders = get_data_loaders(64, None, 0, options=DataOptions(dataset="synthetic", synthetic_size=500, val_split=0.2))
    train_images = loaders.train.dataset.images  # uint8 (N, 32, 32, 3): the split the statistics must come from
    normalize = loaders.val.dataset.transform.transforms[-1]
    if broken:
        normalize = transforms.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
    own_mean = train_images.mean((0, 1, 2)) / 255  # NumPy over every pixel of the split, a second route
    gap = max(abs(a - b) for a, b in zip(normalize.mean, own_mean, strict=True))
    pixels = normalize(torch.from_numpy(train_images).permute(0, 3, 1, 2).float() / 255)
    centre, spread = pixels.mean((0, 2, 3)), pixels.std((0, 2, 3))
    result.check(
        "the loader's Normalize uses the training split's own statistics: its pixels come out at mean 0, std 1 per channel",
        gap < 1e-6 and centre.abs().max() < 1e-3 and (spread - 1).abs().max() < 1e-3,
        largest_mean_gap=gap,
        channel_means=str([round(v, 4) for v in centre.tolist()]),
        channel_stds=str([round(v, 4) for v in spread.tolist()]),
    )
    result.check(
        "CIFAR-10's figures, used on real CIFAR-10", CIFAR10_MEAN == (0.4914, 0.4822, 0.4465), mean=str(CIFAR10_MEAN), std=str(CIFAR10_STD)
    )
    result.text.append(
        "On real CIFAR-10 load_splits uses the quoted figures; tests/cifar_core/test_data.py recomputes them with "
        "channel_stats from the training images wherever the dataset is present."
    )
    return result


@demo(
    "standardise-per-channel",
    "Standardising each input channel makes the loss surface round",
    "With one input in [0, 255] and another in [0, 10], the least-squares loss is a long thin valley (its Hessian's "
    "condition number is in the tens of thousands) and gradient descent at the largest stable rate crawls along it; "
    "after (x - mean) / std per channel the valley is round (condition number about 1) and the same descent converges in a few steps.",
    mistake="dividing every channel by 255 instead of standardising each with its own mean and std",
    threads=1,
)
def standardise_per_channel(broken: bool = False) -> DemoResult:
    result = DemoResult()
    generator = torch.Generator().manual_seed(0)
    raw = torch.rand(1000, 2, generator=generator) * torch.tensor([255.0, 10.0])  # "red" in 0-255, "green" in 0-10
    target = raw @ torch.tensor([0.01, 0.5]) + 0.1 * torch.randn(1000, generator=generator)
    scaled = raw / 255 if broken else (raw - raw.mean(0)) / raw.std(0)

    def condition_and_descent(x: torch.Tensor) -> tuple[float, float]:
        """The MSE Hessian's condition number (eigvalsh), and how far 100 steps of SGD at 1/lambda_max get."""
        with_bias = torch.cat([x, torch.ones(len(x), 1)], 1).double()
        eigenvalues = torch.linalg.eigvalsh(2 * with_bias.T @ with_bias / len(x))
        torch.manual_seed(0)
        model = nn.Linear(2, 1)
        optimizer = torch.optim.SGD(model.parameters(), lr=1 / eigenvalues[-1].item())
        losses = []
        for _ in range(100):
            optimizer.zero_grad()
            loss = nn.functional.mse_loss(model(x)[:, 0], target)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        best = torch.linalg.lstsq(with_bias, target.double()[:, None]).solution  # the minimum, by least squares
        floor = nn.functional.mse_loss((with_bias @ best)[:, 0].float(), target).item()
        return (eigenvalues[-1] / eigenvalues[0]).item(), (losses[-1] - floor) / (losses[0] - floor)

    raw_condition, raw_left = condition_and_descent(raw)
    scaled_condition, scaled_left = condition_and_descent(scaled)
    result.check(
        "standardised: condition number under 3 and 100 descent steps leave under 0.01% of the excess loss; raw: over 1%",
        scaled_condition < 3 and scaled_left < 1e-4 and raw_left > 0.01,
        condition_raw=raw_condition,
        condition_scaled=scaled_condition,
        excess_left_raw=raw_left,
        excess_left_scaled=scaled_left,
    )
    return result


def unnormalise(x: torch.Tensor, mean: tuple[float, ...], std: tuple[float, ...], swapped: bool = False) -> torch.Tensor:
    """Invert (x - mean) / std for display: x * std + mean (swapped: the x * mean + std slip)."""
    if swapped:
        mean, std = std, mean
    return x * torch.tensor(std).view(-1, 1, 1) + torch.tensor(mean).view(-1, 1, 1)


@demo(
    "unnormalise-for-display",
    "Un-normalising for display",
    "The tensors get_data_loaders feeds the model have negative values and shifted colours; multiplying by std and "
    "adding mean gives back the decoded image, pixel for pixel.",
    mistake="swapping mean and std: x * mean + std",
)
def unnormalise_for_display(broken: bool = False) -> DemoResult:
    from cifar_core.config import DataOptions
    from cifar_core.train import get_data_loaders

    result = DemoResult()
    loaders = get_data_loaders(16, None, 0, options=DataOptions(dataset="synthetic", synthetic_size=60, val_split=0.2))
    normalised, _ = loaders.val.dataset[0]  # exactly what the model sees
    decoded = torch.from_numpy(loaders.val.dataset.images[0]).permute(2, 0, 1)  # uint8, as on disk
    result.check(
        "the model's input leaves [0, 1]",
        normalised.min().item() < 0 and normalised.max().item() > 1,
        min=normalised.min(),
        max=normalised.max(),
    )
    shown = (unnormalise(normalised, loaders.mean, loaders.std, swapped=broken) * 255).round().clamp(0, 255).to(torch.uint8)
    differing = (shown != decoded).float().mean().item()
    result.check("x * std + mean gives back the decoded image, every pixel", differing == 0.0, pixels_differing=differing)
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


def _other_device() -> str:
    """CUDA when present; otherwise "meta", a device with no data that every torch build has, so the
    CPU-only machine still meets a second device and the same device checks."""
    return "cuda" if torch.cuda.is_available() else "meta"


def _error_line(step) -> str:
    """The first line of the error `step()` raises, or "" when it runs."""
    try:
        step()
    except (RuntimeError, NotImplementedError, ValueError) as error:
        return str(error).splitlines()[0][:160]
    return ""


@demo(
    "device-mismatch-error",
    "The batch and its labels must follow the model to its device",
    "model.to(device) moves only the model: a CPU input batch then fails in the forward pass, and CPU labels fail "
    "in the loss; the step runs once both the inputs and the targets are moved, as cifar_core's train_epoch does "
    "(on a machine without a GPU the other device is torch's 'meta' device, so the messages differ from CUDA's).",
    mistake="moving the input batch but forgetting the target labels",
)
def device_mismatch_error(broken: bool = False) -> DemoResult:
    result = DemoResult()
    device = _other_device()
    torch.manual_seed(0)
    model = nn.Linear(4, 3).to(device)
    inputs, targets = torch.randn(5, 4), torch.randint(0, 3, (5,))  # as a DataLoader yields them: on the CPU

    def step(x: torch.Tensor, y: torch.Tensor) -> None:
        nn.functional.cross_entropy(model(x), y).backward()

    input_error = _error_line(lambda: step(inputs, targets.to(device)))
    target_error = _error_line(lambda: step(inputs.to(device), targets))
    result.check("inputs left on the CPU: the forward pass raises", bool(input_error), device=device, error=input_error or "no error")
    result.check("targets left on the CPU: the loss raises", bool(target_error), error=target_error or "no error")
    moved_targets = targets if broken else targets.to(device)
    both_error = _error_line(lambda: step(inputs.to(device), moved_targets))
    result.check("inputs and targets both moved: the step runs", both_error == "", error=both_error or "no error")
    return result


@demo(
    "model-starts-on-cpu",
    "A new model starts on the CPU",
    "PyTorch creates every parameter and buffer on the CPU, so inputs on the GPU meet CPU weights and the forward "
    "pass fails; model.to(device) moves them all and the same inputs run (cifar_core's SimpleCNN; on a machine "
    "without a GPU the other device is torch's 'meta' device).",
    mistake="moving the inputs to the device but never calling model.to(device)",
)
def model_starts_on_cpu(broken: bool = False) -> DemoResult:
    from cifar_core.models import SimpleCNN

    result = DemoResult()
    device = _other_device()
    model = SimpleCNN()
    tensors = list(model.parameters()) + list(model.buffers())
    result.check("a new model: every parameter and buffer on the CPU", all(t.device.type == "cpu" for t in tensors), tensors=len(tensors))
    inputs = torch.randn(2, 3, 32, 32, device=device)
    before = _error_line(lambda: model(inputs))
    result.check("inputs on the device meet CPU weights: the forward pass raises", bool(before), device=device, error=before or "no error")
    if not broken:
        model.to(device)
    on_device = all(t.device.type == device for t in list(model.parameters()) + list(model.buffers()))
    after = _error_line(lambda: model(inputs))
    result.check(
        "after model.to(device): every parameter and buffer there, and the forward pass runs",
        on_device and after == "",
        error=after or "no error",
    )
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
    threads=1,
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


@demo(
    "held-out-uses-train-statistics",
    "Held-out images are normalised with the training statistics",
    "get_data_loaders computes the mean and std once, on the training split, and normalises the validation images "
    "with those same figures, never with statistics of the held-out images themselves; normalising a held-out split "
    "separately is right as long as it applies the training split's transformation.",
    mistake="recomputing the statistics on the validation split for its own Normalize",
)
def held_out_uses_train_statistics(broken: bool = False) -> DemoResult:
    from torchvision import transforms

    from cifar_core.config import DataOptions
    from cifar_core.train import get_data_loaders

    result = DemoResult()
    loaders = get_data_loaders(64, None, 0, options=DataOptions(dataset="synthetic", synthetic_size=400, val_split=0.2))
    train_mean = loaders.train.dataset.images.mean((0, 1, 2)) / 255  # NumPy, over the training split's pixels
    val_images = loaders.val.dataset.images
    val_mean, val_std = val_images.mean((0, 1, 2)) / 255, val_images.std((0, 1, 2)) / 255
    normalize = loaders.val.dataset.transform.transforms[-1]
    if broken:
        normalize = transforms.Normalize(tuple(val_mean), tuple(val_std))
    to_train = max(abs(a - b) for a, b in zip(normalize.mean, train_mean, strict=True))
    to_own = max(abs(a - b) for a, b in zip(normalize.mean, val_mean, strict=True))
    result.check(
        "the validation Normalize carries the training split's mean, not the validation split's own",
        to_train < 1e-6 and to_own > 1e-4,
        gap_to_training_mean=to_train,
        gap_to_validation_mean=to_own,
    )
    return result


@contextlib.contextmanager
def _no_gpu():
    """torch reports no CUDA and no Apple GPU for a while: a laptop, as far as device checks can tell."""
    cuda, mps = torch.cuda.is_available, torch.backends.mps.is_available
    torch.cuda.is_available = torch.backends.mps.is_available = lambda: False
    try:
        yield
    finally:
        torch.cuda.is_available, torch.backends.mps.is_available = cuda, mps


@demo(
    "device-fallback",
    "Check for a GPU before using it: resolve_device('auto')",
    "On a machine without a GPU an unguarded .cuda() raises; cifar_core's resolve_device('auto') asks "
    "torch.cuda.is_available() (then Apple's MPS) and falls back to the CPU, where a training step, and main() "
    "from start to end, run: the same script runs on a laptop and on a GPU server.",
    mistake="hard-coding device='cuda' instead of checking torch.cuda.is_available()",
)
def device_fallback(broken: bool = False) -> DemoResult:
    from cifar_core.device import resolve_device

    result = DemoResult()
    really_no_gpu = not torch.cuda.is_available()
    unguarded = _error_line(lambda: torch.zeros(1).cuda()) if really_no_gpu else "(a GPU is present here)"
    with _no_gpu():
        chosen = _error_line(lambda: resolve_device("cuda" if broken else "auto")) or str(resolve_device("cuda" if broken else "auto"))
        runs = chosen == "cpu" and not _error_line(lambda: nn.Linear(4, 2).to(chosen)(torch.randn(3, 4)).sum().backward())
    result.check(
        "no GPU: an unguarded .cuda() raises, while resolve_device picks the CPU and a step runs there",
        (bool(unguarded) or not really_no_gpu) and runs,
        unguarded_cuda=unguarded or "no error",
        resolve_device=chosen,
    )
    with _no_gpu(), tempfile.TemporaryDirectory() as directory:
        summary, error = _train_quietly(directory, "cuda" if broken else "auto")
    result.check(
        "no GPU: main(device='auto') trains on the CPU to the last epoch",
        summary is not None and summary.epochs_run == 2 and summary.stop_reason == "completed",
        outcome=error or (summary.stop_reason if summary else "no run"),
    )
    return result


def _train_quietly(directory: str, device: str) -> tuple[object, str]:
    """cifar_core.train.main for 2 epochs on 60 generated images: (summary or None, the error it raised or "")."""
    from cifar_core import train as script
    from cifar_core.config import DataOptions, TrainConfig

    cfg = TrainConfig(
        data=DataOptions(dataset="synthetic", synthetic_size=60),
        epochs=2,
        batch_size=32,
        num_workers=0,
        device=device,
        checkpoint_dir=directory,
    )
    plot = script.plot_curves
    script.plot_curves = lambda history, out_dir: None  # matplotlib is not what this demo is about
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            return script.main(cfg), ""
    except ValueError as error:
        return None, str(error).splitlines()[0]
    finally:
        script.plot_curves = plot
