"""Issue 28, eleventh round: formulas with names in them are compared by value ("y - p" is not
"p - y", "ln(num_classes)" is "-log(1/num_classes)"), and a minus between one-letter names is
arithmetic, not a clause joint. Each grading test holds a reversed answer the rule catches and a
correct one it keeps (each fails with its rule removed: checked, see docs/grading.md, round 11)."""

import pytest

from study.grading import grade
from study.grading.formulas import formulas
from study.grading.grader import PointStatus
from study.grading.lexicon import load_lexicon
from study.grading.text import clauses
from tests.study.grading_points import point

NORMALISE = "resnet-05-normalize-inputs-using-dataset-mean"
STANDARDISE = "x' = (x - mean) / std"
DEBUG = "interview-05-debug-model-thats-learning"
CHANCE_LOSS = "initial loss should be -log(1/num_classes)"
BACKWARD = "interview-01-complete-forward-backward-pass-cnn"
SOFTMAX_GRADIENT = "softmax gradient dL/dz = p - y"
INIT = "interview-09-effect-different-initialization-schemes"
HE = "He with variance 2/fan_in for ReLU"


def _one(text: str):
    (formula,) = formulas(text)
    return formula


def test_formulas_are_compared_by_value_over_the_same_names():
    assert _one("-log(1/num_classes)").same(_one("ln(num_classes)"))
    assert _one("(x - mean) / std").same(_one("(x-mean)/std"))
    assert not _one("(x - mean) / std").same(_one("(mean - x) / std"))
    assert not _one("2/fan_in").same(_one("1/(2*fan_in)"))
    assert not _one("F(x) + x").same(_one("F(x) - x"))
    # An accuracy as a fraction and in percent is one formula; over other names nothing is compared.
    assert _one("100 * correct / total").same(_one("correct / total"))
    assert not _one("p - y").same(_one("p - z"))


@pytest.mark.parametrize("text", ["removes the 1000-class ImageNet head", "top-1 error", "a fan-in of 9", "fine-tuning"])
def test_a_hyphen_inside_a_word_is_no_subtraction(text):
    assert formulas(text) == ()


def test_a_minus_between_one_letter_names_does_not_end_the_clause():
    lexicon = load_lexicon()
    assert [c.text for c in clauses("the gradient wrt the logits is y - p", lexicon)] == ["the gradient wrt the logits is y - p"]
    assert [c.text for c in clauses("outputs F(x) - x", lexicon)] == ["outputs F(x) - x"]
    # A dash between words, and before the article "a", still joins two clauses.
    assert len(clauses("the split - a four-to-one split of the subset", lexicon)) == 2
    assert len(clauses("SimpleCNN - three conv blocks", lexicon)) == 2


def test_a_formula_with_its_operands_swapped_reverses_the_point(items):
    wrong = grade(items[NORMALISE], "we compute x' = (mean - x) / std per channel")
    assert point(wrong, STANDARDISE).status is PointStatus.CONTRADICTED
    assert point(wrong, STANDARDISE).why == "number"
    right = grade(items[NORMALISE], "we compute x' = (x - mean) / std per channel")
    assert point(right, STANDARDISE).status is PointStatus.MATCHED
    flipped = grade(items[BACKWARD], "the gradient of the loss wrt the logits is y - p")
    assert point(flipped, SOFTMAX_GRADIENT).status is PointStatus.CONTRADICTED
    kept = grade(items[BACKWARD], "softmax gives p, and the gradient of the loss wrt the logits is p - y")
    assert point(kept, SOFTMAX_GRADIENT).status is PointStatus.MATCHED


def test_a_formula_of_another_value_reverses_the_point(items):
    assert point(grade(items[INIT], "He init uses variance 1/(2*fan_in) for ReLU"), HE).status is PointStatus.CONTRADICTED
    assert point(grade(items[INIT], "He init uses variance 2/fan_in for ReLU"), HE).status is PointStatus.MATCHED


def test_a_formula_written_another_way_states_the_point(items):
    said = grade(items[DEBUG], "check the initial loss is ln(num_classes), about 2.3")
    assert point(said, CHANCE_LOSS).status is PointStatus.MATCHED


def test_a_formula_on_the_way_is_not_the_points_formula(items):
    # 1/num_classes is what each class gets, not the loss: the sentence says what it is of.
    step = grade(items[DEBUG], "the softmax gives 1/num_classes to each class, so the initial loss starts at about 2.3")
    assert point(step, CHANCE_LOSS).status is not PointStatus.CONTRADICTED
    wrong = grade(items[DEBUG], "check the initial loss, it should be about 1/num_classes, so 0.1 for ten classes")
    assert point(wrong, CHANCE_LOSS).status is PointStatus.CONTRADICTED


def test_formulas_read_as_said():
    assert _one("p minus y").same(_one("p - y"))
    assert _one("correct divided by total times 100").same(_one("100 * correct / total"))
    # A minus glued to the value after a word is its sign: "should be -log(...)" is -log(...), not "be - log(...)".
    assert _one("should be -log(1/num_classes)").names == frozenset({"num_classes"})


FLATTEN = "viva-02-models-classifier-nn-linear-128"
POOLS = "three MaxPool2d(2) layers halve 32 to 16 to 8 to 4"


def test_a_count_is_not_a_calls_argument(items):
    # "two maxpools" counts the pools; the 2 of "MaxPool2d(2)" is its window: the point's three pools are contradicted.
    wrong = grade(items[FLATTEN], "128 channels times 4x4, because two maxpools halve 32 -> 16 -> 4")
    assert point(wrong, POOLS).status is PointStatus.CONTRADICTED
    right = grade(items[FLATTEN], "128 channels times 4x4, because three maxpools halve 32 -> 16 -> 8 -> 4")
    assert point(right, POOLS).status is PointStatus.MATCHED


EPOCHS = "resnet-35-epoch-vs-batch-vs-iteration"
STEPS = "50000 / 256 gives about 196 steps per epoch"


def test_a_result_said_to_be_about_a_wrong_value_is_the_claim(items):
    # "50000/256 ≈ 1960" states 1960 steps, ten times too many; "≈ 195" is the point.
    said = "epoch one pass over the dataset, batch 256 images processed together, iteration one update, so 50000/256 ≈ {} steps per epoch"
    assert point(grade(items[EPOCHS], said.format(1960)), STEPS).status is PointStatus.CONTRADICTED
    assert point(grade(items[EPOCHS], said.format(195)), STEPS).status is PointStatus.MATCHED
