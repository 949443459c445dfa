"""Issue 28, eighth round: a bank claim reverses a point only through what the point says. Each test
holds a correct answer the rule keeps from being contradicted, and the reversed answer that must still
fail (each test fails with its rule removed: checked, see docs/grading.md, round 8)."""

from study.grading import grade
from study.grading.grader import PointStatus
from tests.study.grading_points import point

BIAS = "resnet-19-remove-bias-conv2d-using-batchnorm"
FINDER = "resnet-15-learning-rate-finder"
PRECISION = "keras-s8-q3-precision-used-some-classes-f1"


def test_a_contrarys_word_said_of_another_thing_beside_the_point_is_no_reversal(items):
    # resnet-19's contrary is "BatchNorm adds the batch mean": here the bias adds, BatchNorm subtracts.
    item = items[BIAS]
    said = grade(item, "the offset the bias adds gets removed because batchnorm subtracts the mean")
    assert point(said, "BatchNorm subtracts the batch mean").status is not PointStatus.CONTRADICTED
    # Said of BatchNorm alone, or joined to the point's word as one claim, it still reverses the point.
    wrong = grade(item, "batchnorm adds the batch mean back, so the bias is needed")
    assert point(wrong, "BatchNorm subtracts the batch mean").status is PointStatus.CONTRADICTED
    # keras-s8-q3's contrary "precision counts false negatives" joined to the point's words in one list:
    # the learner claims both, which is the reversal.
    both = grade(items[PRECISION], "precision looks at both the false positives and the false negatives")
    assert point(both, "precision counts false positives").status is PointStatus.CONTRADICTED
    apart = grade(items[PRECISION], "precision counts the false positives, while recall is hurt by false negatives")
    assert point(apart, "precision counts false positives").status is PointStatus.MATCHED


def test_a_bank_wording_reverses_the_point_only_through_the_points_own_words(items):
    # resnet-15 words "increase it exponentially over a short run" as "raise it exponentially for one
    # epoch": "every batch" differs from the wording's "epoch", a detail the point does not have.
    item = items[FINDER]
    said = grade(item, "during a short run the lr is raised exponentially every batch")
    assert point(said, "increase it exponentially over a short run").status is PointStatus.MATCHED
    # The point's own word reversed still contradicts it.
    wrong = grade(item, "during a short run the lr is decreased exponentially every batch")
    assert point(wrong, "increase it exponentially over a short run").status is PointStatus.CONTRADICTED
