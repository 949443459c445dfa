"""Issue 28, ninth round: numbers in a list of name-value pairs belong to the name before them. The test
holds a reversed answer the rule catches and the correct one it keeps (it fails with the rule removed:
checked, see docs/grading.md, round 9)."""

from study.grading import grade
from study.grading.grader import PointStatus
from tests.study.grading_points import point

CALLBACKS = "keras-s6-q8-callbacks-were-used"
PLATEAU = "ReduceLROnPlateau factor 0.5 patience 3"


def test_a_number_between_two_named_values_is_the_value_of_the_name_before_it(items):
    # The key point writes "factor 0.5 patience 3": 0.5 is the factor, not a patience of 0.5.
    item = items[CALLBACKS]
    said = "EarlyStopping patience 5; ReduceLROnPlateau with factor {} and patience 3; ModelCheckpoint on the best val_accuracy"
    wrong = grade(item, said.format("0.1"))
    assert point(wrong, PLATEAU).status is PointStatus.CONTRADICTED
    right = grade(item, said.format("0.5"))
    assert point(right, PLATEAU).status is PointStatus.MATCHED


MONITORING = "keras-general-q5-monitoring-add-production"
REVIEW = "human review of low-confidence predictions"


def test_a_denied_need_denies_the_thing_said_before_it(items):
    # "X isn't needed" negates X: the negation's own predicate ("needed") is a stopword with no terms.
    item = items[MONITORING]
    wrong = grade(item, "track per-class accuracy and confidence drift; a human review of low-confidence predictions isn't needed")
    assert point(wrong, REVIEW).status is PointStatus.CONTRADICTED
    # A need denied for something else leaves the point standing.
    right = grade(item, "send low-confidence predictions to a human for review; retraining every week isn't needed")
    assert point(right, REVIEW).status is PointStatus.MATCHED


SPLITS = "keras-s2-q3-exact-split-sizes"
TEST_IMAGES = "10,000 test images from the CIFAR-10 test set"


def test_a_number_for_the_same_noun_phrase_in_another_order_is_its_value(items):
    # "test 1,000 images" gives the count of "10,000 test images" with the name first.
    item = items[SPLITS]
    said = "8,000 training images (80%), 2,000 validation images (20%), and test {} images from the CIFAR-10 test set"
    wrong = grade(item, said.format("1,000"))
    assert point(wrong, TEST_IMAGES).status is PointStatus.CONTRADICTED
    right = grade(item, said.format("10,000"))
    assert point(right, TEST_IMAGES).status is PointStatus.MATCHED
