"""Shapes and sizes: SimpleCNN's flow, 3x3 vs 5x5, GAP vs flatten, parameter counts, memory."""

import torch
from torch import nn

from cifar_core.models import ResNet9, SimpleCNN, count_parameters
from proofs.registry import DemoResult, Param, demo


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
    "two-3x3-vs-one-5x5",
    "Two 3x3 convs vs one 5x5",
    "Two stacked 3x3 convs see a 5x5 receptive field with 18 instead of 25 weights per channel pair.",
    mistake="a 3x3 then a 1x1 conv, as if any two stacked convs widened the view",
)
def two_3x3_vs_5x5(broken: bool = False) -> DemoResult:
    result = DemoResult()
    second = nn.Conv2d(1, 1, 1, bias=False) if broken else nn.Conv2d(1, 1, 3, padding=1, bias=False)
    stacked = nn.Sequential(nn.Conv2d(1, 1, 3, padding=1, bias=False), second)
    single = nn.Conv2d(1, 1, 5, padding=2, bias=False)
    result.check("weights: 18 vs 25", count_parameters(stacked) == 18 and count_parameters(single) == 25)
    x = torch.zeros(1, 1, 11, 11, requires_grad=True)
    stacked(x)[0, 0, 5, 5].backward()  # which inputs influence one output pixel?
    rows, cols = (x.grad[0, 0] != 0).nonzero(as_tuple=True)
    field = (rows.max() - rows.min() + 1).item(), (cols.max() - cols.min() + 1).item()
    result.check("receptive field of the stack is 5x5", field == (5, 5), field=str(field))
    return result


@demo(
    "gap-vs-flatten",
    "Global average pooling vs flatten",
    "On a [512, 4, 4] feature map a 10-class head needs 81,930 weights after flatten but 5,130 after GAP.",
    Param("spatial", 4, 2, 16),
    mistake="AdaptiveMaxPool2d where global average pooling was meant",
)
def gap_vs_flatten(spatial: int, broken: bool = False) -> DemoResult:
    result = DemoResult()
    flatten_head = nn.Linear(512 * spatial * spatial, 10)
    gap_head = nn.Linear(512, 10)
    result.check(
        "flatten head parameters", count_parameters(flatten_head) == 512 * spatial**2 * 10 + 10, flatten=count_parameters(flatten_head)
    )
    result.check("GAP head parameters", count_parameters(gap_head) == 5130, gap=count_parameters(gap_head))
    features = torch.randn(2, 512, spatial, spatial)
    pooled = (nn.AdaptiveMaxPool2d(1) if broken else nn.AdaptiveAvgPool2d(1))(features).flatten(1)
    result.check("GAP is the per-channel mean", torch.allclose(pooled, features.mean((2, 3)), atol=1e-6))
    return result


@demo(
    "parameter-counts",
    "Parameter counts: SimpleCNN and ResNet9",
    "SimpleCNN has 620,810 parameters; ResNet9 about 6.57 million.",
    mistake="counting the convolutional features only, forgetting the classifier",
)
def parameter_counts(broken: bool = False) -> DemoResult:
    result = DemoResult()
    simple_cnn, resnet9_model = SimpleCNN(), ResNet9()
    simple = count_parameters(simple_cnn.features if broken else simple_cnn)
    resnet9 = count_parameters(resnet9_model) - (count_parameters(resnet9_model.net[-1]) if broken else 0)
    result.tables.append([{"model": "SimpleCNN", "parameters": simple}, {"model": "ResNet9", "parameters": resnet9}])
    result.check("SimpleCNN = 620,810", simple == 620_810, simplecnn=simple)
    result.check("ResNet9 about 6.5 M", 6.4e6 < resnet9 < 6.7e6, resnet9=resnet9)
    return result


@demo(
    "keras-head-parameters",
    "The frozen-base head has 527,114 trainable parameters",
    "Dropout -> Dense(256) -> Dropout -> Dense(10) on a 2048-d pooled ResNet50 feature: 2048*256+256 + 256*10+10 = 527,114.",
    mistake="forgetting the biases: 2048*256 + 256*10 = 526,848",
)
def keras_head_parameters(broken: bool = False) -> DemoResult:
    result = DemoResult()
    bias = not broken
    head = nn.Sequential(nn.Dropout(0.3), nn.Linear(2048, 256, bias=bias), nn.ReLU(), nn.Dropout(0.3), nn.Linear(256, 10, bias=bias))
    result.check("527,114 trainable parameters", count_parameters(head) == 527_114, counted=count_parameters(head))
    return result


@demo(
    "float32-vs-uint8-memory",
    "float32 takes 4x the memory of uint8",
    "8,000 images of 32x32x3 take 24.6 MB as uint8 and 98.3 MB (93.75 MiB) as float32.",
    Param("images", 8000, 1, 60000),
    mistake="converting with .half() (2 bytes) where float32 (4 bytes) was meant",
)
def float32_vs_uint8(images: int, broken: bool = False) -> DemoResult:
    result = DemoResult()
    as_uint8 = torch.zeros(images, 32, 32, 3, dtype=torch.uint8)
    as_float = as_uint8.half() if broken else as_uint8.float()
    bytes_u8, bytes_f32 = as_uint8.nelement() * as_uint8.element_size(), as_float.nelement() * as_float.element_size()
    result.check(
        "ratio is exactly 4", bytes_f32 == 4 * bytes_u8, uint8_MB=bytes_u8 / 1e6, float32_MB=bytes_f32 / 1e6, float32_MiB=bytes_f32 / 2**20
    )
    return result
