"""A training run in a worker thread, for the app's Labs page. It never calls Streamlit: the page
polls `snapshot()`; `stop()` is honoured within one training or evaluation step."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from cifar_core.config import TrainConfig
from cifar_core.data import DataSplits, load_splits
from cifar_core.fast import DeviceData, EpochInfo, StepInfo, TrainResult, collect_logits, train


@dataclass
class RunAnalysis:
    """What the page shows after a run: predictions on the validation split and a few examples."""

    probabilities: np.ndarray  # (N, C)
    targets: np.ndarray  # (N,)
    misclassified: list[tuple[np.ndarray, str, str]]  # (image HWC uint8, true class, predicted class)
    gradcams: list[tuple[np.ndarray, np.ndarray, str]]  # (image, heatmap HxW in [0, 1], caption)


@dataclass
class RunSnapshot:
    status: str  # "loading data", "training", "evaluating", "finished", "stopped", "failed"
    steps: list[StepInfo] = field(default_factory=list)
    epochs: list[EpochInfo] = field(default_factory=list)
    message: str = ""
    result: TrainResult | None = None
    analysis: RunAnalysis | None = None
    data_description: str = ""


class BackgroundRun:
    def __init__(self, cfg: TrainConfig) -> None:
        self.cfg = cfg.validated()  # an impossible configuration fails here, before any thread starts
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._state = RunSnapshot("loading data")
        self._thread = threading.Thread(target=self._run, name="training-run", daemon=True)
        self.started_at = time.time()

    def start(self) -> BackgroundRun:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def snapshot(self) -> RunSnapshot:
        with self._lock:
            state = self._state
            return RunSnapshot(
                state.status, list(state.steps), list(state.epochs), state.message, state.result, state.analysis, state.data_description
            )

    def _update(self, **changes) -> None:
        with self._lock:
            for key, value in changes.items():
                setattr(self._state, key, value)

    def _on_step(self, info: StepInfo) -> None:
        with self._lock:
            self._state.status = "training"
            self._state.steps.append(info)

    def _on_epoch(self, info: EpochInfo) -> None:
        with self._lock:
            self._state.epochs.append(info)

    def _run(self) -> None:
        try:
            splits = load_splits(self.cfg.data)
            self._update(data_description=splits.description)
            if self._stop.is_set():
                self._update(status="stopped", message="stopped while loading data")
                return
            result = train(self.cfg, self._on_step, self._on_epoch, self._stop.is_set, splits=splits)
        except torch.cuda.OutOfMemoryError:
            self._update(status="failed", message="the GPU ran out of memory: lower the batch size or pick a smaller model")
            return
        except Exception as error:  # the page shows the reason; the app keeps working
            self._update(status="failed", message=f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}")
            return
        if result.stop_reason == "stopped":
            self._update(status="stopped", message="stopped by you", result=result)
            return
        if result.stop_reason != "completed":
            self._update(status="failed", message=result.stop_reason, result=result)
            return
        self._update(status="evaluating", result=result)
        try:
            analysis = analyse(result, splits)
        except Exception as error:
            self._update(status="finished", message=f"analysis failed: {error}")
            return
        self._update(status="finished", analysis=analysis)


def analyse(result: TrainResult, splits: DataSplits, examples: int = 8) -> RunAnalysis:
    from cifar_core.demos.evaluation import grad_cam

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
