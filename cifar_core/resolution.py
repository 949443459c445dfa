"""Progressive resizing: the early part of a run trains on downsampled images.

A 16x16 step costs a fifth of a 32x32 one on this CPU (24x24: under half), and early in training
the model learns coarse shapes and colours that survive downsampling. The run ends at full size,
so the final weights and BatchNorm statistics match the images they are evaluated on.

A schedule is written "SIZE:UNTIL,...": "16:0.3,24:0.6" trains at 16 px for the first 30% of the
run, 24 px until 60%, then 32 px. The share is of elapsed time under a time budget, of steps
otherwise. Torch is imported only when a batch is resized, so the config can validate cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

MIN_SIZE = 8  # FastNet pools three times; below 8 px nothing is left to pool
RECIPE_SCHEDULE = "16:0.3,24:0.6"  # the fast recipe's: 80.6% against 77.3% without, --time-budget 60 here (README)


@dataclass(frozen=True)
class ResizeStage:
    size: int  # pixels per side while this stage lasts
    until: float  # share of the run (0-1) at which the stage ends


def parse_resize_schedule(text: str, full_size: int = 32) -> tuple[ResizeStage, ...]:
    """Stages of a "SIZE:UNTIL,..." schedule; "" is no resizing. Raises ValueError naming the bad part."""
    stages: list[ResizeStage] = []
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        size_text, _, until_text = part.partition(":")
        try:
            stage = ResizeStage(int(size_text), float(until_text))
        except ValueError:
            raise ValueError(f"resize schedule part '{part}' is not SIZE:UNTIL (for example 16:0.3,24:0.6)") from None
        if not MIN_SIZE <= stage.size < full_size:
            raise ValueError(f"resize schedule part '{part}': size must be {MIN_SIZE}-{full_size - 1} px (the full size is {full_size})")
        if not 0 < stage.until < 1:
            raise ValueError(f"resize schedule part '{part}': UNTIL is a share of the run, in (0, 1)")
        if stages and stage.until <= stages[-1].until:
            raise ValueError(f"resize schedule part '{part}': stages must end in increasing order")
        stages.append(stage)
    return tuple(stages)


def size_at(stages: tuple[ResizeStage, ...], progress: float) -> int | None:
    """The size to train at, `progress` (0-1) into the run; None means full size."""
    for stage in stages:
        if progress < stage.until:
            return stage.size
    return None


def resize_batch(images: torch.Tensor, size: int) -> torch.Tensor:
    """(B, C, H, W) floats to (B, C, size, size), antialiased so small images do not alias."""
    import torch.nn.functional as F

    return F.interpolate(images, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
