"""Optimisers: Adam's state, clipping by norm vs value, gradient noise vs batch size."""

import torch
from torch import nn

from cifar_core.demos.registry import DemoResult, Param, demo


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
