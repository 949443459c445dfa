"""What the Quiz's exact checks do to a suggested rating (study/self_check.py): on an item that asks
one, a Good or Easy stands only once every check it asks is passed; Again and Hard are never raised."""

from dataclasses import replace

import pytest

from qa_bank.schema import Misconception, Role
from study.belief_check import check_beliefs
from study.roles_check import check_roles
from study.self_check import asks_checks, held_because, rating_after_checks, self_checks

ROLES = (Role("gamma", "scales the normalised activations"), Role("beta", "shifts the normalised activations"))
BELIEF = Misconception("BatchNorm normalises the weights", "It normalises activations.", "BatchNorm normalises the activations")


@pytest.fixture
def item(items):
    return replace(items["resnet-08-batch-normalization-batchnorm"], roles=ROLES, misconceptions=(BELIEF,))


def test_an_item_asks_the_checks_it_has_data_for(item):
    assert [c.todo for c in self_checks(item, None, None)] == ["match the roles", "pick the right statements"]
    assert [c.todo for c in self_checks(replace(item, roles=()), None, None)] == ["pick the right statements"]
    no_truth = replace(item, roles=(), misconceptions=(replace(BELIEF, truth=""),))
    assert self_checks(no_truth, None, None) == []
    assert asks_checks(item) and asks_checks(replace(item, roles=())) and not asks_checks(no_truth)
    assert rating_after_checks("Easy", []) == "Easy" and held_because("Easy", []) == ""


def test_a_good_waits_for_every_check_and_says_which(item):
    # Unchecked, a fluent swap or a stated belief would keep the grader's Good: its wording alone cannot earn it.
    roles_right = check_roles(item, {r.does: r.subject for r in ROLES})
    checks = self_checks(item, roles_right, None)
    assert rating_after_checks("Good", checks) == "Hard"
    assert held_because("Good", checks) == "your answer reads Good: pick the right statements to earn it"
    assert held_because("Easy", self_checks(item, None, None)) == (
        "your answer reads Easy: match the roles and pick the right statements to earn it"
    )
    passed = self_checks(item, roles_right, check_beliefs(item, [BELIEF.truth]))
    assert rating_after_checks("Good", passed) == "Good" and held_because("Good", passed) == ""


def test_a_wrong_pick_holds_a_good_at_hard_and_never_raises_a_rating(item):
    swapped = check_roles(item, {ROLES[0].does: "beta", ROLES[1].does: "gamma"})
    checks = self_checks(item, swapped, check_beliefs(item, [BELIEF.truth]))
    assert rating_after_checks("Easy", checks) == "Hard"
    assert held_because("Easy", checks) == "held at Hard: a check went wrong"
    # A wrong pick is said before a check still to do: doing that one alone would not earn the Good.
    assert held_because("Good", self_checks(item, swapped, None)) == "held at Hard: a check went wrong"
    believed = self_checks(item, check_roles(item, {r.does: r.subject for r in ROLES}), check_beliefs(item, [BELIEF.belief]))
    assert rating_after_checks("Good", believed) == "Hard"
    assert rating_after_checks("Again", checks) == "Again" and rating_after_checks("Hard", self_checks(item, None, None)) == "Hard"
    passed = self_checks(item, check_roles(item, {r.does: r.subject for r in ROLES}), check_beliefs(item, [BELIEF.truth]))
    assert rating_after_checks("Hard", passed) == "Hard" and rating_after_checks("Again", passed) == "Again"  # passing never raises
