"""The fast trainer and the background run: NaN losses, Stop at any phase, bad configs, GPU OOM."""

import time
from dataclasses import replace

import pytest
import torch
from torch import nn

import cifar_core.background as background
import cifar_core.fast as fast
from cifar_core.background import BackgroundRun
from cifar_core.config import ConfigError, TrainConfig
from cifar_core.data import DataOptions

DATA = DataOptions(dataset="synthetic", synthetic_size=400, val_split=0.25)
CFG = TrainConfig(data=DATA, model="fastnet", optimizer="sgd", lr=0.1, batch_size=50, epochs=2)


class _ExplodesAtStep(nn.Module):
    def __init__(self, inner: nn.Module, step: int) -> None:
        super().__init__()
        self.inner, self.step, self.calls = inner, step, 0

    def forward(self, x):
        self.calls += 1
        out = self.inner(x)
        return out * float("inf") if self.training and self.calls >= self.step else out


def test_nan_loss_stops_the_run_with_the_reason(monkeypatch):
    real = fast.build_model
    monkeypatch.setattr(fast, "build_model", lambda *a, **k: _ExplodesAtStep(real(*a, **k), step=3))
    result = fast.train(CFG)
    assert result.stop_reason.startswith("loss became nan at step 3") or result.stop_reason.startswith("loss became inf at step 3")
    assert result.steps == 2 and result.report is None


def test_stop_during_evaluation_is_honoured():
    calls = []

    def stop_on_first_eval_batch() -> bool:
        calls.append(1)
        return len(calls) >= 7  # 6 polls before the 6 training steps, the 7th in evaluation

    result = fast.train(replace(CFG, epochs=1), should_stop=stop_on_first_eval_batch)
    assert result.stop_reason == "stopped" and result.steps == 6 and result.report is None


def test_stop_during_data_loading_is_honoured(monkeypatch):
    real = background.load_splits

    def slow_load(options):
        time.sleep(0.5)
        return real(options)

    monkeypatch.setattr(background, "load_splits", slow_load)
    run = BackgroundRun(CFG).start()
    run.stop()
    run.join(timeout=30)
    snapshot = run.snapshot()
    assert snapshot.status == "stopped" and snapshot.message == "stopped while loading data" and not snapshot.steps


def test_impossible_configuration_is_rejected_before_a_thread_starts():
    with pytest.raises(ConfigError) as caught:
        BackgroundRun(replace(CFG, batch_size=0, lr=100.0))
    assert len(caught.value.problems) == 2


def test_gpu_out_of_memory_becomes_a_message(monkeypatch):
    def out_of_memory(*args, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    monkeypatch.setattr(background, "train", out_of_memory)
    run = BackgroundRun(CFG).start()
    run.join(timeout=30)
    snapshot = run.snapshot()
    assert snapshot.status == "failed" and "ran out of memory" in snapshot.message


def test_background_run_reports_progress_and_analysis():
    run = BackgroundRun(replace(CFG, epochs=2)).start()
    run.join(timeout=120)
    snapshot = run.snapshot()
    assert snapshot.status == "finished" and snapshot.steps and len(snapshot.epochs) == 2
    assert snapshot.analysis is not None and snapshot.analysis.probabilities.shape == (100, 10)
    assert "generated offline set" in snapshot.data_description
