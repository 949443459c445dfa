"""Learning-rate schedules: StepLR, One Cycle, warmup + cosine, and an LR finder."""

import copy
import math

import torch
import torch.nn.functional as F
from torch import nn

from cifar_core.config import TrainConfig
from cifar_core.optim import build_scheduler
from proofs.registry import DemoResult, Param, demo, line_figure


def lr_curve(make_scheduler, steps: int, lr: float = 0.1, scheduler_steps_per_step: int = 1) -> list[float]:
    """The LR at each step; scheduler_steps_per_step > 1 replays an epoch scheduler stepped per batch."""
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=lr)
    scheduler = make_scheduler(optimizer)
    values = []
    for _ in range(steps):
        values.append(optimizer.param_groups[0]["lr"])
        for _ in range(scheduler_steps_per_step):
            optimizer.step()
            scheduler.step()
    return values


def epoch_lrs(cfg: TrainConfig, epochs: int, steps_per_epoch: int = 1) -> list[float]:
    """The LR at the start of each epoch under cifar_core's build_scheduler (stepped per batch or per epoch as it says)."""
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=cfg.lr)
    scheduler, per_batch = build_scheduler(optimizer, cfg, steps_per_epoch)
    values = []
    for _ in range(epochs):
        values.append(optimizer.param_groups[0]["lr"])
        for _ in range(steps_per_epoch):
            optimizer.step()
            if per_batch:
                scheduler.step()
        if not per_batch:
            scheduler.step()
    return values


@demo(
    "steplr-curve",
    "StepLR(step_size=10, gamma=0.1)",
    "cifar_core's default schedule, StepLR(step_size=10, gamma=0.1) stepped once per epoch, multiplies the learning rate "
    "by 0.1 every 10 epochs: lr * 0.1 ** (epoch // 10).",
    Param("epochs", 30, 21, 100),
    mistake="calling scheduler.step() once per batch (here 5 batches an epoch) for an epoch-based StepLR",
)
def steplr_curve(epochs: int, broken: bool = False) -> DemoResult:
    result = DemoResult()
    cfg = TrainConfig(lr=1e-3, epochs=epochs)  # scheduler "step", step_size 10, gamma 0.1: the script's defaults
    make = lambda o: build_scheduler(o, cfg, 5)[0]  # noqa: E731
    curve = lr_curve(make, epochs, lr=cfg.lr, scheduler_steps_per_step=5 if broken else 1)
    expected = [cfg.lr * 0.1 ** (epoch // 10) for epoch in range(epochs)]
    gap = max(abs(a - b) / b for a, b in zip(curve, expected, strict=True))
    result.check("1e-3, then 1e-4 from epoch 10, 1e-5 from epoch 20: lr * 0.1 ** (epoch // 10)", gap < 1e-9, largest_relative_gap=gap)
    result.figures.append(line_figure("StepLR", list(range(epochs)), {"lr": curve}, "epoch", "learning rate"))
    return result


@demo(
    "warmup-then-steplr",
    "Warmup, then StepLR, from cifar_core's build_scheduler",
    "With warmup_epochs=3 build_scheduler ramps the LR linearly from lr/10 (0.01, 0.04, 0.07 for lr 0.1), then hands over "
    "to StepLR: 0.1 for step_size=5 epochs, then 0.01.",
    mistake="no warmup: training starts at the full learning rate",
)
def warmup_then_steplr(broken: bool = False) -> DemoResult:
    result = DemoResult()
    cfg = TrainConfig(lr=0.1, epochs=12, scheduler="step", step_size=5, gamma=0.1, warmup_epochs=0 if broken else 3)
    curve = epoch_lrs(cfg, 12)
    warmup = 3
    expected = [0.1 * (0.1 + 0.9 * e / warmup) if e < warmup else 0.1 * 0.1 ** ((e - warmup) // 5) for e in range(12)]
    gap = max(abs(a - b) for a, b in zip(curve, expected, strict=True))
    result.check(
        "per-epoch LR: 0.01, 0.04, 0.07, then 0.1 for 5 epochs, then 0.01",
        gap < 1e-9,
        first_epochs=", ".join(f"{v:.3g}" for v in curve[:5]),
        largest_gap=gap,
    )
    result.figures.append(line_figure("Warmup then StepLR", list(range(12)), {"lr": curve}, "epoch", "learning rate"))
    return result


@demo(
    "onecycle-curve",
    "One Cycle: up, then down",
    "One Cycle rises to max_lr over pct_start of the run, then anneals far below the start.",
    Param("pct_start", 0.3, 0.05, 0.9),
    mistake="total_steps twice the steps actually run, so the cycle is cut off before it anneals",
)
def onecycle_curve(pct_start: float, broken: bool = False) -> DemoResult:
    result = DemoResult()
    steps = 200
    planned = 2 * steps if broken else steps
    curve = lr_curve(lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=planned, pct_start=pct_start), steps)
    peak = max(range(steps), key=curve.__getitem__)
    result.check(
        "rises to max_lr at pct_start, then anneals far below the start",
        abs(peak - pct_start * steps) <= 2 and math.isclose(curve[peak], 0.1, rel_tol=1e-3) and curve[-1] < curve[0] / 100,
        peak_step=peak, start=curve[0], peak=curve[peak], end=curve[-1],
    )  # fmt: skip
    result.figures.append(line_figure("One Cycle", list(range(steps)), {"lr": curve}, "step", "learning rate"))
    return result


@demo(
    "warmup-cosine-curve",
    "Linear warmup then cosine",
    "The LR ramps up linearly for the warmup steps, then follows a half cosine to ~0.",
    Param("warmup", 10, 1, 50),
    mistake="the warmup's total_iters set to the whole run, so the cosine never starts",
)
def warmup_cosine_curve(warmup: int, broken: bool = False) -> DemoResult:
    result = DemoResult()
    steps = 100

    def make(optimizer):
        ramp = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.1, total_iters=steps if broken else warmup)
        cosine = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps - warmup)
        return torch.optim.lr_scheduler.SequentialLR(optimizer, [ramp, cosine], milestones=[steps if broken else warmup])

    curve = lr_curve(make, steps)
    rising = all(a < b for a, b in zip(curve[:warmup], curve[1 : warmup + 1], strict=True))
    result.check("rises during warmup", rising)
    result.check("peaks at the base LR then decays towards 0", math.isclose(max(curve), 0.1) and curve[-1] < 0.01, end=curve[-1])
    result.figures.append(line_figure("Warmup + cosine", list(range(steps)), {"lr": curve}, "step", "learning rate"))
    return result


def _peak_loss(warmup_steps: int, lr: float, steps: int = 60) -> tuple[float, float]:
    """(largest and final training loss) of an MLP trained with Adam at `lr`, with a linear warmup over warmup_steps."""
    torch.manual_seed(0)
    x = torch.randn(256, 32) * 3
    y = (x[:, :4].sum(1) > 0).long()
    model = nn.Sequential(nn.Linear(32, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 2))
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    ramp = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.01, total_iters=max(warmup_steps, 1)) if warmup_steps else None
    worst = 0.0
    for _ in range(steps):
        index = torch.randint(0, 256, (64,))
        loss = F.cross_entropy(model(x[index]), y[index])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if ramp is not None:
            ramp.step()
        worst = max(worst, loss.item())
    return worst, loss.item()


@demo(
    "warmup-prevents-early-blowup",
    "A high learning rate blows up early; a warmup avoids it",
    "Started at a high learning rate, Adam's first large steps throw the loss far up (hundreds of times its start); "
    "ramping the same rate in over 20 steps keeps the early loss down.",
    Param("lr", 0.1, 0.03, 0.3),
    mistake="no warmup: the run starts at the full rate",
    threads=1,
)
def warmup_prevents_early_blowup(lr: float, broken: bool = False) -> DemoResult:
    result = DemoResult()
    constant, warmed = _peak_loss(0, lr), _peak_loss(0 if broken else 20, lr)
    result.check(
        "the warmed-up run's worst loss is at least 5x below the constant run's",
        warmed[0] * 5 < constant[0],
        worst_constant=constant[0], worst_with_warmup=warmed[0], final_constant=constant[1], final_with_warmup=warmed[1],
    )  # fmt: skip
    return result


def _train_at(model: nn.Module, lr: float, x: torch.Tensor, y: torch.Tensor, steps: int = 100) -> float:
    """Final full-data loss of a copy of `model` trained `steps` SGD steps at a constant lr."""
    torch.manual_seed(1)
    model = copy.deepcopy(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    for _ in range(steps):
        index = torch.randint(0, len(x), (64,))
        optimizer.zero_grad()
        F.cross_entropy(model(x[index]), y[index]).backward()
        optimizer.step()
    with torch.no_grad():
        loss = F.cross_entropy(model(x), y).item()
    return loss if math.isfinite(loss) else 1e9


@demo(
    "lr-finder",
    "Learning-rate finder",
    "Sweeping the LR up exponentially, the loss first falls then explodes; the LR a tenth of the one at the loss minimum "
    "trains well from the start, while the LR where the loss explodes does not.",
    mistake="picking the LR where the loss explodes",
    threads=1,
)
def lr_finder(broken: bool = False) -> DemoResult:
    result = DemoResult()
    torch.manual_seed(0)
    x = torch.randn(512, 20)
    y = (x[:, :2].sum(1) > 0).long()
    model = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 2))
    initial = copy.deepcopy(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-4)
    lrs, losses = [], []
    for step in range(80):
        lr = 1e-4 * (10 ** (step / 16))  # 1e-4 to 1e1
        for group in optimizer.param_groups:
            group["lr"] = lr
        index = torch.randint(0, 512, (64,))
        loss = F.cross_entropy(model(x[index]), y[index])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        lrs.append(lr)
        losses.append(min(loss.item(), 10.0))
        if not math.isfinite(loss.item()) or loss.item() > 4 * losses[0]:
            break
    best, exploded = lrs[min(range(len(losses)), key=losses.__getitem__)], lrs[-1]
    suggestion = exploded if broken else best / 10
    with torch.no_grad():
        start = F.cross_entropy(initial(x), y).item()
    suggested_loss, exploded_loss = _train_at(initial, suggestion, x, y), _train_at(initial, exploded, x, y)
    result.check(
        "retrained from the start, the suggested LR ends below 40% of the starting loss, the exploding LR does not",
        suggested_loss < 0.4 * start and not exploded_loss < 0.4 * start,
        suggested_lr=suggestion, final_loss=suggested_loss, exploding_lr=exploded, final_loss_at_exploding_lr=exploded_loss, start=start,
    )  # fmt: skip
    result.check("the sweep's loss fell, then exploded", min(losses) < losses[0] * 0.7 and len(losses) < 80, last_lr=exploded)
    result.figures.append(line_figure("LR finder", lrs, {"loss": losses}, "learning rate", "loss", log_x=True))
    return result
