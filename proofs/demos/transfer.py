"""Transfer learning, checked on torchvision's ResNet50 (weights=None: the shapes and counts are
those of the architecture, so no download is needed). The Keras notebook's claims are checked
through this PyTorch analogue: Keras' conv5 block is torchvision's layer4."""

import torch
from torch import nn

from cifar_core.models import count_parameters
from proofs.registry import DemoResult, demo


def resnet50_without_top() -> nn.Module:
    """ResNet50 with its 1000-class fc replaced by the identity: the pooled 2048-d features."""
    from torchvision.models import resnet50

    model = resnet50(weights=None)
    model.fc = nn.Identity()
    return model.eval()


def keras_style_head() -> nn.Sequential:
    """The notebook's head: Dropout(0.3), Dense(256, ReLU), Dropout(0.3), Dense(10, softmax)."""
    return nn.Sequential(nn.Dropout(0.3), nn.Linear(2048, 256), nn.ReLU(), nn.Dropout(0.3), nn.Linear(256, 10), nn.Softmax(dim=1))


def last_feature_map(model: nn.Module, side: int) -> torch.Tensor:
    """The output of layer4 (Keras' conv5_block3_out) for one side x side image."""
    stored = {}
    hook = model.layer4.register_forward_hook(lambda _m, _i, out: stored.update(maps=out))
    with torch.no_grad():
        pooled = model(torch.randn(1, 3, side, side))
    hook.remove()
    return stored["maps"], pooled


@demo(
    "resnet50-input-size",
    "ResNet50's last feature map: 1x1 at 32 pixels, 7x7 at 224",
    "ResNet50 downsamples 32x: a 32x32 CIFAR image leaves a 1x1 map (nothing spatial left for the frozen "
    "features or Grad-CAM), a 224x224 input the 7x7 map its filters were trained on; pooling it gives 2048 features.",
    mistake="upscaling to 64 pixels and expecting the 7x7 map of 224",
)
def resnet50_input_size(broken: bool = False) -> DemoResult:
    result = DemoResult()
    model = resnet50_without_top()
    small_maps, small_pooled = last_feature_map(model, 32)
    large_maps, large_pooled = last_feature_map(model, 64 if broken else 224)
    result.check("32x32 input: layer4 map is 2048x1x1", tuple(small_maps.shape[1:]) == (2048, 1, 1), shape=str(tuple(small_maps.shape[1:])))
    result.check(
        "224x224 input: layer4 map is 2048x7x7 (the Grad-CAM heatmap size)",
        tuple(large_maps.shape[1:]) == (2048, 7, 7),
        shape=str(tuple(large_maps.shape[1:])),
    )
    result.check(
        "without the top, global average pooling gives a 2048-d vector at any input size",
        small_pooled.shape[1] == large_pooled.shape[1] == 2048,
        features=small_pooled.shape[1],
    )
    gap = (large_pooled - large_maps.mean((2, 3))).abs().max().item()
    result.check("that vector is the per-channel mean of layer4's map", gap < 1e-5, max_abs_difference=gap)
    cell = 32 / large_maps.shape[-1]
    result.check("one heatmap cell spans about 4.6 pixels of the 32-pixel original", abs(cell - 32 / 7) < 1e-6, pixels_per_cell=cell)
    return result


@demo(
    "resnet50-parameter-budget",
    "ResNet50's parameters: base, head, and what unfreezing conv5 trains",
    "ResNet50 without its top has about 23.5 M parameters; with the 527,114-parameter head about 24.1 M (about 92 MiB "
    "in float32), about 2% of them trainable while the base is frozen, and about 15.5 M once conv5 (layer4) is unfrozen.",
    mistake="unfreezing layer3 and layer4 (conv4 + conv5) where the notebook unfroze conv5 only",
)
def resnet50_parameter_budget(broken: bool = False) -> DemoResult:
    result = DemoResult()
    base, head = resnet50_without_top(), keras_style_head()
    total = count_parameters(base) + count_parameters(head)
    result.check("base without top about 23.5 M", 23.4e6 < count_parameters(base) < 23.6e6, base=count_parameters(base))
    result.check("base + head about 24.1 M", 24.0e6 < total < 24.2e6, total=total)
    mib = total * 4 / 2**20
    result.check("about 92 MiB as float32", 91 < mib < 93, MiB=mib)
    for parameter in base.parameters():
        parameter.requires_grad = False
    frozen_share = count_parameters(head) / total
    result.check("frozen base: about 2% trainable", 0.015 < frozen_share < 0.03, trainable_share=frozen_share)
    for stage in (base.layer3, base.layer4) if broken else (base.layer4,):
        for parameter in stage.parameters():
            parameter.requires_grad = True
    trainable = count_parameters(base, trainable_only=True) + count_parameters(head)
    result.check("conv5 (layer4) + head: about 15.5 M trainable", 15.4e6 < trainable < 15.6e6, trainable=trainable)
    return result


@demo(
    "resnet50-vs-efficientnet-b0",
    "ResNet-50 against EfficientNet-B0: parameters",
    "torchvision's ResNet-50 has about 25.6 M parameters and EfficientNet-B0 about 5.3 M, 4.8x fewer.",
    mistake="counting ResNet-50 without its 1000-class fc (23.5 M), the figure of the notebook's headless base",
)
def resnet50_vs_efficientnet(broken: bool = False) -> DemoResult:
    from torchvision.models import efficientnet_b0, resnet50

    result = DemoResult()
    resnet = resnet50_without_top() if broken else resnet50(weights=None)
    resnet_count, efficient_count = count_parameters(resnet), count_parameters(efficientnet_b0(weights=None))
    result.check("ResNet-50 about 25.6 M", 25.5e6 < resnet_count < 25.7e6, resnet50=resnet_count)
    result.check("EfficientNet-B0 about 5.3 M", 5.2e6 < efficient_count < 5.4e6, efficientnet_b0=efficient_count)
    ratio = resnet_count / efficient_count
    result.check("about 4.8x fewer", 4.7 < ratio < 4.9, ratio=ratio)
    return result


def caffe_preprocess(images_0_255: torch.Tensor) -> torch.Tensor:
    """What Keras' resnet50.preprocess_input does: RGB to BGR, subtract the ImageNet means (0-255 scale)."""
    means = torch.tensor([103.939, 116.779, 123.68]).view(1, 3, 1, 1)
    return images_0_255.flip(1) - means


@demo(
    "preprocess-input-on-unit-range",
    "preprocess_input expects 0-255 pixels",
    "Keras' ResNet50 preprocess_input subtracts means of about 104-124 on the 0-255 scale; applied to images already "
    "divided by 255 it gives inputs that are nearly the same constant for every image.",
    mistake="dividing by 255 only after preprocess_input, the order the function expects",
)
def preprocess_input_on_unit_range(broken: bool = False) -> DemoResult:
    result = DemoResult()
    images = torch.randint(0, 256, (64, 3, 32, 32)).float()
    correct = caffe_preprocess(images)
    unit_first = caffe_preprocess(images) / 255 if broken else caffe_preprocess(images / 255)

    def spread_over_magnitude(x: torch.Tensor) -> float:  # within each channel, over images and pixels
        return (x.std((0, 2, 3)) / x.abs().mean((0, 2, 3))).max().item()

    relative_spread, correct_spread = spread_over_magnitude(unit_first), spread_over_magnitude(correct)
    result.check(
        "divided by 255 first: each channel's spread under 1% of its magnitude (near-constant input)",
        relative_spread < 0.01,
        spread_over_magnitude=relative_spread,
    )
    result.check("on 0-255 pixels the inputs keep their contrast", correct_spread > 0.5, spread_over_magnitude=correct_spread)
    return result


@demo(
    "frozen-base-bn-statistics",
    "A frozen base in train mode still moves BatchNorm's statistics",
    "requires_grad=False stops the weights, not BatchNorm's running statistics: a frozen base called in train mode "
    "updates them, in eval mode (Keras' training=False) it does not.",
    mistake="relying on requires_grad=False alone and calling the frozen base in train mode",
)
def frozen_base_bn_statistics(broken: bool = False) -> DemoResult:
    result = DemoResult()
    base = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
    for parameter in base.parameters():
        parameter.requires_grad = False
    before = base[1].running_mean.clone()
    batch = torch.randn(16, 3, 8, 8) * 3 + 2
    base.train()
    base(batch)
    moved = (base[1].running_mean - before).abs().max().item()
    result.check("train mode: running_mean moved although frozen", moved > 1e-3, change=moved)
    settled = base[1].running_mean.clone()
    base.train(broken)  # eval() unless broken
    base(batch)
    still = (base[1].running_mean - settled).abs().max().item()
    result.check("eval mode: running statistics untouched", still == 0.0, change=still)
    return result


@demo(
    "bilinear-upscale-adds-nothing",
    "Bilinear upscaling 32 -> 224 adds no detail",
    "Resizing 32x32 to 224x224 with bilinear interpolation (7x) makes a smooth image with no new information: "
    "area-averaging it back to 32x32 recovers the original closely, and its fine detail is far below a real 224 image's.",
    mistake="nearest-neighbour upscaling, whose blocky 7x7 copies are the artefacts bilinear avoids",
)
def bilinear_upscale(broken: bool = False) -> DemoResult:
    import torch.nn.functional as F

    result = DemoResult()
    small = torch.rand(4, 3, 32, 32)
    mode = "nearest" if broken else "bilinear"
    large = F.interpolate(small, size=224, mode=mode, **({} if broken else {"align_corners": False}))
    back = F.interpolate(large, size=32, mode="area")
    result.check("224x224 output", tuple(large.shape[-2:]) == (224, 224))
    recovered = (back - small).abs().mean().item()
    result.check("area-downsampled back: close to the original", recovered < 0.15, mean_abs_difference=recovered)

    def high_frequency(x: torch.Tensor) -> float:  # mean jump between neighbouring pixels
        return (x[..., 1:] - x[..., :-1]).abs().mean().item()

    upscaled, real = high_frequency(large), high_frequency(torch.rand(4, 3, 224, 224))
    result.check(
        "smooth: neighbouring pixels differ far less than in a real-detail image", upscaled < real / 5, upscaled=upscaled, real=real
    )
    blocks = (large[..., 1:] == large[..., :-1]).float().mean().item()
    result.check("no blocky copies (under 50% of neighbours identical)", blocks < 0.5, identical_neighbours=blocks)
    return result


@demo(
    "keras-head-softmax",
    "The custom head outputs class probabilities",
    "Dropout(0.3) -> Linear(2048, 256) -> ReLU -> Dropout(0.3) -> Linear(256, 10) -> Softmax gives ten non-negative "
    "scores summing to 1 per image; in eval mode the dropouts are off and the output is deterministic.",
    mistake="leaving the head in train mode for prediction, so dropout makes two calls disagree",
)
def keras_head_softmax(broken: bool = False) -> DemoResult:
    result = DemoResult()
    head = keras_style_head().train(broken)
    features = torch.randn(16, 2048).relu()
    with torch.no_grad():
        first, second = head(features), head(features)
    result.check(
        "ten non-negative scores summing to 1",
        first.shape == (16, 10) and (first >= 0).all().item() and torch.allclose(first.sum(1), torch.ones(16)),
    )
    result.check("eval mode: two calls agree", torch.equal(first, second))
    return result


@demo(
    "rotation-zoom-factors",
    "Keras' RandomRotation(0.1) is +-36 degrees, RandomZoom(0.1) +-10%",
    "Keras gives rotation as a fraction of a full turn, so 0.1 is up to 36 degrees either way; torchvision's "
    "RandomRotation takes degrees, so the equivalent is RandomRotation(36) and RandomAffine(0, scale=(0.9, 1.1)).",
    mistake="passing Keras' factor 0.1 to torchvision as degrees",
)
def rotation_zoom_factors(broken: bool = False) -> DemoResult:
    from torchvision.transforms import v2

    result = DemoResult()
    keras_factor = 0.1
    degrees = keras_factor if broken else keras_factor * 360
    rotation = v2.RandomRotation(degrees)
    torch.manual_seed(0)
    angles = [rotation.make_params([torch.zeros(3, 8, 8)])["angle"] for _ in range(500)]
    result.check("angles span about +-36 degrees", 30 < max(angles) <= 36 and -36 <= min(angles) < -30, min=min(angles), max=max(angles))
    zoom = v2.RandomAffine(degrees=0, scale=(1 - keras_factor, 1 + keras_factor))
    scales = [zoom.make_params([torch.zeros(3, 8, 8)])["scale"] for _ in range(500)]
    result.check("zoom scales within 0.9-1.1", min(scales) >= 0.9 and max(scales) <= 1.1, min=min(scales), max=max(scales))
    return result
