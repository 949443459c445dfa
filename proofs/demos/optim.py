"""Optimisers: Adam's state, clipping by norm vs value, gradient noise vs batch size."""

import torch
from torch import nn

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
    result.check("Adam state = 2x parameters", sizes["adam"] == 2 * param_bytes, adam=sizes["adam"], params=param_bytes)
    result.check("momentum state = 1x, plain SGD = 0", sizes["sgd+momentum"] == param_bytes and sizes["sgd"] == 0)
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


@demo(
    "batch-size-gradient-noise",
    "Larger batches give less noisy gradients",
    "The variance of a mini-batch gradient falls roughly as 1/B: 8x the batch, about 1/8 the variance.",
    Param("small", 8, 2, 64),
    mistake="summing the per-sample gradients instead of averaging them, which makes the variance grow with B",
)
def batch_size_noise(small: int, broken: bool = False) -> DemoResult:
    result = DemoResult()
    torch.manual_seed(0)
    x, w_true = torch.randn(20000, 5), torch.randn(5)
    y = x @ w_true + torch.randn(20000)
    w = torch.zeros(5)

    def gradient_variance(batch: int) -> float:
        grads = []
        for _ in range(300):
            index = torch.randint(0, len(x), (batch,))
            residual = x[index] @ w - y[index]
            grads.append(2 * x[index].T @ residual / (1 if broken else batch))
        return torch.stack(grads).var(0).sum().item()

    small_var, large_var = gradient_variance(small), gradient_variance(small * 8)
    ratio = small_var / large_var
    result.check("variance ratio close to 8", 5 < ratio < 12, ratio=ratio)
    return result


def _decayed_weight(optimizer_name: str, as_l2_term: bool, steps: int = 20, decay: float = 0.1) -> torch.Tensor:
    """A weight after `steps` updates on a zero-gradient loss, decayed by the optimizer or by an L2 term."""
    torch.manual_seed(0)
    weight = nn.Parameter(torch.randn(5))
    make = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[optimizer_name]
    optimizer = make([weight], lr=0.1, weight_decay=0.0 if as_l2_term else decay)
    scale = torch.linspace(0.1, 10, 5)  # an uneven data loss, so Adam's per-coordinate scaling matters
    for _ in range(steps):
        optimizer.zero_grad()
        loss = 1e-3 * (scale * weight**2).sum()
        if as_l2_term:
            loss = loss + decay / 2 * weight.pow(2).sum()
        loss.backward()
        optimizer.step()
    return weight.detach()


@demo(
    "weight-decay-l2-sgd-vs-adam",
    "Weight decay: an L2 term for SGD, not for Adam",
    "weight_decay shrinks the weights; for plain SGD it equals adding (lambda / 2) * sum(w^2) to the loss, for Adam "
    "it does not (Adam rescales the L2 gradient per coordinate), which is why AdamW decouples the decay.",
    mistake="taking Adam's weight_decay to be the decoupled decay of AdamW",
)
def weight_decay_l2(broken: bool = False) -> DemoResult:
    result = DemoResult()
    torch.manual_seed(0)
    start = nn.Parameter(torch.randn(5)).detach().norm().item()
    sgd_decay, sgd_l2 = _decayed_weight("sgd", False), _decayed_weight("sgd", True)
    result.check("weight decay shrinks the weights", sgd_decay.norm().item() < start, start_norm=start, after=sgd_decay.norm())
    gap = (sgd_decay - sgd_l2).abs().max().item()
    result.check("SGD: weight_decay equals the L2 term", gap < 1e-6, max_abs_difference=gap)
    adam_decay = _decayed_weight("adamw" if broken else "adam", False)
    adam_l2 = _decayed_weight("adam", True)
    adam_gap = (adam_decay - adam_l2).abs().max().item()
    result.check("Adam: weight_decay is the L2 term folded into the gradient", adam_gap < 1e-6, max_abs_difference=adam_gap)
    adamw_gap = (_decayed_weight("adamw", False) - adam_l2).abs().max().item()
    result.check("AdamW differs from Adam + L2", adamw_gap > 1e-3, max_abs_difference=adamw_gap)
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
