"""The learned-reader trial (bench/grading_reader.py, issue 28's round 17; not used by the app): what it
trains on, how it gates, how its ranking is scored, and that its adapter merges into the same map."""

from __future__ import annotations

from types import SimpleNamespace

import torch

from bench.grading import load_labelled
from bench.grading_reader import BLIND, DATA, DEVELOPMENT, _gated, _ranked_apart, bank_examples, development_examples
from bench.reader_model import LowRank, PairClassifier, add_adapters, merge_adapters
from qa_bank.loader import load_bank


def test_a_merged_adapter_is_the_same_map_as_base_plus_low_rank_change():
    torch.manual_seed(0)
    layer = LowRank(torch.nn.Linear(6, 4), rank=2, alpha=4.0)
    torch.nn.init.normal_(layer.b)  # a trained adapter: B is no longer zero
    x = torch.randn(3, 6)
    assert torch.allclose(layer.merged()(x), layer(x), atol=1e-6)
    assert not torch.allclose(layer.base(x), layer(x))  # the change is not nothing


def test_adapters_train_only_the_low_rank_matrices_and_the_head():
    model = PairClassifier()
    add_adapters(model, rank=8, alpha=16.0)
    trained = {name for name, p in model.named_parameters() if p.requires_grad}
    assert trained and all(name.endswith((".a", ".b")) or name.startswith("head.") for name in trained)
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) < 400_000
    merge_adapters(model)
    assert not any(isinstance(m, LowRank) for m in model.modules())


def test_the_reader_never_trains_on_a_blind_set_nor_on_term_lists_or_off_topic_answers():
    assert not set(DEVELOPMENT) & set(BLIND)
    items = load_bank().by_id()
    examples = development_examples(items, ("grading_blind_b",))
    assert examples and {label for _, _, label in examples} == {0.0, 1.0}
    texts = {text for _, text, _ in examples}
    left_to_rules = [e.answer for e in load_labelled(DATA / "grading_blind_b.yaml", items) if e.kind in ("term_list", "off_topic")]
    assert left_to_rules and not texts & set(left_to_rules)


def test_the_bank_gives_beliefs_as_reversed_and_truths_as_right():
    items = load_bank().by_id()
    labels = {(item, text): label for item, text, label in bank_examples(items)}
    item = next(i for i in items.values() if any(m.truth for m in i.misconceptions))
    belief = next(m for m in item.misconceptions if m.truth)
    assert labels[(item.id, belief.belief)] == 1.0 and labels[(item.id, belief.truth)] == 0.0
    assert all(labels[(item.id, point)] == 0.0 for point in item.key_points)


def test_the_gate_only_lowers_a_pass_and_only_from_the_threshold():
    assert _gated("Good", 0.6, 0.6) == "Hard" and _gated("Easy", 0.9, 0.6) == "Hard"
    assert _gated("Good", 0.59, 0.6) == "Good"
    assert _gated("Again", 0.99, 0.6) == "Again" and _gated("Hard", 0.99, 0.6) == "Hard"


def test_the_ranking_is_scored_only_among_answers_the_rules_pass():
    def entry(kind):
        return SimpleNamespace(kind=kind)

    entries = [entry("role_swap"), entry("correct_paraphrase"), entry("value_flip"), entry("correct_negation")]
    # The held value flip (rules: Hard) scores lowest but is left out: only passed answers are ranked.
    assert _ranked_apart([0.9, 0.2, 0.0, 0.5], ["Good", "Easy", "Hard", "Good"], entries) == 1.0
    assert _ranked_apart([0.3, 0.2, 0.0, 0.5], ["Good", "Easy", "Hard", "Good"], entries) == 0.5
