"""`python -m bench roles` scores blind "which does what?" answers against the bank's roles: a swap, a
role the answers miss and a right match each counted where they fall."""

from dataclasses import replace

import pytest

from bench.roles_blind import ANSWER_FILES, chance, run, score
from qa_bank.schema import Role

GAMMA_BETA = (Role("gamma", "scales the normalised activations"), Role("beta", "shifts the normalised activations"))
CROP_FLIP = (Role("RandomCrop", "simulates small translations"), Role("RandomHorizontalFlip", "gives left-right invariance"))


@pytest.fixture(scope="module")
def items():
    from qa_bank.loader import load_bank

    return load_bank().by_id()


def two_items(items):
    return [
        replace(items["resnet-08-batch-normalization-batchnorm"], roles=GAMMA_BETA),
        replace(items["viva-01-simplecnn-class-implement-batchnorm-relu"], roles=CROP_FLIP),
    ]


def test_a_swap_and_a_missed_role_are_disagreements_a_right_match_is_not(items):
    bank = two_items(items)
    answers = [
        {"id": bank[0].id, "match": {GAMMA_BETA[0].does: "beta", GAMMA_BETA[1].does: "gamma"}, "doubt": {GAMMA_BETA[0].does: "either"}},
        {"id": bank[1].id, "match": {CROP_FLIP[0].does: "RandomCrop"}},
    ]
    agreement = score(bank, answers)
    assert (agreement.roles_right, agreement.roles, agreement.items_right, agreement.items) == (1, 4, 0, 2)
    assert {(d.does, d.key, d.answered, d.doubt) for d in agreement.disagreements} == {
        (GAMMA_BETA[0].does, "gamma", "beta", "either"),
        (GAMMA_BETA[1].does, "beta", "gamma", None),
        (CROP_FLIP[1].does, "RandomHorizontalFlip", None, None),
    }
    right = [{"id": item.id, "match": {r.does: r.subject for r in item.roles}} for item in bank]
    assert score(bank, right).roles_right == 4 and not score(bank, right).disagreements


def test_chance_is_one_role_per_item(items):
    bank = two_items(items)
    bank[1] = replace(bank[1], roles=(*CROP_FLIP, Role("Normalize", "centres each channel")))
    assert chance(bank) == 2 / 5
    assert chance([replace(bank[0], roles=())]) == 0.0


def test_the_bench_scores_every_shipped_answer_file():
    result = run(quick=True)
    names = {f.name for f in result.figures}
    assert ANSWER_FILES and all(f"roles matched blind ({path.stem.removeprefix('roles_blind_')})" in names for path in ANSWER_FILES)
    assert all(f.value is not None and 0 <= f.value <= 100 for f in result.figures)
