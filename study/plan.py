"""The viva date plan: every card at the desired retention on the day.

- New cards early enough: each new card needs about two FSRS intervals (its first review after
  learning, then one more) before the date, so new cards are spread evenly from the day the date
  was set (plan_start) to `lead_days` before the viva (at most half the plan's span before it):
  new_per_day = ceil(unseen / days of introduction left). The end day is fixed when the date is
  set, so the pace holds from day to day.
- Intervals capped: the scheduler ends an interval on the day before the viva when the card's
  predicted recall there would otherwise fall below the desired retention (StudyScheduler).
- The daily load (cards a day) is simulated from the learner's own cards and parameters; the
  learner can choose their own pace and sees what it does to the prediction.
- The day before: a final pass over the weakest cards (lowest predicted recall at the viva).
- After the date the plan is off and scheduling is FSRS's as usual.

Predicted recall on the day is FSRS retrievability at the viva (midday UTC of its date),
averaged over the deck (a card never seen counts 0) and over each topic's cards."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

from fsrs import Card, Rating, State

from qa_bank.schema import QAItem
from study.controls import CardMeta, is_hidden
from study.learner import LearnerSettings
from study.scheduling import StudyScheduler
from study.simulate import ALL_GOOD, RatingMix, Workload, simulate


@dataclass(frozen=True)
class VivaPlan:
    viva_date: date
    days_left: int  # days from today to the viva (1: the viva is tomorrow)
    desired_retention: float
    unseen: int  # cards not yet seen
    needed_new_per_day: int  # the pace that introduces every card early enough
    new_per_day: int  # the pace the plan runs at (the learner's own, or the needed one)
    last_new_day: date  # new cards introduced up to this day
    reviews_per_day: list[float]  # cards to study each day until the viva (due reviews, new, final pass), simulated
    predicted_recall_on_date: float  # following the plan
    by_topic: dict[str, float]
    recall_if_stopped_today: float  # the deck's recall on the day with no more study
    by_topic_if_stopped: dict[str, float]
    unseen_on_date: float  # cards still unseen on the day at this pace

    @property
    def on_track(self) -> bool:
        return self.predicted_recall_on_date >= self.desired_retention - ON_TRACK_TOLERANCE

    def to_dict(self) -> dict:
        data = asdict(self)
        data.update(viva_date=self.viva_date.isoformat(), last_new_day=self.last_new_day.isoformat(), on_track=self.on_track)
        return data


ON_TRACK_TOLERANCE = 0.02  # a plan within 2 points of the desired retention is on track


def days_left(viva: date, today: date) -> int:
    return (viva - today).days


def lead_days(scheduler: StudyScheduler, now: datetime) -> int:
    """Days a new card rated Good needs for its first two interday intervals (2 + 11 with FSRS-6's
    defaults at 0.9): new cards stop this long before the viva."""
    plain = StudyScheduler(scheduler.desired_retention, scheduler.parameters)
    card, moment, intervals = plain.new_card("lead", now), now, []
    while len(intervals) < 2:
        card, _ = plain.review(card, Rating.Good, moment)
        if card.state == State.Review:
            intervals.append((card.due - moment).days)
        moment = card.due
    return sum(intervals)


def introduction_end(viva: date, plan_start: date, lead: int) -> date:
    """The first day without new cards: `lead` days before the viva, but a short plan keeps at
    least half its span (from plan_start) for introducing cards."""
    return viva - timedelta(days=min(lead, (viva - plan_start).days // 2))


def needed_pace(unseen: int, today: date, end: date) -> tuple[int, int]:
    """(new cards a day, days of introduction left) to introduce `unseen` cards before `end`."""
    intro_days = max(1, (end - today).days)
    return (math.ceil(unseen / intro_days) if unseen else 0), intro_days


def plan_pace(settings: LearnerSettings, unseen: int, scheduler: StudyScheduler, now: datetime) -> tuple[int, int, date]:
    """(the pace the plan needs, the learner's pace or that one, the last day of new cards)."""
    end = introduction_end(settings.viva_date, settings.plan_start or now.date(), lead_days(scheduler, now))
    needed, intro_days = needed_pace(unseen, now.date(), end)
    return needed, settings.plan_new_per_day or needed, now.date() + timedelta(days=intro_days - 1)


def final_pass(
    items: Sequence[QAItem], cards: Mapping[str, Card], meta: Mapping[str, CardMeta], scheduler: StudyScheduler, limit: int, now: datetime
) -> list[str]:
    """The weakest seen cards, not due now: predicted recall at the viva below halfway between
    the desired retention and 1, lowest first, at most `limit`."""
    threshold = (1 + scheduler.desired_retention) / 2
    weak = [
        (scheduler.recall_at_viva(cards[i.id]), i.id)
        for i in items
        if i.id in cards and cards[i.id].due > now and not is_hidden(meta, i.id, now)
    ]
    return [item_id for recall, item_id in sorted(weak) if recall < threshold][:limit]


def make_plan(
    items: Sequence[QAItem],
    cards: Mapping[str, Card],
    meta: Mapping[str, CardMeta],
    scheduler: StudyScheduler,
    settings: LearnerSettings,
    now: datetime,
    mix: RatingMix = ALL_GOOD,
    done_today: tuple[int, int] = (0, 0),
    runs: int = 10,
) -> VivaPlan | None:
    """The plan from today to the viva; None without a date or once the day has come."""
    if settings.viva_date is None or days_left(settings.viva_date, now.date()) < 1:
        return None
    left = days_left(settings.viva_date, now.date())
    frozen = {i.id for i in items if i.id in meta and meta[i.id].suspended}
    seen = {i.id: cards[i.id] for i in items if i.id in cards}
    unseen = [i.id for i in items if i.id not in cards and i.id not in frozen]
    needed, pace, last_new_day = plan_pace(settings, len(unseen), scheduler, now)

    def extra(k: int, deck: dict[str, Card]) -> list[str]:  # the final pass, on the day before
        return final_pass(items, deck, meta, scheduler, settings.final_pass_cards, now + timedelta(days=k)) if k == left - 1 else []

    workload = Workload(left, pace, settings.max_reviews_per_day, runs, done_today=done_today, extra=extra)
    result = simulate(seen, unseen, scheduler, workload, now, mix, scheduler.viva_moment, frozen)
    recall = {i.id: result.recall_at.get(i.id, 0.0) for i in items}
    stopped = {i.id: scheduler.recall_at_viva(cards[i.id]) if i.id in cards else 0.0 for i in items}
    return VivaPlan(
        viva_date=settings.viva_date, days_left=left, desired_retention=settings.desired_retention, unseen=len(unseen),
        needed_new_per_day=needed, new_per_day=pace, last_new_day=last_new_day,
        reviews_per_day=[round(n, 1) for n in result.cards_per_day], predicted_recall_on_date=_mean(recall.values()),
        by_topic=by_topic(items, recall), recall_if_stopped_today=_mean(stopped.values()), by_topic_if_stopped=by_topic(items, stopped),
        unseen_on_date=result.unseen_at_end,
    )  # fmt: skip


def by_topic(items: Sequence[QAItem], recall: Mapping[str, float]) -> dict[str, float]:
    """Mean recall of each topic's cards (an item counts in each of its topics)."""
    topics: dict[str, list[float]] = {}
    for item in items:
        for topic in item.topics:
            topics.setdefault(topic, []).append(recall[item.id])
    return {topic: _mean(values) for topic, values in sorted(topics.items())}


def _mean(values) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0
