"""Learning-rate schedules: StepLR, One Cycle, warmup + cosine, and an LR finder."""

import math

import torch
from torch import nn

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


@demo(
    "steplr-curve",
    "StepLR(step_size=10, gamma=0.1)",
    "The learning rate is multiplied by 0.1 every 10 epochs.",
    Param("epochs", 30, 21, 100),
    mistake="calling scheduler.step() once per batch (here 5 batches an epoch) for an epoch-based StepLR",
)
def steplr_curve(epochs: int, broken: bool = False) -> DemoResult:
    result = DemoResult()
    make = lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=10, gamma=0.1)  # noqa: E731
    curve = lr_curve(make, epochs, lr=1e-3, scheduler_steps_per_step=5 if broken else 1)
    result.check(
        "1e-3, then 1e-4 from epoch 10, 1e-5 from epoch 20",
        math.isclose(curve[9], 1e-3) and math.isclose(curve[10], 1e-4) and math.isclose(curve[20], 1e-5),
    )
    result.figures.append(line_figure("StepLR", list(range(epochs)), {"lr": curve}, "epoch", "learning rate"))
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
    result.check("peak at pct_start", abs(peak - pct_start * steps) <= 2, peak_step=peak)
    result.check("ends far below the start", curve[-1] < curve[0] / 100, start=curve[0], end=curve[-1])
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


@demo(
    "lr-finder",
    "Learning-rate finder",
    "Sweeping the LR up exponentially, the loss first falls then explodes; a good LR sits well below the explosion.",
    mistake="computing each new LR without writing it into optimizer.param_groups, so the sweep never moves",
)
def lr_finder(broken: bool = False) -> DemoResult:
    result = DemoResult()
    torch.manual_seed(0)
    x = torch.randn(512, 20)
    y = (x[:, :2].sum(1) > 0).long()
    model = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-4)
    lrs, losses = [], []
    for step in range(80):
        lr = 1e-4 * (10 ** (step / 16))  # 1e-4 to 1e1
        for group in optimizer.param_groups if not broken else ():
            group["lr"] = lr
        index = torch.randint(0, 512, (64,))
        loss = nn.functional.cross_entropy(model(x[index]), y[index])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        lrs.append(lr)
        losses.append(min(loss.item(), 10.0))
        if not math.isfinite(loss.item()) or loss.item() > 4 * losses[0]:
            break
    best = lrs[min(range(len(losses)), key=losses.__getitem__)]
    suggestion = best / 10
    result.check("the loss fell below its start", min(losses) < losses[0] * 0.7, start=losses[0], minimum=min(losses))
    result.check("the sweep found a divergence point", losses[-1] > min(losses) * 2 or len(losses) < 80, last_lr=lrs[-1])
    result.text.append(f"Suggested LR: {suggestion:.3g} (a tenth of the LR at the loss minimum, {best:.3g}).")
    result.figures.append(line_figure("LR finder", lrs, {"loss": losses}, "learning rate", "loss", log_x=True))
    return result
