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


def _zeroed(block: nn.Module) -> nn.Module:
    """The block the answer imagines: every weight and bias of F at zero."""
    with torch.no_grad():
        for parameter in block.parameters():
            parameter.zero_()
    return block


@demo(
    "residual-decays-to-identity",
    "A residual block is not the identity at initialisation; zero init or weight decay makes it one",
    "PyTorch draws Linear and Conv2d weights at random (Kaiming uniform), so a new cifar_core Residual block y = x + F(x) is "
    "not the identity: F(x) is as large as a fair share of x. A block starts as the identity only when it is zeroed on "
    "purpose: torchvision's resnet18(zero_init_residual=True) sets each block's last BatchNorm scale to 0, so the block "
    "returns relu(x + 0) = x. Weight decay pulls F's weights towards 0, the direction of the identity.",
    Param("steps", 200, 50, 1000),
    mistake="taking zero for PyTorch's default initialisation (a new block built with F's weights at 0)",
    threads=1,
)
def residual_decays_to_identity(steps: int, broken: bool = False) -> DemoResult:
    from torchvision.models import resnet18

    result = DemoResult()
    body = nn.Linear(16, 16)
    block = Residual(_zeroed(body) if broken else body)
    x = torch.randn(32, 16)
    with torch.no_grad():
        fresh = (block(x) - x).norm().item() / x.norm().item()  # |F(x)| / |x| of a new block
        activations = torch.relu(torch.randn(2, 64, 8, 8))  # what a ResNet block receives: the output of a ReLU
        zero_init = (resnet18(num_classes=10, zero_init_residual=True).layer1[0].eval()(activations) - activations).abs().max().item()
        default = (resnet18(num_classes=10).layer1[0].eval()(activations) - activations).abs().max().item()
    result.check(
        "a new block is not the identity (|F(x)| > 10% of |x|); torchvision's zero_init_residual=True block is, its default is not",
        fresh > 0.1 and zero_init == 0.0 and default > 0.1,
        new_block_relative_F=fresh, zero_init_residual_gap=zero_init, default_torchvision_gap=default,
    )  # fmt: skip
    decayed = Residual(nn.Linear(16, 16))
    optimizer = torch.optim.SGD(decayed.parameters(), lr=0.5, weight_decay=0.1)  # each step scales the weights by 1 - 0.05
    for _ in range(steps):
        optimizer.zero_grad()
        (decayed(x) * 0).sum().backward()  # no data gradient: only the decay acts
        optimizer.step()
    with torch.no_grad():
        distance = (decayed(x) - x).abs().max().item()
    result.check(
        "weight decay alone (no data gradient) shrinks F to 0: the block becomes y = x",
        distance < 1e-3,
        max_abs_y_minus_x=distance,
        body_weight_norm=decayed.body.weight.norm(),
    )
    return result


def _train_loss(depth: int, skip: bool, steps: int = 40) -> tuple[float, float]:
    """(training loss over the last 10 of `steps` Adam steps, smallest first-layer gradient norm over the steps) on one
    fixed batch of 64, for a stem, `depth` Linear-BN-ReLU-Linear-BN bodies (with or without skips) and a head."""
    torch.manual_seed(0)
    x = torch.randn(64, 8)
    y = torch.sin(3 * x[:, :1]) + x[:, 1:2] * x[:, 2:3]
    body = lambda: nn.Sequential(nn.Linear(16, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 16), nn.BatchNorm1d(16))  # noqa: E731
    model = nn.Sequential(nn.Linear(8, 16), *[_block(body(), skip) for _ in range(depth)], nn.Linear(16, 1))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses, first_layer = [], []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.mse_loss(model(x), y)  # train mode: what the optimiser sees (batch statistics)
        loss.backward()
        first_layer.append(model[0].weight.grad.norm().item())
        optimizer.step()
        losses.append(loss.item())
    return sum(losses[-10:]) / 10, min(first_layer)


@demo(
    "residual-degradation",
    "The degradation problem, and residual connections fixing it",
    "With BatchNorm in every block, the first layer of a 16-block plain net gets larger gradients than a 3-block net's "
    "at every step, so nothing vanishes; yet after the same 40 steps its training loss is still far higher: depth makes "
    "optimisation harder (degradation), not overfitting and not vanishing gradients. With skip connections the 16-block "
    "net trains as well as the shallow one. The loss is the training loss the optimiser sees, in train mode.",
    mistake="'residual' blocks without the skip connection",
    threads=1,
)
def residual_degradation(broken: bool = False) -> DemoResult:
    result = DemoResult()
    shallow, deep_plain, deep_residual = _train_loss(3, False), _train_loss(16, False), _train_loss(16, not broken)
    result.check(
        "deeper plain net: gradients do not vanish, yet its training loss is over 10x the shallow net's; "
        "with skips at least 5x lower than without",
        deep_plain[1] > shallow[1] and deep_plain[0] > 10 * shallow[0] and deep_residual[0] * 5 < deep_plain[0],
        shallow_plain=shallow[0], deep_plain=deep_plain[0], deep_residual=deep_residual[0],
        smallest_first_layer_grad_shallow=shallow[1], smallest_first_layer_grad_deep_plain=deep_plain[1],
    )  # fmt: skip
    return result
