"""Review progress in SQLite: WAL mode, a schema version with migrations, one transaction per
review, several learner profiles, and a corrupt file moved aside rather than discarded."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from fsrs import Card, Rating, ReviewLog

from study.scheduling import StudyScheduler

SCHEMA_VERSION = 3
DEFAULT_PROFILE = "default"


class StoreError(Exception):
    """The progress database cannot be used; the message names the path and the reason."""


def default_db_path() -> Path:
    """$VIVA_PROGRESS_DB, else the user's data directory."""
    explicit = os.environ.get("VIVA_PROGRESS_DB")
    if explicit:
        return Path(explicit).expanduser()
    data_home = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return data_home / "viva-drill" / "progress.db"


@dataclass(frozen=True)
class ReviewRecord:
    item_id: str
    rating: Rating
    reviewed_at: datetime
    duration_ms: int | None
    score: float | None  # typed-answer score, when the review came from the quiz
    mode: str  # flashcard, quiz, viva


# Version 1 had no profiles: one learner per file.
_SCHEMA_V1 = """
CREATE TABLE cards(item_id TEXT PRIMARY KEY, card_json TEXT NOT NULL, due TEXT NOT NULL);
CREATE TABLE reviews(id INTEGER PRIMARY KEY, item_id TEXT NOT NULL, rating INTEGER NOT NULL, reviewed_at TEXT NOT NULL);
"""
_MIGRATE_1_TO_2 = """
CREATE TABLE profiles(id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, created_at TEXT NOT NULL);
INSERT INTO profiles(id, name, created_at) VALUES (1, 'default', strftime('%Y-%m-%dT%H:%M:%SZ','now'));
ALTER TABLE cards RENAME TO cards_v1;
CREATE TABLE cards(profile_id INTEGER NOT NULL REFERENCES profiles(id), item_id TEXT NOT NULL,
                   card_json TEXT NOT NULL, due TEXT NOT NULL, PRIMARY KEY(profile_id, item_id));
INSERT INTO cards(profile_id, item_id, card_json, due) SELECT 1, item_id, card_json, due FROM cards_v1;
DROP TABLE cards_v1;
ALTER TABLE reviews RENAME TO reviews_v1;
CREATE TABLE reviews(id INTEGER PRIMARY KEY, profile_id INTEGER NOT NULL REFERENCES profiles(id), item_id TEXT NOT NULL,
                     rating INTEGER NOT NULL, reviewed_at TEXT NOT NULL, duration_ms INTEGER, score REAL,
                     mode TEXT NOT NULL DEFAULT 'flashcard');
INSERT INTO reviews(id, profile_id, item_id, rating, reviewed_at) SELECT id, 1, item_id, rating, reviewed_at FROM reviews_v1;
DROP TABLE reviews_v1;
CREATE INDEX reviews_by_profile ON reviews(profile_id, reviewed_at);
"""
# Version 3: undo (each review keeps the card as it was before), the learner's own cards, and
# resume tokens for hosted identity. card_before is NULL for reviews written before version 3
# (they cannot be undone exactly) and '' when the review created the card.
_MIGRATE_2_TO_3 = """
ALTER TABLE reviews ADD COLUMN card_before TEXT;
CREATE TABLE own_cards(profile_id INTEGER NOT NULL REFERENCES profiles(id), item_id TEXT NOT NULL,
                       item_json TEXT NOT NULL, edits TEXT, updated_at TEXT NOT NULL, PRIMARY KEY(profile_id, item_id));
CREATE TABLE resume_tokens(token_hash TEXT PRIMARY KEY, profile_id INTEGER NOT NULL REFERENCES profiles(id),
                           created_at TEXT NOT NULL);
"""
_MIGRATIONS = {0: _SCHEMA_V1, 1: _MIGRATE_1_TO_2, 2: _MIGRATE_2_TO_3}  # from version -> script reaching version + 1


class ProgressStore:
    """One SQLite file holding every profile's cards and review log."""

    def __init__(self, path: Path | str | None = None, scheduler: StudyScheduler | None = None) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        self.scheduler = scheduler or StudyScheduler()
        self.recovery_message: str | None = None  # set when a corrupt file was moved aside
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(f"{self.path}: cannot create the progress directory ({error.strerror})") from None
        self._conn = self._open_checked()

    # -- opening, checking, migrating ----------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: we issue BEGIN ourselves. check_same_thread=False: Streamlit reruns one
        # session on different threads, one at a time.
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")  # an acknowledged review survives power loss too
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    def _open_checked(self) -> sqlite3.Connection:
        try:
            conn = self._connect()
            if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise sqlite3.DatabaseError("integrity check failed")
            self._migrate(conn)
            return conn
        except sqlite3.DatabaseError as error:
            if isinstance(error, sqlite3.OperationalError) and "readonly" in str(error).lower():
                raise StoreError(f"{self.path}: the progress database is read-only ({error})") from None
            if isinstance(error, sqlite3.OperationalError) and "unable to open" in str(error).lower():
                raise StoreError(f"{self.path}: cannot open the progress database ({error})") from None
            moved = self._move_aside()
            self.recovery_message = f"{self.path} was unreadable ({error}); moved aside to {moved}, starting a new progress database"
            conn = self._connect()
            self._migrate(conn)
            return conn

    def _move_aside(self) -> Path:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        for suffix in ("", "-wal", "-shm"):
            source = Path(f"{self.path}{suffix}")
            if source.exists():
                os.replace(source, Path(f"{target}{suffix}"))
        return target

    def _migrate(self, conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self.path}: written by a newer version (schema {version}, this app knows {SCHEMA_VERSION})")
        while version < SCHEMA_VERSION:
            with _transaction(conn):
                # executescript() would commit mid-migration, so run the statements one by one.
                for statement in _MIGRATIONS[version].split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version={version + 1}")
            version += 1

    def close(self) -> None:
        self._conn.close()

    # -- profiles ------------------------------------------------------------------------------

    def profile_id(self, name: str = DEFAULT_PROFILE) -> int:
        """The profile's id, created on first use."""
        row = self._conn.execute("SELECT id FROM profiles WHERE name = ?", (name,)).fetchone()
        if row:
            return row[0]
        with _transaction(self._conn):
            self._conn.execute("INSERT OR IGNORE INTO profiles(name, created_at) VALUES (?, ?)", (name, datetime.now(UTC).isoformat()))
        return self._conn.execute("SELECT id FROM profiles WHERE name = ?", (name,)).fetchone()[0]

    def profiles(self) -> list[str]:
        return [row[0] for row in self._conn.execute("SELECT name FROM profiles ORDER BY id")]

    # -- cards and reviews ---------------------------------------------------------------------

    def card(self, item_id: str, profile: str = DEFAULT_PROFILE) -> Card | None:
        row = self._conn.execute(
            "SELECT card_json FROM cards WHERE profile_id = ? AND item_id = ?", (self.profile_id(profile), item_id)
        ).fetchone()
        return Card.from_json(row[0]) if row else None

    def cards(self, profile: str = DEFAULT_PROFILE) -> dict[str, Card]:
        rows = self._conn.execute("SELECT item_id, card_json FROM cards WHERE profile_id = ?", (self.profile_id(profile),))
        return {item_id: Card.from_json(text) for item_id, text in rows}

    def record_review(
        self,
        item_id: str,
        rating: Rating,
        now: datetime,
        profile: str = DEFAULT_PROFILE,
        duration_ms: int | None = None,
        score: float | None = None,
        mode: str = "flashcard",
    ) -> tuple[Card, ReviewLog]:
        """Schedule and store one review in a single transaction; when this returns, it is on disk."""
        profile_id = self.profile_id(profile)
        with _transaction(self._conn, immediate=True):
            row = self._conn.execute("SELECT card_json FROM cards WHERE profile_id = ? AND item_id = ?", (profile_id, item_id)).fetchone()
            before = row[0] if row else ""
            card = Card.from_json(row[0]) if row else self.scheduler.new_card(item_id, now)
            card, log = self.scheduler.review(card, rating, now)
            self._conn.execute(
                "INSERT OR REPLACE INTO cards(profile_id, item_id, card_json, due) VALUES (?, ?, ?, ?)",
                (profile_id, item_id, card.to_json(), card.due.isoformat()),
            )
            self._conn.execute(
                "INSERT INTO reviews(profile_id, item_id, rating, reviewed_at, duration_ms, score, mode, card_before)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (profile_id, item_id, int(rating), now.isoformat(), duration_ms, score, mode, before),
            )
        return card, log

    def undo_last_review(self, profile: str = DEFAULT_PROFILE) -> ReviewRecord | None:
        """Take back the profile's latest review: its log row goes and the card returns to exactly
        the state it had before (or disappears, if that review created it). None when there is
        nothing to undo, or the latest review predates undo (schema 2 kept no earlier state)."""
        profile_id = self.profile_id(profile)
        with _transaction(self._conn, immediate=True):
            row = self._conn.execute(
                "SELECT id, item_id, rating, reviewed_at, duration_ms, score, mode, card_before FROM reviews"
                " WHERE profile_id = ? ORDER BY id DESC LIMIT 1",
                (profile_id,),
            ).fetchone()
            if row is None or row[7] is None:
                return None
            review_id, item_id, before = row[0], row[1], row[7]
            if before:
                due = Card.from_json(before).due.isoformat()
                self._conn.execute(
                    "UPDATE cards SET card_json = ?, due = ? WHERE profile_id = ? AND item_id = ?", (before, due, profile_id, item_id)
                )
            else:
                self._conn.execute("DELETE FROM cards WHERE profile_id = ? AND item_id = ?", (profile_id, item_id))
            self._conn.execute("DELETE FROM reviews WHERE id = ?", (review_id,))
        return ReviewRecord(item_id, Rating(row[2]), datetime.fromisoformat(row[3]), row[4], row[5], row[6])

    def preview(self, item_id: str, now: datetime, profile: str = DEFAULT_PROFILE) -> dict[Rating, datetime]:
        """When the card would next be due after each of the four ratings (nothing is stored)."""
        card = self.card(item_id, profile) or self.scheduler.new_card(item_id, now)
        return {rating: self.scheduler.review(card, rating, now)[0].due for rating in Rating}

    def reviews(self, profile: str = DEFAULT_PROFILE) -> list[ReviewRecord]:
        rows = self._conn.execute(
            "SELECT item_id, rating, reviewed_at, duration_ms, score, mode FROM reviews WHERE profile_id = ? ORDER BY id",
            (self.profile_id(profile),),
        )
        return [ReviewRecord(i, Rating(r), datetime.fromisoformat(t), d, s, m) for i, r, t, d, s, m in rows]

    def new_items_since(self, since: datetime, profile: str = DEFAULT_PROFILE) -> int:
        """Items whose first review happened at or after `since` (for the daily new-card limit)."""
        row = self._conn.execute(
            "SELECT COUNT(*) FROM (SELECT item_id, MIN(reviewed_at) AS first FROM reviews WHERE profile_id = ? GROUP BY item_id)"
            " WHERE first >= ?",
            (self.profile_id(profile), since.isoformat()),
        ).fetchone()
        return int(row[0])

    # -- the learner's own cards: new ones and edits of shipped ones ----------------------------

    def own_cards(self, profile: str = DEFAULT_PROFILE) -> list[OwnCard]:
        rows = self._conn.execute(
            "SELECT item_id, item_json, edits, updated_at FROM own_cards WHERE profile_id = ? ORDER BY updated_at, item_id",
            (self.profile_id(profile),),
        )
        return [OwnCard(i, json.loads(j), e, datetime.fromisoformat(u)) for i, j, e, u in rows]

    def save_own_card(self, item: dict, now: datetime, profile: str = DEFAULT_PROFILE, edits: str | None = None) -> None:
        """Store a validated item dict: a new card (edits None) or the edit of shipped item `edits`."""
        profile_id = self.profile_id(profile)
        with _transaction(self._conn, immediate=True):
            self._conn.execute(
                "INSERT OR REPLACE INTO own_cards(profile_id, item_id, item_json, edits, updated_at) VALUES (?, ?, ?, ?, ?)",
                (profile_id, item["id"], json.dumps(item, sort_keys=True), edits, now.isoformat()),
            )

    def remove_own_card(self, item_id: str, profile: str = DEFAULT_PROFILE) -> bool:
        """Delete a card of the learner's own, or drop an edit (the shipped text returns)."""
        profile_id = self.profile_id(profile)
        with _transaction(self._conn, immediate=True):
            cursor = self._conn.execute("DELETE FROM own_cards WHERE profile_id = ? AND item_id = ?", (profile_id, item_id))
        return cursor.rowcount > 0

    # -- hosted identity: resume tokens --------------------------------------------------------

    def create_resume_token(self, profile: str) -> str:
        """A new random secret that reopens `profile`; only its hash is stored."""
        token = secrets.token_urlsafe(24)  # 192 bits: not guessable, not derived from the profile
        profile_id = self.profile_id(profile)
        with _transaction(self._conn, immediate=True):
            self._conn.execute(
                "INSERT INTO resume_tokens(token_hash, profile_id, created_at) VALUES (?, ?, ?)",
                (_token_hash(token), profile_id, datetime.now(UTC).isoformat()),
            )
        return token

    def profile_for_token(self, token: str) -> str | None:
        """The profile a resume token opens, or None for an unknown token."""
        row = self._conn.execute(
            "SELECT p.name FROM resume_tokens t JOIN profiles p ON p.id = t.profile_id WHERE t.token_hash = ?", (_token_hash(token),)
        ).fetchone()
        return row[0] if row else None

    def reset_profile(self, profile: str = DEFAULT_PROFILE) -> None:
        profile_id = self.profile_id(profile)
        with _transaction(self._conn, immediate=True):
            self._conn.execute("DELETE FROM cards WHERE profile_id = ?", (profile_id,))
            self._conn.execute("DELETE FROM reviews WHERE profile_id = ?", (profile_id,))

    def integrity_ok(self) -> bool:
        return self._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@dataclass(frozen=True)
class OwnCard:
    """A card of the learner's own: a new item, or the edited copy of shipped item `edits`."""

    item_id: str
    item: dict  # the item as validate_item accepts it
    edits: str | None
    updated_at: datetime


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@contextmanager
def _transaction(conn: sqlite3.Connection, immediate: bool = False) -> Iterator[None]:
    # BEGIN IMMEDIATE takes the write lock up front, so two writers queue instead of deadlocking.
    try:
        conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
        yield
        conn.execute("COMMIT")
    except sqlite3.OperationalError as error:
        # Disk full, read-only file, lock timeout: roll back (SQLite may already have), keep the old data.
        _rollback(conn)
        raise StoreError(f"could not save progress ({error}); the previous data is unchanged") from None
    except BaseException:
        _rollback(conn)
        raise


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        conn.execute("ROLLBACK")
