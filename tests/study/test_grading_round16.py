"""Issue 28, sixteenth round: two readings of learners' English. "By mistake" is an accident, not the
clause marker "mistake" (which would cancel the "don't" before it); and the degree that "don't generalise
as well" becomes answers the point's predicate, so "large" naming a kind of batch neither splits the
sentence nor stands for the point's "better". Each test fails with its rule removed, and each pins the
reversal the rule must still reject."""

from study.grading import grade
from study.grading.grader import PointStatus
from study.grading.lexicon import load_lexicon
from study.grading.text import clauses
from tests.study.grading_points import point

SAFETY = "viva-47-safety-checks-add-before-saving"
BATCH = "fundamentals-13-general-relationship-between-increasing-batch"
NO_OVERWRITE = "do not overwrite the best checkpoint by accident"
FLAT = "flat minima generalise better"


def test_by_mistake_keeps_the_negation_before_it(items):
    said = grade(items[SAFETY], "save to a temp file and rename it, and don't clobber the best checkpoint by mistake")
    assert point(said, NO_OVERWRITE).status is PointStatus.MATCHED
    reversed_ = grade(items[SAFETY], "save to a temp file and rename it, and always clobber the best checkpoint")
    assert point(reversed_, NO_OVERWRITE).status is PointStatus.CONTRADICTED


def test_a_comparative_negation_is_one_clause_with_the_degree_of_its_verb():
    text = "very large batches converge to sharp minima that don't generalise as well"
    assert [c.text for c in clauses(text, load_lexicon())] == [text]


def test_the_predicates_degree_answers_the_points_degree(items):
    said = grade(items[BATCH], "very large batches converge to sharp minima that don't generalise as well")
    assert point(said, FLAT).status is not PointStatus.CONTRADICTED
    # The same sentence turned over, by the predicate's degree or by the minima, is still a reversal.
    for wrong in (
        "very large batches converge to sharp minima that generalise better",
        "very large batches converge to flat minima that don't generalise as well",
    ):
        assert point(grade(items[BATCH], wrong), FLAT).status is PointStatus.CONTRADICTED, wrong
