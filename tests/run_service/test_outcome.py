"""One lab run through `execute`: Stop while loading data, GPU OOM as a message, progress and analysis."""

import time
from dataclasses import replace

import torch

import run_service.outcome as outcome
from cifar_core.config import TrainConfig
from cifar_core.data import DataOptions
from run_service.outcome import RunCallbacks, execute

DATA = DataOptions(dataset="synthetic", synthetic_size=400, val_split=0.25)
CFG = TrainConfig(data=DATA, model="fastnet", optimizer="sgd", lr=0.1, batch_size=50, epochs=2)


def _never() -> bool:
    return False


def test_stop_during_data_loading_is_honoured(monkeypatch):
    real = outcome.load_splits
    stop_requested = []

    def slow_load(options):
        stop_requested.append(True)  # the learner presses Stop while the data loads
        time.sleep(0.1)
        return real(options)

    steps = []
    result = execute(CFG, RunCallbacks(on_step=steps.append), should_stop=lambda: bool(stop_requested), load=slow_load)
    assert result.status == "stopped" and result.message == "stopped while loading data" and not steps


def test_gpu_out_of_memory_becomes_a_message(monkeypatch):
    def out_of_memory(*args, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    monkeypatch.setattr(outcome, "train", out_of_memory)
    result = execute(CFG, RunCallbacks(), _never)
    assert result.status == "failed" and "ran out of memory" in result.message


def test_a_run_reports_progress_and_analysis():
    statuses, steps, epochs, described = [], [], [], []
    callbacks = RunCallbacks(on_status=statuses.append, on_data=described.append, on_step=steps.append, on_epoch=epochs.append)
    result = execute(replace(CFG, epochs=2), callbacks, _never)
    assert result.status == "finished" and steps and len(epochs) == 2
    assert statuses == ["loading data", "training", "evaluating"]
    assert result.analysis is not None and result.analysis.probabilities.shape == (100, 10)
    assert "generated offline set" in described[0] and result.data_description == described[0]
