"""Architecture choices checked on small layers: strided conv against pooling, input channels,
translation equivariance, skip projections, ResNet9's layers, channel doubling, BN before ReLU,
dropout before BN, regression heads, and where training memory goes."""

import torch
from torch import nn

from cifar_core.models import ResNet9, SimpleCNN, count_parameters
from proofs.registry import DemoResult, demo


@demo(
    "strided-conv-vs-maxpool",
    "Stride-2 convolution against max-pooling",
    "Both halve the spatial size; the stride-2 conv learns how to downsample (it has weights and gradients), "
    "max-pooling is a fixed operation with no parameters.",
    mistake="a stride-1 conv, which keeps the spatial size",
)
def strided_conv_vs_maxpool(broken: bool = False) -> DemoResult:
    result = DemoResult()
    x = torch.randn(2, 16, 32, 32)
    conv = nn.Conv2d(16, 16, 3, stride=1 if broken else 2, padding=1)
    pool = nn.MaxPool2d(2)
    result.check("both give 16x16", conv(x).shape[-2:] == pool(x).shape[-2:] == (16, 16), conv=str(tuple(conv(x).shape[-2:])))
    conv(x).sum().backward()
    learnable = count_parameters(conv)
    result.check("the conv has learnable weights, the pool none", learnable > 0 and count_parameters(pool) == 0, conv_parameters=learnable)
    return result


def _output_shape(layer: nn.Module, x: torch.Tensor) -> str:
    """The output shape, or the first line of the error the layer raised."""
    try:
        return str(tuple(layer(x).shape))
    except RuntimeError as error:
        return "error: " + str(error).splitlines()[0][:100]


@demo(
    "conv-in-channels",
    "Grayscale against RGB is only the channel dimension",
    "Conv2d(in_channels=1) takes (N, 1, H, W) and Conv2d(3) takes (N, 3, H, W); each kernel has that depth, "
    "and feeding the other raises a shape error.",
    mistake="building the grayscale layer with in_channels=3",
)
def conv_in_channels(broken: bool = False) -> DemoResult:
    result = DemoResult()
    gray, rgb = nn.Conv2d(3 if broken else 1, 8, 3), nn.Conv2d(3, 8, 3)
    result.check(
        "kernel depth follows in_channels", gray.weight.shape[1] == 1 and rgb.weight.shape[1] == 3, gray=str(tuple(gray.weight.shape))
    )
    gray_out, rgb_out = _output_shape(gray, torch.randn(2, 1, 8, 8)), _output_shape(rgb, torch.randn(2, 3, 8, 8))
    result.check("each takes its own input, same output shape", gray_out == rgb_out == "(2, 8, 6, 6)", gray=gray_out, rgb=rgb_out)
    wrong = _output_shape(gray, torch.randn(2, 3, 8, 8))
    result.check("an RGB batch into the grayscale layer raises", wrong.startswith("error"), outcome=wrong)
    return result


@demo(
    "conv-translation-equivariance",
    "A convolution is translation-equivariant, a fully connected layer is not",
    "Shifting the input shifts a conv's output by the same amount (away from the borders); a Linear layer's output "
    "changes arbitrarily under the same shift: the inductive bias of locality and weight sharing.",
    mistake="expecting invariance (the same output for the shifted input), which a conv layer does not give",
)
def conv_translation_equivariance(broken: bool = False) -> DemoResult:
    result = DemoResult()
    conv = nn.Conv2d(1, 4, 3, padding=1, bias=False)
    fc = nn.Linear(16 * 16, 16 * 16, bias=False)
    x = torch.zeros(1, 1, 16, 16)
    x[0, 0, 4:8, 4:8] = torch.rand(4, 4)
    shifted = x.roll(shifts=(2, 2), dims=(2, 3))
    with torch.no_grad():
        step = 0 if broken else 2
        conv_gap = (conv(shifted) - conv(x).roll(shifts=(step, step), dims=(2, 3))).abs().max().item()
        fc_out, fc_shifted = fc(x.flatten(1)).view(16, 16), fc(shifted.flatten(1)).view(16, 16)
        fc_gap = (fc_shifted - fc_out.roll(shifts=(2, 2), dims=(0, 1))).abs().max().item()
    result.check("conv: shift in, same shift out", conv_gap < 1e-6, max_abs_difference=conv_gap)
    result.check("fully connected: not equivariant", fc_gap > 1e-2, max_abs_difference=fc_gap)
    return result


class ProjectedBlock(nn.Module):
    """A residual block that halves the resolution and doubles the channels, with an optional 1x1 projection."""

    def __init__(self, channels: int, project: bool) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(channels, 2 * channels, 3, stride=2, padding=1), nn.BatchNorm2d(2 * channels), nn.ReLU())
        self.shortcut = nn.Conv2d(channels, 2 * channels, 1, stride=2) if project else nn.Identity()

    def forward(self, x):
        return self.body(x) + self.shortcut(x)


@demo(
    "skip-projection-shapes",
    "A 1x1 projection makes a skip connection's shapes match",
    "When F(x) halves the resolution and doubles the channels, x + F(x) cannot be added; a 1x1 conv with stride 2 "
    "on the shortcut gives x the same shape.",
    mistake="keeping the identity shortcut when the body changes shape",
)
def skip_projection_shapes(broken: bool = False) -> DemoResult:
    result = DemoResult()
    x = torch.randn(2, 16, 16, 16)
    plain = _output_shape(ProjectedBlock(16, project=False), x)
    projected = _output_shape(ProjectedBlock(16, project=not broken), x)
    result.check("identity shortcut: shapes do not match", plain.startswith("error"), outcome=plain)
    result.check("1x1 stride-2 projection: (2, 32, 8, 8)", projected == "(2, 32, 8, 8)", outcome=projected)
    return result


@demo(
    "resnet9-layers",
    "ResNet9 is 8 convolutions and 1 linear layer",
    "The DavidNet-style ResNet9 has eight Conv2d layers (two inside each of its two residual blocks) and one Linear.",
    mistake="counting only the top-level modules, which hides the convs inside the residual blocks",
)
def resnet9_layers(broken: bool = False) -> DemoResult:
    result = DemoResult()
    model = ResNet9()
    modules = list(model.net.children()) if broken else list(model.modules())
    convs = (
        sum(isinstance(m, nn.Conv2d) for m in modules)
        if not broken
        else sum(isinstance(m, nn.Sequential) and isinstance(m[0], nn.Conv2d) for m in modules)
    )
    linears = sum(isinstance(m, nn.Linear) for m in modules)
    result.check("8 Conv2d layers", convs == 8, convs=convs)
    result.check("1 Linear layer", linears == 1, linears=linears)
    return result


def conv_cost(in_channels: int, out_channels: int, side: int) -> tuple[int, int]:
    """(multiply-adds, output activations) of a 3x3 same-padding conv on a side x side map."""
    return in_channels * out_channels * 9 * side * side, out_channels * side * side


@demo(
    "channels-double-resolution-halves",
    "Doubling channels when the resolution halves",
    "From 128 channels at 16x16 to 256 at 8x8, a 3x3 conv's multiply-adds stay the same while its activations halve: "
    "the rule keeps compute per layer constant, not the activations (correcting the answer).",
    mistake="doubling the channels without halving the resolution",
)
def channels_double_resolution_halves(broken: bool = False) -> DemoResult:
    result = DemoResult()
    flops_a, acts_a = conv_cost(128, 128, 16)
    flops_b, acts_b = conv_cost(256, 256, 16 if broken else 8)
    result.check("multiply-adds per layer unchanged", flops_a == flops_b, before=flops_a, after=flops_b)
    result.check("activations halve", acts_b * 2 == acts_a, before=acts_a, after=acts_b)
    return result


@demo(
    "bn-centres-before-relu",
    "BatchNorm centres the pre-activations that ReLU sees",
    "Conv -> BN -> ReLU: after BN about half the pre-activations are positive, so ReLU keeps half the signal even "
    "when the conv's outputs are shifted far below zero; without BN ReLU zeroes almost everything.",
    mistake="BN in eval mode with fresh statistics (mean 0, var 1), which does not centre a shifted batch",
)
def bn_centres_before_relu(broken: bool = False) -> DemoResult:
    result = DemoResult()
    conv, bn = nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16).train(not broken)
    with torch.no_grad():
        conv.bias.fill_(-5.0)  # outputs shifted far below zero
        pre = conv(torch.randn(32, 3, 16, 16))
        without_bn = (torch.relu(pre) > 0).float().mean().item()
        with_bn = (torch.relu(bn(pre)) > 0).float().mean().item()
    result.check("without BN: under 5% of units active", without_bn < 0.05, active=without_bn)
    result.check("with BN: about half active", 0.4 < with_bn < 0.6, active=with_bn)
    return result


@demo(
    "dropout-before-bn-variance-shift",
    "Dropout before BatchNorm shifts the variance",
    "Dropout scales survivors by 1/(1-p), so the variance BN sees in training is larger than in eval mode, where "
    "dropout is off: BN's running variance no longer matches what it normalises at test time.",
    mistake="dropout placed after BatchNorm, where BN's statistics do not see it",
)
def dropout_before_bn(broken: bool = False) -> DemoResult:
    result = DemoResult()
    dropout = nn.Dropout(0.5)
    x = torch.randn(4096, 64) + 1.0
    train_input = x if broken else dropout.train()(x)
    eval_input = x if broken else dropout.eval()(x)
    ratio = (train_input.var(0).mean() / eval_input.var(0).mean()).item()
    result.check("train-time variance into BN larger than eval-time (ratio above 1.5)", ratio > 1.5, ratio=ratio)
    return result


@demo(
    "resnet-regression-mse",
    "A ResNet with one output fits a regression target",
    "Replacing the 10-way head by Linear(in, 1) and the loss by MSE turns the same backbone into a regressor.",
    mistake="keeping CrossEntropyLoss with the one-output head (a single logit has nothing to compare)",
)
def resnet_regression_mse(broken: bool = False) -> DemoResult:
    result = DemoResult()
    torch.manual_seed(0)
    images = torch.rand(64, 3, 8, 8)
    target = images.mean((1, 2, 3), keepdim=False)[:, None] * 10  # brightness as the quantity to predict
    model = nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 1)
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-2)
    loss_fn = (lambda out, y: nn.functional.cross_entropy(out, torch.zeros(len(y), dtype=torch.long))) if broken else nn.functional.mse_loss
    baseline = nn.functional.mse_loss(torch.full_like(target, target.mean().item()), target).item()
    for _ in range(150):
        optimizer.zero_grad()
        loss_fn(model(images), target).backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        mse = nn.functional.mse_loss(model(images), target).item()
    result.check("head has one output", model[-1].out_features == 1)
    result.check("MSE far below predicting the mean", mse < baseline / 5, mse=mse, predict_the_mean=baseline)
    return result


def saved_activation_bytes(model: nn.Module, batch: int) -> int:
    """Bytes autograd keeps for the backward pass of one forward."""
    total = 0

    def pack(tensor):
        nonlocal total
        total += tensor.numel() * tensor.element_size()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model(torch.randn(batch, 3, 32, 32)).sum()
    return total


@demo(
    "activation-memory",
    "Training memory is mostly activations",
    "For ResNet9 at batch 32 the activations autograd saves for backward take over five times "
    "the memory of the weights (and grow with the batch), "
    "and far more than SimpleCNN's: depth and width cost activation memory.",
    mistake="measuring under torch.no_grad(), where nothing is saved for backward",
)
def activation_memory(broken: bool = False) -> DemoResult:
    result = DemoResult()
    resnet, simple = ResNet9(), SimpleCNN()
    with torch.set_grad_enabled(not broken):
        resnet_saved, simple_saved = saved_activation_bytes(resnet, 32), saved_activation_bytes(simple, 32)
    weights = count_parameters(resnet) * 4
    result.check(
        "ResNet9: saved activations > 5x its weights",
        resnet_saved > 5 * weights,
        activations_MB=resnet_saved / 1e6,
        weights_MB=weights / 1e6,
    )
    result.check("ResNet9 saves more than SimpleCNN", resnet_saved > 2 * simple_saved, simplecnn_MB=simple_saved / 1e6)
    return result
