"""The fast trainer: NaN losses, Stop during evaluation, bad configs."""

from dataclasses import replace

import pytest
from torch import nn

import cifar_core.fast as fast
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


def test_impossible_configuration_lists_every_problem():
    with pytest.raises(ConfigError) as caught:
        replace(CFG, batch_size=0, lr=100.0).validated()
    assert len(caught.value.problems) == 2


def test_each_epochs_learning_rate_is_the_one_its_steps_used():
    # As the classic script records it: the epoch's rate, not the next epoch's (the scheduler steps after the epoch).
    result = fast.train(replace(CFG, scheduler="step", step_size=1, gamma=0.1))
    steps = fast.steps_per_epoch(300, CFG.batch_size)
    used = [result.history["step_lr"][(epoch + 1) * steps - 1] for epoch in range(2)]
    assert used == pytest.approx([0.1, 0.01])
    assert result.history["lr"] == pytest.approx(used)
