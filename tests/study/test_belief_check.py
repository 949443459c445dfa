"""Which is right (study/belief_check.py): each misconception with a truth is asked as a pair, checked
exactly; picking the belief, or leaving a pair open, is not a pass."""

from dataclasses import replace

import pytest

from qa_bank.schema import Misconception
from study.belief_check import asked_misconceptions, belief_question, check_beliefs

WEIGHTS = Misconception(
    "dropout sets some of the weights to zero", "It zeroes activations.", "dropout sets some of the activations to zero"
)
GRADS = Misconception(
    "model.eval() turns off gradient computation", "That is torch.no_grad().", "torch.no_grad() turns off gradient computation"
)
NO_TRUTH = Misconception("dropout is used at test time", "model.eval() turns it off.")


@pytest.fixture
def item(items):
    return replace(items["resnet-27-model-eval-doing"], misconceptions=(WEIGHTS, NO_TRUTH, GRADS))


def test_only_a_misconception_with_a_truth_is_asked_and_each_pair_is_shuffled(item):
    assert asked_misconceptions(item) == (WEIGHTS, GRADS)
    orders = {belief_question(item, seed).pairs[0] for seed in range(20)}
    assert orders == {(WEIGHTS.belief, WEIGHTS.truth), (WEIGHTS.truth, WEIGHTS.belief)}
    assert all({*pair} == {m.belief, m.truth} for pair, m in zip(belief_question(item, 3).pairs, (WEIGHTS, GRADS), strict=True))
    assert belief_question(replace(item, misconceptions=(NO_TRUTH,)), 0) is None


def test_picking_every_truth_passes(item):
    result = check_beliefs(item, [WEIGHTS.truth, GRADS.truth])
    assert result.passed and (result.right, result.total, result.believed) == (2, 2, ())


def test_a_belief_picked_is_named_and_a_pair_left_open_is_not_a_pass(item):
    believed = check_beliefs(item, [WEIGHTS.truth, GRADS.belief])
    assert not believed.passed and believed.believed == (GRADS,) and believed.right == 1
    open_ = check_beliefs(item, [WEIGHTS.truth, None])
    assert not open_.passed and (open_.right, open_.unanswered, open_.believed) == (1, 1, ())
    assert check_beliefs(item, [WEIGHTS.truth]).unanswered == 1  # a pick missing altogether is open too


def test_only_the_truth_counts_as_right(item):
    # The page offers just the two statements, but a pick that is neither is open, never right.
    stray = check_beliefs(item, ["something else entirely", GRADS.truth])
    assert not stray.passed and (stray.right, stray.unanswered, stray.believed) == (1, 1, ())


def test_a_check_only_pair_is_asked_and_never_read_by_the_grader(item):
    from study.grading import grade

    value = Misconception(
        "CIFAR10 loads the train split with train=False", "train=True.", "CIFAR10 loads the train split with train=True", check_only=True
    )
    asked = replace(item, misconceptions=(WEIGHTS, value))
    assert asked_misconceptions(asked) == (WEIGHTS, value)
    assert check_beliefs(asked, [WEIGHTS.truth, value.belief]).believed == (value,)
    # The typed answer that states the belief is not flagged by the grader for it; the same belief, graded, is.
    said = "CIFAR10 loads the train split with train=False"
    assert not grade(asked, said).misconceptions
    graded = replace(asked, misconceptions=(replace(value, check_only=False),))
    assert [hit.belief for hit in grade(graded, said).misconceptions] == [value.belief]
