"""The budget planner on its own: pure arithmetic, no torch and no clock."""

import pytest

from cifar_core.budget import EVAL_SHARE_MAX, SAFETY_FRACTION, SAFETY_SECONDS, plan_budget, stage_spans, step_seconds_at
from cifar_core.resolution import parse_resize_schedule

RECIPE_STAGES = parse_resize_schedule("16:0.3,24:0.6")


def plan(**overrides):
    values = dict(elapsed=2.0, train_start=1.0, step_seconds=0.02, measured_size=16, eval_seconds=3.0, steps_per_epoch=175)
    return plan_budget(60.0, **{**values, **overrides, "stages": overrides.get("stages", RECIPE_STAGES)})


def test_the_deadline_leaves_room_for_the_evaluation_and_a_margin():
    p = plan()
    assert p.deadline == pytest.approx(60.0 - 3.0 - SAFETY_FRACTION * 60.0 - SAFETY_SECONDS)
    assert p.eval_seconds == 3.0


def test_an_evaluation_probe_read_in_a_busy_moment_cannot_take_more_than_its_share():
    p = plan(eval_seconds=45.0)  # a probe that read 15x too slow
    assert p.eval_seconds == EVAL_SHARE_MAX * 60.0
    assert p.deadline == pytest.approx(60.0 * (1 - EVAL_SHARE_MAX - SAFETY_FRACTION) - SAFETY_SECONDS)


def test_each_stage_gets_its_share_of_the_training_window_and_the_steps_that_fit():
    p = plan(elapsed=1.0)  # planned as the first step begins: all of the window is ahead
    window = p.deadline - p.train_start
    assert [s.size for s in p.stages] == [16, 24, 32]
    assert [s.seconds for s in p.stages] == pytest.approx([0.3 * window, 0.3 * window, 0.4 * window])
    # A 24 px step costs (24/16)^2 of the 16 px step measured; a 32 px step four times.
    assert [s.steps for s in p.stages] == [int(0.3 * window / 0.02), int(0.3 * window / 0.045), int(0.4 * window / 0.08)]
    assert p.steps == sum(s.steps for s in p.stages)
    assert p.epochs == pytest.approx(p.steps / 175)


def test_time_already_spent_comes_out_of_the_first_stage():
    early, late = plan(elapsed=1.0), plan(elapsed=6.0)
    assert late.stages[0].seconds == pytest.approx(early.stages[0].seconds - 5.0)
    assert late.stages[1:] == early.stages[1:]


def test_without_resizing_the_whole_window_trains_at_full_size():
    p = plan(stages=(), measured_size=32, step_seconds=0.1, elapsed=1.0)
    assert [(s.size, s.steps) for s in p.stages] == [(32, int((p.deadline - 1.0) / 0.1))]


def test_progress_runs_from_the_first_step_to_the_deadline_and_is_clamped():
    p = plan()
    assert p.progress(p.train_start) == 0.0 and p.progress(0.0) == 0.0
    assert p.progress((p.train_start + p.deadline) / 2) == pytest.approx(0.5)
    assert p.progress(p.deadline + 10) == 1.0
    assert not p.finished(p.deadline - 0.01) and p.finished(p.deadline)


def test_a_budget_too_short_for_the_evaluation_plans_no_more_steps():
    p = plan_budget(5.0, elapsed=4.5, train_start=1.0, step_seconds=0.1, measured_size=32, eval_seconds=1.2, steps_per_epoch=10)
    assert p.deadline < 4.5 and p.steps == 0 and p.finished(4.5)


def test_the_plan_describes_itself_in_one_line():
    text = plan().describe()
    assert "steps at 16 px" in text and "steps at 32 px" in text and "epochs" in text and "\n" not in text


def test_stage_spans_and_step_cost_scale():
    assert stage_spans(RECIPE_STAGES, 32) == [(16, 0.0, 0.3), (24, 0.3, 0.6), (32, 0.6, 1.0)]
    assert step_seconds_at(32, 16, 0.02) == pytest.approx(0.08)
