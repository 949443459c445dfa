"""Issue 28, twelfth round: a value the key point assigns to a name ("gamma=0.1") and the answer
assigns another ("gamma=0.5") reverses the point, unless the answer also gives the point's value
or names the other value as the alternative. Each reversed case fails with the rule removed."""

from study.grading import grade
from study.grading.grader import PointStatus
from tests.study.grading_points import point

STEPLR = "viva-10-scheduler-used-change-learning-rate"
STEPLR_POINT = "StepLR with step_size=10 and gamma=0.1"
CHANNELS = "resnet-53-pytorch-handle-rgb-vs-grayscale"


def test_another_value_for_an_assigned_name_reverses_the_point(items):
    result = grade(items[STEPLR], "StepLR with step_size=10, gamma=0.5, so the rate drops every 10 epochs")
    graded = point(result, STEPLR_POINT)
    assert graded.status is PointStatus.CONTRADICTED
    assert graded.why == "value"
    assert graded.swapped == ("0.1", "0.5")


def test_the_points_own_value_keeps_the_point(items):
    result = grade(items[STEPLR], "StepLR with step_size=10 and gamma=0.1, so the rate drops tenfold every 10 epochs")
    assert point(result, STEPLR_POINT).status is PointStatus.MATCHED


def test_a_value_named_as_the_alternative_is_not_asserted(items):
    result = grade(items[STEPLR], "StepLR with step_size=10 rather than gamma=0.5 style decay")
    assert point(result, STEPLR_POINT).status is not PointStatus.CONTRADICTED


def test_a_name_the_point_gives_a_value_per_case_is_not_read_as_one_value(items):
    both = grade(items[CHANNELS], "only the channel dim differs: C=3 for rgb vs C=1 for grey, each conv kernel spans all input channels")
    assert point(both, "C=3 for RGB").status is PointStatus.MATCHED
    one_case = grade(items[CHANNELS], "only the channel dim differs: an rgb image has C=3")
    assert point(one_case, "C=3 for RGB").status is not PointStatus.CONTRADICTED


def test_cannot_y_without_x_states_that_y_needs_x(items):
    # The impossible consequence first, its condition after: the two negations still cancel.
    item = items["resnet-46-compute-len-train-loader"]
    needed = grade(item, "a cyclic scheduler can't plan the lr curve without knowing the total number of steps")
    assert point(needed, "cyclic schedules plan over the total number of steps").status is PointStatus.MATCHED
    # A possible consequence keeps its negation: planning without the steps denies the point.
    denied = grade(item, "a cyclic scheduler can plan the lr curve without the total number of steps")
    assert point(denied, "cyclic schedules plan over the total number of steps").status is PointStatus.CONTRADICTED


def test_what_the_learner_chose_against_states_a_point_that_denies_it(items):
    # "avoids catastrophic forgetting" denies the forgetting; "rather than catastrophic forgetting" chooses against it.
    item = items["keras-s7-q2-use-lower-learning-rate-1e"]
    said = grade(item, "a lower lr gives gradual adaptation rather than catastrophic forgetting")
    assert point(said, "avoids catastrophic forgetting").status is PointStatus.MATCHED
    # The other way round the learner chose the forgetting: no credit for avoiding it.
    turned = grade(item, "a lower lr gives catastrophic forgetting rather than gradual adaptation")
    assert point(turned, "avoids catastrophic forgetting").status is not PointStatus.MATCHED
