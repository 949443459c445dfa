"""The desired-retention preview: reviews a day for the next 30 days at a retention the learner is
considering, simulated from their own cards, parameters and limits, and the 30-day totals at a
few other retentions beside it (Anki's simulator, deck-options.md: "higher retention leads to
shorter intervals and more reviews per day")."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from qa_bank.schema import QAItem
from study.daily import new_card_limit, start_of_day
from study.fit import is_flashcard
from study.learner import LearnerSettings
from study.simulate import RatingMix, Workload, simulate

PREVIEW_DAYS = 30
COMPARED = (0.70, 0.80, 0.90, 0.97)


@dataclass(frozen=True)
class WorkloadPreview:
    per_day: list[float]  # cards a day at the retention asked for, today first
    totals: dict[float, float]  # retention -> cards over the 30 days


def workload_preview(store, items: list[QAItem], profile: str, now: datetime, retention: float, settings: LearnerSettings,
                     runs: int = 3) -> WorkloadPreview:  # fmt: skip
    """Cards a day for PREVIEW_DAYS at `retention`, with `settings` (perhaps not yet saved: its viva
    date, plan pace and limits) for everything else."""
    cards, meta = store.cards(profile), store.meta(profile)
    frozen = {i for i, m in meta.items() if m.suspended}
    unseen = [i.id for i in items if i.id not in cards and i.id not in frozen]
    today = start_of_day(now)
    workload = Workload(PREVIEW_DAYS, new_card_limit(store, items, profile, now, settings), settings.max_reviews_per_day, runs,
                        done_today=(store.new_items_since(today, profile), store.reviewed_since(today, profile)))  # fmt: skip
    mix = RatingMix.from_reviews(r for r in store.reviews(profile) if is_flashcard(r.item_id))
    per_retention = {}
    for value in sorted({retention, *COMPARED}):
        scheduler = store.scheduler_for(profile, settings=replace(settings, desired_retention=value))
        per_retention[value] = simulate(cards, unseen, scheduler, workload, now, mix, frozen=frozen).cards_per_day
    return WorkloadPreview(per_retention[retention], {value: sum(days) for value, days in per_retention.items()})
