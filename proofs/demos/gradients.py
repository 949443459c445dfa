"""Hand-written forward/backward passes, checked against autograd with torch.autograd.gradcheck (float64).

Each Function takes a `broken` flag that puts one classic backward-pass slip next to the correct
line, so a learner sees what gradcheck catches."""

import torch
import torch.nn.functional as F

from proofs.registry import DemoResult, Param, demo


class LinearFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b, broken=False):  # x (N, in), w (out, in), b (out,)
        ctx.save_for_backward(x, w)
        ctx.broken = broken
        return x @ w.T + b

    @staticmethod
    def backward(ctx, grad_out):  # grad_out (N, out)
        x, w = ctx.saved_tensors
        grad_w = grad_out.T @ x / (x.shape[0] if ctx.broken else 1)  # broken: averaging twice
        return grad_out @ w, grad_w, grad_out.sum(0), None


class ReLUFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, broken=False):
        ctx.save_for_backward(x)
        ctx.broken = broken
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        mask = grad_out > 0 if ctx.broken else x > 0  # broken: masking by the gradient, not the input
        return grad_out * mask, None


class Conv2dFn(torch.autograd.Function):
    """Convolution as im2col + matmul; the backward is the transposed matmuls folded back."""

    @staticmethod
    def forward(ctx, x, w, padding, broken=False):  # x (N, C, H, W), w (O, C, k, k)
        n, _, h, width = x.shape
        o, _, k, _ = w.shape
        cols = F.unfold(x, k, padding=padding)  # (N, C*k*k, L)
        out = w.view(o, -1) @ cols  # (N, O, L)
        ctx.save_for_backward(cols, w)
        ctx.meta = (x.shape, k, padding, broken)
        h_out, w_out = h + 2 * padding - k + 1, width + 2 * padding - k + 1
        return out.view(n, o, h_out, w_out)

    @staticmethod
    def backward(ctx, grad_out):
        cols, w = ctx.saved_tensors
        shape, k, padding, broken = ctx.meta
        g = grad_out.flatten(2)  # (N, O, L)
        grad_w = (g @ cols.transpose(1, 2)).sum(0).view_as(w)  # correlation of input with output gradient
        if broken:  # a true convolution (flipped kernel) instead of the correlation the forward computed
            grad_w = grad_w.flip(-1, -2)
        grad_cols = w.view(w.shape[0], -1).T @ g  # (N, C*k*k, L)
        grad_x = F.fold(grad_cols, shape[-2:], k, padding=padding)
        return grad_x, grad_w, None, None


class MaxPool2Fn(torch.autograd.Function):
    """2x2 max pooling; the gradient goes only to the position of each window's maximum."""

    @staticmethod
    def forward(ctx, x, broken=False):
        out, indices = F.max_pool2d(x, 2, return_indices=True)
        ctx.save_for_backward(indices)
        ctx.shape, ctx.broken = x.shape, broken
        return out

    @staticmethod
    def backward(ctx, grad_out):
        if ctx.broken:  # average pooling's backward: a quarter to every position of the window
            return F.interpolate(grad_out, scale_factor=2) / 4, None
        (indices,) = ctx.saved_tensors
        grad = torch.zeros(ctx.shape, dtype=grad_out.dtype).flatten(2)
        grad.scatter_(2, indices.flatten(2), grad_out.flatten(2))
        return grad.view(ctx.shape), None


class SoftmaxCrossEntropyFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, targets, broken=False):  # mean over the batch
        log_p = logits - logits.logsumexp(1, keepdim=True)
        ctx.save_for_backward(log_p.exp(), targets)
        ctx.broken = broken
        return -log_p.gather(1, targets[:, None]).mean()

    @staticmethod
    def backward(ctx, grad_out):
        p, targets = ctx.saved_tensors
        return grad_out * softmax_ce_grad(p, targets, ctx.broken), None, None


def softmax_ce_grad(p: torch.Tensor, targets: torch.Tensor, forget_targets: bool = False) -> torch.Tensor:
    """dL/dz = (p - y) / N for the batch-mean cross-entropy (forget_targets: the p / N slip)."""
    y = F.one_hot(targets, p.shape[1]).to(p.dtype)
    return (p - (0 if forget_targets else y)) / p.shape[0]


def _gradcheck(fn, *inputs) -> bool:
    return torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-5, raise_exception=False)


@demo(
    "gradcheck-linear",
    "Hand-written Linear backward",
    "dL/dx = g W, dL/dW = g^T x, dL/db = sum g: gradcheck agrees with autograd.",
    mistake="dividing the weight gradient by the batch size although the loss already averaged",
)
def gradcheck_linear(broken: bool = False) -> DemoResult:
    result = DemoResult()
    x, w, b = (torch.randn(*s, dtype=torch.float64, requires_grad=True) for s in ((3, 4), (2, 4), (2,)))
    result.check("gradcheck passes", _gradcheck(lambda *a: LinearFn.apply(*a, broken), x, w, b))
    return result


@demo(
    "gradcheck-relu",
    "Hand-written ReLU backward",
    "The ReLU gradient is the upstream gradient masked where the input was positive.",
    mistake="masking by the sign of the upstream gradient instead of the input",
)
def gradcheck_relu(broken: bool = False) -> DemoResult:
    result = DemoResult()
    x = torch.randn(20, dtype=torch.float64)
    x = (x + 0.1 * x.sign()).requires_grad_()  # keep away from the kink at 0
    result.check("gradcheck passes", _gradcheck(lambda a: ReLUFn.apply(a, broken), x))
    return result


@demo(
    "gradcheck-conv2d",
    "Hand-written conv2d backward",
    "Conv backward: the weight gradient correlates the input with the output gradient; gradcheck agrees.",
    Param("padding", 1, 0, 2),
    mistake="flipping the kernel in the weight gradient (convolution where the forward is a correlation)",
)
def gradcheck_conv2d(padding: int, broken: bool = False) -> DemoResult:
    result = DemoResult()
    x = torch.randn(2, 2, 5, 5, dtype=torch.float64, requires_grad=True)
    w = torch.randn(3, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    result.check("gradcheck passes", _gradcheck(lambda a, b: Conv2dFn.apply(a, b, padding, broken), x, w))
    reference = F.conv2d(x, w, padding=padding)
    result.check("forward equals F.conv2d", torch.allclose(Conv2dFn.apply(x, w, padding), reference))
    return result


@demo(
    "gradcheck-maxpool",
    "Hand-written max-pool backward",
    "Max pooling routes each gradient to the position of the window's maximum.",
    mistake="spreading the gradient over the whole window, as average pooling would",
)
def gradcheck_maxpool(broken: bool = False) -> DemoResult:
    result = DemoResult()
    x = torch.randn(1, 2, 4, 4, dtype=torch.float64, requires_grad=True)
    result.check("gradcheck passes", _gradcheck(lambda a: MaxPool2Fn.apply(a, broken), x))
    return result


@demo(
    "softmax-ce-gradient",
    "Softmax cross-entropy gradient is p - y",
    "The gradient of mean cross-entropy with respect to the logits is (softmax(z) - onehot(y)) / N.",
    Param("classes", 10, 2, 100),
    mistake="forgetting the '- y' in the gradient: p / N",
)
def softmax_ce_gradient(classes: int, broken: bool = False) -> DemoResult:
    result = DemoResult()
    logits = torch.randn(6, classes, dtype=torch.float64, requires_grad=True)
    targets = torch.randint(0, classes, (6,))
    F.cross_entropy(logits, targets).backward()
    formula = softmax_ce_grad(logits.detach().softmax(1), targets, forget_targets=broken)
    gap = (logits.grad - formula).abs().max().item()
    result.check("autograd equals (p - y) / N", gap < 1e-12, max_abs_difference=gap)
    result.check(
        "gradcheck of the hand-written function",
        _gradcheck(lambda z: SoftmaxCrossEntropyFn.apply(z, targets, broken), logits.detach().requires_grad_()),
    )
    return result


def _conv_weight_grad(x: torch.Tensor, grad_out: torch.Tensor, k: int, flip: bool) -> torch.Tensor:
    """dL/dW of a padded 3x3 conv as a correlation of input patches with the output gradient (flip: a true convolution)."""
    cols = F.unfold(x, k, padding=k // 2)  # (N, C*k*k, H*W)
    grad = (grad_out.flatten(2) @ cols.transpose(1, 2)).sum(0)  # (O, C*k*k)
    grad = grad.view(grad_out.shape[1], x.shape[1], k, k)
    return grad.flip(2, 3) if flip else grad


@demo(
    "cnn-backward-rules",
    "The backward pass of a small CNN, layer by layer",
    "Through conv -> ReLU -> max pool -> global average pool -> linear -> cross-entropy, autograd's gradients follow the "
    "rules: p - y at the logits, a^T dz for the linear weights, the max position only in pooling, the ReLU mask where the "
    "input was positive, and for the conv weights a correlation of the input with the output gradient.",
    mistake="computing the conv weight gradient as a true (kernel-flipped) convolution",
)
def cnn_backward_rules(broken: bool = False) -> DemoResult:
    result = DemoResult()
    torch.manual_seed(0)
    x, weight = torch.randn(4, 2, 8, 8, dtype=torch.float64), torch.randn(3, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    fc = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
    targets = torch.randint(0, 5, (4,))
    conv = F.conv2d(x, weight, padding=1)  # (4, 3, 8, 8)
    relu = F.relu(conv)
    pooled, indices = F.max_pool2d(relu, 2, return_indices=True)  # (4, 3, 4, 4)
    features = pooled.mean((2, 3))  # global average pool: (4, 3)
    logits = features @ fc.T  # (4, 5)
    for tensor in (conv, relu, pooled, features, logits):
        tensor.retain_grad()
    F.cross_entropy(logits, targets).backward()
    n = len(targets)
    gaps = {
        "logits_vs_p_minus_y": logits.grad - (logits.softmax(1) - F.one_hot(targets, 5)) / n,
        "fc_vs_dz_T_a": fc.grad - logits.grad.T @ features,
        "pool_vs_max_positions": relu.grad - F.max_unpool2d(pooled.grad, indices, 2, output_size=relu.shape[2:]),
        "relu_vs_mask": conv.grad - relu.grad * (conv > 0),
        "conv_vs_correlation": weight.grad - _conv_weight_grad(x, conv.grad, 3, flip=broken),
    }
    gaps = {name: gap.abs().max().item() for name, gap in gaps.items()}
    result.check("every layer's gradient follows its rule", max(gaps.values()) < 1e-10, **gaps)
    return result
