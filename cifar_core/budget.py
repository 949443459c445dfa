"""Planning a time budget: how much of it can train, and what that buys at each resolution.

The fast trainer times a few steps and a small evaluation at the start of a run, then asks this
planner when training must stop so that the final evaluation still fits. Pure arithmetic (no
torch, no clock), so the plan is tested on its own and shown to the learner before it runs.

Under a budget the schedule follows elapsed time, not steps: the learning rate and the image size
are functions of `progress(elapsed)`, so the run ends on time however fast the machine turns out
to be, and the step and epoch counts here are estimates for the progress bar.
"""

from __future__ import annotations

from dataclasses import dataclass

from cifar_core.resolution import ResizeStage

SAFETY_FRACTION = 0.03  # of the budget, kept free for jitter on a noisy machine
SAFETY_SECONDS = 0.3  # and a fixed margin: building the report after the last evaluation batch
EVAL_SHARE_MAX = 0.25  # of the budget, the most the plan keeps for the final evaluation


@dataclass(frozen=True)
class StagePlan:
    size: int  # pixels per side
    seconds: float  # training time left in this stage
    steps: int  # steps that fit in it at the measured step time
    epochs: float  # passes over the training split those steps make


@dataclass(frozen=True)
class BudgetPlan:
    budget: float  # seconds for everything inside train()
    train_start: float  # elapsed seconds when the first timed step began
    deadline: float  # elapsed seconds after which no new training step starts
    eval_seconds: float  # kept for the final evaluation
    stages: tuple[StagePlan, ...]  # what the rest of the run trains on, smallest images first

    @property
    def steps(self) -> int:
        return sum(stage.steps for stage in self.stages)

    @property
    def epochs(self) -> float:
        return sum(stage.epochs for stage in self.stages)

    def progress(self, elapsed: float) -> float:
        """Share of the training window gone at `elapsed`: 0 at the first step, 1 at the deadline."""
        window = max(self.deadline - self.train_start, 1e-9)
        return min(max((elapsed - self.train_start) / window, 0.0), 1.0)

    def finished(self, elapsed: float) -> bool:
        return elapsed >= self.deadline

    def describe(self) -> str:
        parts = ", ".join(f"{s.steps} steps at {s.size} px" for s in self.stages if s.steps)
        return f"plan: train until {self.deadline:.1f} s ({parts}; {self.epochs:.1f} epochs), evaluate in {self.eval_seconds:.1f} s"


def stage_spans(stages: tuple[ResizeStage, ...], full_size: int) -> list[tuple[int, float, float]]:
    """(size, start, end) shares of the training window for each stage, ending at full size."""
    spans, start = [], 0.0
    for stage in stages:
        spans.append((stage.size, start, stage.until))
        start = stage.until
    spans.append((full_size, start, 1.0))
    return spans


def step_seconds_at(size: int, measured_size: int, measured_seconds: float) -> float:
    """A step's cost at `size` px, scaled from one measured at `measured_size` by pixel count.

    Convolutions cost in proportion to pixels; the fixed costs per step make a small image a
    little dearer than this (measured on a 2-core CPU: 16 px costs 0.29 of 32 px, not 0.25), so
    the step counts are a slight overestimate and the deadline, not the count, ends the run."""
    return measured_seconds * (size / measured_size) ** 2


def plan_budget(
    budget: float,
    *,
    elapsed: float,
    train_start: float,
    step_seconds: float,
    measured_size: int,
    eval_seconds: float,
    steps_per_epoch: int,
    stages: tuple[ResizeStage, ...] = (),
    full_size: int = 32,
) -> BudgetPlan:
    """The plan once a step (at `measured_size` px) and the final evaluation have been timed.

    `elapsed` is now and `train_start` when the first timed step began, both in seconds since the
    run started; the budget covers everything from the run's start to the end of the evaluation."""
    # The evaluation probe is timed once, early; on a busy shared machine it can read several
    # times too high and the run would train for half its budget. An evaluation that truly needs
    # more than this share overruns instead: the budget is too short for the split.
    eval_seconds = min(eval_seconds, EVAL_SHARE_MAX * budget)
    deadline = budget - eval_seconds - SAFETY_FRACTION * budget - SAFETY_SECONDS
    plan = BudgetPlan(budget, train_start, deadline, eval_seconds, ())
    now = plan.progress(elapsed)
    window = max(deadline - train_start, 0.0)
    planned = []
    for size, start, end in stage_spans(stages, full_size):
        seconds = max(0.0, end - max(start, now)) * window
        steps = int(seconds / step_seconds_at(size, measured_size, step_seconds))
        planned.append(StagePlan(size, seconds, steps, steps / steps_per_epoch))
    return BudgetPlan(budget, train_start, deadline, eval_seconds, tuple(planned))
