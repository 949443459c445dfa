"""The fast recipe under a time budget on a simulated clock: each training step is charged a fixed
cost by its image size and each evaluated image and view a fixed cost, so the step count, and with
it the accuracy, does not depend on how busy a shared machine is. Two versions of the trainer
compare on it to the step; the real clock (bench/training.py) says how fast this machine is."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from bench.common import SHARED_CIFAR10, BenchResult

# bf16 step costs at batch 512 on the AVX512-BF16 EPYC (docs/performance.md, 2026-12-02: 24 / 49 /
# 74 ms plus 4 ms a step), and the six-view evaluation's cost per image and view.
STEP_SECONDS = {16: 0.028, 24: 0.053, 32: 0.078}
EVAL_SECONDS_PER_VIEW = 0.09e-3
VIEWS = {0: 1, 1: 2, 2: 6}  # forward passes per image at each test-time augmentation level


@dataclass
class SimulatedClock:
    now: float = 0.0

    def __call__(self) -> float:
        return self.now


def simulated_run(budget: float, seed: int, data_dir: str):
    """One budgeted run of the fast recipe with cifar_core.fast's clock, step and evaluation
    charged as above (the same three names the time-budget tests replace)."""
    import cifar_core.fast as fast
    from cifar_core.config import TrainConfig
    from cifar_core.data import DataOptions
    from cifar_core.recipe import FAST_RECIPE

    clock = SimulatedClock()
    real_step = fast.training_step
    real_collect = fast.collect_logits

    def step(model, inputs, *args, **kwargs):
        clock.now += STEP_SECONDS[inputs.shape[-1]]
        return real_step(model, inputs, *args, **kwargs)

    def collect(model, data, *args, **kwargs):
        clock.now += len(data) * VIEWS[kwargs.get("tta_level", 0)] * EVAL_SECONDS_PER_VIEW
        return real_collect(model, data, *args, **kwargs)

    originals = (fast._clock, fast.training_step, fast.collect_logits)
    fast._clock, fast.training_step, fast.collect_logits = clock, step, collect
    try:
        cfg = TrainConfig(data=DataOptions(data_dir=data_dir), time_budget=budget, seed=seed, **FAST_RECIPE)
        return fast.train(cfg)
    finally:
        fast._clock, fast.training_step, fast.collect_logits = originals


def run(quick: bool) -> BenchResult:
    result = BenchResult("training-sim")
    if not (SHARED_CIFAR10 / "train").is_dir():
        result.add("simulated-clock training", None, "", f"not measured: real CIFAR-10 not found at {SHARED_CIFAR10}")
        return result
    budget = 15.0 if quick else 60.0
    seeds = [0, 1] if quick else [0, 1, 2, 3, 4]
    runs = [simulated_run(budget, seed, str(SHARED_CIFAR10)) for seed in seeds]
    accuracies = [r.report.accuracy for r in runs]
    spread = ", ".join(f"{a:.2%}" for a in accuracies)
    result.add(
        f"fast recipe, simulated --time-budget {budget:.0f}: val accuracy, mean of seeds {seeds[0]}-{seeds[-1]}",
        statistics.mean(accuracies),
        "fraction",
        f"{spread}; {runs[0].steps} steps, {runs[0].seconds:.2f} simulated s used",
    )
    return result
