"""Initialisation: symmetry under zero init, activation scale under several schemes."""

import math

import torch
from torch import nn

from proofs.registry import DemoResult, Param, demo, line_figure


def _train_hidden(zero: bool) -> tuple[nn.Sequential, float]:
    """A Linear-ReLU-Linear net trained 20 SGD steps from zero or default (Kaiming-uniform) weights; also the hidden
    layer's gradient norm at the first step."""
    model = nn.Sequential(nn.Linear(5, 6), nn.ReLU(), nn.Linear(6, 3))
    if zero:
        for layer in (model[0], model[2]):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    x, y = torch.randn(64, 5), torch.randint(0, 3, (64,))
    first_grad = None
    for _ in range(20):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        first_grad = model[0].weight.grad.norm().item() if first_grad is None else first_grad
        optimizer.step()
    return model, first_grad


def _unit_spread(model: nn.Sequential) -> float:
    """Smallest distance between two hidden units' incoming weights (0: at least two units are copies)."""
    weights = model[0].weight.detach()
    return torch.pdist(weights).min().item()


@demo(
    "zero-init-symmetry",
    "Zero initialisation does not break symmetry; random initialisation does",
    "With all weights 0 and ReLU, every hidden unit outputs 0 and gets exactly zero gradient, so the hidden layer never "
    "learns and its units stay copies; PyTorch's default random (Kaiming-uniform) initialisation gives each unit its own "
    "gradient.",
    mistake="initialising every weight and bias to zero",
    threads=1,
)
def zero_init_symmetry(broken: bool = False) -> DemoResult:
    result = DemoResult()
    model, first_grad = _train_hidden(zero=broken)
    result.check(
        "the hidden layer learns: non-zero gradient, and its units differ after 20 steps",
        first_grad > 0 and _unit_spread(model) > 1e-3,
        hidden_grad_norm=first_grad,
        closest_units=_unit_spread(model),
    )
    zero_model, zero_grad = _train_hidden(zero=True)
    result.check(
        "zero init: the hidden gradient is exactly 0 and every unit stays 0",
        zero_grad == 0.0 and zero_model[0].weight.abs().max().item() == 0.0,
        hidden_grad_norm=zero_grad,
        largest_hidden_weight=zero_model[0].weight.abs().max(),
    )
    return result


def activation_stds(scheme: str, depth: int, width: int = 256, he_gain: str = "relu") -> list[float]:
    torch.manual_seed(0)
    x = torch.randn(512, width)
    stds = []
    for _ in range(depth):
        layer = nn.Linear(width, width, bias=False)
        if scheme == "zero":
            nn.init.zeros_(layer.weight)
        elif scheme == "normal10":
            nn.init.normal_(layer.weight, std=10.0)
        elif scheme == "xavier":
            nn.init.xavier_normal_(layer.weight)
        else:
            nn.init.kaiming_normal_(layer.weight, nonlinearity=he_gain)  # relu: std sqrt(2 / fan_in)
        x = torch.relu(layer(x))
        stds.append(x.std().item())
    return stds


@demo(
    "init-activation-scale",
    "Activation scale across 20 ReLU layers",
    "He init keeps activations at a stable scale; N(0, 10) explodes, Xavier shrinks under ReLU, zero kills the signal.",
    Param("depth", 20, 5, 50),
    mistake="He init with the linear gain (std sqrt(1 / fan_in)), forgetting that ReLU halves the variance",
    threads=1,
)
def init_activation_scale(depth: int, broken: bool = False) -> DemoResult:
    result = DemoResult()
    he_gain = "linear" if broken else "relu"
    stds = {scheme: activation_stds(scheme, depth, he_gain=he_gain) for scheme in ("zero", "normal10", "xavier", "he")}
    result.check("He: last-layer std within 10x of the first", 0.1 < stds["he"][-1] / stds["he"][0] < 10, he_last=stds["he"][-1])
    blown = next((layer for layer, value in enumerate(stds["normal10"], start=1) if not math.isfinite(value) or value > 1e20), None)
    result.check("N(0, 10): explodes (past 1e20, or overflows to inf/NaN)", blown is not None, exploded_at_layer=blown or -1)
    result.check("Xavier under ReLU: shrinks", stds["xavier"][-1] < stds["xavier"][0] / 10, xavier_last=stds["xavier"][-1])
    result.check("zero: no signal", stds["zero"][-1] == 0.0)
    he, xavier = torch.empty(256, 512), torch.empty(256, 512)  # (fan_out, fan_in)
    nn.init.kaiming_normal_(he, nonlinearity="relu")
    nn.init.xavier_normal_(xavier)
    ratios = he.var().item() / (2 / 512), xavier.var().item() / (2 / (512 + 256))
    result.check(
        "variances: He 2/fan_in, Xavier 2/(fan_in + fan_out)",
        all(abs(r - 1) < 0.05 for r in ratios),
        he_ratio=ratios[0],
        xavier_ratio=ratios[1],
    )
    safe = {k: [min(v, 1e30) if math.isfinite(v) else 1e30 for v in values] for k, values in stds.items() if k != "zero"}
    result.figures.append(line_figure("Activation std per layer", list(range(1, depth + 1)), safe, "layer", "std"))
    return result
