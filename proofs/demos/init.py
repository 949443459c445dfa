"""Initialisation: symmetry under zero init, activation scale under several schemes."""

import math

import torch
from torch import nn

from proofs.registry import DemoResult, Param, demo, line_figure


@demo(
    "zero-init-symmetry",
    "Zero initialisation keeps neurons identical",
    "With all-equal weights every hidden unit gets the same gradient and stays a copy.",
    mistake="one unit's weights nudged by 1e-3: symmetry is broken and the units drift apart",
)
def zero_init_symmetry(broken: bool = False) -> DemoResult:
    result = DemoResult()
    model = nn.Sequential(nn.Linear(5, 6), nn.ReLU(), nn.Linear(6, 3))
    for layer in (model[0], model[2]):
        nn.init.constant_(layer.weight, 0.1)  # equal, as zero is (zero itself would also give zero gradients)
        nn.init.zeros_(layer.bias)
    if broken:
        with torch.no_grad():
            model[0].weight[0] += 1e-3 * torch.randn(5)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    x, y = torch.randn(64, 5), torch.randint(0, 3, (64,))
    for _ in range(20):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    spread = (model[0].weight - model[0].weight[0]).abs().max().item()
    result.check("all hidden units still identical after 20 steps", spread < 1e-6, max_difference_between_units=spread)
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
    safe = {k: [min(v, 1e30) if math.isfinite(v) else 1e30 for v in values] for k, values in stds.items() if k != "zero"}
    result.figures.append(line_figure("Activation std per layer", list(range(1, depth + 1)), safe, "layer", "std"))
    return result
