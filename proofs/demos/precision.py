"""Precision: float16 gradients underflow and torch.amp.GradScaler rescues them, what autocast keeps in
float32, and bfloat16's range against float16's."""

import torch
from torch import nn

from proofs.registry import DemoResult, demo


@demo(
    "fp16-underflow-gradscaler",
    "float16 gradients underflow; GradScaler rescues them",
    "A float16 backward pass flushes gradients below about 6e-8 to zero; torch.amp.GradScaler multiplies the loss "
    "first so they survive, and unscale_ divides them back in float32, recovering the float32 gradient. Autocast "
    "keeps the weights (and Adam's state) in float32, so only activations shrink to 16 bits: not half the memory.",
    mistake="float16 backward without the GradScaler (loss.backward() on the unscaled loss)",
    threads=1,
)
def fp16_underflow(broken: bool = False) -> DemoResult:
    result = DemoResult()
    inputs = torch.full((8, 16), 1e-4)

    def weight_gradient(precision: str) -> torch.Tensor:
        torch.manual_seed(0)
        layer = nn.Linear(16, 1)
        optimizer = torch.optim.SGD(layer.parameters(), lr=0.1)
        if precision == "float32":
            out = layer(inputs)
        else:  # the matmul in float16, as autocast runs it, with float32 master weights
            out = nn.functional.linear(inputs.half(), layer.weight.half(), layer.bias.half()).float()
        loss = out.sum() * 1e-5  # a small loss: gradients of about 1e-9 per element
        if precision == "float16 scaled":
            scaler = torch.amp.GradScaler("cpu", init_scale=2.0**14)
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)  # back to the true gradient, in float32
        else:
            loss.backward()
        return layer.weight.grad.clone()

    reference = weight_gradient("float32")  # the same gradient in float32: the second route
    plain = weight_gradient("float16")
    rescued = weight_gradient("float16" if broken else "float16 scaled")
    result.check("float16 without scaling: the gradient underflows to 0", plain.abs().max().item() == 0.0, float16=plain[0, 0])
    error = ((rescued - reference).abs().max() / reference.abs().max()).item()
    result.check(
        "GradScaler: the float16 gradient survives and unscale_ gives the float32 one within 1%",
        error < 0.01,
        float32=reference[0, 0],
        recovered=rescued[0, 0],
        relative_error=error,
    )
    layer = nn.Linear(32, 32)
    optimizer = torch.optim.Adam(layer.parameters())
    with torch.autocast("cpu", dtype=torch.bfloat16):
        activation = layer(torch.randn(4, 32))
    activation.float().sum().backward()
    optimizer.step()
    states = [t.dtype for state in optimizer.state.values() for t in state.values() if t.dim() > 0]
    result.check(
        "autocast: weights and Adam's moments stay float32, only the activation is 16-bit",
        layer.weight.dtype == torch.float32 and activation.dtype == torch.bfloat16 and set(states) == {torch.float32},
        weight=str(layer.weight.dtype),
        activation=str(activation.dtype),
        adam_state=str(sorted({str(d) for d in states})),
    )
    return result


@demo(
    "bf16-vs-fp16-range",
    "bfloat16 has float32's range, float16 does not",
    "Both take 2 bytes a value, half of float32; 1e-20 underflows and 70,000 overflows in float16, while bfloat16 "
    "keeps both (with fewer digits), so gradient underflow is a float16 problem.",
    mistake="taking float16 for bfloat16 (the 'half precision' names mixed up)",
)
def bf16_vs_fp16_range(broken: bool = False) -> DemoResult:
    result = DemoResult()
    values = torch.tensor([1e-20, 70000.0])
    brain = torch.float16 if broken else torch.bfloat16
    fp16, bf16 = values.to(torch.float16).float(), values.to(brain).float()
    result.check(
        "2 bytes a value for both, half of float32",
        torch.empty(0, dtype=torch.float16).element_size() == torch.empty(0, dtype=brain).element_size() == 2
        and torch.empty(0).element_size() == 4,
    )
    result.check("float16: underflow to 0 and overflow to inf", fp16[0].item() == 0.0 and torch.isinf(fp16[1]).item())
    result.check(
        "bfloat16: both finite and within 1%", torch.isfinite(bf16).all().item() and ((bf16 - values).abs() / values).max().item() < 0.01
    )
    result.check("bfloat16 has fewer digits than float16", torch.finfo(brain).eps > torch.finfo(torch.float16).eps)
    return result
