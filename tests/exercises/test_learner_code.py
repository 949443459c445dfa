"""Solutions as learners write them (tests/exercises/learner_code.py): every wrong one is
rejected by a check whose message names its problem, and every correct one, written otherwise
than the reference, passes. Each runs on two seeds of hidden cases."""

from collections import Counter

import pytest

from exercises.catalogue import all_exercises
from exercises.checker import check_source
from tests.exercises.learner_code import ATTEMPTS

EXERCISES = all_exercises()


def test_every_exercise_has_three_wrong_and_two_right_solutions():
    wrong = Counter(a.exercise for a in ATTEMPTS if a.named_by)
    right = Counter(a.exercise for a in ATTEMPTS if not a.named_by)
    assert {e: n for e, n in wrong.items() if n >= 3}.keys() == EXERCISES.keys()
    assert {e: n for e, n in right.items() if n >= 2}.keys() == EXERCISES.keys()
    declared = {m.code for e in EXERCISES.values() for m in e.mistakes}
    assert not declared & {a.code for a in ATTEMPTS}  # not the declared mistakes again


@pytest.mark.parametrize("attempt", [a for a in ATTEMPTS if a.named_by], ids=lambda a: f"{a.exercise}: {a.label}")
@pytest.mark.parametrize("seed", [11, 12])
def test_a_wrong_solution_fails_with_a_message_naming_its_problem(attempt, seed):
    result = check_source(EXERCISES[attempt.exercise], attempt.code, seed=seed)
    assert not result.passed, f"passed every check: {attempt.label}"
    messages = " | ".join(c.message for c in result.checks if not c.passed)
    assert attempt.named_by in messages, messages


@pytest.mark.parametrize("attempt", [a for a in ATTEMPTS if not a.named_by], ids=lambda a: f"{a.exercise}: {a.label}")
@pytest.mark.parametrize("seed", [11, 12])
def test_a_correct_solution_written_otherwise_passes(attempt, seed):
    result = check_source(EXERCISES[attempt.exercise], attempt.code, seed=seed)
    assert result.passed, result.first_failure
