"""The models the answers talk about: SimpleCNN (first document), ResNet9 (fourth document),
FastNet (our compact net for short time budgets) and torchvision ResNets for transfer learning."""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn

from cifar_core.model_names import FIXED_SIZE_MODELS, MODEL_NAMES  # noqa: F401  (re-exported)

NUM_CLASSES = 10


class SimpleCNN(nn.Module):
    """Three Conv-BN-ReLU-MaxPool blocks (32, 64, 128 channels), then a dropout classifier."""

    def __init__(self, num_classes: int = NUM_CLASSES) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, kernel_size=3, padding=1),
            nn.BatchNorm2d(32),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),  # 32 -> 16
            nn.Conv2d(32, 64, kernel_size=3, padding=1),
            nn.BatchNorm2d(64),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),  # 16 -> 8
            nn.Conv2d(64, 128, kernel_size=3, padding=1),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),  # 8 -> 4
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(128 * 4 * 4, 256),  # 2048 = 128 channels x 4 x 4 after three halvings
            nn.ReLU(inplace=True),
            nn.Dropout(0.5),
            nn.Linear(256, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))  # (B, 3, 32, 32) -> (B, 10)


class IdentityInitConv(nn.Conv2d):
    """3x3 "same" conv whose first in_channels filters start as the identity (dirac), so a
    stack of them starts close to a residual net without the skip connections."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, padding: int | str = "same", bias: bool = False) -> None:
        super().__init__(in_channels, out_channels, kernel_size=kernel_size, padding=padding, bias=bias)

    def reset_parameters(self) -> None:
        super().reset_parameters()
        with torch.no_grad():
            nn.init.dirac_(self.weight[: min(self.in_channels, self.out_channels)])


def conv_bn(in_channels: int, out_channels: int, pool: bool = False, identity: bool = False) -> nn.Sequential:
    """3x3 conv, BatchNorm, ReLU (then a 2x2 max pool); `identity` starts the conv as IdentityInitConv."""
    # No conv bias: BatchNorm's mean subtraction cancels it and BN's beta takes its place.
    conv = IdentityInitConv if identity else nn.Conv2d
    layers: list[nn.Module] = [
        conv(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    ]
    if pool:
        layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers)


class Residual(nn.Module):
    """y = x + F(x): the identity path passes the gradient through unchanged (the "+1")."""

    def __init__(self, body: nn.Module) -> None:
        super().__init__()
        self.body = body

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class GlobalMaxPool(nn.Module):
    """(B, C, H, W) -> (B, C, 1, 1), the largest value of each channel.

    Same result as nn.AdaptiveMaxPool2d(1), but its backward pass is deterministic on CUDA too
    (AdaptiveMaxPool2d's scatters with atomics, which --deterministic refuses)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.amax(dim=(2, 3), keepdim=True)


class ResNet9(nn.Module):
    """The DavidNet-style ResNet9 of the fourth document: 8 conv layers + 1 linear, ~6.57 M parameters."""

    def __init__(self, num_classes: int = NUM_CLASSES) -> None:
        super().__init__()
        self.net = nn.Sequential(
            conv_bn(3, 64),  # (B, 64, 32, 32)
            conv_bn(64, 128, pool=True),  # (B, 128, 16, 16)
            Residual(nn.Sequential(conv_bn(128, 128), conv_bn(128, 128))),
            conv_bn(128, 256, pool=True),  # (B, 256, 8, 8)
            conv_bn(256, 512, pool=True),  # (B, 512, 4, 4)
            Residual(nn.Sequential(conv_bn(512, 512), conv_bn(512, 512))),
            GlobalMaxPool(),
            nn.Flatten(),
            nn.Linear(512, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class FastNet(nn.Module):
    """A compact net for tight time budgets on a laptop CPU (airbench-like, scaled down).

    Downsampling comes early so most convolutions run at 8x8 or less; the logits are scaled down
    so that a high learning rate with label smoothing stays stable. Its one residual block sits
    at 8x8: a second one at 16x16 cost 30% of a 32 px step and bought nothing in a 60 s run on a
    2-core CPU (81.3% with or without it, README), so the minute goes to more steps instead.

    The stem is 24 wide: with whitening, 12 of the 27 directions of a 3x3 RGB patch (and their
    negations) instead of 8. The finer detail is worth more than the steps it costs: +0.6 points
    at --time-budget 15 (seeds 0-5, side by side) and +0.8 at 60 (seeds 0-1) on a 2-core CPU;
    32 wide did worse than 24 (README).
    """

    def __init__(self, widths: tuple[int, int, int] = (24, 32, 64), num_classes: int = NUM_CLASSES, logit_scale: float = 0.125) -> None:
        super().__init__()
        w1, w2, w3 = widths
        # Every conv after the stem starts as the identity on its shared channels (airbench's
        # initialisation): the untrained net passes the whitened image through instead of scrambling
        # it. With Muon, +0.5 points at --time-budget 60 on a simulated clock (README).
        self.net = nn.Sequential(
            stem(w1),  # (B, w1, 16, 16)
            conv_bn(w1, w2, pool=True, identity=True),  # (B, w2, 8, 8)
            conv_bn(w2, w3, identity=True),
            Residual(conv_bn(w3, w3, identity=True)),
            nn.MaxPool2d(2),  # (B, w3, 4, 4)
            conv_bn(w3, w3, identity=True),
            GlobalMaxPool(),
            nn.Flatten(),
            nn.Linear(w3, num_classes, bias=False),
        )
        self.logit_scale = logit_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x) * self.logit_scale


def stem(out_channels: int) -> nn.Sequential:
    """Conv, ReLU, pool: no BatchNorm. The fast recipe sets these filters to the data's whitening
    filters and freezes them (cifar_core/whitening.py), so their outputs already have unit variance;
    and with nothing trainable here the next conv needs no input gradient, which makes a 32 px
    training step 16% cheaper on a 2-core CPU (measured in the training loop, README)."""
    return nn.Sequential(nn.Conv2d(3, out_channels, kernel_size=3, padding=1, bias=False), nn.ReLU(inplace=True), nn.MaxPool2d(2))


class FrozenScaleBatchNorm(nn.BatchNorm2d):
    """BatchNorm whose scale stays 1 (only the shift learns), with fast-moving running statistics.

    A frozen scale costs nothing at this width and lets the BN shifts take a 64x learning rate
    (see cifar_core/speedrun.py); momentum 0.4 lets the running statistics keep up with weights
    that move fast, which the lookahead averaging relies on.
    """

    def __init__(self, channels: int, momentum: float = 0.4) -> None:
        super().__init__(channels, eps=1e-12, momentum=momentum)
        self.weight.requires_grad_(False)


class ConvPoolBlock(nn.Sequential):
    """conv -> maxpool 2 -> BN -> GELU -> conv -> BN -> GELU: halves the side, changes the width."""

    def __init__(self, in_channels: int, out_channels: int, bn_momentum: float) -> None:
        super().__init__(
            IdentityInitConv(in_channels, out_channels),
            nn.MaxPool2d(2),
            FrozenScaleBatchNorm(out_channels, bn_momentum),
            nn.GELU(),
            IdentityInitConv(out_channels, out_channels),
            FrozenScaleBatchNorm(out_channels, bn_momentum),
            nn.GELU(),
        )


class SpeedNet(nn.Module):
    """The GPU speedrun's net (airbench94's architecture): a 2x2 patch-whitening conv, then three
    conv-pool blocks (64, 256, 256 wide by default), global max pool and a bias-free linear head.

    (B, 3, 32, 32) -> whiten (B, 24, 31, 31) -> (B, 64, 15, 15) -> (B, 256, 7, 7) -> (B, 256, 3, 3) -> (B, 10)
    """

    def __init__(
        self,
        widths: tuple[int, int, int] = (64, 256, 256),
        num_classes: int = NUM_CLASSES,
        whiten_kernel: int = 2,
        bn_momentum: float = 0.4,
        logit_scale: float = 1 / 9,
    ) -> None:
        super().__init__()
        whiten_width = 2 * 3 * whiten_kernel**2  # every patch direction and its negation
        self.whiten = nn.Conv2d(3, whiten_width, kernel_size=whiten_kernel, padding=0, bias=True)
        nn.init.zeros_(self.whiten.bias)
        w1, w2, w3 = widths
        self.blocks = nn.Sequential(
            nn.GELU(),
            ConvPoolBlock(whiten_width, w1, bn_momentum),
            ConvPoolBlock(w1, w2, bn_momentum),
            ConvPoolBlock(w2, w3, bn_momentum),
            GlobalMaxPool(),
            nn.Flatten(),
        )
        self.head = nn.Linear(w3, num_classes, bias=False)
        self.logit_scale = logit_scale  # small logits keep the high learning rate stable

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.whiten(x))) * self.logit_scale


def _cached_weights_path(weights: object) -> Path:
    url: str = weights.url  # type: ignore[attr-defined]
    return Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[-1]


def torchvision_resnet(name: str, num_classes: int = NUM_CLASSES, pretrained: bool = False) -> tuple[nn.Module, str]:
    """A torchvision ResNet-18/50 with a new `fc` head, and a message saying where its weights came from.

    Pretrained weights load only if they are already in the local torch cache: nothing is ever
    downloaded, so this never hangs offline.
    """
    from torchvision import models

    builders = {
        "resnet18": (models.resnet18, models.ResNet18_Weights.DEFAULT),
        "resnet50": (models.resnet50, models.ResNet50_Weights.DEFAULT),
    }
    builder, weights = builders[name]
    model = builder(weights=None)
    message = f"{name}: random initialisation"
    if pretrained:
        cached = _cached_weights_path(weights)
        if cached.is_file():
            model.load_state_dict(torch.load(cached, map_location="cpu", weights_only=True))
            message = f"{name}: ImageNet weights from the local cache ({cached})"
        else:
            message = (
                f"{name}: pretrained weights are not in the local cache ({cached}); using random initialisation (nothing is downloaded)"
            )
            warnings.warn(message, stacklevel=2)
    model.fc = nn.Linear(model.fc.in_features, num_classes)
    return model, message


def build_model(name: str, num_classes: int = NUM_CLASSES, pretrained: bool = False) -> nn.Module:
    """Any model of MODEL_NAMES by name."""
    if name == "simplecnn":
        return SimpleCNN(num_classes)
    if name == "resnet9":
        return ResNet9(num_classes)
    if name == "fastnet":
        return FastNet(num_classes=num_classes)
    if name in ("resnet18", "resnet50"):
        return torchvision_resnet(name, num_classes, pretrained)[0]
    raise ValueError(f"unknown model '{name}' (choose from {', '.join(MODEL_NAMES)})")


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
