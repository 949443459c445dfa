"""Which does what (study/roles_check.py): a match between an item's roles is checked exactly, and a
swap or a role left open is not a pass (what that does to a rating: tests/study/test_self_check.py)."""

from dataclasses import replace

import pytest

from qa_bank.schema import Role
from study.roles_check import UNANSWERED, check_roles, role_question

ROLES = (Role("gamma", "scales the normalised activations"), Role("beta", "shifts the normalised activations"))


@pytest.fixture
def item(items):
    return replace(items["resnet-08-batch-normalization-batchnorm"], roles=ROLES)


def test_the_question_shuffles_the_texts_and_sorts_the_subjects(item):
    orders = {role_question(item, seed).does for seed in range(20)}
    assert orders == {tuple(r.does for r in ROLES), tuple(r.does for r in reversed(ROLES))}
    assert role_question(item, 0).subjects == ("beta", "gamma")
    assert role_question(replace(item, roles=()), 0) is None


def test_a_right_match_passes_and_keeps_the_rating(item):
    result = check_roles(item, {r.does: r.subject for r in ROLES})
    assert result.passed and (result.right, result.total) == (2, 2)


def test_a_swap_names_both_sides(item):
    swapped = check_roles(item, {ROLES[0].does: "beta", ROLES[1].does: "gamma"})
    assert not swapped.passed and swapped.right == 0
    assert {(s.chosen, s.right) for s in swapped.swaps} == {("beta", "gamma"), ("gamma", "beta")}


def test_a_role_left_open_is_not_a_pass(item):
    open_ = check_roles(item, {ROLES[0].does: "gamma", ROLES[1].does: UNANSWERED})
    assert (open_.right, open_.unanswered, open_.swaps) == (1, 1, ())
