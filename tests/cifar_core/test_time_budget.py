"""The time-budget planner, on a simulated clock: training plus the final evaluation fit inside
the budget and use most of it. Deterministic: no wall-clock time is asserted."""

from dataclasses import replace

import cifar_core.fast as fast
from cifar_core.config import TrainConfig
from cifar_core.data import DataOptions
from cifar_core.pace import BUDGET_WARMUP

STEP_SECONDS = 0.1  # simulated cost of one training step
EVAL_SECONDS_PER_IMAGE = STEP_SECONDS / 64 * 0.5  # one forward pass: half a training image's cost


class SimulatedClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def run_on_simulated_clock(
    monkeypatch, budget: float, eval_seconds_per_image: float = EVAL_SECONDS_PER_IMAGE, probe_slowdown: float = 1.0
) -> fast.TrainResult:
    clock, evaluations = SimulatedClock(), []
    real_step, real_collect = fast.training_step, fast.collect_logits

    def step(*args, **kwargs):
        clock.now += STEP_SECONDS
        return real_step(*args, **kwargs)

    def collect(model, data, *args, **kwargs):
        evaluations.append(len(data))
        busy = probe_slowdown if len(evaluations) <= 3 else 1.0  # the probe's three passes come first
        views = {0: 1, 1: 2, 2: 6}[kwargs.get("tta_level", 0)]  # forward passes per image
        clock.now += len(data) * eval_seconds_per_image * views * busy
        return real_collect(model, data, *args, **kwargs)

    monkeypatch.setattr(fast, "_clock", clock)
    monkeypatch.setattr(fast, "training_step", step)
    monkeypatch.setattr(fast, "collect_logits", collect)
    cfg = TrainConfig(data=DataOptions(dataset="synthetic", synthetic_size=1000), time_budget=budget, **fast.FAST_RECIPE)
    return fast.train(replace(cfg, batch_size=64))


def test_training_and_evaluation_fit_inside_the_budget(monkeypatch):
    for budget in (5.0, 12.0):
        result = run_on_simulated_clock(monkeypatch, budget)
        assert result.stop_reason == "completed" and result.report is not None
        assert result.seconds <= budget, (budget, result.seconds)
        assert result.seconds >= 0.85 * budget, (budget, result.seconds)  # the budget is used, not wasted
        assert abs(result.steps - int(0.85 * budget / STEP_SECONDS)) <= int(0.15 * budget / STEP_SECONDS)


def test_a_slow_evaluation_is_measured_and_still_fits(monkeypatch):
    # Evaluation 5x dearer than usual (a slow device, a big validation split), six views an image,
    # still inside its quarter of the budget: the planner times it on a probe and stops training
    # earlier instead of overrunning.
    budget = 12.0
    result = run_on_simulated_clock(monkeypatch, budget, eval_seconds_per_image=5 * EVAL_SECONDS_PER_IMAGE)
    assert result.stop_reason == "completed" and result.report is not None
    assert result.seconds <= budget, result.seconds
    usual = run_on_simulated_clock(monkeypatch, budget)
    assert result.steps < usual.steps - 10  # the extra evaluation time came out of training


def test_an_evaluation_probe_timed_in_a_busy_moment_does_not_starve_training(monkeypatch):
    # Another process took the cores while the probe ran: it reads 10x too slow. The plan keeps at
    # most a quarter of the budget for evaluation, so training still gets most of the budget.
    budget = 12.0
    result = run_on_simulated_clock(monkeypatch, budget, probe_slowdown=10.0)
    assert result.training_seconds >= 0.65 * budget, result.training_seconds
    assert result.seconds <= budget


def test_learning_rate_follows_one_cycle_over_the_budget(monkeypatch):
    result = run_on_simulated_clock(monkeypatch, 10.0)
    lrs = result.history["step_lr"]
    peak = max(range(len(lrs)), key=lrs.__getitem__)
    assert abs(peak / len(lrs) - BUDGET_WARMUP) < 0.08  # the warm-up's share of the run, then the decay
    assert lrs[-1] < 0.1 * max(lrs)  # annealed by the end
