"""Progressive resizing: the schedule is parsed strictly, the model really sees small images
first and full-size ones at the end, and models that need 32x32 inputs are refused."""

from dataclasses import replace

import pytest
import torch
from torch import nn

import cifar_core.fast as fast
from cifar_core.config import TrainConfig
from cifar_core.data import DataOptions
from cifar_core.resolution import ResizeStage, parse_resize_schedule, resize_batch, size_at


def test_schedule_parses_into_increasing_stages():
    assert parse_resize_schedule("") == ()
    assert parse_resize_schedule("16:0.3, 24:0.6") == (ResizeStage(16, 0.3), ResizeStage(24, 0.6))


@pytest.mark.parametrize(
    "text, message",
    [
        ("16", "is not SIZE:UNTIL"),
        ("big:0.3", "is not SIZE:UNTIL"),
        ("4:0.3", "size must be 8-31 px"),
        ("32:0.3", "size must be 8-31 px"),
        ("16:1.5", "in (0, 1)"),
        ("16:0.6,24:0.3", "increasing order"),
    ],
)
def test_bad_schedules_name_the_part(text, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_resize_schedule(text)


def test_size_at_follows_the_stages_then_full_size():
    stages = parse_resize_schedule("16:0.3,24:0.6")
    assert [size_at(stages, p) for p in (0.0, 0.29, 0.3, 0.59, 0.6, 0.99)] == [16, 16, 24, 24, None, None]


def test_resize_batch_keeps_flat_images_flat_and_averages_detail():
    flat = torch.full((2, 3, 32, 32), 0.7)
    assert torch.allclose(resize_batch(flat, 16), torch.full((2, 3, 16, 16), 0.7))
    # A one-pixel checkerboard has no place at 16 px: antialiasing turns it into its mean, not a pattern.
    checker = (torch.arange(32)[:, None] + torch.arange(32)[None, :]).remainder(2).float().expand(1, 3, 32, 32)
    small = resize_batch(checker, 16)
    assert small.shape == (1, 3, 16, 16)
    assert small.std() < 0.05 and abs(float(small.mean()) - 0.5) < 0.02


class SizeRecorder(nn.Module):
    """Wraps a model and records the side of every training batch it sees."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner
        self.sizes: list[int] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            self.sizes.append(x.shape[-1])
        return self.inner(x)


def test_training_sees_small_images_first_and_full_size_last(monkeypatch):
    recorders: list[SizeRecorder] = []
    real_build = fast.build_model

    def build(*args, **kwargs):
        recorders.append(SizeRecorder(real_build(*args, **kwargs)))
        return recorders[-1]

    monkeypatch.setattr(fast, "build_model", build)
    cfg = TrainConfig(data=DataOptions(dataset="synthetic", synthetic_size=1000), epochs=2, **fast.FAST_RECIPE)
    result = fast.train(replace(cfg, batch_size=64, resize_schedule="12:0.25,20:0.5"))
    sizes = recorders[0].sizes
    steps = len(sizes)
    assert result.stop_reason == "completed" and result.report is not None  # evaluation ran at full size
    assert sizes == sorted(sizes)  # never back to a smaller size
    assert sizes.count(12) == pytest.approx(0.25 * steps, abs=1)
    assert sizes.count(20) == pytest.approx(0.25 * steps, abs=1)
    assert sizes[-1] == 32


def test_models_that_need_32_pixels_are_refused_and_bad_text_is_reported():
    problems = TrainConfig(model="simplecnn", resize_schedule="16:0.3").problems()
    assert problems == ["resize_schedule needs a model with global pooling; simplecnn takes 32x32 images only"]
    assert TrainConfig(model="fastnet", resize_schedule="16:0.3;24:0.6").problems() == [
        "resize schedule part '16:0.3;24:0.6' is not SIZE:UNTIL (for example 16:0.3,24:0.6)"
    ]
