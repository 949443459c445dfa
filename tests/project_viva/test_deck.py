"""The viva deck of a project: bank items ranked by what the project uses and what was found,
generated questions that the grader marks as it marks bank items (with answers written as a
learner would say them), stored as own cards, scheduled by FSRS and exported to Anki; and the
per-learner workspace the upload lives in."""

import sqlite3
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fsrs import Rating

from project_viva.analysis import analyse
from project_viva.catalogue import KINDS
from project_viva.deck import PROJECT_PREFIX, build_deck, deck_items, export_deck, rank_items, remove_deck, store_deck
from project_viva.sources import load_path
from project_viva.workspace import delete_workspace, load_analysis, save_analysis, save_upload, workspace
from qa_bank.loader import load_bank
from study.grading import grade
from study.own_cards import apply_overlay
from study.store import ProgressStore

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def bank():
    return load_bank()


@pytest.fixture(scope="module")
def simple():
    """The single-file fixture, measured: StepLR stepped per batch, no eval(), best on the test set."""
    return analyse(load_path(FIXTURES / "simple" / "train.py")).to_dict()


def test_every_finding_kind_links_items_and_demos_that_exist(bank):
    from proofs.catalogue import demo_ids

    ids, demos = set(bank.by_id()), set(demo_ids())
    for name, kind in KINDS.items():
        assert set(kind.items) <= ids, name
        assert set(kind.demos) <= demos, name
        assert set(kind.topics) <= set(bank.topics), name


def test_findings_rank_their_items_first_then_what_the_facts_touch(bank, simple):
    ranked = rank_items(bank, simple, simple["findings"])
    linked = {item for finding in simple["findings"] for item in finding["items"]}
    assert {f["kind"] for f in simple["findings"]} == {"scheduler_stepped_per_batch", "eval_without_eval_mode", "selection_on_test_set"}
    order = [r.item_id for r in ranked]
    assert set(order[: len(linked)]) == linked  # every card a finding links comes before every other card
    batchnorm = next(r for r in rank_items(bank, simple, [], limit=300) if r.item_id == "resnet-08-batch-normalization-batchnorm")
    assert "BatchNorm used" in batchnorm.reasons
    no_findings = rank_items(bank, simple, [])
    assert all(r.score < 10 for r in no_findings) and no_findings == sorted(no_findings, key=lambda r: (-r.score, r.item_id))


def test_adam_projects_get_adam_items_and_sgd_projects_momentum_items(bank):
    adam = [r.item_id for r in rank_items(bank, {"optimizer": {"name": "Adam"}}, [])]
    sgd = [r.item_id for r in rank_items(bank, {"optimizer": {"name": "SGD"}}, [])]
    assert "resnet-47-adam-vs-sgd" in adam and "resnet-24-momentum-used-sgd" in sgd and "resnet-24-momentum-used-sgd" not in adam


def test_generated_questions_are_valid_cards_with_the_projects_numbers(bank, simple):
    deck = build_deck(bank, simple)
    by_key = {item.id.removeprefix(PROJECT_PREFIX): item for item in deck.generated}
    assert {"params", "lr-epoch", "optimizer", "steps"} <= set(by_key)
    assert "1,070,986 trainable parameters" in by_key["params"].key_points
    assert by_key["lr-epoch"].question == "What is your learning rate in epoch 2, and why?"
    assert all(item.source.document == "My project" and 2 <= len(item.key_points) <= 6 for item in deck.generated)


def test_the_grader_marks_a_generated_question_on_the_learners_own_words(bank, simple):
    item = next(i for i in build_deck(bank, simple).generated if i.id == f"{PROJECT_PREFIX}params")
    right = "It has 1,070,986 trainable parameters, and fc1, the Linear layer after the convolutions, holds most of them."
    wrong_number = "About 2 million parameters, mostly in the convolutions."
    assert grade(item, right).score == 1.0 and grade(item, right).suggested_rating == "Easy"
    assert grade(item, wrong_number).score < 0.5


def test_the_deck_is_stored_as_own_cards_scheduled_and_replaced_on_reanalysis(bank, simple, tmp_path):
    store = ProgressStore(tmp_path / "progress.db")
    deck = build_deck(bank, simple)
    assert store_deck(store, deck, NOW) == len(deck.generated)
    learner_bank = apply_overlay(bank, store.own_cards())
    card_id = f"{PROJECT_PREFIX}params"
    assert card_id in learner_bank.by_id()
    card, _ = store.record_review(card_id, Rating.Good, NOW)
    assert card.due > NOW  # FSRS scheduled it like any card
    smaller = {**simple, "questions": [q for q in simple["questions"] if q["key"] == "params"]}
    store_deck(store, build_deck(bank, smaller), NOW)
    assert [c.item_id for c in store.own_cards()] == [card_id] and store.card(card_id) is not None  # its review history stays
    assert remove_deck(store) == 1 and store.own_cards() == []


def test_the_deck_exports_to_its_own_anki_deck(bank, simple, tmp_path):
    items = deck_items(bank, build_deck(bank, simple))
    out = tmp_path / "project.apkg"
    export_deck(items, out, "simple")
    with zipfile.ZipFile(out) as package:
        package.extract("collection.anki2", tmp_path)
    with sqlite3.connect(tmp_path / "collection.anki2") as db:
        notes = db.execute("select flds from notes").fetchall()
    assert len(notes) == len(items) and any("1,070,986" in fields for (fields,) in notes)


def test_each_learner_has_a_workspace_of_their_own_deleted_on_request(tmp_path, monkeypatch):
    monkeypatch.setenv("VIVA_PROJECTS_DIR", str(tmp_path / "projects"))
    first = save_upload("ada", "../../etc/train.py", b"print(1)\n")
    save_upload("bob", "train.py", b"print(2)\n")
    assert first == workspace("ada") / "upload" / "train.py" and first.read_bytes() == b"print(1)\n"
    assert workspace("ada") != workspace("bob") and "ada" not in str(workspace("ada"))
    save_analysis("ada", {"project": "p"})
    assert load_analysis("ada") == {"project": "p"} and load_analysis("bob") is None
    assert delete_workspace("ada") and not workspace("ada").exists() and workspace("bob").exists()
