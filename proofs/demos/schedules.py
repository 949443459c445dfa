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


def _bn_mlp_run(lr: float, schedule: str, steps: int = 60, warmup: int = 20) -> tuple[list[float], list[float], float]:
    """(loss of each step, gradient norm each step saw, final full-data loss in eval mode) of a BatchNorm MLP trained by SGD
    (momentum 0.9) on a 2-class task, batches of 64. schedule: "constant"; "cosine" (from lr down to 0 over the run);
    "warmup-cosine" (linear from 1% of lr over `warmup` steps, then that cosine); "onecycle" (OneCycleLR, max_lr=lr)."""
    torch.manual_seed(0)
    x = torch.randn(256, 32) * 3
    y = (x[:, :4].sum(1) > 0).long()
    layers: list[nn.Module] = []
    for width_in in (32, 128, 128):
        layers += [nn.Linear(width_in, 128), nn.BatchNorm1d(128), nn.ReLU()]
    model = nn.Sequential(*layers, nn.Linear(128, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    scheduler = _schedule(optimizer, schedule, steps, warmup)
    losses, norms = [], []
    for _ in range(steps):
        index = torch.randint(0, 256, (64,))
        loss = F.cross_entropy(model(x[index]), y[index])
        optimizer.zero_grad()
        loss.backward()
        norms.append(nn.utils.get_total_norm([p.grad for p in model.parameters()]).item())
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        losses.append(loss.item())
    with torch.no_grad():
        return losses, norms, F.cross_entropy(model.eval()(x), y).item()


def _schedule(optimizer: torch.optim.Optimizer, name: str, steps: int, warmup: int) -> torch.optim.lr_scheduler.LRScheduler | None:
    schedulers = torch.optim.lr_scheduler
    if name == "cosine":
        return schedulers.CosineAnnealingLR(optimizer, T_max=steps)
    if name == "warmup-cosine":
        ramp = schedulers.LinearLR(optimizer, start_factor=0.01, total_iters=warmup)
        return schedulers.SequentialLR(optimizer, [ramp, schedulers.CosineAnnealingLR(optimizer, T_max=steps - warmup)], [warmup])
    if name == "onecycle":
        return schedulers.OneCycleLR(optimizer, max_lr=optimizer.param_groups[0]["lr"], total_steps=steps)
    return None


@demo(
    "warmup-prevents-early-blowup",
    "A high learning rate blows up early; a warmup avoids it",
    "Started at a high learning rate (SGD, lr 3.0 annealed by a cosine, on a BatchNorm MLP), the first full-size steps "
    "throw the loss up to many times its start and the run ends poorly trained; the same schedule with the rate ramped in "
    "over its first 20 steps keeps the loss near its start and ends with a fraction of the loss. The gradients are not "
    "large at the start: they grow after the first full-rate steps, which is what the ramp avoids.",
    Param("lr", 3.0, 2.5, 3.0),
    mistake="no warmup: the run starts at the full rate",
    threads=1,
)
def warmup_prevents_early_blowup(lr: float, broken: bool = False) -> DemoResult:
    result = DemoResult()
    cold, warmed = _bn_mlp_run(lr, "cosine"), _bn_mlp_run(lr, "cosine" if broken else "warmup-cosine")
    start, norms = cold[0][0], cold[1]
    result.check(
        "at the full rate the loss blows up past 5x its start, after a first gradient under half the largest; "
        "warmed up it stays under 4x and ends at under a third of the loss",
        max(cold[0]) > 5 * start and norms.index(max(norms)) > 0 and max(norms) > 2 * norms[0]
        and max(warmed[0]) < 4 * start and warmed[2] < cold[2] / 3,
        start=start, worst_without_warmup=max(cold[0]), worst_with_warmup=max(warmed[0]),
        final_without_warmup=cold[2], final_with_warmup=warmed[2],
        first_grad_norm=norms[0], largest_grad_norm=max(norms), largest_at_step=norms.index(max(norms)),
    )  # fmt: skip
    return result


@demo(
    "onecycle-high-max-lr",
    "One Cycle trains at a peak rate that fails when held constant",
    "OneCycleLR (SGD on a BatchNorm MLP, momentum cycled) climbs to max_lr = 3.0 and anneals; held constant from the "
    "start, the same rate throws the loss up to many times its start and the run ends poorly trained, while One Cycle "
    "keeps the loss near its start and ends with a fraction of the loss: the schedule is what makes the high peak usable. "
    "Super-convergence (the same result in a tenth of the epochs) is not shown here: on this toy a constant 0.1 trains "
    "as well in the same 60 steps.",
    Param("max_lr", 3.0, 2.5, 3.5),
    mistake="holding max_lr constant from the first step instead of the One Cycle schedule",
    threads=1,
)
def onecycle_high_max_lr(max_lr: float, broken: bool = False) -> DemoResult:
    result = DemoResult()
    constant, cycled = _bn_mlp_run(max_lr, "constant"), _bn_mlp_run(max_lr, "constant" if broken else "onecycle")
    start = constant[0][0]
    result.check(
        "One Cycle to max_lr: worst loss under 5x its start and a third of the final loss of max_lr held constant, "
        "which blows up past 5x",
        max(cycled[0]) < 5 * start and cycled[2] < constant[2] / 3 and max(constant[0]) > 5 * start,
        start=start, worst_one_cycle=max(cycled[0]), final_one_cycle=cycled[2], worst_constant=max(constant[0]),
        final_constant=constant[2],
    )  # fmt: skip
    low = _bn_mlp_run(0.1, "constant")
    result.text.append(f"A constant rate of 0.1 on the same toy: final loss {low[2]:.4f}, worst loss {max(low[0]):.2f}.")
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
