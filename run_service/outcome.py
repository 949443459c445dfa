"""One lab training run from start to analysis, reported through callbacks.

`execute` is what the run service's worker processes (local and Ray) call. It never raises for a
run that goes wrong (the learner gets a status and a message), and what it returns holds no
model, so it can cross a process boundary."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from cifar_core.config import TrainConfig
from cifar_core.data import DataOptions, DataSplits, load_splits
from cifar_core.fast import DeviceData, EpochInfo, StepInfo, TrainResult, collect_logits, train
from cifar_core.gradcam import grad_cam
from cifar_core.metrics import EvalReport


@dataclass
class RunAnalysis:
    """What the page shows after a run: predictions on the validation split and a few examples."""

    probabilities: np.ndarray  # (N, C)
    targets: np.ndarray  # (N,)
    misclassified: list[tuple[np.ndarray, str, str]]  # (image HWC uint8, true class, predicted class)
    gradcams: list[tuple[np.ndarray, np.ndarray, str]]  # (image, heatmap HxW in [0, 1], caption)


@dataclass
class RunOutcome:
    """The end of a run: status "finished", "stopped" or "failed", with the figures to show."""

    status: str
    message: str = ""
    config: TrainConfig | None = None
    report: EvalReport | None = None  # on the validation split
    steps: int = 0
    seconds: float = 0.0  # inside train(): the time budget's clock
    training_seconds: float = 0.0  # of which up to the last training step
    device: str = ""
    data_description: str = ""
    analysis: RunAnalysis | None = None


@dataclass
class RunCallbacks:
    """Where a run reports as it goes; every callback is optional."""

    on_status: Callable[[str], None] = lambda status: None  # "loading data", "training", "evaluating"
    on_data: Callable[[str], None] = lambda description: None
    on_step: Callable[[StepInfo], None] = lambda info: None
    on_epoch: Callable[[EpochInfo], None] = lambda info: None


def execute(
    cfg: TrainConfig,
    callbacks: RunCallbacks,
    should_stop: Callable[[], bool],
    load: Callable[[DataOptions], DataSplits] = load_splits,
) -> RunOutcome:
    """Load the data, train, analyse; a failure anywhere becomes a "failed" outcome with a reason."""
    try:
        callbacks.on_status("loading data")
        splits = load(cfg.data)
        callbacks.on_data(splits.description)
        if should_stop():
            return RunOutcome("stopped", "stopped while loading data", cfg, data_description=splits.description)
        callbacks.on_status("training")
        result = train(cfg, callbacks.on_step, callbacks.on_epoch, should_stop, splits=splits)
    except torch.cuda.OutOfMemoryError:
        return RunOutcome("failed", "the GPU ran out of memory: lower the batch size or pick a smaller model", cfg)
    except Exception as error:  # the page shows the reason; the app keeps working
        return RunOutcome("failed", f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}", cfg)
    outcome = _outcome_of(result)
    if outcome.status != "finished":
        return outcome
    callbacks.on_status("evaluating")
    try:
        outcome.analysis = analyse(result, splits)
    except Exception as error:  # the accuracy stands; only the pictures are missing
        outcome.message = f"analysis failed: {error}"
    return outcome


def _outcome_of(result: TrainResult) -> RunOutcome:
    if result.stop_reason == "stopped":
        status, message = "stopped", "stopped by you"
    elif result.stop_reason != "completed":
        status, message = "failed", result.stop_reason
    else:
        status, message = "finished", ""
    return RunOutcome(
        status, message, result.config, result.report, steps=result.steps, seconds=result.seconds,
        training_seconds=result.training_seconds, device=result.device, data_description=result.data_description,
    )  # fmt: skip


def analyse(result: TrainResult, splits: DataSplits, examples: int = 8) -> RunAnalysis:
    device = next(result.model.parameters()).device
    val = DeviceData.from_arrays(splits.val.images, splits.val.labels, device)
    mean = torch.tensor(result.mean, device=device).view(1, 3, 1, 1)
    std = torch.tensor(result.std, device=device).view(1, 3, 1, 1)
    logits = collect_logits(result.model, val, mean, std)
    probabilities = logits.softmax(1).cpu().numpy()
    predicted = probabilities.argmax(1)
    wrong = np.flatnonzero(predicted != splits.val.labels)[:examples]
    names = result.classes
    misclassified = [(splits.val.images[i], names[splits.val.labels[i]], names[predicted[i]]) for i in wrong]
    last_conv = [m for m in result.model.modules() if isinstance(m, torch.nn.Conv2d)][-1]
    gradcams = []
    for index in wrong[:4]:
        image = ((torch.from_numpy(splits.val.images[index]).permute(2, 0, 1)[None].float().to(device) / 255) - mean) / std
        with torch.enable_grad():
            cam = grad_cam(result.model.eval(), last_conv, image.requires_grad_(), int(predicted[index]))
        heat = torch.nn.functional.interpolate(cam[None, None].detach(), size=(32, 32), mode="bilinear")[0, 0].cpu().numpy()
        gradcams.append((splits.val.images[index], heat, f"predicted {names[predicted[index]]}, truly {names[splits.val.labels[index]]}"))
    return RunAnalysis(probabilities, splits.val.labels, misclassified, gradcams)
