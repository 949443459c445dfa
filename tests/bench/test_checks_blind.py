"""`python -m bench checks` scores blind answers to the Quiz's exact checks against the bank: a swap, a
belief picked as true and anything the answers miss each counted where they fall; right answers are not."""

from dataclasses import replace

import pytest

from bench.checks_blind import (
    BELIEF_FILES,
    POINT_FILES,
    ROLE_FILES,
    VALUE_FILES,
    chance_roles,
    graded_pairs,
    held_cards,
    longer_pick,
    point_pairs,
    run,
    score_beliefs,
    score_roles,
    value_pairs,
)
from qa_bank.schema import Misconception, Role

GAMMA_BETA = (Role("gamma", "scales the normalised activations"), Role("beta", "shifts the normalised activations"))
CROP_FLIP = (Role("RandomCrop", "simulates small translations"), Role("RandomHorizontalFlip", "gives left-right invariance"))
WEIGHTS = Misconception("dropout zeroes weights", "It zeroes activations.", "dropout zeroes activations")
GRADS = Misconception("model.eval() turns off gradients", "no_grad() does.", "no_grad() turns off gradients")


@pytest.fixture(scope="module")
def items():
    from qa_bank.loader import load_bank

    return load_bank().by_id()


@pytest.fixture
def two(items):
    return [
        replace(items["resnet-08-batch-normalization-batchnorm"], roles=GAMMA_BETA, misconceptions=(WEIGHTS, GRADS)),
        replace(items["viva-01-simplecnn-class-implement-batchnorm-relu"], roles=CROP_FLIP, misconceptions=(replace(WEIGHTS, truth=""),)),
    ]


def test_a_swap_and_a_missed_role_are_disagreements_a_right_match_is_not(two):
    answers = [
        {"id": two[0].id, "match": {GAMMA_BETA[0].does: "beta", GAMMA_BETA[1].does: "gamma"}, "doubt": {GAMMA_BETA[0].does: "either"}},
        {"id": two[1].id, "match": {CROP_FLIP[0].does: "RandomCrop"}},
    ]
    agreement = score_roles(two, answers)
    assert (agreement.right, agreement.asked, agreement.items_right, agreement.items) == (1, 4, 0, 2)
    assert {(d.asked, d.key, d.answered, d.doubt) for d in agreement.disagreements} == {
        (GAMMA_BETA[0].does, "gamma", "beta", "either"),
        (GAMMA_BETA[1].does, "beta", "gamma", None),
        (CROP_FLIP[1].does, "RandomHorizontalFlip", None, None),
    }
    right = [{"id": item.id, "match": {r.does: r.subject for r in item.roles}} for item in two]
    assert score_roles(two, right).right == 4 and not score_roles(two, right).disagreements


def test_a_belief_picked_or_a_pair_missed_is_a_disagreement_and_a_pair_without_truth_is_not_asked(two):
    agreement = score_beliefs(two, [{"id": two[0].id, "picks": {WEIGHTS.belief: WEIGHTS.belief}, "doubt": {WEIGHTS.belief: "both hold"}}])
    assert (agreement.right, agreement.asked, agreement.items_right, agreement.items) == (0, 2, 0, 1)
    assert {(d.asked, d.answered, d.doubt) for d in agreement.disagreements} == {
        (WEIGHTS.belief, WEIGHTS.belief, "both hold"),
        (GRADS.belief, None, None),
    }
    right = score_beliefs(two, [{"id": two[0].id, "picks": {GRADS.belief: GRADS.truth, WEIGHTS.belief: WEIGHTS.truth}}])
    assert (right.right, right.items_right, right.disagreements) == (2, 1, ())


def test_a_learner_is_held_on_a_card_with_one_wrong_check_and_passes_one_with_every_check_right(two):
    right_roles = {r.does: r.subject for r in GAMMA_BETA}
    answers = [
        {"id": two[0].id, "roles": right_roles, "picks": {WEIGHTS.belief: WEIGHTS.truth, GRADS.belief: GRADS.belief}},
        {"id": two[1].id, "roles": {r.does: r.subject for r in CROP_FLIP}},
    ]
    assert held_cards(two, answers) == ({two[0].id}, {two[1].id})
    answers[0]["picks"][GRADS.belief] = GRADS.truth
    answers[1]["roles"] = {CROP_FLIP[0].does: "RandomHorizontalFlip", CROP_FLIP[1].does: "RandomCrop"}
    assert held_cards(two, answers) == ({two[1].id}, {two[0].id})


def test_value_pairs_are_scored_apart_and_an_earlier_learner_is_not_held_by_them(two):
    value = Misconception(
        "CIFAR10 loads the train split with train=False", "train=True.", "CIFAR10 loads the train split with train=True", check_only=True
    )
    two[0] = replace(two[0], misconceptions=(WEIGHTS, GRADS, value))
    assert graded_pairs(two[0]) == (WEIGHTS, GRADS) and value_pairs(two[0]) == (value,)
    picks = {WEIGHTS.belief: WEIGHTS.truth, GRADS.belief: GRADS.truth}
    assert score_beliefs(two, [{"id": two[0].id, "picks": picks}], graded_pairs).disagreements == ()
    assert [d.asked for d in score_beliefs(two, [{"id": two[0].id, "picks": picks}]).disagreements] == [value.belief]
    assert score_beliefs(two, [{"id": two[0].id, "picks": {value.belief: value.truth}}], value_pairs).right == 1
    # A learner who answered before the value pairs existed is held only by what they answered.
    answers = [{"id": two[0].id, "roles": {r.does: r.subject for r in GAMMA_BETA}, "picks": picks}]
    assert held_cards(two, answers) == (set(), {two[0].id})


def test_key_point_pairs_are_scored_apart_from_the_value_pairs(two):
    value = Misconception("bn's eps is 0.1", "It is 1e-5.", "bn's eps is 1e-5", check_only=True)
    point = Misconception("dropout is on at test time", "eval() turns it off.", "dropout is off at test time", check_only=True, point="p")
    two[0] = replace(two[0], misconceptions=(WEIGHTS, value, point))
    assert (graded_pairs(two[0]), value_pairs(two[0]), point_pairs(two[0])) == ((WEIGHTS,), (value,), (point,))
    picks = {value.belief: value.truth, point.belief: point.belief}
    assert score_beliefs(two, [{"id": two[0].id, "picks": picks}], value_pairs).disagreements == ()
    assert [d.asked for d in score_beliefs(two, [{"id": two[0].id, "picks": picks}], point_pairs).disagreements] == [point.belief]


def test_a_source_learner_is_counted_on_the_key_point_pairs_alone(two):
    from bench.checks_blind import _add_pairs_source_learner
    from bench.common import BenchResult

    value = Misconception("bn's eps is 0.1", "It is 1e-5.", "bn's eps is 1e-5", check_only=True)
    point = Misconception("dropout is on at test time", "eval() turns it off.", "dropout is off at test time", check_only=True, point="p")
    two = [replace(two[0], misconceptions=(value, point), notes=""), replace(two[1], misconceptions=(value, point), notes="A note.")]
    answers = [
        {"id": two[0].id, "picks": {value.belief: value.belief, point.belief: point.truth}},  # wrong on the value pair only
        {"id": two[1].id, "picks": {value.belief: value.truth, point.belief: point.belief}},  # wrong on the key-point pair
    ]
    result = BenchResult("checks")
    _add_pairs_source_learner(result, two, answers, point_pairs, "the key-point pairs")
    assert {f.name: f.note for f in result.figures} == {
        "source-only learner held by the key-point pairs: cards with a note": "1/1",
        "source-only learner held by the key-point pairs: cards with no note": "0/1",
    }


def test_a_source_learner_held_by_a_value_pair_is_counted_by_whether_the_card_has_a_note(two):
    from bench.checks_blind import _add_pairs_source_learner
    from bench.common import BenchResult

    value = Misconception("bn's eps is 0.1", "It is 1e-5.", "bn's eps is 1e-5", check_only=True)
    two = [replace(two[0], misconceptions=(WEIGHTS, value), notes=""), replace(two[1], misconceptions=(value,), notes="A note.")]
    result = BenchResult("checks")
    _add_pairs_source_learner(result, two, [{"id": two[0].id, "picks": {value.belief: value.belief}}, {"id": two[1].id, "picks": {}}])
    held = {f.name.split(": ")[1]: f.note for f in result.figures}
    # The card without a note holds the learner (its pair contradicts its own answer); the unanswered one counts as right.
    assert held == {"cards with a note": "0/1", "cards with no note": "1/1"}


def test_chance_is_one_role_per_item(two):
    two[1] = replace(two[1], roles=(*CROP_FLIP, Role("Normalize", "centres each channel")))
    assert chance_roles(two) == 2 / 5
    assert chance_roles([replace(two[0], roles=())]) == 0.0


def test_the_longer_pick_baseline_takes_the_longer_statement_of_each_pair(two):
    # WEIGHTS' truth is longer than its belief, GRADS' is shorter: the baseline gets one of two.
    assert len(WEIGHTS.truth) > len(WEIGHTS.belief) and len(GRADS.truth) < len(GRADS.belief)
    baseline = longer_pick(two)
    assert (baseline.right, baseline.asked) == (1, 2) and [d.asked for d in baseline.disagreements] == [GRADS.belief]


def test_the_bench_scores_every_shipped_answer_file():
    result = run(quick=True)
    names = {f.name for f in result.figures}
    assert ROLE_FILES and all(f"roles matched blind ({p.stem.split('_blind_')[-1]})" in names for p in ROLE_FILES)
    assert all(f"truths picked blind ({p.stem.split('_blind_')[-1]})" in names for p in BELIEF_FILES)
    assert VALUE_FILES and all(f"value truths picked blind ({p.stem.split('_blind_')[-1]})" in names for p in VALUE_FILES)
    assert POINT_FILES and all(f"key-point truths picked blind ({p.stem.split('_blind_')[-1]})" in names for p in POINT_FILES)
    assert BELIEF_FILES and all(f.value is not None and 0 <= f.value <= 100 for f in result.figures)
    assert sum(f.name.startswith("source-only learner held at Hard") for f in result.figures) == 2
    assert sum(f.name.startswith("source-only learner held by the value pairs") for f in result.figures) == 2
    # The key-point figures, as docs/grading.md ("Round 18") states them: counted on the key-point pairs, not the value pairs.
    by_name = {f.name: f.note for f in result.figures}
    assert by_name["source-only learner held by the key-point pairs: cards with a note"] == "7/63"
    assert by_name["source-only learner held by the key-point pairs: cards with no note"] == "0/65"
    assert by_name["key-point truths picked by always taking the longer statement"].startswith("85 truths longer, 67 shorter, 52 ties")
    # Each figure is the share its note counts ("right/asked; ..."), so a figure cannot drift from its count.
    for figure in result.figures:
        if "items all right" in figure.note:
            right, asked = figure.note.split(";")[0].split("/")
            assert abs(figure.value - 100 * int(right) / int(asked)) < 1e-9, figure
