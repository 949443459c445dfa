"""Review progress on SQLAlchemy Core: a SQLite file by default, PostgreSQL when several app
servers share a class (`VIVA_DATABASE_URL`). One transaction per review, several learner
profiles, schema migrations by Alembic, and a corrupt SQLite file moved aside, not discarded."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import weakref
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from fsrs import Card, Rating, ReviewLog
from sqlalchemy import Connection, delete, exc, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from study import controls, schema_upgrade
from study.controls import CardMeta
from study.scheduling import StudyScheduler
from study.schema_upgrade import SCHEMA_VERSION, NewerSchemaError
from study.store_engine import IMMEDIATE, default_target, make_engine, sqlite_path
from study.store_plan import PlanStore, flashcard_reviews, meta_from_json, meta_json, meta_of, meta_row
from study.store_tables import DEFAULT_PROFILE, cards, learner_settings, own_cards, profiles, resume_tokens, reviews

__all__ = ["DEFAULT_PROFILE", "SCHEMA_VERSION", "OwnCard", "ProgressStore", "ReviewRecord", "StoreError", "default_db_path"]


CARD_KINDS = ("card", "exercise", "drill")  # flashcards, coding exercises, drill families


class StoreError(Exception):
    """The progress database cannot be used; the message names the path and the reason."""


def default_db_path() -> Path:
    """The SQLite file used when no database URL is set."""
    return sqlite_path(default_target()) or Path(default_target())


@dataclass(frozen=True)
class ReviewRecord:
    item_id: str
    rating: Rating
    reviewed_at: datetime
    duration_ms: int | None
    score: float | None  # typed-answer score, when the review came from the quiz
    mode: str  # flashcard, quiz, viva


@dataclass(frozen=True)
class OwnCard:
    """A card of the learner's own: a new item, or the edited copy of shipped item `edits`."""

    item_id: str
    item: dict  # the item as validate_item accepts it
    edits: str | None
    updated_at: datetime


class ProgressStore(PlanStore):
    """Every profile's cards, review log, own cards and resume tokens, in one database; the
    learner's settings, fitted parameters and card controls come from PlanStore."""

    def __init__(self, target: Path | str | None = None, scheduler: StudyScheduler | None = None) -> None:
        self.target = str(target) if target is not None else default_target()
        self.path = sqlite_path(self.target)  # None for a server database
        self.scheduler = scheduler  # when given, every profile is scheduled by it (tests); else scheduler_for()
        self.recovery_message: str | None = None  # set when a corrupt file was moved aside
        self._profile_ids: dict[str, int] = {}
        if self.path is not None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise StoreError(f"{self.path}: cannot create the progress directory ({error.strerror})") from None
        self.engine = self._open_checked()
        # A store dropped without close() still closes its connections (a server's pool too).
        self._finalizer = weakref.finalize(self, self.engine.dispose)

    @property
    def where(self) -> str:
        """The file, or the URL without its password, for messages."""
        return str(self.path) if self.path is not None else make_safe(self.target)

    # -- opening, checking, migrating ----------------------------------------------------------

    def _open_checked(self):
        engine = make_engine(self.target)
        try:
            with engine.connect() as conn:
                if self.path is not None and conn.exec_driver_sql("PRAGMA quick_check").scalar() != "ok":
                    raise exc.DatabaseError("PRAGMA quick_check", None, Exception("integrity check failed"))
            self._migrate(engine)
            return engine
        except NewerSchemaError as error:
            engine.dispose()
            raise StoreError(f"{self.where}: written by a newer version ({error})") from None
        except exc.DBAPIError as error:
            engine.dispose()
            reason = _reason(error)
            if self.path is None:
                raise StoreError(f"{self.where}: cannot open the progress database ({reason})") from None
            if "readonly" in reason.lower():
                raise StoreError(f"{self.path}: the progress database is read-only ({reason})") from None
            if "unable to open" in reason.lower():
                raise StoreError(f"{self.path}: cannot open the progress database ({reason})") from None
            moved = self._move_aside()
            self.recovery_message = f"{self.path} was unreadable ({reason}); moved aside to {moved}, starting a new progress database"
            engine = make_engine(self.target)
            self._migrate(engine)
            return engine

    def _move_aside(self) -> Path:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        for suffix in ("", "-wal", "-shm"):
            source = Path(f"{self.path}{suffix}")
            if source.exists():
                os.replace(source, Path(f"{target}{suffix}"))
        return target

    def _migrate(self, engine) -> None:
        with engine.connect() as conn:
            conn.execution_options(**{IMMEDIATE: True})
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    # Two app servers starting together: the second waits, then finds the schema current.
                    conn.exec_driver_sql("SELECT pg_advisory_xact_lock(72431905)")
                schema_upgrade.upgrade(conn)

    def close(self) -> None:
        self._finalizer()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One transaction that takes the write lock up front; nothing of it is kept on failure."""
        try:
            with self.engine.connect() as conn:
                conn.execution_options(**{IMMEDIATE: True})
                with conn.begin():
                    yield conn
        except exc.OperationalError as error:
            # Disk full, read-only file, lock timeout, server gone: rolled back, the old data is kept.
            raise StoreError(f"could not save progress ({_reason(error)}); the previous data is unchanged") from None

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as conn:
                yield conn
        except exc.OperationalError as error:
            raise StoreError(f"{self.where}: could not read progress ({_reason(error)})") from None

    def _insert(self, table):
        """INSERT with ON CONFLICT clauses, in the dialect at hand (both spell them alike)."""
        return (postgresql if self.engine.dialect.name == "postgresql" else sqlite).insert(table)

    # -- profiles ------------------------------------------------------------------------------

    def profile_id(self, name: str = DEFAULT_PROFILE) -> int:
        """The profile's id, created on first use."""
        if name in self._profile_ids:
            return self._profile_ids[name]
        with self._read() as conn:
            found = conn.execute(select(profiles.c.id).where(profiles.c.name == name)).scalar()
        if found is None:
            with self._write() as conn:
                conn.execute(self._insert(profiles).values(name=name, created_at=datetime.now(UTC).isoformat()).on_conflict_do_nothing())
                found = conn.execute(select(profiles.c.id).where(profiles.c.name == name)).scalar_one()
        self._profile_ids[name] = found
        return found

    def profiles(self) -> list[str]:
        with self._read() as conn:
            return list(conn.execute(select(profiles.c.name).order_by(profiles.c.id)).scalars())

    # -- cards and reviews ---------------------------------------------------------------------

    def card(self, item_id: str, profile: str = DEFAULT_PROFILE) -> Card | None:
        query = select(cards.c.card_json).where(cards.c.profile_id == self.profile_id(profile), cards.c.item_id == item_id)
        with self._read() as conn:
            text = conn.execute(query).scalar()
        return Card.from_json(text) if text else None

    def cards(self, profile: str = DEFAULT_PROFILE, kind: str = "card") -> dict[str, Card]:
        """The learner's reviewed FSRS cards of one kind: "card" (flashcards), "exercise" or "drill".
        A card suspended, buried or flagged before its first review is still new: it is not here."""
        where = (cards.c.profile_id == self.profile_id(profile), cards.c.kind == kind)
        query = select(cards.c.item_id, cards.c.card_json).where(*where)
        with self._read() as conn:
            loaded = {item_id: Card.from_json(text) for item_id, text in conn.execute(query)}
        return {item_id: card for item_id, card in loaded.items() if card.last_review is not None}

    def record_review(
        self,
        item_id: str,
        rating: Rating,
        now: datetime,
        profile: str = DEFAULT_PROFILE,
        duration_ms: int | None = None,
        score: float | None = None,
        mode: str = "flashcard",
        kind: str = "card",
    ) -> tuple[Card, ReviewLog]:
        """Schedule and store one review in a single transaction; when this returns, it is stored.
        `kind` is what is scheduled: a flashcard ("card"), a coding exercise or a drill family.
        The learner's scheduler decides (their parameters, retention, viva date, load balancing);
        a lapse counts towards the leech threshold, as in Anki."""
        if kind not in CARD_KINDS:
            raise ValueError(f"kind must be one of {', '.join(CARD_KINDS)}, not {kind!r}")
        profile_id, settings = self.profile_id(profile), self.settings(profile)
        scheduler = self.scheduler_for(profile, kind, settings)
        with self._write() as conn:
            # FOR UPDATE (PostgreSQL): two servers reviewing the same card take turns.
            row = conn.execute(select(cards).where(cards.c.profile_id == profile_id, cards.c.item_id == item_id).with_for_update()).first()
            before, meta = (row.card_json, meta_of(row)) if row else ("", CardMeta())
            earlier = Card.from_json(before) if before else None
            counts = self._due_counts(conn, profile_id, kind, item_id) if scheduler.load_balance else None
            card, log = scheduler.review(earlier or scheduler.new_card(item_id, now), rating, now, counts)
            after, _ = controls.after_review(meta, earlier, rating, settings.leech_threshold, settings.leech_suspend)
            self._put_card(conn, profile_id, item_id, kind, card, after)
            conn.execute(
                reviews.insert().values(
                    profile_id=profile_id, item_id=item_id, rating=int(rating), reviewed_at=now.isoformat(), duration_ms=duration_ms,
                    score=score, mode=mode, card_before=before, row_before=json.dumps(meta_json(meta)),
                )
            )  # fmt: skip
        return card, log

    def _put_card(self, conn: Connection, profile_id: int, item_id: str, kind: str, card: Card, meta: CardMeta) -> None:
        """Insert or update a card row with its memory state and Anki's fields."""
        values = {"card_json": card.to_json(), "due": card.due.isoformat(), **meta_row(meta)}
        upsert = self._insert(cards).values(profile_id=profile_id, item_id=item_id, kind=kind, **values)
        conn.execute(upsert.on_conflict_do_update(index_elements=["profile_id", "item_id"], set_=values))

    def _due_counts(self, conn: Connection, profile_id: int, kind: str, leave_out: str) -> Counter[date]:
        """Cards due on each UTC date, for the load balancer (suspended cards and `leave_out` not counted)."""
        query = select(cards.c.due).where(cards.c.profile_id == profile_id, cards.c.kind == kind, cards.c.item_id != leave_out,
                                          cards.c.suspended.is_(False))  # fmt: skip
        return Counter(datetime.fromisoformat(due).date() for due in conn.execute(query).scalars())

    def undo_last_review(self, profile: str = DEFAULT_PROFILE) -> ReviewRecord | None:
        """Take back the profile's latest review: its log row goes and the card returns to exactly
        the state it had before (or disappears, if that review created it). None when there is
        nothing to undo, or the latest review predates undo (schema 2 kept no earlier state)."""
        profile_id = self.profile_id(profile)
        with self._write() as conn:
            latest = conn.execute(
                select(reviews).where(reviews.c.profile_id == profile_id).order_by(reviews.c.id.desc()).limit(1).with_for_update()
            ).first()
            if latest is None or latest.card_before is None:
                return None
            this_card = (cards.c.profile_id == profile_id) & (cards.c.item_id == latest.item_id)
            if latest.card_before:
                due = Card.from_json(latest.card_before).due.isoformat()
                earlier = meta_row(meta_from_json(json.loads(latest.row_before))) if latest.row_before else {}
                conn.execute(update(cards).where(this_card).values(card_json=latest.card_before, due=due, **earlier))
            else:
                conn.execute(delete(cards).where(this_card))
            conn.execute(delete(reviews).where(reviews.c.id == latest.id))
        return _record(latest)

    def preview(self, item_id: str, now: datetime, profile: str = DEFAULT_PROFILE, kind: str = "card") -> dict[Rating, datetime]:
        """When the card would next be due after each of the four ratings (nothing is stored): the
        same scheduler and load as record_review uses, so the buttons show what a rating gives."""
        scheduler = self.scheduler_for(profile, kind)
        card = self.card(item_id, profile) or scheduler.new_card(item_id, now)
        counts = None
        if scheduler.load_balance:
            with self._read() as conn:
                counts = self._due_counts(conn, self.profile_id(profile), kind, item_id)
        return {rating: scheduler.review(card, rating, now, counts)[0].due for rating in Rating}

    def reviews(self, profile: str = DEFAULT_PROFILE) -> list[ReviewRecord]:
        query = select(reviews).where(reviews.c.profile_id == self.profile_id(profile)).order_by(reviews.c.id)
        with self._read() as conn:
            return [_record(row) for row in conn.execute(query)]

    def new_items_since(self, since: datetime, profile: str = DEFAULT_PROFILE) -> int:
        """Flashcards whose first review happened at or after `since` (for the daily new-card limit;
        a first coding exercise or drill is not a new flashcard)."""
        first = (
            select(func.min(reviews.c.reviewed_at).label("first"))
            .where(reviews.c.profile_id == self.profile_id(profile), *flashcard_reviews(reviews.c.item_id))
            .group_by(reviews.c.item_id)
            .subquery()
        )
        with self._read() as conn:
            return int(conn.execute(select(func.count()).select_from(first).where(first.c.first >= since.isoformat())).scalar_one())

    # -- the learner's own cards: new ones and edits of shipped ones ----------------------------

    def own_cards(self, profile: str = DEFAULT_PROFILE) -> list[OwnCard]:
        query = (
            select(own_cards.c.item_id, own_cards.c.item_json, own_cards.c.edits, own_cards.c.updated_at)
            .where(own_cards.c.profile_id == self.profile_id(profile))
            .order_by(own_cards.c.updated_at, own_cards.c.item_id)
        )
        with self._read() as conn:
            return [OwnCard(i, json.loads(j), e, datetime.fromisoformat(u)) for i, j, e, u in conn.execute(query)]

    def save_own_card(self, item: dict, now: datetime, profile: str = DEFAULT_PROFILE, edits: str | None = None) -> None:
        """Store a validated item dict: a new card (edits None) or the edit of shipped item `edits`."""
        row = {
            "profile_id": self.profile_id(profile), "item_id": item["id"], "item_json": json.dumps(item, sort_keys=True),
            "edits": edits, "updated_at": now.isoformat(),
        }  # fmt: skip
        with self._write() as conn:
            upsert = self._insert(own_cards).values(**row)
            conn.execute(upsert.on_conflict_do_update(index_elements=["profile_id", "item_id"],
                                                      set_={k: row[k] for k in ("item_json", "edits", "updated_at")}))  # fmt: skip

    def remove_own_card(self, item_id: str, profile: str = DEFAULT_PROFILE) -> bool:
        """Delete a card of the learner's own, or drop an edit (the shipped text returns)."""
        profile_id = self.profile_id(profile)
        with self._write() as conn:
            removed = conn.execute(delete(own_cards).where(own_cards.c.profile_id == profile_id, own_cards.c.item_id == item_id))
        return removed.rowcount > 0

    # -- hosted identity: resume tokens --------------------------------------------------------

    def create_resume_token(self, profile: str) -> str:
        """A new random secret that reopens `profile`; only its hash is stored."""
        token = secrets.token_urlsafe(24)  # 192 bits: not guessable, not derived from the profile
        profile_id = self.profile_id(profile)
        with self._write() as conn:
            conn.execute(
                resume_tokens.insert().values(
                    token_hash=_token_hash(token), profile_id=profile_id, created_at=datetime.now(UTC).isoformat()
                )
            )
        return token

    def profile_for_token(self, token: str) -> str | None:
        """The profile a resume token opens, or None for an unknown token."""
        query = (
            select(profiles.c.name)
            .join(resume_tokens, resume_tokens.c.profile_id == profiles.c.id)
            .where(resume_tokens.c.token_hash == _token_hash(token))
        )
        with self._read() as conn:
            return conn.execute(query).scalar()

    def reset_profile(self, profile: str = DEFAULT_PROFILE) -> None:
        """Delete the profile's cards, reviews and the parameters fitted to them; settings stay."""
        profile_id = self.profile_id(profile)
        with self._write() as conn:
            conn.execute(delete(cards).where(cards.c.profile_id == profile_id))
            conn.execute(delete(reviews).where(reviews.c.profile_id == profile_id))
            conn.execute(update(learner_settings).where(learner_settings.c.profile_id == profile_id).values(parameters_json=None,
                                                                                                           fit_json=None))  # fmt: skip

    def integrity_ok(self) -> bool:
        if self.path is None:
            return True  # PostgreSQL checks its own pages; there is no file-level check to run
        with self._read() as conn:
            return conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"


def _record(row) -> ReviewRecord:
    return ReviewRecord(row.item_id, Rating(row.rating), datetime.fromisoformat(row.reviewed_at), row.duration_ms, row.score, row.mode)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _reason(error: exc.DBAPIError) -> str:
    """The driver's own words, without SQLAlchemy's statement dump."""
    return str(error.orig).strip().splitlines()[0] if error.orig is not None else str(error).splitlines()[0]


def make_safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
