"""A progress file exactly as the app wrote it before Alembic (hand-written migrations, schema 3
in SQLite's user_version), filled with real reviews, for the upgrade tests."""

import hashlib
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fsrs import Rating

from study.scheduling import StudyScheduler

# The statements of the pre-Alembic store, schema 1, then its migrations to 2 and 3.
SCHEMA_3 = [
    "CREATE TABLE cards(item_id TEXT PRIMARY KEY, card_json TEXT NOT NULL, due TEXT NOT NULL)",
    "CREATE TABLE reviews(id INTEGER PRIMARY KEY, item_id TEXT NOT NULL, rating INTEGER NOT NULL, reviewed_at TEXT NOT NULL)",
    "CREATE TABLE profiles(id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, created_at TEXT NOT NULL)",
    "INSERT INTO profiles(id, name, created_at) VALUES (1, 'default', strftime('%Y-%m-%dT%H:%M:%SZ','now'))",
    "ALTER TABLE cards RENAME TO cards_v1",
    "CREATE TABLE cards(profile_id INTEGER NOT NULL REFERENCES profiles(id), item_id TEXT NOT NULL,"
    " card_json TEXT NOT NULL, due TEXT NOT NULL, PRIMARY KEY(profile_id, item_id))",
    "INSERT INTO cards(profile_id, item_id, card_json, due) SELECT 1, item_id, card_json, due FROM cards_v1",
    "DROP TABLE cards_v1",
    "ALTER TABLE reviews RENAME TO reviews_v1",
    "CREATE TABLE reviews(id INTEGER PRIMARY KEY, profile_id INTEGER NOT NULL REFERENCES profiles(id), item_id TEXT NOT NULL,"
    " rating INTEGER NOT NULL, reviewed_at TEXT NOT NULL, duration_ms INTEGER, score REAL, mode TEXT NOT NULL DEFAULT 'flashcard')",
    "INSERT INTO reviews(id, profile_id, item_id, rating, reviewed_at) SELECT id, 1, item_id, rating, reviewed_at FROM reviews_v1",
    "DROP TABLE reviews_v1",
    "CREATE INDEX reviews_by_profile ON reviews(profile_id, reviewed_at)",
    "ALTER TABLE reviews ADD COLUMN card_before TEXT",
    "CREATE TABLE own_cards(profile_id INTEGER NOT NULL REFERENCES profiles(id), item_id TEXT NOT NULL,"
    " item_json TEXT NOT NULL, edits TEXT, updated_at TEXT NOT NULL, PRIMARY KEY(profile_id, item_id))",
    "CREATE TABLE resume_tokens(token_hash TEXT PRIMARY KEY, profile_id INTEGER NOT NULL REFERENCES profiles(id),"
    " created_at TEXT NOT NULL)",
    "PRAGMA user_version=3",
]
T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
TOKEN = "a-resume-token-from-before"


def write_schema_3_file(path: Path) -> dict:
    """Two learners' reviews, an own card and a resume token; returns what the file holds."""
    conn = sqlite3.connect(path)
    for statement in SCHEMA_3:
        conn.execute(statement)
    conn.execute("INSERT INTO profiles(id, name, created_at) VALUES (2, 'ana', ?)", (T0.isoformat(),))
    scheduler, expected = StudyScheduler(), {"reviews": {}, "cards": {}}
    for profile_id, name in ((1, "default"), (2, "ana")):
        states: dict[str, str] = {}
        for step in range(12):
            item, rating, at = f"item-{step % 5}", Rating(step % 4 + 1), T0 + timedelta(hours=step * 7)
            before = states.get(item, "")
            card = scheduler.review(scheduler.new_card(item, at) if not before else type(scheduler.new_card(item, at)).from_json(before),
                                    rating, at)[0]  # fmt: skip
            states[item] = card.to_json()
            conn.execute(
                "INSERT INTO reviews(profile_id, item_id, rating, reviewed_at, duration_ms, score, mode, card_before)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (profile_id, item, int(rating), at.isoformat(), 1000 + step, 0.5 if step % 3 == 0 else None, "quiz", before),
            )
            expected["reviews"].setdefault(name, []).append((item, rating, at))
        for item, text in states.items():
            due = type(scheduler.new_card(item, T0)).from_json(text).due.isoformat()
            conn.execute("INSERT INTO cards VALUES (?, ?, ?, ?)", (profile_id, item, text, due))
        expected["cards"][name] = states
    own = {"id": "own-ana-1", "question": "Why channels_last?", "answer": "Faster convolutions on CPU."}
    conn.execute("INSERT INTO own_cards VALUES (2, 'own-ana-1', ?, NULL, ?)", (json.dumps(own, sort_keys=True), T0.isoformat()))
    conn.execute("INSERT INTO resume_tokens VALUES (?, 2, ?)", (hashlib.sha256(TOKEN.encode()).hexdigest(), T0.isoformat()))
    conn.commit()
    conn.close()
    expected["own"] = own
    return expected
