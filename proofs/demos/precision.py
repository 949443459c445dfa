"""Precision: fp16 underflow and loss scaling, bf16 vs fp16 range."""

import torch

from proofs.registry import DemoResult, Param, demo


@demo(
    "fp16-underflow-gradscaler",
    "fp16 gradients underflow; loss scaling rescues them",
    "A gradient of 1e-8 is zero in float16; multiplied by 65536 first it survives, and unscaling in float32 recovers it.",
    Param("gradient", 1e-8, 1e-12, 1e-4),
    mistake="unscaling in float16 (dividing before the cast to float32), which underflows again",
)
def fp16_underflow(gradient: float, broken: bool = False) -> DemoResult:
    result = DemoResult()
    plain = torch.tensor(gradient, dtype=torch.float16).item()
    scale = 65536.0
    scaled = torch.tensor(gradient * scale, dtype=torch.float16)
    recovered = (scaled / scale).float().item() if broken else scaled.float().item() / scale
    result.check("plain float16 flushes it to 0", plain == 0.0 or gradient > 6e-8, fp16=plain)
    result.check("scaled then unscaled: within 1% of the true value", abs(recovered - gradient) / gradient < 0.01, recovered=recovered)
    return result


@demo(
    "bf16-vs-fp16-range",
    "bfloat16 has float32's range, float16 does not",
    "1e-20 underflows and 70,000 overflows in float16; bfloat16 keeps both (with fewer digits).",
    mistake="taking float16 for bfloat16 (the 'half precision' names mixed up)",
)
def bf16_vs_fp16_range(broken: bool = False) -> DemoResult:
    result = DemoResult()
    values = torch.tensor([1e-20, 70000.0])
    brain = torch.float16 if broken else torch.bfloat16
    fp16, bf16 = values.to(torch.float16).float(), values.to(brain).float()
    result.check("float16: underflow to 0 and overflow to inf", fp16[0].item() == 0.0 and torch.isinf(fp16[1]).item())
    result.check(
        "bfloat16: both finite and within 1%", torch.isfinite(bf16).all().item() and ((bf16 - values).abs() / values).max().item() < 0.01
    )
    result.check("bfloat16 has fewer digits than float16", torch.finfo(brain).eps > torch.finfo(torch.float16).eps)
    return result
