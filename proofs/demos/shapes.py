"""Shapes and sizes: SimpleCNN's flow, 3x3 vs 5x5, GAP vs flatten, parameter counts, memory."""

import copy

import torch
from torch import nn

from cifar_core.models import ResNet9, SimpleCNN, count_parameters
from cifar_core.steps import training_step
from proofs.registry import DemoResult, Param, demo

BLOCK = (nn.Conv2d, nn.BatchNorm2d, nn.ReLU, nn.MaxPool2d)
CLASSIFIER = (nn.Flatten, nn.Linear, nn.ReLU, nn.Dropout, nn.Linear)


def _block_outputs(features: nn.Sequential, x: torch.Tensor) -> list[torch.Tensor]:
    """The output of each MaxPool (one per block), in train mode."""
    outputs = []
    for layer in features.train():
        x = layer(x)
        if isinstance(layer, nn.MaxPool2d):
            outputs.append(x)
    return outputs


def _without_batchnorm(model: SimpleCNN) -> SimpleCNN:
    model.features = nn.Sequential(*[nn.Identity() if isinstance(m, nn.BatchNorm2d) else m for m in model.features])
    return model


def _loss_after_training(model: nn.Module, steps: int = 16) -> float:
    """Mean loss of the last 4 of `steps` SGD steps (lr 0.01, momentum 0.9, batches of 16) on 64 template images."""
    generator = torch.Generator().manual_seed(0)
    templates = torch.randn(10, 3, 32, 32, generator=generator)  # one pattern per class, buried in noise twice its size
    labels = torch.arange(64) % 10
    images = templates[labels] + 2.0 * torch.randn(64, 3, 32, 32, generator=generator)
    optimizer, losses = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9), []
    for step in range(steps):
        batch = slice(step * 16 % 64, step * 16 % 64 + 16)
        losses.append(training_step(model.train(), images[batch], labels[batch], nn.CrossEntropyLoss(), optimizer)[0].item())
    return sum(losses[-4:]) / 4


def _additivity_gap(layers: nn.Module, a: torch.Tensor, b: torch.Tensor) -> float:
    """|f(a + b) - f(a) - f(b) + f(0)| / |f(a + b)|: 0 for an affine map, large for a non-linear one."""
    with torch.no_grad():
        gap = layers(a + b) - layers(a) - layers(b) + layers(torch.zeros_like(a))
        return (gap.norm() / layers(a + b).norm()).item()


@demo(
    "simplecnn-blocks",
    "SimpleCNN's blocks: what BatchNorm, ReLU and MaxPool each do",
    "SimpleCNN is three Conv-BatchNorm-ReLU-MaxPool blocks and a Flatten-Linear-ReLU-Dropout-Linear classifier. BatchNorm "
    "speeds and steadies training: trained for the same 16 SGD steps (training_step, lr 0.01) the net with it ends at a "
    "far lower loss than an exact copy without it, and it keeps every block's output at one scale whatever the input's "
    "scale. ReLU makes the block non-linear (a conv and BatchNorm alone are affine at eval); MaxPool halves the spatial "
    "size.",
    mistake="SimpleCNN's blocks without BatchNorm (Conv-ReLU-MaxPool)",
    threads=1,
)
def simplecnn_blocks(broken: bool = False) -> DemoResult:
    result = DemoResult()
    model = SimpleCNN()
    reference = _without_batchnorm(copy.deepcopy(model))  # the same weights, no BatchNorm
    if broken:
        _without_batchnorm(model)
    x = torch.randn(16, 3, 32, 32)
    plain = _block_outputs(model.features, x)
    first_block = copy.deepcopy(model.features[:3]).eval()  # Conv-BN-ReLU, BN on its running statistics
    nonlinear = _additivity_gap(first_block, x, torch.randn(16, 3, 32, 32))
    affine = _additivity_gap(first_block[:2], x, torch.randn(16, 3, 32, 32))
    with_bn, without_bn = _loss_after_training(model), _loss_after_training(reference)
    result.check(
        "BatchNorm speeds training (loss under 70% of the copy without it), ReLU makes the block non-linear, "
        "MaxPool halves 32 -> 16 -> 8 -> 4",
        with_bn < 0.7 * without_bn and nonlinear > 0.1 and affine < 1e-4 and [o.shape[-1] for o in plain] == [16, 8, 4],
        loss_with=with_bn, loss_without_batchnorm=without_bn, relu_additivity_gap=nonlinear, conv_bn_additivity_gap=affine,
        sizes=str([o.shape[-1] for o in plain]),
    )  # fmt: skip
    scaled = _block_outputs(model.features, 100 * x)
    ratios = [(b.std() / a.std()).item() for a, b in zip(plain, scaled, strict=True)]
    result.check(
        "with 100x larger inputs every block's output keeps its scale (std ratio 1, not 100)",
        all(abs(r - 1) < 0.05 for r in ratios),
        block1_ratio=ratios[0], block2_ratio=ratios[1], block3_ratio=ratios[2],
    )  # fmt: skip
    kinds = [type(m) for m in SimpleCNN().features]
    structure = kinds == list(BLOCK) * 3 and [type(m) for m in model.classifier] == list(CLASSIFIER)
    result.check("three Conv-BN-ReLU-MaxPool blocks, then Flatten-Linear-ReLU-Dropout-Linear", structure)
    return result


@demo(
    "simplecnn-shape-flow",
    "SimpleCNN shapes: 32 -> 16 -> 8 -> 4",
    "Three MaxPool2d(2) halve 32x32 to 4x4; with 128 channels the classifier input is 2048.",
    mistake="feeding 28x28 images (MNIST's size): 28 -> 14 -> 7 -> 3 no longer fits Linear(128*4*4)",
)
def simplecnn_shape_flow(broken: bool = False) -> DemoResult:
    result = DemoResult()
    side = 28 if broken else 32
    model, x, sizes = SimpleCNN(), torch.randn(1, 3, side, side), []
    for layer in model.features:
        x = layer(x)
        if isinstance(layer, nn.MaxPool2d):
            sizes.append(tuple(x.shape[1:]))
    result.tables.append([{"after pool": i + 1, "shape (C, H, W)": str(s)} for i, s in enumerate(sizes)])
    result.check("spatial sizes 16, 8, 4", [s[1] for s in sizes] == [16, 8, 4], sizes=str(sizes))
    result.check("flattened features = 128*4*4 = 2048", x.flatten(1).shape[1] == 2048 == model.classifier[1].in_features)
    return result


@demo(
    "resnet9-first-layers",
    "The first layers of ResNet9: [B, 3, 32, 32] -> [B, 64, 32, 32] -> [B, 64, 16, 16]",
    "ResNet9's first conv_bn (3x3, padding 1) keeps 32x32 and makes 64 channels: (32 + 2 * 1 - 3) / 1 + 1 = 32; its 2x2 max "
    "pool then halves the resolution; further on the channels keep growing (128 at 16x16).",
    Param("batch", 2, 1, 64),
    mistake="a first conv without padding",
)
def resnet9_first_layers(batch: int, broken: bool = False) -> DemoResult:
    result = DemoResult()
    model = ResNet9().eval()
    if broken:
        model.net[0][0] = nn.Conv2d(3, 64, 3, padding=0, bias=False)
    x = torch.randn(batch, 3, 32, 32)
    with torch.no_grad():
        conv = model.net[0](x)
        pooled = model.net[1][3](conv)  # ResNet9's own MaxPool2d(2)
        block2 = model.net[1](conv)
    padding = model.net[0][0].padding[0]
    side = (32 + 2 * padding - 3) // 1 + 1  # closed form for a 3x3, stride 1 conv
    result.check(
        "conv keeps 32x32 with 64 channels, the pool halves it to 16x16",
        tuple(conv.shape) == (batch, 64, 32, 32) == (batch, 64, side, side) and tuple(pooled.shape) == (batch, 64, 16, 16),
        conv=str(tuple(conv.shape)),
        pooled=str(tuple(pooled.shape)),
    )
    result.check("the next block: 128 channels at 16x16", tuple(block2.shape[1:]) == (128, 16, 16), block2=str(tuple(block2.shape)))
    return result


@demo(
    "two-3x3-vs-one-5x5",
    "Two 3x3 convs vs one 5x5",
    "Two stacked 3x3 convs see a 5x5 receptive field with 18 instead of 25 weights per channel pair.",
    mistake="a 3x3 then a 1x1 conv, as if any two stacked convs widened the view",
)
def two_3x3_vs_5x5(broken: bool = False) -> DemoResult:
    result = DemoResult()
    second = nn.Conv2d(1, 1, 1, bias=False) if broken else nn.Conv2d(1, 1, 3, padding=1, bias=False)
    stacked = nn.Sequential(nn.Conv2d(1, 1, 3, padding=1, bias=False), nn.ReLU(), second)
    single = nn.Conv2d(1, 1, 5, padding=2, bias=False)
    with torch.no_grad():
        stacked[0].weight.abs_()  # positive weights: the ReLU between the convs never cuts a path
    x = torch.rand(1, 1, 11, 11, requires_grad=True)
    stacked(x)[0, 0, 5, 5].backward()  # which inputs influence one output pixel?
    rows, cols = (x.grad[0, 0] != 0).nonzero(as_tuple=True)
    field = (rows.max() - rows.min() + 1).item(), (cols.max() - cols.min() + 1).item()
    weights = count_parameters(stacked), count_parameters(single)
    result.check(
        "the stack sees 5x5 (measured by autograd) with 18 weights against 25",
        field == (5, 5) and weights == (18, 25),
        field=str(field),
        stacked_weights=weights[0],
        single_weights=weights[1],
    )
    return result


@demo(
    "gap-vs-flatten",
    "Global average pooling vs flatten",
    "Global average pooling takes each feature map's mean: [B, 512, 4, 4] -> [B, 512], so a 10-class head needs 5,130 "
    "weights instead of flatten's 81,930, and the same head works at any input size.",
    Param("spatial", 4, 2, 16),
    mistake="AdaptiveMaxPool2d where global average pooling was meant",
)
def gap_vs_flatten(spatial: int, broken: bool = False) -> DemoResult:
    result = DemoResult()
    pool = nn.AdaptiveMaxPool2d(1) if broken else nn.AdaptiveAvgPool2d(1)
    features = torch.randn(2, 512, spatial, spatial)
    pooled = pool(features).flatten(1)
    result.check(
        "GAP is the per-channel mean: [B, 512, H, W] -> [B, 512]",
        pooled.shape == (2, 512) and torch.allclose(pooled, features.mean((2, 3)), atol=1e-6),
        shape=str(tuple(pooled.shape)),
    )
    flatten_head, gap_head = nn.Linear(512 * spatial * spatial, 10), nn.Linear(512, 10)
    result.check(
        "head parameters: flatten 512*H*W*10 + 10, GAP 5,130",
        count_parameters(flatten_head) == 512 * spatial**2 * 10 + 10 and count_parameters(gap_head) == 5130,
        flatten=count_parameters(flatten_head),
        gap=count_parameters(gap_head),
    )
    head = nn.Sequential(pool, nn.Flatten(), gap_head)
    sizes = {side: tuple(head(torch.randn(1, 512, side, side)).shape) for side in (3, 7, 11)}
    result.check("the GAP head works at any input size", set(sizes.values()) == {(1, 10)}, sizes=str(sizes))
    return result


def _conv_bn_parameters(c_in: int, c_out: int) -> int:
    return 3 * 3 * c_in * c_out + 2 * c_out  # bias-free 3x3 conv, BatchNorm gamma and beta


RESNET9_CONV_BN = ((3, 64), (64, 128), (128, 128), (128, 128), (128, 256), (256, 512), (512, 512), (512, 512))


@demo(
    "parameter-counts",
    "Parameter counts: SimpleCNN and ResNet9",
    "SimpleCNN has 620,810 parameters; ResNet9 6,573,130 (about 6.5 million), each equal to the sum over its layer shapes.",
    mistake="counting the convolutional features only, forgetting the classifier",
)
def parameter_counts(broken: bool = False) -> DemoResult:
    result = DemoResult()
    simple_cnn, resnet9_model = SimpleCNN(), ResNet9()
    simple = count_parameters(simple_cnn.features if broken else simple_cnn)
    resnet9 = count_parameters(resnet9_model) - (count_parameters(resnet9_model.net[-1]) if broken else 0)
    resnet9_closed = sum(_conv_bn_parameters(a, b) for a, b in RESNET9_CONV_BN) + 512 * 10 + 10
    simple_closed = sum(9 * a * b + b + 2 * b for a, b in ((3, 32), (32, 64), (64, 128))) + 2048 * 256 + 256 + 256 * 10 + 10
    result.tables.append([{"model": "SimpleCNN", "parameters": simple}, {"model": "ResNet9", "parameters": resnet9}])
    result.check(
        "ResNet9 = 6,573,130, the sum over its 8 conv_bn layers and Linear(512, 10)",
        resnet9 == resnet9_closed,
        counted=resnet9,
        closed_form=resnet9_closed,
    )
    result.check(
        "SimpleCNN = 620,810, the sum over its layers", simple == simple_closed == 620_810, counted=simple, closed_form=simple_closed
    )
    return result


@demo(
    "keras-head-parameters",
    "The frozen-base head has 527,114 trainable parameters",
    "Through torchvision's ResNet50 (the Keras notebook's base, weights=None): with the base frozen, only the head "
    "Dropout -> Dense(256) -> Dropout -> Dense(10) on the 2048-d pooled feature trains: 2048*256+256 + 256*10+10 = "
    "527,114 parameters, 2,108,456 bytes in float32 (2.11 MB, 2.01 MiB).",
    mistake="leaving the base trainable, as if freezing only slowed it down",
)
def keras_head_parameters(broken: bool = False) -> DemoResult:
    result = DemoResult()
    from torchvision import models

    model = models.resnet50(weights=None)
    base = count_parameters(model) - count_parameters(model.fc)
    model.requires_grad_(broken)  # frozen base unless broken
    model.fc = nn.Sequential(nn.Dropout(0.3), nn.Linear(2048, 256), nn.ReLU(), nn.Dropout(0.3), nn.Linear(256, 10))
    trainable = count_parameters(model, trainable_only=True)
    closed = 2048 * 256 + 256 + 256 * 10 + 10
    result.check("527,114 trainable parameters", trainable == closed == 527_114, trainable=trainable, closed_form=closed)
    head_bytes = sum(p.untyped_storage().nbytes() for p in model.fc.parameters())
    result.text.append(f"The head's float32 weights take {head_bytes:,} bytes: {head_bytes / 1e6:.2f} MB or {head_bytes / 2**20:.2f} MiB.")
    result.text.append(
        f"The frozen torchvision base holds {base:,} parameters; Keras counts 23,587,712 with its conv biases and "
        "BatchNorm moving statistics."
    )
    return result


def _float32_bytes(images: int) -> int:
    return torch.zeros(images, 32, 32, 3).float().untyped_storage().nbytes()


@demo(
    "float32-vs-uint8-memory",
    "float32 takes 4x the memory of uint8",
    "8,000 images of 32x32x3 take 24,576,000 bytes as uint8 and 98,304,000 as float32: 98.3 MB, or 93.75 MiB (the '93.8 MB').",
    Param("images", 8000, 1, 60000),
    mistake="assuming the float32 copy takes the same memory as the uint8 one",
)
def float32_vs_uint8(images: int, broken: bool = False) -> DemoResult:
    result = DemoResult()
    as_uint8 = torch.zeros(images, 32, 32, 3, dtype=torch.uint8)
    as_float = as_uint8 if broken else as_uint8.float()
    bytes_u8, bytes_f32 = as_uint8.untyped_storage().nbytes(), as_float.untyped_storage().nbytes()
    closed = images * 32 * 32 * 3 * 4  # 4 bytes per float32 value
    result.check(
        "float32 storage = N * 3072 * 4 bytes, 4x uint8's",
        bytes_f32 == closed == 4 * bytes_u8,
        uint8_MB=bytes_u8 / 1e6, float32_MB=bytes_f32 / 1e6, float32_MiB=bytes_f32 / 2**20,
    )  # fmt: skip
    return result


@demo(
    "dataset-memory-mib",
    "The normalised splits in MiB",
    "As float32, 8,000 training, 2,000 validation and 10,000 test images of 32x32x3 take 93.75, 23.44 and 117.19 MiB "
    "(234.38 MiB in all): the notebook's 'MB' figures are MiB (2^20 bytes), not 10^6 bytes.",
    mistake="reading the figures as MB of 10^6 bytes",
)
def dataset_memory_mib(broken: bool = False) -> DemoResult:
    result = DemoResult()
    unit = 1e6 if broken else 2**20
    quoted = {"train": 93.8, "val": 23.5, "test": 117.2}  # the notebook's figures
    sizes = {name: _float32_bytes(n) / unit for name, n in (("train", 8000), ("val", 2000), ("test", 10000))}
    result.check(
        "torch's storage sizes, in MiB, are within 0.1 of the notebook's 93.8, 23.5 and 117.2",
        all(abs(sizes[k] - quoted[k]) < 0.1 for k in quoted),
        **{f"{k}_measured": v for k, v in sizes.items()},
        total=sum(sizes.values()),
    )
    return result
