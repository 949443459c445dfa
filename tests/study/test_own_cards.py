"""The learner's own cards and edits: validated by the bank's rules, laid over the shipped bank,
kept per profile, removable; resume tokens open only their own profile."""

from datetime import UTC, datetime

import pytest

from qa_bank.loader import ITEMS_DIR, load_bank
from study.own_cards import OwnCardError, add_item, apply_overlay, edit_item, import_items
from study.search import SearchIndex
from study.store import ProgressStore
from tests.study.store_sql import sql

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ITEM = "viva-16-optimizer-zero-grad-required-before"


@pytest.fixture(scope="module")
def bank():
    return load_bank()


def test_an_edit_replaces_the_item_in_place_for_its_profile_only(store_target, bank):
    store = ProgressStore(store_target)
    shipped_files = {p: p.read_bytes() for p in ITEMS_DIR.glob("*.yaml")}
    item = bank.by_id()[ITEM]
    edit_item(store, bank, item, {"question": "Why zero_grad() before backward()? (my wording)"}, T0, "ann")
    mine = apply_overlay(bank, store.own_cards("ann"))
    assert [i.id for i in mine.items] == [i.id for i in bank.items]
    assert mine.by_id()[ITEM].question.endswith("(my wording)") and mine.by_id()[ITEM].key_points == item.key_points
    assert apply_overlay(bank, store.own_cards("bob")) is bank
    assert {p: p.read_bytes() for p in ITEMS_DIR.glob("*.yaml")} == shipped_files
    assert store.remove_own_card(ITEM, "ann")
    assert apply_overlay(bank, store.own_cards("ann")).by_id()[ITEM].question == item.question


def test_a_new_card_is_validated_searchable_and_listed(store_target, bank):
    store = ProgressStore(store_target)
    points = ["compile time", "faster steps"]
    item = add_item(store, bank, "What does torch.compile trade?", "Compile time for faster steps.", points, ["performance"], T0)
    mine = apply_overlay(bank, store.own_cards())
    assert mine.items[-1].id == item.id and item.id.startswith("own-")
    assert SearchIndex.from_bank(mine).search("torch compile trade", top_k=1)[0].id == item.id


def test_a_card_breaking_the_rules_lists_every_problem_and_stores_nothing(store_target, bank):
    store = ProgressStore(store_target)
    with pytest.raises(OwnCardError) as caught:
        add_item(store, bank, "", "an answer", ["only one point"], ["no-such-topic"], T0)
    text = " ".join(caught.value.problems)
    assert "question" in text and "key_points" in text and "unknown topic 'no-such-topic'" in text
    assert store.own_cards() == []
    with pytest.raises(OwnCardError):
        edit_item(store, bank, bank.by_id()[ITEM], {"key_points": []}, T0)
    assert store.own_cards() == []


def test_imported_items_get_unique_ids_and_bad_ones_are_reported(store_target, bank):
    store = ProgressStore(store_target)
    topic = next(iter(bank.topics))
    good = {"id": "x", "question": "Q one?", "answer": "A.", "type": ["conceptual"], "topics": [topic], "difficulty": 2,
            "source": {"document": "notes", "number": 1}, "key_points": ["a point", "another point"]}  # fmt: skip
    skipped = import_items(store, bank, [good, {**good, "key_points": ["just one"]}, good], T0)
    assert len(skipped) == 1 and "key_points" in skipped[0]
    assert len({card.item_id for card in store.own_cards()}) == 2


def test_a_resume_token_opens_its_own_profile_and_nothing_else(store_target):
    store = ProgressStore(store_target)
    token = store.create_resume_token("hosted-ann")
    other = store.create_resume_token("hosted-bob")
    assert store.profile_for_token(token) == "hosted-ann" and store.profile_for_token(other) == "hosted-bob"
    assert store.profile_for_token(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert store.profile_for_token("") is None
    stored = sql(store, "SELECT token_hash FROM resume_tokens")
    assert all(token not in row[0] for row in stored)  # only the hash is kept


def test_every_shipped_item_can_be_saved_unchanged_as_an_edit(store_target, bank):
    # to_dict writes "no misconceptions" as an empty list, which the schema refuses; edit_item must
    # write it the way the bank files do (field left out), for all 218 items.
    store = ProgressStore(store_target)
    for item in bank.items:
        assert edit_item(store, bank, item, {}, T0) == item
    assert len(store.own_cards()) == len(bank.items)
