"""Issue 28, fourteenth round: numbers written the way learners write them. A duration in other
units ("2,940 seconds" for "about 49 minutes"), a fraction with any denominator a learner says ("one
fiftieth", "five sixths"), and a rate typed with digits ("1 in 10"). Each test fails with its rule
removed, and each pins the wrong value the rule must still reject."""

import pytest

from study.grading import grade
from study.grading.grader import PointStatus
from study.grading.numbers import number_spans
from tests.study.grading_points import point

PHASE_TWO = "keras-s7-q7-long-phase-2-training-take"
CHANCE = "keras-s6-q2-10-accuracy-mean-10-class"


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("one fiftieth of the weights", [0.02]),
        ("five sixths train and one sixth test", [5 / 6, 1 / 6]),
        ("an eighth of the batch", [0.125]),
        ("the sixth epoch", []),  # an ordinal without a count before it is no fraction
        ("right 1 in 10 times", [0.1]),
        ("1 in 1,000 images", [0.001]),
        ("11 in 50", [11, 50]),  # only a one before "in" makes a rate
    ],
)
def test_fractions_and_rates_as_learners_write_them(text, values):
    assert [span.value for span in number_spans(text)] == pytest.approx(values, rel=1e-6)


def test_a_duration_in_other_units_states_the_point(items):
    seconds = grade(items[PHASE_TWO], "about 2,940 seconds for the thirty epochs")
    assert point(seconds, "about 49 minutes").status is PointStatus.MATCHED
    hours = grade(items[PHASE_TWO], "roughly 0.82 hours for all 30 epochs")
    assert point(hours, "about 49 minutes").status is PointStatus.MATCHED
    # Another duration, in any unit, is still wrong.
    wrong = grade(items[PHASE_TWO], "about 1,800 seconds for the thirty epochs")
    assert point(wrong, "about 49 minutes").status is not PointStatus.MATCHED


def test_a_rate_typed_with_digits_is_chance_level(items):
    rest = "the model does no better than picking a class at random, so it hasn't learnt anything useful"
    said = grade(items[CHANCE], f"that's chance level, 1 in 10. {rest}")
    assert said.suggested_rating in ("Good", "Easy")
    wrong = grade(items[CHANCE], f"that's chance level, 1 in 5. {rest}")
    assert wrong.suggested_rating not in ("Good", "Easy")
