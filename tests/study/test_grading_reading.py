"""Issue 28, second round: how unseen answers are read (identifiers, number binding, comparisons,
number words, which clause talks about which point). Each test holds an answer whose verdict
depends on the rule it names, written as learners write them, and fails if that rule is removed
(a monkeypatched counterfactual where the rule is one function)."""

import copy

import pytest
import yaml

import study.grading.text as text_module
from study.grading import grade
from study.grading.lexicon import LEXICON_PATH, build_lexicon
from tests.study.grading_points import point

RAW = yaml.safe_load(LEXICON_PATH.read_text(encoding="utf-8"))

GOOD = ("Good", "Easy")


pytestmark = pytest.mark.usefixtures("fresh_caches")  # tests/study/conftest.py


def without_identifiers(monkeypatch):
    """The counterfactual: words and numbers read with no identifier marks, key points read anew."""
    from study.grading.grader import _item_terms
    from study.grading.text import key_point_clause

    monkeypatch.setattr(text_module, "_in_identifiers", lambda tokens, text, offset: tokens)
    key_point_clause.cache_clear()
    _item_terms.cache_clear()


def test_a_word_inside_an_identifier_is_no_claim(items, monkeypatch):
    # StepLR's "step" and step_size's "step" say nothing about steps against epochs.
    item = items["viva-10-scheduler-used-change-learning-rate"]
    answer = "the scheduler is StepLR with gamma=0.1 applied every 10 epochs"
    assert point(grade(item, answer), "StepLR").status.value == "matched"
    assert grade(item, answer).suggested_rating in GOOD
    without_identifiers(monkeypatch)
    assert point(grade(item, answer), "StepLR").status.value == "contradicted"


def test_an_identifier_still_names_a_counterpart(items):
    # A class name swapped for its counterpart is a swap, even inside the identifier.
    item = items["keras-s4-q2-horizontal-flip-but-vertical-flip"]
    reason = "is fine because objects appear upright in real photos"
    right = grade(item, f"RandomHorizontalFlip {reason}, a vertical flip gives unrealistic images")
    swapped = grade(item, f"RandomVerticalFlip {reason}, a horizontal flip gives unrealistic images")
    assert right.suggested_rating in GOOD and swapped.suggested_rating in ("Again", "Hard")


def test_a_number_in_brackets_or_after_equals_belongs_to_the_name_before_it(items, monkeypatch):
    item = items["viva-15-accuracy-computed-train-epoch-eval"]
    answer = "predicted comes from outputs.max(0), predicted.eq(targets).sum() counts the correct ones, accuracy = 100 * correct / total"
    result = grade(item, answer)
    assert point(result, "outputs.max(1)").status.value == "contradicted" and point(result, "outputs.max(1)").why == "number"
    assert grade(item, answer.replace("max(0)", "max(1)")).suggested_rating in GOOD
    # Unglued, the 1 of the key point binds to "gives" and the 0 of the answer to "max": no conflict.
    without_identifiers(monkeypatch)
    assert point(grade(item, answer), "outputs.max(1)").status.value != "contradicted"


def test_a_number_takes_the_word_right_after_it_before_the_number_before_it(items):
    # "cifar-10 has 5000 images": 5000 counts images, it is not a second value of "cifar".
    item = items["keras-s2-q8-1000-images-per-class-test"]
    flipped = grade(item, "cifar-10 is balanced by design: it has 5000 images per class, 4000 for training and 1000 for test")
    assert point(flipped, "6,000 images").status.value == "contradicted" and flipped.suggested_rating in ("Again", "Hard")
    right = grade(item, "cifar-10 is balanced by design: it has 6000 images per class, 5000 for training and 1000 for test")
    assert point(right, "6,000 images").status.value == "matched" and right.suggested_rating in GOOD


def test_a_number_named_as_the_alternative_is_no_value_of_the_name(items):
    # "18 instead of 25 weights": 25 is what one 5x5 would need, not a wrong count for the pair.
    item = items["resnet-21-resnet-block-use-two-3"]
    result = grade(item, "two stacked 3x3 convs see a 5x5 receptive field with 18 instead of 25 weights per channel pair")
    assert point(result, "18 weights").status.value == "matched"
    assert point(grade(item, "two stacked 3x3 convs need 25 weights per channel pair"), "18 weights").status.value == "contradicted"


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("three conv blocks", [3]),
        ("ten thousand images", [10_000]),
        ("a quarter of the memory", [0.25]),
        ("25.6M params", [25.6e6]),
        ("about 4.1 billion flops", [4.1e9]),
        ("8k / 2k / 10k", [8000, 2000, 10_000]),  # a list of three sizes
        ("50k / 256", [50_000 / 256]),  # two numbers over a slash stay a quotient
        ("half precision, cut in half", []),  # a format and a verb, not 0.5
        ("std (.247/.243/.261)", [0.247, 0.243, 0.261]),  # decimals typed without the leading zero
    ],
)
def test_spoken_numbers_scales_and_slash_lists_are_values(text, values):
    from study.grading.numbers import number_spans

    assert [round(span.value, 6) for span in number_spans(text)] == [round(v, 6) for v in values]


def test_parameter_counts_in_other_units_state_the_point(items):
    item = items["interview-02-compare-resnet-50-vs-efficientnet"]
    said = grade(item, "resnet-50 is about 25.6 million params and 4.1 billion flops")
    assert point(said, "ResNet-50 has 25.6M").status.value == "matched"
    wrong = grade(item, "resnet-50 is about 2.5 million params and 4.1 billion flops")
    assert point(wrong, "ResNet-50 has 25.6M").status.value == "contradicted"


def test_a_point_naming_both_counterparts_is_not_swapped_by_one_said_twice(items):
    # "split the training set into train": train twice is not train where the point has validation.
    item = items["viva-40-code-add-validation-set-separate"]
    result = grade(
        item, "split the training set into train and validation, tune on the validation loader, keep the test set for the final report"
    )
    assert point(result, "split the training set").status.value == "matched" and result.suggested_rating in GOOD


def test_tuning_on_the_test_set_swaps_validation_and_test(items):
    item = items["viva-40-code-add-validation-set-separate"]
    swapped = (
        "split the training set into train and validation, use the test loader for tuning and keep the validation set for the final report"
    )
    result = grade(item, swapped)
    assert point(result, "use the validation loader").why == "roles" and result.suggested_rating in ("Again", "Hard")
    raw = copy.deepcopy(RAW)
    raw["counterparts"] = [pair for pair in raw["counterparts"] if pair != ["validation", "eval"]]
    assert point(grade(item, swapped, build_lexicon(raw)), "use the validation loader").status.value != "contradicted"


def test_what_follows_than_is_the_comparand_not_the_subject():
    from study.grading.lexicon import load_lexicon

    def contrasted(lexicon):
        return {
            t.key: t.contrasted for c in text_module.clauses("max pooling is less flexible than a strided conv", lexicon) for t in c.terms
        }

    assert contrasted(load_lexicon())["conv"] and not contrasted(load_lexicon())["max_pool"]
    raw = copy.deepcopy(RAW)
    raw["negations"]["contrast"].remove("than")
    assert not contrasted(build_lexicon(raw))["conv"]


def test_a_participle_phrase_describes_its_noun_and_swaps_no_role(items, monkeypatch):
    # "the running mean/var collected in training" says where the statistics come from.
    item = items["interview-04-batch-normalizations-effect-during-training"]
    answer = (
        "training uses the batch mean and variance. at inference bn ignores the batch, it uses the running mean/var collected in training"
    )
    assert point(grade(item, answer), "inference uses running").status.value == "matched"
    swapped = "training uses the running statistics and inference uses the batch mean and variance"
    assert point(grade(item, swapped), "inference uses running").why == "roles"  # a swap in the main clause still counts
    monkeypatch.setattr(text_module, "_modifiers", lambda tokens: set())
    assert point(grade(item, answer), "inference uses running").status.value == "contradicted"


def test_increasing_reverses_halving_and_a_layer_name_is_one_name_however_typed(items):
    item = items["viva-01-simplecnn-class-implement-batchnorm-relu"]
    head = "three conv blocks and a classifier. batchnorm stabilises and speeds up training, relu adds non-linearity, and"
    for name in ("maxpool", "MaxPool", "max pooling"):
        assert point(grade(item, f"{head} {name} halves the spatial size"), "MaxPool").status.value == "matched", name
        reversed_ = grade(item, f"{head} {name} increases the spatial size of the feature maps")
        assert point(reversed_, "MaxPool").why == "antonym" and reversed_.suggested_rating in ("Again", "Hard"), name
    raw = copy.deepcopy(RAW)
    raw["opposites"] = [pair for pair in raw["opposites"] if pair != ["halve", "up"]]
    answer = f"{head} maxpool increases the spatial size of the feature maps"
    assert point(grade(item, answer, build_lexicon(raw)), "MaxPool").status.value != "contradicted"


def test_a_numeric_point_is_not_stated_by_its_words_alone(items, monkeypatch):
    import study.grading.align as align_module

    item = items["keras-s2-q8-1000-images-per-class-test"]
    vague = "cifar-10 is balanced by design, it has the same number of images per class"
    assert point(grade(item, vague), "6,000 images").status.value == "partial"
    assert point(grade(item, vague.replace("the same number of", "6000")), "6,000 images").status.value == "matched"
    monkeypatch.setattr(align_module, "NUMBERLESS", 1.0)
    assert point(grade(item, vague), "6,000 images").status.value == "matched"


def test_what_a_check_looks_for_is_neither_asserted_nor_denied(items, monkeypatch):
    item = items["viva-26-debugging-steps-take-models-loss"]
    answer = "look at the gradients for explosions, lower the lr, clip the gradients, check the inputs don't contain nan or inf"
    assert point(grade(item, answer), "check inputs for NaN").status.value == "matched"
    monkeypatch.setattr(text_module, "CHECKS", frozenset())
    assert point(grade(item, answer), "check inputs for NaN").status.value != "matched"


def test_another_points_own_number_is_no_wrong_value(items, monkeypatch):
    import study.grading.grader as grader_module

    # "a new 10-class head" states the other point; its 10 is no wrong size for the 1000-class head.
    item = items["keras-s5-q2-include-top-false"]
    answer = "include_top=False drops the imagenet classifier, so we can attach a new 10-class head"
    result = grade(item, answer)
    assert point(result, "removes the 1000-class").status.value != "contradicted" and result.suggested_rating in GOOD
    swapped = grade(item, "it removes the 10-class imagenet head, so we can attach our own 1000-class head")
    assert point(swapped, "removes the 1000-class").why == "number"  # a number of the wrong point still reverses
    monkeypatch.setattr(grader_module, "_another_points_number", lambda *args: False)
    assert point(grade(item, answer), "removes the 1000-class").status.value == "contradicted"


def test_a_camel_case_name_whose_parts_mean_nothing_stays_whole(items):
    # The key point types "TensorFlow", the learner "tensorflow": one name, so the point's negation
    # ("stop TensorFlow allocating ...") lines up and the reversal is read.
    item = items["keras-s1-q1-enable-gpu-memory-growth"]
    reversed_ = grade(item, "memory growth makes tensorflow allocate all of the gpu memory at the start so it never asks again")
    assert point(reversed_, "stop TensorFlow").status.value == "contradicted"
    from study.grading.lexicon import load_lexicon

    words = [t.key for c in text_module.clauses("TensorFlow and DataParallel", load_lexicon()) for t in c.terms]
    assert "tensorflow" in words and "parallel" in words  # a part the lexicon knows still splits
