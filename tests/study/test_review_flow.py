"""The daily review flow: interval previews, undo that restores the store exactly, the session
summary, and a schema-2 progress file upgraded with every review kept."""

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from fsrs import Rating

from study.scheduling import format_interval
from study.session import ReviewSession
from study.store import SCHEMA_VERSION, ProgressStore
from tests.study.store_sql import sql

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _snapshot(store: ProgressStore) -> tuple:
    return sql(store, "SELECT profile_id, item_id, card_json, due FROM cards ORDER BY 1, 2"), sql(
        store, "SELECT * FROM reviews ORDER BY id"
    )


@pytest.mark.parametrize(
    ("delta", "shown"),
    [
        (timedelta(seconds=30), "<1m"),
        (timedelta(minutes=10), "10m"),
        (timedelta(hours=5), "5h"),
        (timedelta(days=3), "3d"),
        (timedelta(days=45), "1.5mo"),
        (timedelta(days=800), "2.2y"),
    ],
)
def test_intervals_are_formatted_as_anki_shows_them(delta, shown):
    assert format_interval(delta) == shown


def test_preview_gives_what_each_rating_would_schedule_and_stores_nothing(store_target):
    store = ProgressStore(store_target)
    store.record_review("item-a", Rating.Good, T0)
    later = T0 + timedelta(minutes=15)
    before = _snapshot(store)
    preview = store.preview("item-a", later)
    assert _snapshot(store) == before
    assert preview[Rating.Again] < preview[Rating.Hard] <= preview[Rating.Good] < preview[Rating.Easy]
    card, _ = store.record_review("item-a", Rating.Good, later)
    assert card.due == preview[Rating.Good]


def test_undo_restores_the_store_exactly(store_target):
    store = ProgressStore(store_target)
    store.record_review("item-a", Rating.Good, T0)
    store.record_review("item-b", Rating.Again, T0)
    before = _snapshot(store)
    store.record_review("item-a", Rating.Easy, T0 + timedelta(minutes=20))
    undone = store.undo_last_review()
    assert (undone.item_id, undone.rating) == ("item-a", Rating.Easy)
    assert _snapshot(store) == before


def test_undo_of_a_first_review_removes_the_card_and_nothing_is_left_to_undo(store_target):
    store = ProgressStore(store_target)
    store.record_review("item-a", Rating.Good, T0)
    assert store.undo_last_review().item_id == "item-a"
    assert store.cards() == {} and store.reviews() == []
    assert store.undo_last_review() is None


def test_undo_touches_only_the_profile_that_asks(store_target):
    store = ProgressStore(store_target)
    store.record_review("item-a", Rating.Good, T0, profile="ann")
    store.record_review("item-a", Rating.Good, T0, profile="bob")
    store.undo_last_review("ann")
    assert store.reviews("ann") == [] and len(store.reviews("bob")) == 1


def test_version_2_file_upgrades_keeps_every_review_and_legacy_reviews_are_not_undone(tmp_path):
    db = tmp_path / "v2.db"
    store = ProgressStore(db)
    for minutes in (0, 10, 30):
        store.record_review("item-a", Rating.Good, T0 + timedelta(minutes=minutes))
    store.close()
    conn = sqlite3.connect(db)  # rebuild the file as schema 2 wrote it: no card_before, no new tables
    conn.executescript(
        "ALTER TABLE reviews DROP COLUMN card_before; DROP TABLE own_cards; DROP TABLE resume_tokens; DROP TABLE alembic_version;"
        "DROP INDEX cards_by_kind; ALTER TABLE cards DROP COLUMN kind;"  # schema 4's, on the way down too
        "ALTER TABLE cards DROP COLUMN lapses; ALTER TABLE cards DROP COLUMN tags; ALTER TABLE cards DROP COLUMN suspended;"
        "ALTER TABLE cards DROP COLUMN buried_until; ALTER TABLE cards DROP COLUMN flag; ALTER TABLE reviews DROP COLUMN row_before;"
        "ALTER TABLE profiles DROP COLUMN display_name; DROP TABLE learner_settings; DROP TABLE class_fit;"  # and schema 5's
        "PRAGMA user_version=2;"
    )
    conn.close()
    upgraded = ProgressStore(db)
    assert sql(upgraded, "PRAGMA user_version") == [(SCHEMA_VERSION,)] and SCHEMA_VERSION == 3
    assert [r.reviewed_at for r in upgraded.reviews()] == [T0 + timedelta(minutes=m) for m in (0, 10, 30)]
    card = upgraded.card("item-a")
    assert upgraded.undo_last_review() is None  # schema 2 kept no earlier state to restore
    assert upgraded.card("item-a").to_dict() == card.to_dict()


def test_session_summary_counts_time_and_again_rate():
    session = ReviewSession()
    for rating, ms in ((Rating.Again, 4000), (Rating.Good, 6000), (Rating.Good, 65_000), (Rating.Easy, 1000)):
        session.record(rating, ms)
    session.forget_last()
    assert session.count == 3
    assert session.summary() == "3 cards in 1 min 15 s, Again 33%"
