"""The claim rules of issue 28, each pinned with a counterfactual: the same answer graded with the
rule taken out must lose the verdict, so no test here passes without the mechanism it names.
Answers are written as learners write them (lower case, spoken numbers, lists of terms)."""

import copy
import dataclasses
import math

import pytest
import yaml

import study.grading.grader as grader_module
import study.grading.text as text_module
from study.grading import grade
from study.grading.lexicon import LEXICON_PATH, build_lexicon
from study.grading.numbers import number_spans
from tests.study.grading_points import point

RAW = yaml.safe_load(LEXICON_PATH.read_text(encoding="utf-8"))
GOOD = ("Good", "Easy")


pytestmark = pytest.mark.usefixtures("fresh_caches")  # tests/study/conftest.py


def lexicon_without(section: str, *entries: str):
    raw = copy.deepcopy(RAW)
    if section == "negations":
        raw["negations"] = {kind: [m for m in markers if m not in entries] for kind, markers in raw["negations"].items()}
    elif section in ("opposites", "counterparts"):
        raw[section] = [pair for pair in raw[section] if not set(pair) & set(entries)]
    return build_lexicon(raw)


# The Quiz page example of issue 28, and a term list written the way learners revise.
TERM_LIST = (
    "SimpleCNN: three conv blocks, classifier. BatchNorm, stabilises, speeds up, training. "
    "ReLU, non-linearity. MaxPool, halves, spatial size."
)
CORRECT = (
    "three conv blocks then a small classifier. batchnorm stabilises and speeds up training, "
    "relu adds non-linearity and maxpool halves the spatial size"
)


def test_a_term_list_states_no_claim(items, monkeypatch):
    item = items["viva-01-simplecnn-class-implement-batchnorm-relu"]
    listed = grade(item, TERM_LIST)
    assert listed.listed_terms and listed.suggested_rating in ("Again", "Hard")
    assert listed.hint == "You listed the terms; say how they relate: what does BatchNorm do to training?"
    assert point(listed, "BatchNorm").status.value != "matched"
    assert grade(item, CORRECT).suggested_rating in GOOD  # the same words as a claim
    # Without list items every fragment joins its neighbours, and the list is praised again.
    monkeypatch.setattr(text_module, "LIST_ITEM_WORDS", 0)
    assert grade(item, TERM_LIST).suggested_rating in GOOD


def test_the_issue_term_list_for_the_expected_loss_is_not_good(items):
    result = grade(items["keras-s6-q3-expected-loss-random-guessing"], "ln(10), 2.303, loss, random guessing, chance level, 2.30.")
    assert result.listed_terms and result.suggested_rating in ("Again", "Hard")


def test_roles_swapped_between_named_things_contradict(items):
    item = items["resnet-07-padding-mode-reflect"]
    answer = "zero padding mirrors the pixels from inside the image, and reflect gives a black border"
    result = grade(item, answer)
    reflect = point(result, "reflect mirrors")
    assert reflect.status.value == "contradicted" and reflect.why == "roles" and reflect.swapped == ("reflect", "zero")
    assert result.suggested_rating == "Again"
    swapped_back = grade(item, answer, lexicon_without("counterparts", "reflect"))
    assert point(swapped_back, "reflect mirrors").status.value != "contradicted"


def test_values_bound_to_the_wrong_name_contradict(items, monkeypatch):
    item = items["viva-14-script-set-random-seeds-additional"]
    answer = "seed torch, random and numpy, and set cudnn.deterministic to False and turn benchmark on"
    flipped = point(grade(item, answer), "cudnn.deterministic")
    assert flipped.status.value == "contradicted" and flipped.why == "value"
    right = point(grade(item, "set cudnn.deterministic to True and switch benchmark off"), "cudnn.deterministic")
    assert right.status.value == "matched"
    monkeypatch.setattr(text_module, "_is_boolean", lambda *args: False)  # True/False as plain words again
    assert point(grade(item, answer), "cudnn.deterministic").status.value != "contradicted"


def test_a_number_bound_to_the_wrong_name_and_a_wrong_result_contradict(items):
    swapped = point(
        grade(items["viva-04-normalization-values-applied-cifar-10"], "the std is (0.4914, 0.4822, 0.4465)"), "per-channel mean"
    )
    assert swapped.status.value == "contradicted" and swapped.why == "roles"
    wrong = point(grade(items["viva-02-models-classifier-nn-linear-128"], "so the flattened size is 128*4*4 = 512"), "flattened size")
    assert wrong.status.value == "contradicted" and wrong.why == "number" and wrong.swapped == ("128*4*4", "128*4*4 = 512")


def test_a_negation_after_a_copula_governs_the_whole_predicate(items, monkeypatch):
    # "X isn't A, that's B": the negation flips "a full pass over the data", and with the swap of
    # iteration for epoch the two reversals agree with "epoch is one pass over the dataset".
    item = items["resnet-35-epoch-vs-batch-vs-iteration"]
    answer = "an iteration isn't a full pass over the data, that's an epoch"
    assert point(grade(item, answer), "epoch is one pass").status.value == "matched"
    monkeypatch.setattr(text_module, "COPULAS", frozenset())
    monkeypatch.setattr(text_module, "SHORT_SCOPE", 1)
    assert point(grade(item, answer), "epoch is one pass").status.value == "contradicted"


def test_a_negated_comparison_is_a_lower_degree(items, monkeypatch):
    item = items["viva-45-modify-batch-size-might-tune"]
    negated = "very large batches don't generalise as well"
    assert point(grade(item, negated), "can hurt generalisation").status.value == "matched"
    monkeypatch.setattr(text_module, "_comparative_negation", lambda tokens: tokens)
    assert point(grade(item, negated), "can hurt generalisation").status.value != "matched"


def test_a_negation_still_reverses_what_it_governs(items):
    item = items["fundamentals-13-general-relationship-between-increasing-batch"]
    assert point(grade(item, "flat minima don't generalise as well"), "flat minima").status.value == "contradicted"
    assert point(grade(item, "flat minima generalise better"), "flat minima").status.value == "matched"


def test_a_contrast_names_the_alternative_without_denying_it(items):
    item = items["resnet-07-padding-mode-reflect"]
    answer = "instead of filling with zeros (black border) it mirrors the pixels from inside the image"
    result = grade(item, answer)
    assert point(result, "zeros gives").status.value != "contradicted" and point(result, "reflect mirrors").status.value == "matched"
    as_negation = lexicon_without("negations", "instead of")
    assert point(grade(item, answer, as_negation), "reflect mirrors").status.value == "contradicted"  # zero read as asserted


def test_a_denied_misconception_is_not_a_misconception(items):
    item = items["keras-s9-q1-grad-cam-computing"]
    denied = (
        "grad-cam isn't using gradients with respect to the input pixels, "
        "it takes the gradients of the class score for the last conv activations"
    )
    assert not grade(item, denied).misconceptions
    assert grade(item, "grad-cam is the gradient of the class score with respect to the input pixels").misconceptions
    assert grade(item, denied, lexicon_without("negations", "not")).misconceptions


@pytest.mark.parametrize(
    ("item_id", "start", "answer"),
    [
        ("viva-02-models-classifier-nn-linear-128", "flattened size", "the flattened size is 128 times 16"),
        ("keras-s6-q3-expected-loss-random-guessing", "expected loss", "each class gets 0.1 so the expected loss is minus the log of 0.1"),
        ("keras-s6-q3-expected-loss-random-guessing", "expected loss", "the expected loss is -log(1/10)"),
        ("resnet-21-resnet-block-use-two-3", "two 3x3 convs", "two 3x3 convs see a 5 by 5 patch, the same receptive field"),
        ("keras-s3-q2-memory-impact-converting-float32", "8000 x 32", "8000 x 32 x 32 x 3 x 4 bytes comes to roughly 0.094 GB"),
        ("keras-s2-q3-exact-split-sizes", "8,000 training", "8k training images (80%)"),
    ],
)
def test_numbers_are_compared_as_values(items, monkeypatch, item_id, start, answer):
    evaluated = point(grade(items[item_id], answer), start)
    assert evaluated.status.value == "matched"
    monkeypatch.setattr(text_module, "number_spans", lambda text: [])  # numbers as typed, nothing evaluated
    assert point(grade(items[item_id], answer), start).coverage < evaluated.coverage


def test_spoken_arithmetic_matches_python(items):
    # The oracle is Python's own arithmetic on the same expression.
    cases = {
        "128*4*4": 128 * 4 * 4,
        "128 times 16": 128 * 16,
        "50000 / 256": 50000 / 256,
        "minus the log of 0.1": -math.log(0.1),
        "-log(1/10)": -math.log(1 / 10),
        "ln(10)": math.log(10),
        "32 + 2*4": 32 + 2 * 4,
        "1e-3": 1e-3,
    }
    for text, expected in cases.items():
        spans = number_spans(text)
        assert len(spans) == 1 and math.isclose(spans[0].value, expected), (text, spans)
    assert [s.value for s in number_spans("0-255")] == [0, 255]  # a range, not a subtraction
    assert number_spans("5 by 5")[0].size == "5x5" and number_spans("2k")[0].tolerance == 500


def test_off_topic_fluent_answers_are_again_and_on_topic_fragments_hard(items, monkeypatch):
    item = items["resnet-39-running-mean-batchnorm"]
    off_topic = "evaluation doesn't need gradients, so no_grad skips building the computation graph and saves memory and compute"
    assert grade(item, off_topic).suggested_rating == "Again"
    monkeypatch.setattr(grader_module, "RELEVANT", 0.0)
    assert grade(item, off_topic).suggested_rating == "Hard"
    monkeypatch.undo()
    assert grade(items["keras-s6-q3-expected-loss-random-guessing"], "around 2.3").suggested_rating in ("Hard", "Good")


def test_a_bank_claim_supplies_contraries_and_wordings(items):
    warmup = items["viva-41-could-implement-learning-rate-warmup"]
    reversed_answer = "warmup means you start with a large learning rate and lower it to the target over the first epochs"
    ramp = point(grade(warmup, reversed_answer), "ramp the learning rate")
    assert ramp.status.value == "contradicted" and ramp.why == "antonym"
    bare = dataclasses.replace(warmup, claims=())
    assert point(grade(bare, reversed_answer), "ramp the learning rate").status.value != "contradicted"
    growth = items["keras-s1-q1-enable-gpu-memory-growth"]
    spoken = "so tensorflow doesn't grab the whole card up front"
    assert point(grade(growth, spoken), "stop TensorFlow").status.value == "matched"
    assert point(grade(dataclasses.replace(growth, claims=()), spoken), "stop TensorFlow").status.value != "matched"


def test_units_are_part_of_the_claim(items):
    schedule = items["viva-10-scheduler-used-change-learning-rate"]
    steps = point(grade(schedule, "it multiplies the lr by 0.1 every 10 steps"), "multiplies the learning rate")
    assert steps.status.value == "contradicted" and steps.swapped == ("epochs", "steps")
    assert (
        point(grade(schedule, "it multiplies the lr by 0.1 every 10 steps", lexicon_without("opposites", "epoch")), "multiplies").why
        is None
    )
    crop = point(grade(items["resnet-06-randomcrop-32-padding-4"], "pad 4 px on each side to get 40x40"), "pad 4 pixels")
    assert crop.status.value == "matched"
