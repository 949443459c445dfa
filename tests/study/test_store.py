"""Progress store on SQLite and PostgreSQL: FSRS state round-trips, nothing acknowledged is lost,
migrations, corruption (the last two are SQLite files)."""

import os
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fsrs import Rating, State

from study.schema_upgrade import head_revision
from study.store import SCHEMA_VERSION, ProgressStore, StoreError
from tests.study.store_sql import sql

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
REPO_ROOT = Path(__file__).resolve().parents[2]


def test_fsrs_card_state_round_trips_through_the_store(store_target):
    store = ProgressStore(store_target)
    card, _ = store.record_review("item-a", Rating.Good, T0)
    card, _ = store.record_review("item-a", Rating.Good, T0 + timedelta(minutes=10))
    store.close()
    reopened = ProgressStore(store_target)
    loaded = reopened.card("item-a")
    assert loaded.to_dict() == card.to_dict()
    assert loaded.state == State.Review and loaded.due > T0 + timedelta(days=1)
    assert [r.rating for r in reopened.reviews()] == [Rating.Good, Rating.Good]


def test_exact_schedule_for_a_fixed_sequence(store_target):
    # FSRS-6 default parameters, no fuzzing: Good then Good graduates the card to a multi-day interval.
    store = ProgressStore(store_target)
    first, _ = store.record_review("x", Rating.Good, T0)
    assert first.due == T0 + timedelta(minutes=10)
    again, _ = store.record_review("x", Rating.Again, T0 + timedelta(minutes=10))
    assert again.due == T0 + timedelta(minutes=11)
    assert again.state == State.Learning


def test_profiles_are_separate(store_target):
    store = ProgressStore(store_target)
    store.record_review("item-a", Rating.Easy, T0, profile="ana")
    assert store.card("item-a", profile="ben") is None
    assert store.card("item-a", profile="ana") is not None
    assert set(store.profiles()) >= {"ana", "ben"}


_WRITER = """
import sys
from datetime import datetime, timedelta, timezone
from fsrs import Rating
from study.store import ProgressStore
store = ProgressStore(sys.argv[1])
t0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
for i in range(100000):
    store.record_review(f"item-{i % 50}", Rating((i % 4) + 1), t0 + timedelta(minutes=i), profile=sys.argv[2])
    print(i, flush=True)  # acknowledged: the transaction has committed
"""


def _start_writer(db: str, profile: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", _WRITER, str(db), profile], stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT)


def _acknowledged_after(process: subprocess.Popen, count: int) -> int:
    last = -1
    for line in process.stdout:
        last = int(line)
        if last >= count:
            break
    return last


def test_sigkill_mid_session_loses_no_acknowledged_review(store_target):
    db = store_target
    for trial, kill_after in enumerate((5, 37, 80)):
        writer = _start_writer(db, f"learner-{trial}")
        last = _acknowledged_after(writer, kill_after)
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        writer.stdout.close()
        store = ProgressStore(db)
        assert store.integrity_ok()
        assert len(store.reviews(f"learner-{trial}")) >= last + 1
        store.close()


def test_two_processes_writing_at_once_corrupt_nothing(store_target):
    # On PostgreSQL these are two app servers sharing one class's progress.
    db = store_target
    ProgressStore(db).close()
    writers = [_start_writer(db, name) for name in ("left", "right")]
    acknowledged = [_acknowledged_after(w, 60) for w in writers]
    for writer in writers:
        writer.kill()
        writer.wait()
        writer.stdout.close()
    store = ProgressStore(db)
    assert store.integrity_ok()
    for name, last in zip(("left", "right"), acknowledged, strict=True):
        assert len(store.reviews(name)) >= last + 1


def test_migration_from_version_1_keeps_the_data(tmp_path):
    db = tmp_path / "old.db"
    conn = sqlite3.connect(db)
    conn.executescript(
        "CREATE TABLE cards(item_id TEXT PRIMARY KEY, card_json TEXT NOT NULL, due TEXT NOT NULL);"
        "CREATE TABLE reviews(id INTEGER PRIMARY KEY, item_id TEXT NOT NULL, rating INTEGER NOT NULL, reviewed_at TEXT NOT NULL);"
        "PRAGMA user_version=1;"
    )
    scratch = ProgressStore(tmp_path / "scratch.db")
    card, _ = scratch.record_review("legacy-item", Rating.Good, T0)
    conn.execute("INSERT INTO cards VALUES (?, ?, ?)", ("legacy-item", card.to_json(), card.due.isoformat()))
    conn.execute("INSERT INTO reviews(item_id, rating, reviewed_at) VALUES (?, ?, ?)", ("legacy-item", 3, T0.isoformat()))
    conn.commit()
    conn.close()
    store = ProgressStore(db)
    assert sql(store, "PRAGMA user_version") == [(SCHEMA_VERSION,)] and sql(store, "SELECT * FROM alembic_version") == [(head_revision(),)]
    assert store.card("legacy-item").to_dict() == card.to_dict()
    assert [(r.item_id, r.rating) for r in store.reviews()] == [("legacy-item", Rating.Good)]


def test_corrupt_database_is_moved_aside_with_a_message(tmp_path):
    db = tmp_path / "p.db"
    db.write_bytes(b"this is not an sqlite database" * 100)
    store = ProgressStore(db)
    assert store.recovery_message is not None and str(db) in store.recovery_message and "moved aside" in store.recovery_message
    aside = list(tmp_path.glob("p.db.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes().startswith(b"this is not an sqlite database")
    store.record_review("item-a", Rating.Good, T0)
    assert len(store.reviews()) == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions, so read-only cannot be simulated")
def test_read_only_directory_gives_a_clear_message(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    ProgressStore(folder / "p.db").close()
    folder.chmod(0o500)
    (folder / "p.db").chmod(0o400)
    try:
        with pytest.raises(StoreError, match="p.db"):
            ProgressStore(folder / "p.db").record_review("x", Rating.Good, T0)
    finally:
        folder.chmod(0o700)


def test_new_items_since_counts_first_reviews(store_target):
    store = ProgressStore(store_target)
    store.record_review("a", Rating.Good, T0 - timedelta(days=1))
    store.record_review("a", Rating.Good, T0 + timedelta(hours=1))
    store.record_review("b", Rating.Good, T0 + timedelta(hours=2))
    assert store.new_items_since(T0) == 1


def test_exercises_and_drills_are_scheduled_apart_from_flashcards(tmp_path):
    store = ProgressStore(tmp_path / "progress.db")
    store.record_review("viva-01-simplecnn-class-implement-batchnorm-relu", Rating.Good, T0)
    store.record_review("exercise:train-step", Rating.Hard, T0, mode="exercise", kind="exercise", score=0.5)
    store.record_review("drill:softmax", Rating.Again, T0, mode="drill", kind="drill", score=0.0)
    assert list(store.cards()) == ["viva-01-simplecnn-class-implement-batchnorm-relu"]  # flashcard pages see only their own
    assert list(store.cards(kind="exercise")) == ["exercise:train-step"] and list(store.cards(kind="drill")) == ["drill:softmax"]
    assert [r.mode for r in store.reviews()] == ["flashcard", "exercise", "drill"]
    with pytest.raises(ValueError, match="kind must be one of card, exercise, drill"):
        store.record_review("x", Rating.Good, T0, kind="lesson")
