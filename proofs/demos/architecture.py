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
    "Both halve the spatial size, but the stride-2 conv has weights, so training decides how it downsamples: asked "
    "to reproduce 2x2 averaging of real images it learns to within a small error, while MaxPool2d(2), a fixed rule "
    "with no parameters, stays as far from it as it started.",
    mistake="the conv's weights frozen (requires_grad=False), a fixed downsampler like the pool",
    threads=1,
)
def strided_conv_vs_maxpool(broken: bool = False) -> DemoResult:
    from cifar_core.data import make_synthetic

    result = DemoResult()
    images = torch.from_numpy(make_synthetic(32, seed=2).images).permute(0, 3, 1, 2).float() / 255
    target = nn.functional.avg_pool2d(images, 2)  # the downsampling to learn: 2x2 averaging, not max
    torch.manual_seed(0)
    conv, pool = nn.Conv2d(3, 3, 2, stride=2), nn.MaxPool2d(2)
    result.check("both give 16x16 from 32x32", conv(images).shape[-2:] == pool(images).shape[-2:] == (16, 16))
    conv.requires_grad_(not broken)
    optimizer = torch.optim.Adam([p for p in conv.parameters() if p.requires_grad] or [nn.Parameter(torch.zeros(1))], lr=0.05)
    for _ in range(150):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(conv(images), target)
        if loss.requires_grad:
            loss.backward()
        optimizer.step()
    with torch.no_grad():
        conv_error, pool_error = nn.functional.mse_loss(conv(images), target).item(), nn.functional.mse_loss(pool(images), target).item()
    result.check(
        "trained, the stride-2 conv matches 2x2 averaging 10x closer than MaxPool2d(2), which has no parameters",
        conv_error * 10 < pool_error and count_parameters(pool) == 0,
        conv_mse=conv_error,
        maxpool_mse=pool_error,
        conv_parameters=count_parameters(conv),
    )
    return result


def _output_shape(layer: nn.Module, x: torch.Tensor) -> str:
    """The output shape, or the first line of the error the layer raised."""
    try:
        return str(tuple(layer(x).shape))
    except RuntimeError as error:
        return "error: " + str(error).splitlines()[0][:100]


@demo(
    "conv-in-channels",
    "Grayscale against RGB is only the channel dimension, fixed when the layer is built",
    "Conv2d(in_channels=1) takes (N, 1, H, W) and Conv2d(3) takes (N, 3, H, W): each kernel has that depth from "
    "construction, and feeding the other raises a shape error. Nothing adjusts automatically; only LazyConv2d infers "
    "in_channels, once, at its first call (correcting the answer).",
    mistake="a LazyConv2d where a Conv2d was meant: it takes whatever depth comes first, so the RGB batch is accepted",
)
def conv_in_channels(broken: bool = False) -> DemoResult:
    result = DemoResult()
    gray, rgb = (nn.LazyConv2d(8, 3) if broken else nn.Conv2d(1, 8, 3)), nn.Conv2d(3, 8, 3)
    wrong = _output_shape(gray, torch.randn(2, 3, 8, 8))
    result.check(
        "Conv2d's depth is fixed when built: kernels (8, 1, 3, 3), and an RGB batch into it raises",
        tuple(gray.weight.shape) == (8, 1, 3, 3) and wrong.startswith("error"),
        kernels=str(tuple(gray.weight.shape)),
        outcome=wrong,
    )
    gray_out, rgb_out = _output_shape(nn.Conv2d(1, 8, 3), torch.randn(2, 1, 8, 8)), _output_shape(rgb, torch.randn(2, 3, 8, 8))
    result.check("each takes its own input, same output shape", gray_out == rgb_out == "(2, 8, 6, 6)", gray=gray_out, rgb=rgb_out)
    lazy = nn.LazyConv2d(8, 3)
    lazy(torch.randn(2, 1, 8, 8))
    result.check(
        "LazyConv2d infers the depth at its first call", tuple(lazy.weight.shape) == (8, 1, 3, 3), kernels=str(tuple(lazy.weight.shape))
    )
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


@demo(
    "skip-projection-shapes",
    "A 1x1 projection makes a skip connection's shapes match",
    "The first block of torchvision ResNet-18's layer2 halves the resolution and doubles the channels, so x cannot be "
    "added to F(x) as it is; its shortcut (downsample: a 1x1 conv with stride 2 and a BatchNorm) gives x the shape of F(x).",
    mistake="keeping the identity shortcut when the body changes shape (the block's downsample removed)",
)
def skip_projection_shapes(broken: bool = False) -> DemoResult:
    from torchvision.models import resnet18

    result = DemoResult()
    block = resnet18(weights=None).layer2[0].eval()
    x = torch.randn(2, 64, 16, 16)
    with torch.no_grad():
        body = block.bn2(block.conv2(block.relu(block.bn1(block.conv1(x)))))
    projection = block.downsample[0]
    result.check(
        "F(x) is (2, 128, 8, 8) from (2, 64, 16, 16); the shortcut is a 1x1 conv with stride 2",
        tuple(body.shape) == (2, 128, 8, 8) and projection.kernel_size == (1, 1) and projection.stride == (2, 2),
        body=str(tuple(body.shape)),
    )
    if broken:
        block.downsample = None
    outcome = _output_shape(block, x)
    result.check("with the projection, x + F(x) adds: the block returns (2, 128, 8, 8)", outcome == "(2, 128, 8, 8)", outcome=outcome)
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


@demo(
    "channels-double-resolution-halves",
    "Doubling channels when the resolution halves",
    "From 128 channels at 16x16 to 256 at 8x8, a 3x3 conv's FLOPs (FlopCounterMode) stay the same while its output "
    "activations halve: the rule keeps compute per layer constant, not the activations (correcting the answer).",
    mistake="doubling the channels without halving the resolution",
)
def channels_double_resolution_halves(broken: bool = False) -> DemoResult:
    from torch.utils.flop_counter import FlopCounterMode

    result = DemoResult()

    def measured(channels: int, side: int) -> tuple[int, int]:
        conv = nn.Conv2d(channels, channels, 3, padding=1, bias=False, device="meta")
        with FlopCounterMode(display=False) as counter:
            out = conv(torch.empty(1, channels, side, side, device="meta"))
        return counter.get_total_flops(), out.numel()

    flops_a, acts_a = measured(128, 16)
    flops_b, acts_b = measured(256, 16 if broken else 8)
    closed_form = 2 * 128 * 128 * 9 * 16 * 16  # 2 FLOPs per multiply-add: C_in x C_out x 3 x 3 x H x W
    result.check(
        "FLOPs per layer unchanged (and equal to 2 x 128 x 128 x 9 x 16 x 16)",
        flops_a == flops_b == closed_form,
        before=flops_a,
        after=flops_b,
    )
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
    "Dropout before BatchNorm: the variance shift",
    "Dropout scales its survivors by 1/(1-p), so the variance a BatchNorm after it learns in training is larger than "
    "what it sees in eval mode, where dropout is off: its output then has far less than unit variance. That is why "
    "BN-based ResNets (torchvision's ResNet-18 and 50) carry no Dropout at all.",
    mistake="dropout placed after BatchNorm, where BN's statistics do not see it",
    threads=1,
)
def dropout_before_bn(broken: bool = False) -> DemoResult:
    from torchvision.models import resnet18, resnet50

    result = DemoResult()
    torch.manual_seed(0)
    dropout, norm = nn.Dropout(0.5), nn.BatchNorm1d(64, momentum=None)  # momentum None: the exact average
    block = nn.Sequential(norm, dropout) if broken else nn.Sequential(dropout, norm)
    block.train()
    for _ in range(20):
        block(torch.randn(256, 64) + 1.0)  # BN learns its running statistics with dropout active
    block.eval()
    with torch.no_grad():
        normalised = norm(torch.randn(4096, 64) + 1.0 if broken else dropout(torch.randn(4096, 64) + 1.0))
    ratio = normalised.var(0).mean().item()
    result.check("in eval mode BN's output variance falls below 0.7: its running variance no longer fits", ratio < 0.7, eval_variance=ratio)
    with torch.device("meta"):
        models = (resnet18(weights=None), resnet50(weights=None))
    counts = [
        (sum(isinstance(m, nn.BatchNorm2d) for m in model.modules()), sum(isinstance(m, nn.Dropout) for m in model.modules()))
        for model in models
    ]
    result.check(
        "torchvision's ResNet-18 and 50: BatchNorm layers, no Dropout", all(bn > 0 and drop == 0 for bn, drop in counts), counts=str(counts)
    )
    return result


@demo(
    "resnet-regression-mse",
    "A ResNet with one output fits a regression target",
    "cifar_core's torchvision_resnet('resnet18', num_classes=1) swaps the 1000-class fc for Linear(512, 1); trained "
    "with MSE (here only that head, on the frozen random backbone's features, to stay quick) it predicts the "
    "brightness of held-out images far better than their mean does.",
    mistake="keeping CrossEntropyLoss with the one-output head (a single logit has nothing to compare)",
    threads=1,
)
def resnet_regression_mse(broken: bool = False) -> DemoResult:
    from cifar_core.data import make_synthetic
    from cifar_core.models import torchvision_resnet

    result = DemoResult()
    torch.manual_seed(0)
    model, _ = torchvision_resnet("resnet18", num_classes=1)
    result.check("the head is Linear(512, 1)", (model.fc.in_features, model.fc.out_features) == (512, 1))
    images = torch.from_numpy(make_synthetic(200, seed=4).images).permute(0, 3, 1, 2).float() / 255
    target = images.mean((1, 2, 3))[:, None] * 10  # brightness as the quantity to predict
    head, model.fc = model.fc, nn.Identity()
    with torch.no_grad():
        features = model.eval()(images)
    loss_fn = (lambda out, y: nn.functional.cross_entropy(out, torch.zeros(len(y), dtype=torch.long))) if broken else nn.functional.mse_loss
    optimizer = torch.optim.Adam(head.parameters(), lr=1e-2)
    for _ in range(300):
        optimizer.zero_grad()
        loss_fn(head(features[:150]), target[:150]).backward()
        optimizer.step()
    with torch.no_grad():
        mse = nn.functional.mse_loss(head(features[150:]), target[150:]).item()
    baseline = nn.functional.mse_loss(torch.full_like(target[150:], target[:150].mean().item()), target[150:]).item()
    result.check("held-out MSE under a third of predicting the mean", mse < baseline / 3, mse=mse, predict_the_mean=baseline)
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
