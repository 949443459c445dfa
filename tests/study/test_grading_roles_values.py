"""Issue 28, fourth round: roles and values. Numbers spoken in words, fractions turned over,
orders reversed, sizes bound to the wrong thing, bank claims whose roles are swapped, and the
opposites of this field. Each test holds a learner's answer whose verdict depends on the rule it
names, and the answer the rule must not let through (or must still credit)."""

import pytest

from study.grading import grade
from study.grading.numbers import number_spans


def point(result, start: str):
    return next(p for p in result.points if p.point.startswith(start))


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("momentum around nine tenths", [0.9]),
        ("three quarters of the images", [0.75]),
        ("a tenth of the final lr", [0.1]),
        ("decay of two times ten to the minus four", [2e-4]),
        ("an lr of one e minus three", [1e-3]),
        ("resized to two-twenty-four", [224]),
        ("stopped at epoch twenty-seven of forty", [27, 40]),
        ("a hundred and twenty epochs", [120]),
        ("guessing is right one in ten times", [0.1]),
        ("a loss of two point three", [2.3]),
        ("the one after the pooling, one hot labels", []),  # "one" alone is no number
    ],
)
def test_numbers_spoken_in_words_are_values(text, values):
    assert [round(span.value, 9) for span in number_spans(text)] == [round(v, 9) for v in values]


def test_a_spoken_value_states_the_point_and_a_wrong_one_reverses_it(items):
    item = items["viva-33-switch-optimizer-adam-sgd-momentum"]
    said = grade(item, "I'd go with SGD, momentum nine tenths, and a weight decay of five times ten to the minus four")
    assert point(said, "optim.SGD").status.value == "matched"
    wrong = grade(item, "I'd go with SGD, momentum of one half, and a weight decay of five times ten to the minus four")
    assert point(wrong, "optim.SGD").status.value == "contradicted"
