"""Issue 28, sixth round: the learned calibration (study/grading/calibration.py). Each test holds a
learner's answer whose verdict depends on it, and what it must never do: raise an answer the
rules found something against."""

import math
from dataclasses import replace

import pytest

from study.grading import calibration, grade, grader
from study.grading.calibration import FEATURES, CalibrationError, build_calibration, load_calibration
from tests.study.grading_points import point

ACCUMULATE = "fundamentals-04-pytorch-accumulates-gradients-default-optimizer"


def test_a_weak_recall_shaped_like_a_correct_answer_is_raised_to_good(items):
    # The rules read one point of two here ("batchnorm keeps using its running stats" is partial);
    # answers of this shape, long, in the learner's own words, nothing against them, were correct
    # on the labelled sets.
    said = (
        "eval mode stays on until you switch back, so dropout stays disabled and batchnorm keeps using its running stats"
        " unless you call model.train()"
    )
    item = items["resnet-28-model-train"]
    assert grade(item, said, calibrate=False).suggested_rating == "Hard"
    raised = grade(item, said)
    assert raised.suggested_rating == "Good" and raised.raised
    assert load_calibration().probability(raised.features) >= load_calibration().threshold


def test_a_short_weak_recall_stays_hard(items):
    # One point in a few words: the calibration sees a weak recall, not a correct answer in other words.
    item = items[ACCUMULATE]
    said = grade(item, "the gradients add up")
    assert said.suggested_rating == "Hard" and not said.raised


@pytest.fixture
def credulous(monkeypatch):
    """A calibration that would raise every Hard: what still stops it is the rules' own findings."""
    permissive = replace(load_calibration(), intercept=100.0)
    monkeypatch.setattr(grader, "load_calibration", lambda: permissive)


def test_an_answer_with_a_contradicted_point_is_never_raised(items, credulous):
    item = items["resnet-27-model-eval-doing"]
    # Two points right and one swapped: the rules cap it at Hard, and the swap must keep it there.
    swapped = "batchnorm uses each batch's own mean and var instead of the running mean and var"
    said = grade(item, f"eval disables dropout, and {swapped}, so inference is consistent")
    assert said.contradicted and said.suggested_rating == "Hard" and not said.raised


def test_a_stated_misconception_is_never_raised(items, credulous):
    # Written as the misconception's own learner would: a right point beside a wrong belief keeps it at Hard.
    item = items["viva-48-change-script-train-multiple-gpus"]
    said = grade(item, "DataParallel is preferred over DistributedDataParallel because it is simpler and faster")
    assert said.misconceptions and said.suggested_rating == "Hard" and not said.raised


def test_a_term_list_is_never_raised(items, credulous):
    item = items["viva-01-simplecnn-class-implement-batchnorm-relu"]
    said = grade(item, "SimpleCNN: three conv blocks, classifier. BatchNorm, stabilises, speeds up, training. ReLU, non-linearity.")
    assert said.listed_terms and said.suggested_rating in ("Again", "Hard") and not said.raised


def test_the_credulous_calibration_does_raise_a_clean_hard(items, credulous):
    # The control for the two tests above: the same permissive calibration raises a Hard with nothing against it.
    said = grade(items[ACCUMULATE], "the gradients add up")
    assert said.suggested_rating == "Good" and said.raised


def test_features_are_the_graders_own_reading():
    read = calibration.features(0.5, ["matched", "partial", "contradicted", "missed"], [1.0, 0.3, 0.0], True, False, 0.6, 0.25, 3)
    assert dict(zip(FEATURES, read, strict=True)) == {
        "score": 0.5, "matched": 0.25, "partial": 0.25, "contradicted": 0.25, "any_contradicted": 1.0, "misconception": 1.0,
        "listed": 0.0, "on_topic": 0.6, "focus": 0.25, "best_coverage": 1.0, "log_clauses": math.log(4),
    }  # fmt: skip


def test_a_calibration_file_naming_the_wrong_features_is_one_clear_line():
    with pytest.raises(CalibrationError, match=r"calibration.yaml: weights: must name exactly score, matched"):
        build_calibration({"intercept": 0, "threshold": 0.7, "weights": {"score": 1.0}})
    weights = dict.fromkeys(FEATURES, 0.0) | {"focus": "high"}
    with pytest.raises(CalibrationError, match=r"calibration.yaml: intercept, threshold and every weight must be numbers"):
        build_calibration({"intercept": 0, "threshold": 0.7, "weights": weights})


def test_a_role_swapped_under_a_negation_is_the_mirror_image(items):
    # "off during validation" is "active only in training" said through its counterpart: the negation
    # and the swap cancel. Either one alone still reverses the point.
    item = items["resnet-26-validation-accuracy-might-higher-than"]
    for said in ("dropout and augmentation are switched off at validation time", "dropout and augmentation are not used for validation"):
        assert point(grade(item, said), "dropout and augmentation").status.value == "matched", said
    swapped = grade(item, "dropout and augmentation are switched on during validation")
    assert point(swapped, "dropout and augmentation").why == "roles"
    negated = grade(item, "dropout and augmentation are not used in training")
    assert point(negated, "dropout and augmentation").why == "negation"


def test_a_percent_is_stated_by_the_fraction_it_stands_for(items):
    # "48.9 percent" is 0.489: a learner who reads accuracy as a fraction states the same numbers,
    # and both count (a wrong one leaves the point short of full coverage).
    item = items["keras-s8-q1-test-accuracy-compare-validation"]
    said = grade(item, "test 0.489 vs validation 0.490, nearly identical, so it generalises consistently")
    assert point(said, "test 48.9 percent").coverage == 1.0
    other = grade(item, "test 0.389 vs validation 0.490, nearly identical, so it generalises consistently")
    assert point(other, "test 48.9 percent").coverage < 1.0
