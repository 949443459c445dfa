"""Each contradiction kind and each kind of paraphrase support, pinned with a counterfactual: the
same answer graded with that piece of the lexicon removed must lose the verdict, so no check here
passes without the mechanism it names."""

import copy

import pytest
import yaml

from study.grading import grade
from study.grading.lexicon import LEXICON_PATH, LexiconError, build_lexicon

RAW = yaml.safe_load(LEXICON_PATH.read_text(encoding="utf-8"))


pytestmark = pytest.mark.usefixtures("fresh_caches")  # tests/study/conftest.py


def lexicon_without(section: str, *entries: str):
    """The real lexicon with some entries of one section taken out."""
    raw = copy.deepcopy(RAW)
    if section == "negations":
        raw["negations"] = {kind: [m for m in markers if m not in entries] for kind, markers in raw["negations"].items()}
    elif section in ("opposites", "counterparts"):
        raw[section] = [pair for pair in raw[section] if not set(pair) & set(entries)]
    elif section == "synonyms":
        raw["synonyms"] = {k: v for k, v in raw["synonyms"].items() if k not in entries}
    elif section == "rewrites":
        raw["rewrites"] = {k: v for k, v in raw["rewrites"].items() if k not in entries}
    return build_lexicon(raw)


def status(result, point_start: str) -> str:
    return next(p.status.value for p in result.points if p.point.startswith(point_start))


# (item, key point, reversed answer, lexicon section and entries whose removal hides the reversal)
CONTRADICTIONS = {
    "negation": (
        "viva-27-torch-no-grad-used-eval", "no computation graph is stored",
        "with no_grad the computation graph is still stored as usual", ("negations", "no"),
    ),
    "antonym": (
        "viva-16-optimizer-zero-grad-required-before", "PyTorch accumulates gradients by default",
        "by default backward overwrites the gradients", ("opposites", "overwrite"),
    ),
    "swapped pair": (
        "viva-30-purpose-model-train-model-eval", "model.eval() disables dropout",
        "model.train() disables dropout and model.eval() enables it", ("counterparts", "train"),
    ),
    "number": (
        "viva-10-scheduler-used-change-learning-rate", "StepLR with step_size=10 and gamma=0.1",
        "StepLR with step_size=0.1 and gamma=10", None,
    ),
}  # fmt: skip


def assert_verdict_needs_the_lexicon(items, case, verdict: str):
    """The answer gets `verdict` on the point, and loses it once the named lexicon entries go."""
    item_id, point, answer, removed = case
    result = grade(items[item_id], answer)
    assert status(result, point) == verdict, result.points
    if removed:
        assert status(grade(items[item_id], answer, lexicon_without(*removed)), point) != verdict
    return result


@pytest.mark.parametrize("kind", CONTRADICTIONS)
def test_each_contradiction_kind_is_caught_and_rated_down(items, kind):
    result = assert_verdict_needs_the_lexicon(items, CONTRADICTIONS[kind], "contradicted")
    assert result.suggested_rating in ("Again", "Hard")


def test_a_number_bound_to_the_wrong_name_is_a_contradiction_but_the_right_numbers_are_not(items):
    item = items["viva-33-switch-optimizer-adam-sgd-momentum"]
    swapped = grade(item, "optim.SGD with momentum=5e-4 and weight_decay=0.9")
    right = grade(item, "optim.SGD with momentum=0.9 and weight_decay=5e-4")
    assert status(swapped, "optim.SGD with momentum=0.9") == "contradicted"
    assert status(right, "optim.SGD with momentum=0.9") == "matched" and status(right, "weight_decay=5e-4") == "matched"


def test_the_issue_example_is_no_longer_praised(items):
    answer = "model.train() disables dropout and BatchNorm uses its running statistics; model.eval() enables dropout and BatchNorm uses batch statistics"
    result = grade(items["viva-30-purpose-model-train-model-eval"], answer)
    assert result.suggested_rating == "Again" and len(result.contradicted) == 3 and result.score == 0


def test_a_mirror_image_and_a_negated_opposite_are_not_contradictions(items):
    item = items["viva-30-purpose-model-train-model-eval"]
    # train() enables dropout says the same as eval() disables it; "does not use batch statistics"
    # is "uses running statistics".
    result = grade(item, "in training dropout is active, and in eval BatchNorm does not use batch statistics")
    assert not result.contradicted, result.points


def test_one_concept_swapped_twice_is_a_reversal_not_a_mirror_image(items):
    # "training set into train" read as "test set into ... test": both train terms swapped to the
    # same counterpart is one reversal; counting it as two flips made it look like a mirror image.
    result = grade(items["viva-40-code-add-validation-set-separate"], "split the test set into validation and test")
    assert status(result, "split the training set") == "contradicted", result.points


def test_a_sibling_clause_that_only_names_the_reversed_word_does_not_clear_the_reversal(items):
    # "use the training loader" names "train" but says nothing about splitting the training set.
    answer = "split the test set into validation and test, and use the training loader for tuning"
    result = grade(items["viva-40-code-add-validation-set-separate"], answer)
    assert status(result, "split the training set") == "contradicted", result.points
    assert result.suggested_rating in ("Again", "Hard")


def test_easy_and_hard_are_opposites(items):
    item = items["resnet-02-residual-block-work-mathematically"]
    answer = "learning the identity is hard when F is driven to zero"
    assert status(grade(item, answer), "identity is easy") == "contradicted"
    assert status(grade(item, answer, lexicon_without("opposites", "easy")), "identity is easy") != "contradicted"


def test_an_arithmetic_sum_is_not_gradient_accumulation(items):
    # "sum of squared weights" once read as "accumulate", and "towards zero" as its opposite.
    answer = "it adds a penalty on the sum of the squared weights so the weights get pulled towards zero"
    result = grade(items["resnet-11-weight-decay"], answer)
    assert not result.contradicted, result.points


# (item, key point, paraphrase, lexicon section and entries whose removal loses the match)
PARAPHRASES = {
    "thesaurus": (
        "viva-16-optimizer-zero-grad-required-before", "PyTorch accumulates gradients by default",
        "backward adds into the existing .grad", ("synonyms", "accumulate"),
    ),
    "stemming": (
        "resnet-08-batch-normalization-batchnorm", "normalises with batch mean and variance",
        "it is normalizing with the batch's means and variances", None,
    ),
    "abbreviation": (
        "viva-43-evaluate-model-calibration", "expected calibration error",
        "compute the ECE over the validation set", None,
    ),
    "phrase rewrite": (
        "viva-27-torch-no-grad-used-eval", "saves memory during validation",
        "validation is memory efficient", ("rewrites", "memory efficient"),
    ),
}  # fmt: skip


@pytest.mark.parametrize("kind", PARAPHRASES)
def test_each_paraphrase_support_credits_the_learners_words(items, kind):
    assert_verdict_needs_the_lexicon(items, PARAPHRASES[kind], "matched")


def test_without_stemming_the_inflected_paraphrase_is_lost(items, monkeypatch):
    import study.grading.lexicon as lexicon_module
    import study.grading.text as text_module

    item_id, point, answer, _ = PARAPHRASES["stemming"]
    for module in (lexicon_module, text_module):
        monkeypatch.setattr(module, "stem", str)  # every word kept as typed
    assert status(grade(items[item_id], answer, build_lexicon(RAW)), point) != "matched"


def test_without_the_abbreviation_table_ece_is_not_expected_calibration_error(items, monkeypatch):
    import study.grading.text as text_module

    item_id, point, answer, _ = PARAPHRASES["abbreviation"]
    monkeypatch.setattr(text_module, "ABBREVIATIONS", {})
    assert status(grade(items[item_id], answer), point) != "matched"


def test_named_things_are_never_typo_matches_of_each_other():
    from study.grading.align import same_word
    from study.grading.lexicon import load_lexicon

    lexicon = load_lexicon()
    assert not same_word("float16", "bfloat16", lexicon)  # counterparts, one letter apart
    assert same_word("reproducibl", "reproducbl", lexicon)  # a plain word, mistyped


def test_arithmetic_is_not_a_sentence_break(items):
    from study.grading.text import sentences

    assert len(sentences("the flattened size is 128 * 4 * 4 = 2048")) == 1
    result = grade(items["keras-s3-q2-memory-impact-converting-float32"], "8000*32*32*3*4 bytes is about 93.8 MB")
    assert status(result, "8000 x 32 x 32 x 3 x 4 bytes") == "matched"  # "x" between numbers is "*"


def test_stemming_and_british_spelling_are_what_match_inflections():
    from study.grading.lexicon import stem

    assert stem("accumulates") == stem("accumulated") == stem("accumulating")
    assert stem("normalises") == stem("normalizes") and stem("initialisation") == stem("initialization")
    assert stem("activations") != stem("active")  # kept apart on purpose


def test_abbreviations_and_compound_identifiers_expand():
    from study.grading.lexicon import load_lexicon
    from study.grading.text import tokenize

    lexicon = load_lexicon()
    keys = [t.key for t in tokenize("BN with a high LR on DataParallel and BatchNorm2d", lexicon) if t.kind == "word"]
    assert keys.count("batchnorm") >= 2 and "learning_rate" in keys and "data" in keys and "parallel" in keys


def test_misconception_is_caught_with_its_correction_and_a_refutation_is_not(items):
    item = items["viva-49-dropout-rate-0-5-may"]
    stated = grade(item, "dropout sets half of the weights to zero during training")
    assert [h.belief for h in stated.misconceptions] == ["dropout sets some of the weights to zero"]
    assert "activations" in stated.misconceptions[0].correction and stated.suggested_rating in ("Again", "Hard")
    refuted = grade(item, "dropout zeroes activations, it never sets the weights to zero")
    assert not refuted.misconceptions


def test_a_supposition_does_not_contradict(items):
    result = grade(items["viva-16-optimizer-zero-grad-required-before"], "if you don't zero them, the old gradients add to the new ones")
    assert not result.contradicted and "without zeroing old gradients add to new ones" in result.matched


def test_lexicon_problems_are_listed_at_once():
    raw = copy.deepcopy(RAW)
    raw["synonyms"]["enable"].append("overwrite")
    raw["opposites"].append(["up"])
    with pytest.raises(LexiconError) as error:
        build_lexicon(raw)
    assert "'overwrite' is in both" in str(error.value) and "must be a pair" in str(error.value)
