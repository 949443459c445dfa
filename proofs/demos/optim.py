"""Optimisers: Adam's state and adaptive steps, building SGD, clipping (where, how, how much),
NaN losses, batch size (noise, LR scaling), weight decay, momentum, LR drops."""

import math
import warnings

import torch
import torch.nn.functional as F
from torch import nn

from cifar_core.config import TrainConfig
from cifar_core.models import SimpleCNN
from cifar_core.optim import build_optimizer
from cifar_core.steps import StepOptions, training_step
from cifar_core.train import parse_args
from proofs.registry import DemoResult, Param, demo


def state_bytes(optimizer: torch.optim.Optimizer) -> int:
    return sum(t.nelement() * t.element_size() for s in optimizer.state.values() for t in s.values() if torch.is_tensor(t) and t.dim() > 0)


@demo(
    "adam-state-memory",
    "Adam keeps two state tensors per parameter",
    "Adam stores exp_avg and exp_avg_sq (2x the parameters); SGD with momentum one buffer; plain SGD none.",
    mistake="counting state before the first optimizer.step(), when the buffers do not exist yet",
)
def adam_state_memory(broken: bool = False) -> DemoResult:
    result = DemoResult()
    sizes = {}
    for name, make in (
        ("sgd", lambda p: torch.optim.SGD(p, lr=0.1)),
        ("sgd+momentum", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
        ("adam", lambda p: torch.optim.Adam(p)),
    ):
        model = nn.Linear(256, 256)
        optimizer = make(model.parameters())
        model(torch.randn(4, 256)).sum().backward()
        if not broken:
            optimizer.step()  # the state buffers are created lazily, on the first step
        sizes[name] = state_bytes(optimizer)
    param_bytes = sum(p.nelement() * 4 for p in nn.Linear(256, 256).parameters())
    result.tables.append([{"optimizer": k, "state bytes": v, "x parameters": v / param_bytes} for k, v in sizes.items()])
    copies = {name: 2 + size / param_bytes for name, size in sizes.items()}  # parameters + gradients + state
    result.check(
        "Adam's state is 2x the parameters: 4 copies in all, against 3 with momentum and 2 for plain SGD",
        sizes["adam"] == 2 * param_bytes and sizes["sgd+momentum"] == param_bytes and sizes["sgd"] == 0,
        adam_copies=copies["adam"], momentum_copies=copies["sgd+momentum"], sgd_copies=copies["sgd"],
    )  # fmt: skip
    return result


@demo(
    "adam-adaptive-steps",
    "Adam's per-parameter step sizes",
    "cifar_core's build_optimizer gives torch.optim.Adam, whose first step moves every weight by about lr whatever the size "
    "of its gradient (a per-parameter step size); SGD moves each weight in proportion to its gradient.",
    Param("lr", 1e-3, 1e-5, 1e-1),
    mistake="SGD in Adam's place (one global learning rate for every parameter)",
)
def adam_adaptive_steps(lr: float, broken: bool = False) -> DemoResult:
    result = DemoResult()
    model = nn.Linear(2, 1, bias=False)
    optimizer = build_optimizer(model, TrainConfig(optimizer="sgd" if broken else "adam", lr=lr))
    before = model.weight.detach().clone()
    (model.weight * torch.tensor([[1e3, 1e-3]])).sum().backward()  # gradients 1000 and 0.001: a factor of 10^6
    optimizer.step()
    moves = (model.weight - before).abs().flatten().tolist()
    result.check(
        "both weights move by about lr though their gradients differ by 10^6",
        all(abs(m / lr - 1) < 0.01 for m in moves),
        move_of_big_gradient=moves[0], move_of_small_gradient=moves[1], lr=lr, optimizer=type(optimizer).__name__,
    )  # fmt: skip
    logits, targets = torch.randn(8, 10), torch.randint(0, 10, (8,))
    gap = abs(nn.CrossEntropyLoss()(logits, targets).item() + logits.log_softmax(1)[torch.arange(8), targets].mean().item())
    result.check("CrossEntropyLoss is the multi-class loss: -log softmax(z)[y] over 10 classes", gap < 1e-5, difference=gap)
    return result


@demo(
    "sgd-momentum-from-build-optimizer",
    "Switching the script to SGD with momentum",
    "build_optimizer(model, TrainConfig(optimizer='sgd', lr=0.1, momentum=0.9, weight_decay=5e-4)) gives torch.optim.SGD "
    "whose steps follow buf = 0.9 * buf + g + wd * w, w -= lr * buf.",
    mistake="keeping Adam (optimizer='adam') with the same settings",
)
def sgd_momentum_from_build_optimizer(broken: bool = False) -> DemoResult:
    result = DemoResult()
    lr, momentum, decay = 0.1, 0.9, 5e-4
    model = nn.Linear(4, 1, bias=False)
    cfg = TrainConfig(optimizer="adam" if broken else "sgd", lr=lr, momentum=momentum, weight_decay=decay)
    optimizer = build_optimizer(model, cfg)
    w, buffer = model.weight.detach().clone(), torch.zeros(1, 4)
    gradient = torch.tensor([[1.0, -2.0, 0.5, 3.0]])
    for _ in range(3):
        optimizer.zero_grad()
        (model.weight * gradient).sum().backward()
        optimizer.step()
        buffer = momentum * buffer + gradient + decay * w  # the closed form of SGD with momentum and L2 decay
        w = w - lr * buffer
    gap = (model.weight - w).abs().max().item()
    result.check(
        "three steps match SGD with momentum 0.9 and weight decay 5e-4",
        gap < 1e-6,
        max_abs_difference=gap,
        optimizer=type(optimizer).__name__,
    )
    return result


def _step_norms(clip_first: bool, max_norm: float) -> tuple[list[float], float]:
    """Gradient norms seen by optimizer.step() over 3 batches, and the largest unclipped norm."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    at_step: list[float] = []
    optimizer.register_step_pre_hook(lambda *_: at_step.append(torch.cat([p.grad.flatten() for p in model.parameters()]).norm().item()))
    unclipped = 0.0
    for _ in range(3):
        x, y = torch.randn(16, 8) * 10, torch.randn(16, 1) * 100  # large errors: large gradients
        loss_fn = nn.MSELoss()
        grads = torch.autograd.grad(loss_fn(model(x), y), list(model.parameters()))  # leaves .grad alone
        unclipped = max(unclipped, torch.cat([g.flatten() for g in grads]).norm().item())
        if clip_first:  # a hand loop that clips before backward: .grad is empty then
            optimizer.zero_grad()
            nn.utils.clip_grad_norm_(model.parameters(), max_norm)
            loss_fn(model(x), y).backward()
            optimizer.step()
        else:
            training_step(model, x, y, loss_fn, optimizer, StepOptions(grad_clip=max_norm))
    return at_step, unclipped


@demo(
    "clip-before-step",
    "Where gradient clipping goes: after backward, before step",
    "cifar_core's training_step clips with clip_grad_norm_ after loss.backward() and before optimizer.step(), so every "
    "step sees a gradient of norm at most max_norm. The functions end in an underscore (in place): clip_grad_norm "
    "without it is a deprecated alias and clip_grad_value does not exist.",
    Param("max_norm", 2.0, 0.1, 10.0),
    mistake="clipping before loss.backward(), when there is no gradient yet to clip",
)
def clip_before_step(max_norm: float, broken: bool = False) -> DemoResult:
    result = DemoResult()
    at_step, unclipped = _step_norms(clip_first=broken, max_norm=max_norm)
    result.check(
        "every optimizer.step() sees a gradient norm of at most max_norm",
        max(at_step) <= max_norm * (1 + 1e-4) and unclipped > max_norm,
        largest_norm_at_step=max(at_step), unclipped_norm=unclipped, max_norm=max_norm,
    )  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nn.utils.clip_grad_norm([nn.Parameter(torch.ones(2))], 1.0)
    names = {name: hasattr(nn.utils, name) for name in ("clip_grad_norm_", "clip_grad_value_", "clip_grad_value")}
    result.check(
        "clip_grad_norm_ and clip_grad_value_ exist; clip_grad_norm warns it is deprecated; clip_grad_value does not exist",
        names == {"clip_grad_norm_": True, "clip_grad_value_": True, "clip_grad_value": False}
        and any(issubclass(w.category, FutureWarning) for w in caught),
        deprecation_warnings=len(caught),
    )
    return result


def _train_with_clip(clip: float | None, steps: int = 60, bad_step: int = 30) -> list[float]:
    """Full-data MSE after each step of a small regression net; one batch (at bad_step) is scaled 30x."""
    torch.manual_seed(0)
    x, w = torch.randn(512, 16), torch.randn(16, 1)
    y = x @ w
    model = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    losses = []
    for step in range(steps):
        index = torch.randint(0, 512, (32,))
        scale = 30.0 if step == bad_step else 1.0  # one corrupted batch
        training_step(model, x[index] * scale, y[index] * scale, nn.MSELoss(), optimizer, StepOptions(grad_clip=clip))
        with torch.no_grad():
            losses.append(F.mse_loss(model(x), y).item())
    return losses


@demo(
    "clip-threshold",
    "Choosing the clipping threshold",
    "Clipping training_step's gradient at 0.001 barely lets the net learn; at 1000 it does not stop one corrupted batch "
    "from blowing the loss up; at 1.0 the net learns and survives the bad batch.",
    mistake="no clipping in the run meant to be clipped at 1.0",
    threads=1,
)
def clip_threshold(broken: bool = False) -> DemoResult:
    result = DemoResult()
    low, middle, high = _train_with_clip(1e-3), _train_with_clip(None if broken else 1.0), _train_with_clip(1e3)
    start = low[0]
    result.check(
        "0.001: the loss falls under 5%; 1000: the bad batch multiplies it over 100x; 1.0: it falls and stays down",
        low[-1] > 0.95 * start and high[30] > 100 * high[29] and middle[-1] < 0.5 * start and middle[30] < 2 * middle[29],
        low_end=low[-1], high_after_bad_batch=high[30], high_before=high[29], middle_end=middle[-1], start=start,
    )  # fmt: skip
    return result


def _final_loss(lr: float, clip: float | None, steps: int = 40) -> float:
    """Training loss after `steps` of training_step on a small regression net (inf or nan once it diverged)."""
    torch.manual_seed(0)
    x = torch.randn(256, 16) * 3
    y = x @ torch.randn(16, 1)
    model = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    loss = torch.tensor(0.0)
    for _ in range(steps):
        index = torch.randint(0, 256, (32,))
        loss, _ = training_step(model, x[index], y[index], nn.MSELoss(), optimizer, StepOptions(grad_clip=clip))
    return loss.item()


@demo(
    "nan-loss-fixes",
    "A NaN loss from exploding steps, and two fixes",
    "At too high a learning rate the updates explode and the loss becomes inf, then NaN; the same run with a 10x lower "
    "learning rate, or with gradient clipping at 1.0, stays finite and learns.",
    Param("lr", 0.1, 0.02, 1.0),
    mistake="raising the learning rate to fix a NaN loss, as if it meant the rate was too low",
    threads=1,
)
def nan_loss_fixes(lr: float, broken: bool = False) -> DemoResult:
    result = DemoResult()
    diverged = _final_loss(lr, None)
    lowered, clipped = _final_loss(lr * (10 if broken else 0.1), None), _final_loss(lr, 1.0)
    result.check(
        "the run diverges; with a 10x lower lr or with clipping at 1.0 it stays finite",
        not math.isfinite(diverged) and math.isfinite(lowered) and math.isfinite(clipped),
        diverged=str(diverged), lowered_lr=str(lowered), clipped=str(clipped),
    )  # fmt: skip
    return result


@demo(
    "grad-clip-norm-vs-value",
    "Clipping by norm vs by value",
    "clip_grad_norm_ rescales the whole gradient to the max norm and keeps its direction; clip_grad_value_ clamps each entry and turns it.",
    Param("max_value", 1.0, 0.01, 10.0),
    mistake="clipping by value where clipping by norm was meant",
)
def grad_clip(max_value: float, broken: bool = False) -> DemoResult:
    result = DemoResult()
    grad = torch.tensor([30.0, 4.0, -0.5])
    by_norm, by_value = nn.Parameter(torch.zeros(3)), nn.Parameter(torch.zeros(3))
    by_norm.grad, by_value.grad = grad.clone(), grad.clone()
    if broken:
        nn.utils.clip_grad_value_([by_norm], clip_value=max_value)
    else:
        nn.utils.clip_grad_norm_([by_norm], max_norm=max_value)
    nn.utils.clip_grad_value_([by_value], clip_value=max_value)
    cosine = nn.functional.cosine_similarity
    result.check(
        "norm clip: norm equals max, direction kept",
        abs(by_norm.grad.norm().item() - max_value) < 1e-4 and cosine(by_norm.grad, grad, dim=0).item() > 0.9999,
        norm=by_norm.grad.norm(),
    )
    result.check("value clip: every entry within +-max", by_value.grad.abs().max().item() <= max_value + 1e-6)
    result.check(
        "value clip changes the direction", cosine(by_value.grad, grad, dim=0).item() < 0.999, cosine=cosine(by_value.grad, grad, dim=0)
    )
    return result


def _saved_bytes(model: nn.Module, batch: int) -> int:
    """Bytes of activations (saved tensors with a batch dimension) autograd keeps for backward during one
    forward pass of `batch` CIFAR-sized images; the weights it also saves do not grow with the batch."""
    saved = [0]

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        if tensor.dim() > 0 and tensor.shape[0] == batch:
            saved[0] += tensor.nelement() * tensor.element_size()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        model(torch.randn(batch, 3, 32, 32))
    return saved[0]


@demo(
    "batch-size-gradient-noise",
    "Batch size: --batch-size, gradient noise and memory",
    "The batch size is the script's --batch-size argument. The variance of a mini-batch gradient (computed by autograd) "
    "falls roughly as 1/B, so 8x the batch gives about 1/8 the variance, while the activations kept for backward grow 8x.",
    Param("small", 8, 2, 64),
    mistake="a loss summed over the batch (reduction='sum') instead of averaged, so the gradient grows with B",
    threads=1,
)
def batch_size_noise(small: int, broken: bool = False) -> DemoResult:
    result = DemoResult()
    torch.manual_seed(0)
    x, labels = torch.randn(4096, 20), torch.randint(0, 3, (4096,))
    model = nn.Linear(20, 3)
    loss_fn = nn.CrossEntropyLoss(reduction="sum" if broken else "mean")

    def gradient_variance(batch: int) -> float:
        grads = []
        for _ in range(100):
            index = torch.randint(0, len(x), (batch,))
            grads.append(torch.autograd.grad(loss_fn(model(x[index]), labels[index]), model.weight)[0].flatten())
        return torch.stack(grads).var(0).sum().item()

    ratio = gradient_variance(small) / gradient_variance(small * 8)
    result.check("8x the batch: gradient variance about 8x lower (ratio 5 to 12)", 5 < ratio < 12, variance_ratio=ratio)
    cfg = parse_args(["--batch-size", "64"])
    result.check("--batch-size sets TrainConfig.batch_size", cfg.batch_size == 64, batch_size=cfg.batch_size)
    memory = _saved_bytes(SimpleCNN(), 16) / _saved_bytes(SimpleCNN(), 2)
    result.check("SimpleCNN keeps 8x the activations for backward at 8x the batch", abs(memory - 8) < 0.1, memory_ratio=memory)
    return result


@demo(
    "linear-lr-scaling",
    "The linear scaling rule",
    "With plain SGD, one step on a batch 8x larger at 8x the learning rate lands where 8 small steps at the base rate "
    "do (to first order, for a small rate); at the unscaled rate it moves about 8x less far.",
    Param("lr", 0.002, 0.0005, 0.01),
    mistake="keeping the base learning rate for the 8x larger batch",
)
def linear_lr_scaling(lr: float, broken: bool = False) -> DemoResult:
    result = DemoResult()
    torch.manual_seed(0)
    x = torch.randn(256, 10)
    y = x @ torch.randn(10, 1) + 0.1 * torch.randn(256, 1)
    start = torch.zeros(10, 1)

    def sgd(batches: list[torch.Tensor], rate: float) -> torch.Tensor:
        w = nn.Parameter(start.clone())
        optimizer = torch.optim.SGD([w], lr=rate)
        for index in batches:
            optimizer.zero_grad()
            F.mse_loss(x[index] @ w, y[index]).backward()
            optimizer.step()
        return w.detach()

    small_batches = list(torch.randperm(256).view(8, 32))
    small_steps = sgd(small_batches, lr)
    large_step = sgd([torch.cat(small_batches)], lr if broken else 8 * lr)
    distance = (small_steps - start).norm().item()
    gap = (large_step - small_steps).norm().item() / distance
    result.check(
        "one step of 8B at 8x lr lands within 10% (of the distance moved) of 8 steps of B",
        gap < 0.1,
        relative_gap=gap,
        distance_moved=distance,
    )
    return result


def _decayed_weight(optimizer_name: str, l2_term: float | None, steps: int = 20, decay: float = 0.1) -> torch.Tensor:
    """A weight after `steps` updates, decayed by the optimizer's weight_decay, or (l2_term given) by the loss
    term l2_term * sum(w^2) with weight_decay 0."""
    torch.manual_seed(0)
    weight = nn.Parameter(torch.randn(5))
    make = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[optimizer_name]
    optimizer = make([weight], lr=0.1, weight_decay=0.0 if l2_term is not None else decay)
    scale = torch.linspace(0.1, 10, 5)  # an uneven data loss, so Adam's per-coordinate scaling matters
    for _ in range(steps):
        optimizer.zero_grad()
        loss = 1e-3 * (scale * weight**2).sum()
        if l2_term is not None:
            loss = loss + l2_term * weight.pow(2).sum()
        loss.backward()
        optimizer.step()
    return weight.detach()


@demo(
    "weight-decay-l2-sgd-vs-adam",
    "weight_decay is an L2 term; AdamW's decay is not",
    "weight_decay=lambda adds lambda * w to the gradient, which is the gradient of (lambda / 2) * sum(w^2) in the loss: "
    "for SGD and for Adam, weight_decay equals that L2 term. AdamW's decoupled decay is different.",
    mistake="taking weight_decay=lambda for an L2 term lambda * sum(w^2), without the 1/2",
)
def weight_decay_l2(broken: bool = False) -> DemoResult:
    result = DemoResult()
    decay = 0.1
    l2 = decay if broken else decay / 2
    torch.manual_seed(0)
    start = nn.Parameter(torch.randn(5)).detach().norm().item()
    sgd_decay, sgd_l2 = _decayed_weight("sgd", None), _decayed_weight("sgd", l2)
    gap = (sgd_decay - sgd_l2).abs().max().item()
    result.check("SGD: weight_decay equals the loss term (lambda / 2) * sum(w^2)", gap < 1e-6, max_abs_difference=gap)
    result.check("weight decay shrinks the weights", sgd_decay.norm().item() < start, start_norm=start, after=sgd_decay.norm())
    adam_gap = (_decayed_weight("adam", None) - _decayed_weight("adam", l2)).abs().max().item()
    result.check("Adam: weight_decay is that same L2 term, folded into the gradient", adam_gap < 1e-6, max_abs_difference=adam_gap)
    adamw_gap = (_decayed_weight("adamw", None) - _decayed_weight("adam", decay / 2)).abs().max().item()
    result.check("AdamW's decoupled decay differs from Adam + L2", adamw_gap > 1e-3, max_abs_difference=adamw_gap)
    return result


def _fit_noisy(decay: float, steps: int = 300) -> tuple[float, float, float]:
    """(weight norm, mean |f'(x)| on a grid, validation MSE) of an MLP fitted to 16 noisy points of sin(3x)."""
    torch.manual_seed(0)
    x = torch.rand(16, 1) * 2 - 1
    y = torch.sin(3 * x) + 0.5 * torch.randn(16, 1)
    grid = torch.linspace(-1, 1, 200)[:, None]
    model = nn.Sequential(nn.Linear(1, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 1))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=decay)
    for _ in range(steps):
        optimizer.zero_grad()
        F.mse_loss(model(x), y).backward()
        optimizer.step()
    inputs = grid.clone().requires_grad_(True)
    (slope,) = torch.autograd.grad(model(inputs).sum(), inputs)
    norm = torch.cat([p.detach().flatten() for p in model.parameters()]).norm().item()
    with torch.no_grad():
        return norm, slope.abs().mean().item(), F.mse_loss(model(grid), torch.sin(3 * grid)).item()


@demo(
    "weight-decay-smooths",
    "Weight decay: smaller weights, a smoother fit",
    "Fitting 16 noisy points with a wide MLP (AdamW), weight decay keeps the weights small and the learned function "
    "smoother (a smaller mean slope |f'(x)|, measured by autograd), so it follows the noise less.",
    Param("decay", 1.0, 0.1, 5.0),
    mistake="weight_decay=0 in the run meant to be decayed",
    threads=1,
)
def weight_decay_smooths(decay: float, broken: bool = False) -> DemoResult:
    result = DemoResult()
    free, decayed = _fit_noisy(0.0), _fit_noisy(0.0 if broken else decay)
    result.check(
        "with decay: smaller weights and a mean slope at least 20% lower",
        decayed[0] < free[0] and decayed[1] < 0.8 * free[1],
        weight_norm=decayed[0], weight_norm_without=free[0], mean_slope=decayed[1], mean_slope_without=free[1],
    )  # fmt: skip
    result.check(
        "validation error of the clean curve is lower with decay", decayed[2] < free[2], val_mse=decayed[2], val_mse_without=free[2]
    )
    result.text.append(
        "Over seeds 0-4 of this toy, decay lowered the validation error in 4 of 5 runs: the smoothing is reliable, the gain varies."
    )
    return result


def steps_to_converge(momentum: float, lr: float = 0.01, limit: int = 2000) -> int:
    """Steps until f(x, y) = 0.5 * (x^2 + 100 y^2) falls below 1e-6 (condition number 100)."""
    point = nn.Parameter(torch.tensor([1.0, 1.0]))
    optimizer = torch.optim.SGD([point], lr=lr, momentum=momentum)
    curvature = torch.tensor([1.0, 100.0])
    for step in range(1, limit + 1):
        optimizer.zero_grad()
        loss = 0.5 * (curvature * point**2).sum()
        if loss.item() < 1e-6:
            return step
        loss.backward()
        optimizer.step()
    return limit


@demo(
    "momentum-ill-conditioned",
    "Momentum on an ill-conditioned valley",
    "On a quadratic 100 times steeper in one direction, plain SGD crawls along the flat direction; momentum 0.9 "
    "accumulates the consistent gradient and reaches the minimum in a fraction of the steps.",
    mistake="momentum=0 in the 'momentum' run",
    threads=1,
)
def momentum_ill_conditioned(broken: bool = False) -> DemoResult:
    result = DemoResult()
    plain, with_momentum = steps_to_converge(0.0), steps_to_converge(0.0 if broken else 0.9)
    result.check("momentum needs under a third of the steps", with_momentum * 3 < plain, plain_sgd=plain, momentum=with_momentum)
    return result


@demo(
    "lr-drop-breaks-plateau",
    "Dropping the learning rate breaks a plateau",
    "With noisy gradients a constant high LR stalls at a loss floor set by the noise; dividing the LR by 10 lowers the floor at once.",
    mistake="'dropping' the LR on a local variable, leaving the optimizer's LR unchanged",
    threads=1,
)
def lr_drop_breaks_plateau(broken: bool = False) -> DemoResult:
    result = DemoResult()
    torch.manual_seed(0)
    x, w_true = torch.randn(4096, 10), torch.randn(10)
    y = x @ w_true + 0.5 * torch.randn(4096)
    w = nn.Parameter(torch.zeros(10))
    optimizer = torch.optim.SGD([w], lr=0.1)
    losses = []
    for step in range(600):
        if step == 300:
            for group in optimizer.param_groups if not broken else ():
                group["lr"] = 0.01
        index = torch.randint(0, 4096, (8,))
        optimizer.zero_grad()
        nn.functional.mse_loss(x[index] @ w, y[index]).backward()
        optimizer.step()
        with torch.no_grad():
            losses.append(nn.functional.mse_loss(x @ w, y).item())
    before, after = sum(losses[200:300]) / 100, sum(losses[500:600]) / 100
    result.check("the loss floor falls after the drop", after < before * 0.9, plateau_before=before, after_drop=after)
    return result
