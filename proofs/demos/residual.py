"""Residual connections: the +1 path and gradient norms in deep plain vs residual nets."""

import torch
from torch import nn

from proofs.registry import DemoResult, Param, demo, line_figure


class Block(nn.Module):
    def __init__(self, width: int, residual: bool) -> None:
        super().__init__()
        self.body, self.residual = nn.Sequential(nn.Linear(width, width), nn.Tanh()), residual

    def forward(self, x):
        return x + self.body(x) if self.residual else self.body(x)


def first_layer_grad_norms(depth: int, residual: bool, width: int = 32) -> list[float]:
    torch.manual_seed(0)
    blocks = nn.Sequential(*[Block(width, residual) for _ in range(depth)])
    for block in blocks:
        nn.init.normal_(block.body[0].weight, std=0.3 / width**0.5)  # small weights: the regime where plain nets vanish
    blocks(torch.randn(16, width)).pow(2).mean().backward()
    return [block.body[0].weight.grad.norm().item() for block in blocks]


@demo(
    "residual-gradient-flow",
    "Gradients vanish in a deep plain net, not in a residual one",
    "With the same depth and initialisation, the first layer's gradient is orders of magnitude larger with skip connections.",
    Param("depth", 30, 5, 100),
    mistake="a 'residual' block whose forward forgets to add x back",
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
    "With F(x) = 0, y = x + F(x) passes the gradient through unchanged: dy/dx = I.",
    mistake="a block that returns F(x) without the skip",
)
def residual_plus_one(broken: bool = False) -> DemoResult:
    result = DemoResult()
    block = Block(8, residual=not broken)
    nn.init.zeros_(block.body[0].weight)
    nn.init.zeros_(block.body[0].bias)
    x = torch.randn(8, requires_grad=True)
    jacobian = torch.autograd.functional.jacobian(block, x)
    result.check("Jacobian is the identity", torch.allclose(jacobian, torch.eye(8)))
    return result
