"""Issue 28, seventh round: readings of a clause's claim that make reversed answers fail without
losing correct ones, and the bank's own model answers pinned at Good or better. Each test holds a
learner's answer whose verdict depends on one rule, and the reversed answer the rule must not let
through (each test fails with its rule removed: checked, see docs/grading.md, round 7)."""

from pathlib import Path

from study.grading import grade
from study.grading.grader import PointStatus
from tests.study.grading_points import point

MEMORY = "keras-s1-q1-enable-gpu-memory-growth"
SIMPLE_CNN = "viva-01-simplecnn-class-implement-batchnorm-relu"
BALANCED = "keras-s2-q8-1000-images-per-class-test"
MODES = "viva-30-purpose-model-train-model-eval"
VAL_HIGHER = "resnet-26-validation-accuracy-might-higher-than"


def test_a_claims_relation_said_through_its_opposite_under_without_states_it(items):
    # viva-01's claim gives "stabilises" as the relation a clause must state; "without batchnorm ...
    # unstable" states it through its opposite, supposed away (the whole point's reading composes it).
    item = items[SIMPLE_CNN]
    said = grade(item, "without batchnorm the activations drift and training would be unstable")
    assert point(said, "BatchNorm stabilises").status is PointStatus.MATCHED
    # The opposite said of BatchNorm itself, or the consequence kept stable, still reverses it.
    assert point(grade(item, "batchnorm makes training unstable"), "BatchNorm stabilises").status is PointStatus.CONTRADICTED
    kept = grade(item, "without batchnorm training would still be stable")
    assert point(kept, "BatchNorm stabilises").status is PointStatus.CONTRADICTED


def test_a_bare_without_this_makes_the_rest_of_the_sentence_counterfactual(items):
    item = items[MEMORY]
    said = grade(item, "Without this, TensorFlow grabs all of the VRAM at once, which can cause OOM errors for other processes.")
    assert point(said, "avoids out-of-memory").status is PointStatus.MATCHED
    assert said.suggested_rating in ("Good", "Easy")
    # Said as a fact, the same words reverse both points.
    fact = grade(item, "With memory growth, TensorFlow grabs all of the VRAM at once, which can cause OOM errors for other processes.")
    assert point(fact, "avoids out-of-memory").status is PointStatus.CONTRADICTED
    assert fact.suggested_rating == "Again"


def test_a_number_right_before_a_counterpart_stays_with_it(items):
    item = items[BALANCED]
    said = grade(item, "it is balanced by design: 6000 images per class (5000 train + 1000 test)")
    assert point(said, "5,000 train").status is PointStatus.MATCHED
    swapped = grade(item, "it is balanced by design: 6000 images per class, 1000 train and 5000 test")
    assert point(swapped, "5,000 train").status is PointStatus.CONTRADICTED


def test_a_whole_predicate_mirrored_with_its_subject_agrees(items):
    # eval for train, disables for enables, running for batch statistics: each part turned over.
    item = items[MODES]
    said = grade(item, "model.eval() disables dropout and uses running stats in batchnorm")
    assert point(said, "model.train()").status is not PointStatus.CONTRADICTED
    # One part left as it was is a mistake ("enables", with the subject swapped).
    wrong = grade(item, "model.eval() enables dropout and BatchNorm uses batch statistics")
    assert point(wrong, "model.train()").status is PointStatus.CONTRADICTED
    assert wrong.suggested_rating in ("Again", "Hard")


def test_during_does_not_end_a_negations_reach(items):
    # "turned off during validation": the negation reaches "validation", so "training" is not swapped in.
    item = items[VAL_HIGHER]
    said = grade(item, "because dropout is turned off during validation")
    assert point(said, "dropout and augmentation").status is not PointStatus.CONTRADICTED
    assert said.suggested_rating in ("Hard", "Good")
    assert point(grade(item, "because dropout is turned on during validation"), "dropout and").status is PointStatus.CONTRADICTED


FROZEN = "fundamentals-06-freezing-example-set-param-requires"
BATCH_ONE = "fundamentals-13-general-relationship-between-increasing-batch"


def test_a_negation_before_because_does_not_deny_the_reason(items):
    # The point is the reason: "won't update" is its consequence, not a denial of "step updates".
    item = items[FROZEN]
    said = grade(item, "it won't update because optimizer.step() only loops over the parameters you passed to it")
    assert point(said, "optimizer.step").status is PointStatus.MATCHED
    denied = grade(item, "optimizer.step() doesn't update the parameters it was given because requires_grad is False")
    assert point(denied, "optimizer.step").status is PointStatus.CONTRADICTED
    # The negation denies a word the point lacks ("use"); the point's predicate is in the reason.
    item = items[BATCH_ONE]
    why = grade(item, "people don't use a batch size of 1 because it is very slow and the gradient is very noisy")
    assert point(why, "batch size 1").status is PointStatus.MATCHED
    denied = grade(item, "a batch size of 1 is not slow because each step is tiny")
    assert point(denied, "batch size 1").status is not PointStatus.MATCHED


MODEL_ANSWERS_GOOD = Path(__file__).parent / "data" / "model_answers_good.txt"


def test_model_answers_with_no_correcting_note_stay_good_or_better(items):
    # Never tuned on: the bank's own answer, typed verbatim, is correct where no note corrects it.
    lines = MODEL_ANSWERS_GOOD.read_text(encoding="utf-8").splitlines()
    ids = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert len(ids) >= 118
    below = [item_id for item_id in ids if grade(items[item_id], items[item_id].answer).suggested_rating not in ("Good", "Easy")]
    assert not below, f"model answers fell below Good: {below}"
    assert all(not items[item_id].notes for item_id in ids)
