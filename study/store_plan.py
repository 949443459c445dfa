"""The progress store's part for the study plan: each learner's settings and fitted FSRS
parameters, the class's parameters, Anki's card controls (suspend, bury, flag), rescheduling, and
the class-wide reads the instructors' view aggregates. ProgressStore inherits it."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from fsrs import Card
from fsrs.scheduler import DEFAULT_PARAMETERS
from sqlalchemy import func, select, update

from study import controls
from study.controls import CardMeta
from study.learner import LearnerSettings
from study.scheduling import StudyScheduler
from study.store_tables import DEFAULT_PROFILE, cards, class_fit, learner_settings, profiles, reviews

CLASS_FIT = "class"
CARD_KINDS = ("card", "exercise", "drill")  # as study.store names them


def meta_of(row) -> CardMeta:
    """A cards row's Anki fields."""
    buried = datetime.fromisoformat(row.buried_until) if row.buried_until else None
    return CardMeta(row.lapses, controls.parse_tags(row.tags), bool(row.suspended), buried, row.flag)


def meta_row(meta: CardMeta) -> dict:
    """CardMeta as the cards table's columns."""
    buried = meta.buried_until.isoformat() if meta.buried_until else None
    return {"lapses": meta.lapses, "tags": controls.tags_text(meta.tags), "suspended": meta.suspended, "buried_until": buried,
            "flag": meta.flag}  # fmt: skip


def meta_json(meta: CardMeta) -> dict:
    return {**meta_row(meta), "tags": list(meta.tags)}


def meta_from_json(data: dict) -> CardMeta:
    buried = datetime.fromisoformat(data["buried_until"]) if data.get("buried_until") else None
    return CardMeta(data["lapses"], tuple(data["tags"]), bool(data["suspended"]), buried, data.get("flag", 0))


@dataclass(frozen=True)
class Parameters:
    """The FSRS parameters a learner's flashcards are scheduled with, and where they come from."""

    values: tuple[float, ...]
    source: str  # "learner" (fitted to them), "class" (fitted to the class), "defaults" (FSRS-6's)


@dataclass(frozen=True)
class ClassCardRow:
    profile: str
    item_id: str
    kind: str
    card: Card
    lapses: int


class PlanStore:
    """Mixin: needs ProgressStore's profile_id, _read, _write and _insert."""

    # -- settings ------------------------------------------------------------------------------

    def settings(self, profile: str = DEFAULT_PROFILE) -> LearnerSettings:
        query = select(learner_settings.c.settings_json).where(learner_settings.c.profile_id == self.profile_id(profile))
        with self._read() as conn:
            text = conn.execute(query).scalar()
        return _parse_settings(text, profile, self.where) if text else LearnerSettings()

    def save_settings(self, profile: str, settings: LearnerSettings) -> int:
        """Store the settings; when the desired retention or the viva date changes, every card's due
        date is recomputed from its memory state (Anki's "Reschedule cards on change"). Returns how
        many cards were rescheduled."""
        before = self.settings(profile)
        profile_id = self.profile_id(profile)
        row = {"settings_json": json.dumps(settings.to_dict()), "updated_at": datetime.now(UTC).isoformat()}
        with self._write() as conn:
            upsert = self._insert(learner_settings).values(profile_id=profile_id, **row)
            conn.execute(upsert.on_conflict_do_update(index_elements=["profile_id"], set_=row))
        changed = (before.desired_retention, before.viva_date, before.load_balance) != (
            settings.desired_retention, settings.viva_date, settings.load_balance
        )  # fmt: skip
        if not changed:
            return 0
        return sum(self.reschedule(profile, kind, partial(redue, self.scheduler_for(profile, kind, settings))) for kind in CARD_KINDS)

    # -- FSRS parameters: the learner's own, the class's, or the defaults --------------------------

    def parameters_for(self, profile: str = DEFAULT_PROFILE) -> Parameters:
        query = select(learner_settings.c.parameters_json).where(learner_settings.c.profile_id == self.profile_id(profile))
        with self._read() as conn:
            own = conn.execute(query).scalar()
            shared = conn.execute(select(class_fit.c.parameters_json).where(class_fit.c.name == CLASS_FIT)).scalar()
        if own:
            return Parameters(tuple(json.loads(own)), "learner")
        if shared:
            return Parameters(tuple(json.loads(shared)), "class")
        return Parameters(tuple(DEFAULT_PARAMETERS), "defaults")

    def scheduler_for(self, profile: str = DEFAULT_PROFILE, kind: str = "card", settings: LearnerSettings | None = None) -> StudyScheduler:
        """The learner's scheduler: for flashcards their parameters and viva date; exercises and
        drills (rated from tries, not recall) keep FSRS's defaults and no viva cap."""
        if self.scheduler is not None:
            return self.scheduler
        settings = settings or self.settings(profile)
        flashcards = kind == "card"
        parameters = self.parameters_for(profile).values if flashcards else DEFAULT_PARAMETERS
        return StudyScheduler(settings.desired_retention, parameters, settings.viva_date if flashcards else None, settings.load_balance)

    def fit_report(self, profile: str = DEFAULT_PROFILE) -> dict | None:
        """The latest fit's report (study.fit.FitReport.to_dict()), or None before the first."""
        query = select(learner_settings.c.fit_json).where(learner_settings.c.profile_id == self.profile_id(profile))
        with self._read() as conn:
            text = conn.execute(query).scalar()
        return json.loads(text) if text else None

    def save_fit(self, profile: str, report: dict, parameters: list[float] | None) -> None:
        """Keep a fit's report; `parameters` (None: keep the ones in use) become the learner's own."""
        profile_id = self.profile_id(profile)
        values = {"fit_json": json.dumps(report), "updated_at": datetime.now(UTC).isoformat()}
        if parameters is not None:
            values["parameters_json"] = json.dumps(list(parameters))
        with self._write() as conn:
            insert = self._insert(learner_settings).values(profile_id=profile_id, settings_json=json.dumps(LearnerSettings().to_dict()),
                                                           **values)  # fmt: skip
            conn.execute(insert.on_conflict_do_update(index_elements=["profile_id"], set_=values))

    def class_fit_report(self) -> dict | None:
        with self._read() as conn:
            text = conn.execute(select(class_fit.c.fit_json).where(class_fit.c.name == CLASS_FIT)).scalar()
        return json.loads(text) if text else None

    def save_class_fit(self, report: dict, parameters: list[float]) -> None:
        now = datetime.now(UTC).isoformat()
        values = {"parameters_json": json.dumps(list(parameters)), "fit_json": json.dumps(report), "updated_at": now}
        upsert = self._insert(class_fit).values(name=CLASS_FIT, **values).on_conflict_do_update(index_elements=["name"], set_=values)
        with self._write() as conn:
            conn.execute(upsert)

    # -- rescheduling --------------------------------------------------------------------------

    def reschedule(self, profile: str, kind: str, transform: Callable[[str, Card], Card]) -> int:
        """Replace each reviewed card of `kind` by transform(item_id, card), in one transaction;
        returns how many changed."""
        profile_id = self.profile_id(profile)
        where = (cards.c.profile_id == profile_id, cards.c.kind == kind)
        changed = 0
        with self._write() as conn:
            for item_id, text in conn.execute(select(cards.c.item_id, cards.c.card_json).where(*where).with_for_update()).all():
                card = Card.from_json(text)
                if card.last_review is None:
                    continue
                new = transform(item_id, card)
                if new.to_json() != text:
                    values = {"card_json": new.to_json(), "due": new.due.isoformat()}
                    conn.execute(update(cards).where(*where, cards.c.item_id == item_id).values(**values))
                    changed += 1
        return changed

    # -- Anki's card controls ------------------------------------------------------------------

    def meta(self, profile: str = DEFAULT_PROFILE, kind: str = "card") -> dict[str, CardMeta]:
        """Lapses, tags, suspension, burial and flag of every card row of `kind`."""
        query = select(cards).where(cards.c.profile_id == self.profile_id(profile), cards.c.kind == kind)
        with self._read() as conn:
            return {row.item_id: meta_of(row) for row in conn.execute(query)}

    def change_meta(self, item_id: str, profile: str, change: Callable[[CardMeta], CardMeta], now: datetime) -> CardMeta:
        """Apply controls.suspend / bury / set_flag... to one flashcard. A card never reviewed gets
        a row of its own (still new: no review, so not in cards())."""
        profile_id = self.profile_id(profile)
        fresh = self.scheduler_for(profile).new_card(item_id, now)  # before the write: SQLite's one connection is then taken
        with self._write() as conn:
            row = conn.execute(select(cards).where(cards.c.profile_id == profile_id, cards.c.item_id == item_id).with_for_update()).first()
            card = Card.from_json(row.card_json) if row else fresh
            meta = change(meta_of(row) if row else CardMeta())
            self._put_card(conn, profile_id, item_id, row.kind if row else "card", card, meta)
        return meta

    # -- counts --------------------------------------------------------------------------------

    def flashcard_review_count(self, profile: str = DEFAULT_PROFILE) -> int:
        """Reviews of flashcards (bank and own cards), the ones FSRS is fitted to."""
        query = select(func.count()).where(reviews.c.profile_id == self.profile_id(profile), *flashcard_reviews(reviews.c.item_id))
        with self._read() as conn:
            return int(conn.execute(query).scalar_one())

    def reviewed_since(self, since: datetime, profile: str = DEFAULT_PROFILE) -> int:
        """Flashcards studied since `since` that were not new then (Anki's count against the review limit)."""
        first = (
            select(reviews.c.item_id, func.min(reviews.c.reviewed_at).label("first"))
            .where(reviews.c.profile_id == self.profile_id(profile), *flashcard_reviews(reviews.c.item_id))
            .group_by(reviews.c.item_id)
            .subquery()
        )
        query = (
            select(func.count(func.distinct(reviews.c.item_id)))
            .join(first, first.c.item_id == reviews.c.item_id)
            .where(reviews.c.profile_id == self.profile_id(profile), reviews.c.reviewed_at >= since.isoformat(),
                   first.c.first < since.isoformat())
        )  # fmt: skip
        with self._read() as conn:
            return int(conn.execute(query).scalar_one())

    # -- the whole class (instructors' view, class-wide fit) ----------------------------------------

    def class_reviews(self) -> list[tuple[str, str, int, datetime, float | None, str]]:
        """(profile, item_id, rating, reviewed_at, score, mode) of every learner, oldest first."""
        query = (
            select(profiles.c.name, reviews.c.item_id, reviews.c.rating, reviews.c.reviewed_at, reviews.c.score, reviews.c.mode)
            .join(profiles, profiles.c.id == reviews.c.profile_id)
            .order_by(reviews.c.id)
        )
        with self._read() as conn:
            return [(p, i, r, datetime.fromisoformat(t), s, m) for p, i, r, t, s, m in conn.execute(query)]

    def class_cards(self) -> list[ClassCardRow]:
        query = select(profiles.c.name, cards.c.item_id, cards.c.kind, cards.c.card_json, cards.c.lapses).join(
            profiles, profiles.c.id == cards.c.profile_id
        )
        with self._read() as conn:
            return [ClassCardRow(p, i, k, Card.from_json(c), n) for p, i, k, c, n in conn.execute(query)]

    def class_settings(self) -> dict[str, LearnerSettings]:
        query = select(profiles.c.name, learner_settings.c.settings_json).join(profiles, profiles.c.id == learner_settings.c.profile_id)
        with self._read() as conn:
            return {name: _parse_settings(text, name, self.where) for name, text in conn.execute(query)}

    def set_display_name(self, profile: str, name: str | None) -> None:
        profile_id = self.profile_id(profile)  # before the write: it may read, and SQLite has one connection
        with self._write() as conn:
            conn.execute(update(profiles).where(profiles.c.id == profile_id).values(display_name=name))

    def display_names(self) -> dict[str, str]:
        with self._read() as conn:
            return dict(conn.execute(select(profiles.c.name, profiles.c.display_name).where(profiles.c.display_name.is_not(None))).all())


def flashcard_reviews(item_id_column) -> tuple:
    """Flashcard reviews: not a coding exercise's or a drill family's (study.practice names them)."""
    return (~item_id_column.startswith("exercise:"), ~item_id_column.startswith("drill:"))


def redue(scheduler: StudyScheduler, _item_id: str, card: Card) -> Card:
    """The card with its due date recomputed by `scheduler` (memory state unchanged)."""
    card = Card.from_dict(card.to_dict())
    card.due = scheduler.due_for(card)
    return card


def _parse_settings(text: str, profile: str, where: str) -> LearnerSettings:
    from study.store import StoreError

    try:
        return LearnerSettings.from_dict(json.loads(text))
    except (ValueError, TypeError) as error:
        raise StoreError(f"{where}: settings of profile '{profile}': {error}") from None
