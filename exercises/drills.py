"""Generated drills: question families whose numbers are drawn from a seed and whose answers
PyTorch computes (a layer's output, a scheduler's LR, a tensor's bytes), so every answer is
right by construction and there is no end to them. The same (family, seed) is the same drill."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Drill:
    family: str
    seed: int
    question: str
    answer: float
    tolerance: float  # absolute: |given - answer| <= tolerance is right
    working: str  # how the answer comes about, shown after answering

    def to_dict(self) -> dict[str, object]:
        return {"family": self.family, "seed": self.seed, "question": self.question, "answer": self.answer, "tolerance": self.tolerance,
                "working": self.working}  # fmt: skip


@dataclass(frozen=True)
class DrillFamily:
    id: str
    title: str
    make: Callable[[random.Random, int], Drill]

    def to_dict(self) -> dict[str, str]:
        return {"id": self.id, "title": self.title}


@dataclass(frozen=True)
class DrillGrade:
    correct: bool
    given: float | None
    message: str


FAMILIES: dict[str, DrillFamily] = {}


def family(id: str, title: str):
    def register(make: Callable[[random.Random, int], Drill]):
        FAMILIES[id] = DrillFamily(id, title, make)
        return make

    return register


class UnknownFamily(KeyError):
    def __str__(self) -> str:
        return f"no drill family '{self.args[0]}' (python -m exercises drills lists them)"


def make_drill(family_id: str, seed: int) -> Drill:
    if family_id not in FAMILIES:
        raise UnknownFamily(family_id)
    return FAMILIES[family_id].make(random.Random(f"{family_id}:{seed}"), seed)


_NUMBER = re.compile(r"[-+]?(?:\d[\d,_]*\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def grade_drill(drill: Drill, text: str) -> DrillGrade:
    """Right when the first number in `text` is within the drill's tolerance of the answer."""
    match = _NUMBER.search(text.replace(" ", ""))
    if match is None:
        return DrillGrade(False, None, "type a number")
    given = float(match.group().replace(",", "").replace("_", ""))
    right = abs(given - drill.answer) <= drill.tolerance
    verdict = "Right" if right else f"Not quite: the answer is {_show(drill.answer)}"
    return DrillGrade(right, given, f"{verdict} (tolerance ±{_show(drill.tolerance)}). {drill.working}")


def _show(value: float) -> str:
    return f"{value:.6g}" if value != int(value) else f"{int(value):,}"


def _lr_after(make_scheduler, base_lr: float, steps: int) -> float:
    """The LR a torch scheduler gives after `steps` calls of scheduler.step()."""
    import torch

    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=base_lr)
    scheduler = make_scheduler(optimizer)
    for _ in range(steps):
        optimizer.step()
        scheduler.step()
    return optimizer.param_groups[0]["lr"]


# ---------------------------------------------------------------- shapes and sizes


@family("conv-output", "Conv2d output size")
def _conv_output(rng: random.Random, seed: int) -> Drill:
    import torch
    from torch import nn

    size, kernel, stride = rng.choice([28, 32, 33, 64, 96, 224]), rng.choice([1, 3, 5, 7]), rng.choice([1, 2, 2, 3])
    padding = rng.choice([0, kernel // 2])
    out = nn.Conv2d(3, 8, kernel, stride, padding)(torch.zeros(1, 3, size, size)).shape[-1]
    question = (
        f"A {size}x{size} input goes through Conv2d(kernel_size={kernel}, stride={stride}, padding={padding}). What is the output height?"
    )
    return Drill("conv-output", seed, question, out, 0, f"floor(({size} + 2*{padding} - {kernel}) / {stride}) + 1 = {out}.")


@family("pool-output", "MaxPool2d output size")
def _pool_output(rng: random.Random, seed: int) -> Drill:
    import torch
    from torch import nn

    size, kernel = rng.choice([7, 8, 15, 16, 31, 32, 56]), rng.choice([2, 3])
    stride = rng.choice([2, kernel])
    ceil = rng.random() < 0.3
    out = nn.MaxPool2d(kernel, stride, ceil_mode=ceil)(torch.zeros(1, 1, size, size)).shape[-1]
    rounding = "ceil" if ceil else "floor"
    question = f"What height does MaxPool2d(kernel_size={kernel}, stride={stride}, ceil_mode={ceil}) give for a {size}x{size} input?"
    return Drill("pool-output", seed, question, out, 0, f"{rounding}(({size} - {kernel}) / {stride}) + 1 = {out}.")


@family("conv-parameters", "Parameters of a Conv2d")
def _conv_parameters(rng: random.Random, seed: int) -> Drill:
    from torch import nn

    in_ch, out_ch, kernel, bias = (
        rng.choice([1, 3, 16, 32, 64]),
        rng.choice([16, 32, 64, 128, 256]),
        rng.choice([1, 3, 5]),
        rng.random() < 0.5,
    )
    count = sum(p.numel() for p in nn.Conv2d(in_ch, out_ch, kernel, bias=bias).parameters())
    question = f"How many learnable parameters has Conv2d({in_ch}, {out_ch}, kernel_size={kernel}, bias={bias})?"
    bias_part = f" + {out_ch} biases" if bias else " (no bias)"
    return Drill("conv-parameters", seed, question, count, 0, f"{out_ch} * {in_ch} * {kernel} * {kernel}{bias_part} = {count:,}.")


@family("block-parameters", "Parameters of a conv-BN-ReLU block")
def _block_parameters(rng: random.Random, seed: int) -> Drill:
    from torch import nn

    in_ch, out_ch = rng.choice([3, 32, 64, 128]), rng.choice([32, 64, 128, 256, 512])
    block = nn.Sequential(nn.Conv2d(in_ch, out_ch, 3, padding=1, bias=False), nn.BatchNorm2d(out_ch), nn.ReLU())
    count = sum(p.numel() for p in block.parameters())
    question = f"How many learnable parameters has Conv2d({in_ch}, {out_ch}, 3, padding=1, bias=False) -> BatchNorm2d({out_ch}) -> ReLU?"
    return Drill("block-parameters", seed, question, count, 0,
                 f"conv {out_ch}*{in_ch}*9 = {out_ch * in_ch * 9:,}, BatchNorm's gamma and beta 2*{out_ch}; running statistics are buffers, ReLU has none.")  # fmt: skip


@family("receptive-field", "Receptive field of a conv stack")
def _receptive_field(rng: random.Random, seed: int) -> Drill:
    import torch
    from torch import nn

    layers = [(rng.choice([3, 3, 5]), rng.choice([1, 1, 2])) for _ in range(rng.randint(2, 4))]
    stack = nn.Sequential(*[nn.Conv2d(1, 1, k, s, bias=False) for k, s in layers])
    for conv in stack:
        nn.init.ones_(conv.weight)
    image = torch.zeros(1, 1, 64, 64, requires_grad=True)
    out = stack(image)
    out[0, 0, out.shape[2] // 2, out.shape[3] // 2].backward()  # the input pixels one output pixel depends on
    rows = image.grad[0, 0].abs().sum(1).nonzero()
    field = int(rows.max() - rows.min() + 1)
    described = ", ".join(f"{k}x{k} stride {s}" for k, s in layers)
    question = f"Convolutions {described}, in that order (no padding). How many input pixels wide is one output pixel's receptive field?"
    return Drill("receptive-field", seed, question, field, 0,
                 f"r = 1 + sum((k - 1) * product of earlier strides) = {field}; the gradient of one output pixel reaches exactly that many input columns.")  # fmt: skip


# ---------------------------------------------------------------- learning-rate schedules


@family("step-lr", "StepLR's learning rate")
def _step_lr(rng: random.Random, seed: int) -> Drill:
    import torch

    base, step_size, gamma, epoch = rng.choice([0.1, 0.05, 0.01]), rng.choice([5, 10, 30]), rng.choice([0.1, 0.5]), rng.randint(0, 60)
    lr = _lr_after(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size, gamma), base, epoch)
    question = (
        f"StepLR(step_size={step_size}, gamma={gamma}) on lr={base}, stepped once per epoch: what is the LR during epoch {epoch} (from 0)?"
    )
    return Drill("step-lr", seed, question, lr, abs(lr) * 1e-3, f"{base} * {gamma}^({epoch} // {step_size}) = {lr:.6g}.")


@family("cosine-lr", "CosineAnnealingLR's learning rate")
def _cosine_lr(rng: random.Random, seed: int) -> Drill:
    import torch

    base, total = rng.choice([0.1, 0.2, 1.0]), rng.choice([10, 20, 50, 100])
    step = rng.randint(0, total)
    lr = _lr_after(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=total), base, step)
    question = f"CosineAnnealingLR(T_max={total}, eta_min=0) on lr={base}: what is the LR after {step} scheduler steps?"
    return Drill("cosine-lr", seed, question, lr, max(abs(lr) * 1e-3, 1e-6), f"{base} * (1 + cos(pi * {step} / {total})) / 2 = {lr:.6g}.")


@family("one-cycle-lr", "OneCycleLR's learning rate")
def _one_cycle_lr(rng: random.Random, seed: int) -> Drill:
    import torch

    max_lr, total = rng.choice([0.01, 0.1, 0.4]), rng.choice([100, 200, 1000])
    step = rng.randint(0, total - 1)
    lr = _lr_after(lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=max_lr, total_steps=total), max_lr, step)
    question = (f"OneCycleLR(max_lr={max_lr}, total_steps={total}) with its defaults (pct_start=0.3, div_factor=25, "
                f"final_div_factor=1e4, cosine): what is the LR after {step} steps?")  # fmt: skip
    return Drill("one-cycle-lr", seed, question, lr, max(abs(lr) * 1e-3, 1e-9),
                 f"cosine up from {max_lr}/25 to {max_lr} over the first 30% of steps, then cosine down to {max_lr}/25/1e4: {lr:.6g}.")  # fmt: skip


@family("warmup-lr", "Linear warmup's learning rate")
def _warmup_lr(rng: random.Random, seed: int) -> Drill:
    import torch

    base, warmup, start = rng.choice([0.1, 0.4, 1.0]), rng.choice([5, 10, 100]), rng.choice([0.1, 0.01])
    step = rng.randint(0, warmup)
    lr = _lr_after(lambda o: torch.optim.lr_scheduler.LinearLR(o, start_factor=start, total_iters=warmup), base, step)
    question = f"LinearLR(start_factor={start}, total_iters={warmup}) on lr={base}: what is the LR after {step} steps?"
    return Drill("warmup-lr", seed, question, lr, abs(lr) * 1e-3, f"{base} * ({start} + (1 - {start}) * {step} / {warmup}) = {lr:.6g}.")


# ---------------------------------------------------------------- memory, losses, BatchNorm


@family("tensor-memory", "Memory of a tensor")
def _tensor_memory(rng: random.Random, seed: int) -> Drill:
    import torch

    dtype = rng.choice([torch.float32, torch.float16, torch.bfloat16, torch.uint8, torch.int64])
    shape = (rng.choice([1, 32, 128, 256]), 3, rng.choice([32, 64, 224]), rng.choice([32, 64, 224]))
    tensor = torch.empty(shape, dtype=dtype)
    size = tensor.untyped_storage().nbytes()
    name = str(dtype).replace("torch.", "")
    question = f"How many bytes does a {name} tensor of shape {shape} occupy?"
    return Drill("tensor-memory", seed, question, size, 0, f"{tensor.numel():,} elements * {tensor.element_size()} bytes = {size:,} bytes.")


def _small_logits(rng: random.Random) -> list[float]:
    return [float(rng.randint(-3, 4)) for _ in range(rng.choice([3, 4]))]


@family("softmax", "A softmax probability")
def _softmax(rng: random.Random, seed: int) -> Drill:
    import torch

    logits = _small_logits(rng)
    k = rng.randrange(len(logits))
    p = torch.tensor(logits).softmax(0)[k].item()
    question = f"Logits {logits}. What probability does softmax give class {k} (to 3 decimals)?"
    return Drill("softmax", seed, question, round(p, 6), 0.0015, f"exp({logits[k]:g}) / sum(exp(logits)) = {p:.4f}.")


@family("cross-entropy", "A cross-entropy loss value")
def _cross_entropy(rng: random.Random, seed: int) -> Drill:
    import torch

    logits = _small_logits(rng)
    label = rng.randrange(len(logits))
    loss = torch.nn.functional.cross_entropy(torch.tensor([logits]), torch.tensor([label])).item()
    question = f"Logits {logits}, true class {label}. What is the cross-entropy loss (natural log, to 3 decimals)?"
    return Drill(
        "cross-entropy",
        seed,
        question,
        round(loss, 6),
        0.0015,
        f"-log softmax(logits)[{label}] = logsumexp(logits) - {logits[label]:g} = {loss:.4f}.",
    )


@family("batchnorm-output", "BatchNorm's output in training")
def _batchnorm_output(rng: random.Random, seed: int) -> Drill:
    import torch

    values = [float(rng.randint(-4, 8)) for _ in range(4)]
    while len(set(values)) == 1:
        values[0] += 1
    i = rng.randrange(4)
    bn = torch.nn.BatchNorm1d(1)  # gamma 1, beta 0, eps 1e-5, train mode
    out = bn(torch.tensor(values).view(4, 1))[i, 0].item()
    question = f"A batch of 4 values of one feature, {values}, goes through a fresh BatchNorm1d(1) in training mode. What is output {i} (to 2 decimals)?"
    return Drill("batchnorm-output", seed, question, round(out, 6), 0.006,
                 f"(x - batch mean) / sqrt(biased batch variance + 1e-5), with gamma 1 and beta 0: {out:.3f}.")  # fmt: skip


# ---------------------------------------------------------------- batches and epochs


@family("effective-batch", "Effective batch size with accumulation")
def _effective_batch(rng: random.Random, seed: int) -> Drill:
    import torch
    from torch.utils.data import DataLoader

    batch, accumulation, devices = rng.choice([16, 32, 64, 128]), rng.choice([1, 2, 4, 8]), rng.choice([1, 2, 4, 8])
    loader = DataLoader(torch.arange(batch * accumulation * 3), batch_size=batch)
    seen_per_update, since_update = [], 0
    for step, samples in enumerate(loader, start=1):  # one process's loop; every device runs the same
        since_update += len(samples)
        if step % accumulation == 0:
            seen_per_update.append(since_update * devices)  # DDP averages the devices' gradients per update
            since_update = 0
    effective = seen_per_update[0]
    question = f"Batch size {batch} per GPU, gradients accumulated over {accumulation} steps, on {devices} GPUs with DDP: how many samples per optimizer update?"
    return Drill("effective-batch", seed, question, effective, 0, f"{batch} * {accumulation} * {devices} = {effective}.")


@family("steps-per-epoch", "Steps per epoch")
def _steps_per_epoch(rng: random.Random, seed: int) -> Drill:
    from torch.utils.data import DataLoader

    images, batch, drop_last = (
        rng.choice([45_000, 50_000, 10_000, 5_000, 1_000]),
        rng.choice([32, 64, 100, 128, 256, 512]),
        rng.random() < 0.5,
    )
    steps = len(DataLoader(range(images), batch_size=batch, drop_last=drop_last))
    rounding = "floor" if drop_last else "ceil"
    question = (
        f"{images:,} training images, batch size {batch}, drop_last={drop_last}: how many optimizer steps per epoch (len(train_loader))?"
    )
    return Drill("steps-per-epoch", seed, question, steps, 0, f"{rounding}({images} / {batch}) = {steps}.")


@family("images-per-epoch", "Images seen per epoch")
def _images_per_epoch(rng: random.Random, seed: int) -> Drill:
    from torch.utils.data import DataLoader

    images, batch = rng.choice([45_000, 50_000, 10_000, 5_000]), rng.choice([64, 128, 256, 384, 512, 1024])
    seen = sum(len(b) for b in DataLoader(range(images), batch_size=batch, drop_last=True))
    question = f"{images:,} training images, batch size {batch}, drop_last=True: how many images does the model see in one epoch?"
    return Drill(
        "images-per-epoch",
        seed,
        question,
        seen,
        0,
        f"floor({images} / {batch}) * {batch} = {seen:,}; the last {images - seen} are dropped.",
    )
