"""Residual connections (cifar_core's Residual, y = x + F(x)): the +I in the Jacobian, learning the
identity, weight decay pulling a block to the identity, gradient norms, and the degradation problem."""

import torch
import torch.nn.functional as F
from torch import nn

from cifar_core.models import Residual
from proofs.registry import DemoResult, Param, demo, line_figure


def _block(body: nn.Module, skip: bool) -> nn.Module:
    return Residual(body) if skip else body


def first_layer_grad_norms(depth: int, residual: bool, width: int = 32) -> list[float]:
    torch.manual_seed(0)
    bodies = [nn.Sequential(nn.Linear(width, width), nn.Tanh()) for _ in range(depth)]
    for body in bodies:
        nn.init.normal_(body[0].weight, std=0.3 / width**0.5)  # small weights: the regime where plain nets vanish
    nn.Sequential(*[_block(body, residual) for body in bodies])(torch.randn(16, width)).pow(2).mean().backward()
    return [body[0].weight.grad.norm().item() for body in bodies]


@demo(
    "residual-gradient-flow",
    "Gradients vanish in a deep plain net, not in a residual one",
    "With the same depth and initialisation, the first layer's gradient is orders of magnitude larger with skip connections.",
    Param("depth", 30, 5, 100),
    mistake="a 'residual' block whose forward forgets to add x back",
    threads=1,
)
def residual_gradient_flow(depth: int, broken: bool = False) -> DemoResult:
    result = DemoResult()
    plain, residual = first_layer_grad_norms(depth, False), first_layer_grad_norms(depth, residual=not broken)
    ratio = residual[0] / max(plain[0], 1e-30)
    result.check(
        "first-layer gradient >= 100x larger with skips", ratio > 100, plain_first=plain[0], residual_first=residual[0], ratio=ratio
    )
    result.figures.append(
        line_figure("Gradient norm per layer", list(range(1, depth + 1)), {"plain": plain, "residual": residual}, "layer", "||dL/dW||")
    )
    return result


@demo(
    "residual-plus-one",
    "The +1 of a residual block",
    "For cifar_core's Residual, y = x + F(x), the Jacobian is I + dF/dx: the skip passes the gradient through unchanged, "
    "however small dF/dx is.",
    mistake="a block that returns F(x) without the skip",
)
def residual_plus_one(broken: bool = False) -> DemoResult:
    result = DemoResult()
    body = nn.Sequential(nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 8))
    block = _block(body, skip=not broken)
    x = torch.randn(8)
    jacobian, body_jacobian = torch.autograd.functional.jacobian(block, x), torch.autograd.functional.jacobian(body, x)
    gap = (jacobian - (torch.eye(8) + body_jacobian)).abs().max().item()
    result.check("Jacobian of the block = I + Jacobian of its body", gap < 1e-5, max_abs_difference=gap)
    with torch.no_grad():
        body[2].weight.mul_(1e-4)  # a body whose gradient has all but vanished
    x.requires_grad_(True)
    block(x).sum().backward()
    result.check(
        "with a vanishing body, the gradient reaching x is still about the gradient at y",
        (x.grad - 1).abs().max().item() < 1e-2,
        input_grad_mean=x.grad.mean(),
    )
    return result


def _fit_identity(skip: bool, steps: int = 100) -> float:
    torch.manual_seed(0)
    block = _block(nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 16)), skip)
    optimizer = torch.optim.SGD(block.parameters(), lr=0.05)
    x = torch.randn(256, 16)
    for _ in range(steps):
        optimizer.zero_grad()
        F.mse_loss(block(x), x).backward()
        optimizer.step()
    test = torch.randn(256, 16)
    with torch.no_grad():
        return F.mse_loss(block(test), test).item()


@demo(
    "residual-learns-identity",
    "A residual block learns the identity easily",
    "Trained for the same 100 SGD steps to output its input, a residual block only has to push F(x) to 0 and ends with a "
    "far smaller error than the same layers without the skip, which must build x themselves.",
    mistake="the skip removed, so the layers must learn y = x on their own",
    threads=1,
)
def residual_learns_identity(broken: bool = False) -> DemoResult:
    result = DemoResult()
    plain, residual = _fit_identity(skip=False), _fit_identity(skip=not broken)
    result.check("residual error at least 10x below the plain stack's", residual * 10 < plain, residual_mse=residual, plain_mse=plain)
    return result


@demo(
    "residual-decays-to-identity",
    "Weight decay pulls a residual block to the identity",
    "With no data gradient, weight decay shrinks F's weights to 0: the residual block becomes y = x, while the same layer "
    "without the skip decays to y = 0. PyTorch does not start F at 0: Linear weights are drawn at random.",
    Param("steps", 200, 50, 1000),
    mistake="the skip removed, so decay leaves a block that outputs 0 instead of x",
    threads=1,
)
def residual_decays_to_identity(steps: int, broken: bool = False) -> DemoResult:
    result = DemoResult()
    body = nn.Linear(16, 16)
    zero_at_start = (body.weight == 0).float().mean().item()
    block = _block(body, skip=not broken)
    optimizer = torch.optim.SGD(block.parameters(), lr=0.5, weight_decay=0.1)  # each step scales the weights by 1 - 0.05
    x = torch.randn(32, 16)
    for _ in range(steps):
        optimizer.zero_grad()
        (block(x) * 0).sum().backward()  # no data gradient: only the decay acts
        optimizer.step()
    with torch.no_grad():
        distance = (block(x) - x).abs().max().item()
    result.check(
        "after decay the block is the identity: |y - x| < 1e-3",
        distance < 1e-3,
        max_abs_y_minus_x=distance,
        body_weight_norm=body.weight.norm(),
    )
    result.check("F does not start at zero: no Linear weight is 0 at initialisation", zero_at_start == 0.0, zero_fraction=zero_at_start)
    return result


def _train_loss(depth: int, skip: bool, steps: int = 60) -> float:
    """Training MSE after `steps` Adam steps on one fixed batch, for Linear-BN-ReLU bodies of the given depth."""
    torch.manual_seed(0)
    x = torch.randn(64, 8)
    y = torch.sin(3 * x[:, :1]) + x[:, 1:2] * x[:, 2:3]
    body = lambda: nn.Sequential(nn.Linear(16, 16), nn.BatchNorm1d(16), nn.ReLU())  # noqa: E731
    model = nn.Sequential(nn.Linear(8, 16), *[_block(body(), skip) for _ in range(depth)], nn.Linear(16, 1))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(steps):
        optimizer.zero_grad()
        F.mse_loss(model(x), y).backward()
        optimizer.step()
    with torch.no_grad():
        return F.mse_loss(model.eval()(x), y).item()


@demo(
    "residual-degradation",
    "The degradation problem, and residual connections fixing it",
    "With BatchNorm in every block (so gradients do not simply vanish), a 16-block plain net still ends with a far higher "
    "training loss than a 3-block one after the same 60 steps: depth makes optimisation harder, not overfitting. With "
    "skip connections the 16-block net trains as well as the shallow one.",
    mistake="'residual' blocks without the skip connection",
    threads=1,
)
def residual_degradation(broken: bool = False) -> DemoResult:
    result = DemoResult()
    shallow, deep_plain, deep_residual = _train_loss(3, False), _train_loss(16, False), _train_loss(16, not broken)
    result.check(
        "deeper plain net: training loss over 10x the shallow net's; with skips at least 5x lower than without",
        deep_plain > 10 * shallow and deep_residual * 5 < deep_plain,
        shallow_plain=shallow, deep_plain=deep_plain, deep_residual=deep_residual,
    )  # fmt: skip
    return result
