"""Pacing: what sets the learning rate, how far into the run a step is, and when the run ends.

The fast trainer's loop (cifar_core/fast.py) asks its pace before and after every step. An
EpochPace counts steps and leaves the learning rate to a torch scheduler; a BudgetPace follows
the clock, so a time-budgeted run ends its schedule exactly at its deadline on any machine."""

from __future__ import annotations

import torch

from cifar_core.budget import BudgetPlan

# Share of a budgeted run spent ramping the learning rate up. With Muon, 10% did 0.4 points better
# than 25% or 3% (60 s on a 2-core CPU, seeds 0-1, simulated clock: within the spread of one run).
BUDGET_WARMUP = 0.1


class EpochPace:
    """A fixed number of epochs, validated after each; the run's torch scheduler sets the LR."""

    validates_each_epoch = True

    def __init__(self, scheduler: torch.optim.lr_scheduler.LRScheduler | None, per_batch: bool, epochs: int, steps_per_epoch: int) -> None:
        self.scheduler = scheduler
        self.per_batch = per_batch  # One Cycle steps after every batch, the others after every epoch
        self.epochs = epochs
        self.total_steps = steps_per_epoch * epochs

    def progress(self, step: int, elapsed: float) -> float:
        return step / self.total_steps

    def set_lr(self, optimizer: torch.optim.Optimizer, progress: float) -> None:
        pass  # the scheduler moved it after the previous step or epoch

    def finished(self, step: int, elapsed: float) -> bool:
        return step >= self.total_steps

    def after_step(self) -> None:
        if self.scheduler is not None and self.per_batch:
            self.scheduler.step()

    def after_epoch(self, epoch: int) -> bool:
        """Whether another epoch follows."""
        if self.scheduler is not None and not self.per_batch:
            self.scheduler.step()
        return epoch < self.epochs

    def seconds_left(self, step: int, elapsed: float) -> float:
        return (self.total_steps - step) * elapsed / max(step, 1)


def one_cycle_lr(progress: float, peak: float, warmup: float = BUDGET_WARMUP, start_div: float = 25.0) -> float:
    """Linear ramp from peak/start_div to peak over `warmup` of the run, then linear decay to 0.

    `progress` is the elapsed share of the training time, so the schedule ends exactly at the
    deadline however fast the machine runs."""
    progress = min(max(progress, 0.0), 1.0)
    if progress < warmup:
        return peak / start_div + (peak - peak / start_div) * progress / warmup
    return peak * (1.0 - progress) / (1.0 - warmup)


class BudgetPace:
    """A time budget: the learning rate and the image size follow elapsed time, and the run ends at
    the plan's deadline. Until `start(plan)` (after calibration, cifar_core/fast.py) the steps run
    at the starting learning rate and the run has no deadline."""

    validates_each_epoch = False  # every second of the budget goes to training

    def __init__(self, optimizer: torch.optim.Optimizer, budget: float) -> None:
        self.budget = budget  # seconds, for training plus the final evaluation
        self.plan: BudgetPlan | None = None
        self.steps_at_plan = 0
        for group in optimizer.param_groups:
            group["initial_lr"] = group["lr"]  # each group's peak: Muon's filters have their own (cfg.muon_lr)
        self.set_lr(optimizer, 0.0)

    def start(self, plan: BudgetPlan, step: int) -> None:
        """Follow `plan` from `step` on: the steps before it were the calibration's."""
        self.plan = plan
        self.steps_at_plan = step

    @property
    def total_steps(self) -> int:
        return self.steps_at_plan + self.plan.steps if self.plan is not None else 0  # 0: not planned yet

    def progress(self, step: int, elapsed: float) -> float:
        return self.plan.progress(elapsed) if self.plan is not None else 0.0

    def set_lr(self, optimizer: torch.optim.Optimizer, progress: float) -> None:
        for group in optimizer.param_groups:
            group["lr"] = one_cycle_lr(progress, group["initial_lr"])

    def finished(self, step: int, elapsed: float) -> bool:
        return self.plan is not None and self.plan.finished(elapsed)

    def after_step(self) -> None:
        pass  # set_lr reads the clock before the next step

    def after_epoch(self, epoch: int) -> bool:
        return True  # the deadline ends the run, not an epoch count

    def seconds_left(self, step: int, elapsed: float) -> float:
        return max(0.0, self.budget - elapsed)
