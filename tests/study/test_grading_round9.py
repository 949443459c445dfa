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


RESUME = "viva-12-resume-training-saved-checkpoint-project"


def test_a_call_on_another_receiver_says_nothing_of_the_points_own_call(items):
    # "optimizer.load_state_dict(...)" is no statement of "model.load_state_dict": with the model handed
    # the optimizer's entry, the model's point is contradicted, not credited by the optimizer's call.
    item = items[RESUME]
    said = "ckpt = torch.load(path); model.load_state_dict(ckpt['{}']); optimizer.load_state_dict(ckpt['{}']); start at ckpt['epoch'] + 1"
    wrong = grade(item, said.format("optimizer", "weights"))
    assert point(wrong, "model.load_state_dict").status is PointStatus.CONTRADICTED
    right = grade(item, said.format("weights", "optimizer"))
    assert point(right, "model.load_state_dict").status is PointStatus.MATCHED


CURVES = "viva-19-training-curves-plotted-saved"
SAVED = "saves training_curves.png in the checkpoint directory"


def test_the_points_file_in_another_format_is_a_wrong_value(items):
    item = items[CURVES]
    said = "plot_curves(history, out_dir) with matplotlib, it writes training_curves.{} into the checkpoint directory"
    assert point(grade(item, said.format("svg")), SAVED).status is PointStatus.CONTRADICTED
    assert point(grade(item, said.format("png")), SAVED).status is PointStatus.MATCHED


def test_the_points_offset_with_the_other_sign_is_a_wrong_value(items):
    # "ckpt['epoch'] - 1" for the point's "epoch + 1": the same offset with the other sign is another value.
    item = items[RESUME]
    said = "torch.load it, call model.load_state_dict and optimizer.load_state_dict, resume from start_epoch = ckpt['epoch'] {} 1"
    assert point(grade(item, said.format("-")), "start_epoch = epoch + 1").status is PointStatus.CONTRADICTED
    assert point(grade(item, said.format("+")), "start_epoch = epoch + 1").status is PointStatus.MATCHED
