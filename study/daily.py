"""Today's cards for a learner, as every page that reviews flashcards builds them: their settings'
limits, Anki's controls, and, while a viva date is ahead, the plan's pace of new cards and, the
day before, its final pass."""

from __future__ import annotations

from datetime import datetime

from qa_bank.schema import QAItem
from study.controls import is_hidden
from study.fit import is_flashcard
from study.learner import LearnerSettings
from study.plan import days_left, final_pass, make_plan, plan_pace
from study.scheduling import DailyQueue, build_queue
from study.simulate import RatingMix


def start_of_day(now: datetime) -> datetime:
    """The app's day boundary: midnight UTC."""
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def new_card_limit(store, items: list[QAItem], profile: str, now: datetime, settings: LearnerSettings | None = None) -> int:
    """New cards a day: the plan's pace while a viva is ahead (the learner's own, or the one that
    introduces every card early enough), else the settings' new cards a day. `settings` tries
    settings not yet saved (Settings' previews); default the stored ones."""
    settings = settings or store.settings(profile)
    if settings.viva_date is None or days_left(settings.viva_date, now.date()) < 1:
        return settings.new_per_day
    if settings.plan_new_per_day:
        return settings.plan_new_per_day
    cards, meta = store.cards(profile), store.meta(profile)
    unseen = sum(i.id not in cards and not (i.id in meta and meta[i.id].suspended) for i in items)
    # Today's new cards are part of the pace: count them back in, so the pace does not drop as they are studied.
    unseen += store.new_items_since(start_of_day(now), profile)
    return plan_pace(settings, unseen, store.scheduler_for(profile, settings=settings), now)[1]


def todays_queue(store, items: list[QAItem], profile: str, now: datetime, among: list[QAItem] | None = None) -> DailyQueue:
    """Today's cards from `among` (a page's filtered items; default all), the pace counted over `items`."""
    settings = store.settings(profile)
    cards, meta = store.cards(profile), store.meta(profile)
    extra = []
    if settings.viva_date is not None and days_left(settings.viva_date, now.date()) == 1:
        extra = final_pass(items, cards, meta, store.scheduler_for(profile, settings=settings), settings.final_pass_cards, now)
        extra = [i for i in extra if cards[i].last_review.date() != now.date()]  # a final-pass card is passed once
    today, limit = start_of_day(now), new_card_limit(store, items, profile, now)
    return build_queue(
        among if among is not None else items, cards, now, limit, store.new_items_since(today, profile), meta,
        settings.max_reviews_per_day, store.reviewed_since(today, profile), extra,
    )  # fmt: skip


def studiable(store, items: list[QAItem], profile: str, now: datetime) -> list[QAItem]:
    """The items a page may offer this learner to study: not suspended, not buried today. The
    Quiz (when nothing is due it offers any of them) and the mock viva draw from these, as the
    queues do; Anki hides both kinds "from review" everywhere (studying.md)."""
    meta = store.meta(profile)
    return [item for item in items if not is_hidden(meta, item.id, now)]


def learner_plan(store, items: list[QAItem], profile: str, now: datetime, settings=None, runs: int = 10):
    """The learner's viva plan from the store (None without a date ahead); `settings` tries
    other settings without saving them (the Settings page's preview, the CLI's options)."""
    settings = settings or store.settings(profile)
    scheduler = store.scheduler_for(profile, settings=settings)
    today = start_of_day(now)
    done = (store.new_items_since(today, profile), store.reviewed_since(today, profile))
    mix = RatingMix.from_reviews(r for r in store.reviews(profile) if is_flashcard(r.item_id))
    return make_plan(items, store.cards(profile), store.meta(profile), scheduler, settings, now, mix, done, runs)
