"""`python -m bench quiz-verdict`: the grader's rating, then the exact checks answered as each blind answer's
author would. A Good is held at Hard by a wrong role or a belief picked; Again and Hard are never raised; a
card with no check keeps the grader's rating; a play that names another card's answer is refused."""

from dataclasses import replace

import pytest
import yaml

from bench.grading import Labelled
from bench.quiz_verdict import SETS, QuizVerdictDataError, final_rating, load_plays, run
from qa_bank.schema import Misconception, Role

GAMMA_BETA = (Role("gamma", "scales the normalised activations"), Role("beta", "shifts the normalised activations"))
WEIGHTS = Misconception("dropout zeroes weights", "It zeroes activations.", "dropout zeroes activations")


@pytest.fixture(scope="module")
def bn():
    from qa_bank.loader import load_bank

    item = load_bank().by_id()["resnet-08-batch-normalization-batchnorm"]
    return replace(item, roles=GAMMA_BETA, misconceptions=(WEIGHTS,))


RIGHT = {"roles": {r.does: r.subject for r in GAMMA_BETA}, "picks": {WEIGHTS.belief: WEIGHTS.truth}}


def test_a_good_stands_only_when_the_author_gets_every_check_right(bn):
    assert final_rating(bn, "Good", RIGHT) == "Good"
    swapped = {**RIGHT, "roles": {GAMMA_BETA[0].does: "beta", GAMMA_BETA[1].does: "gamma"}}
    assert final_rating(bn, "Easy", swapped) == "Hard"
    assert final_rating(bn, "Good", {**RIGHT, "picks": {WEIGHTS.belief: WEIGHTS.belief}}) == "Hard"


def test_again_and_hard_are_never_raised_and_an_unplayed_answer_counts_as_all_right(bn):
    assert final_rating(bn, "Again", RIGHT) == "Again"
    assert final_rating(bn, "Hard", RIGHT) == "Hard"
    assert final_rating(bn, "Easy", None) == "Easy"
    # A pair or a role the play does not hold (added to the bank since) counts as answered right; one it holds counts.
    assert final_rating(bn, "Good", {"roles": {GAMMA_BETA[0].does: "gamma"}}) == "Good"
    assert final_rating(bn, "Good", {"roles": {GAMMA_BETA[1].does: "gamma"}}) == "Hard"


def test_a_card_without_checks_keeps_the_graders_rating(bn):
    bare = replace(bn, roles=(), misconceptions=(replace(WEIGHTS, truth=""),))
    assert final_rating(bare, "Easy", {"picks": {WEIGHTS.belief: WEIGHTS.belief}}) == "Easy"


def test_a_play_is_keyed_to_its_answer_and_its_card(tmp_path):
    rows = [Labelled("card-a", "role_swap", "again_or_hard", "..."), Labelled("card-b", "misconception", "again_or_hard", "...")]
    path = tmp_path / "plays.yaml"
    path.write_text(yaml.safe_dump([{"key": "i-1", "card": "card-b", "picks": {"x": "y"}}]))
    assert load_plays(path, rows) == {1: {"key": "i-1", "card": "card-b", "picks": {"x": "y"}}}
    path.write_text(yaml.safe_dump([{"key": "i-0", "card": "card-b"}]))
    with pytest.raises(QuizVerdictDataError, match=r"plays.yaml: entry 1: key 'i-0' is not an answer on card 'card-b'"):
        load_plays(path, rows)


def test_the_bench_reports_both_sets_grader_and_quiz_side_by_side():
    assert all(plays.exists() for _, _, plays in SETS)
    result = run(quick=True)
    values = {f.name: f for f in result.figures}
    for label, _, _ in SETS:
        for among in ("reversed and misconception answers", "correct answers"):
            grader = values[f"{label} {among} as expected: grader"]
            quiz = values[f"{label} {among} as expected: Quiz after the checks"]
            # The checks only ever hold a Good at Hard: more reversals caught, never more correct answers accepted.
            if among.startswith("reversed"):
                assert quiz.value >= grader.value
            else:
                assert quiz.value <= grader.value
            assert quiz.note.split("/")[1] == grader.note.split("/")[1]
    assert "| kind | answers |" in result.details
