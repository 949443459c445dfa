"""FSRS scheduling (the `fsrs` package, Anki's scheduler) and the day's review queue."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from fsrs import Card, Rating, ReviewLog, Scheduler

from qa_bank.schema import QAItem


def card_id_for(item_id: str) -> int:
    """A stable integer id per item (FSRS cards carry an int id)."""
    return int(hashlib.sha1(item_id.encode()).hexdigest()[:12], 16)


class StudyScheduler:
    """Thin wrapper: explicit `now`, no fuzzing by default so schedules are reproducible."""

    def __init__(self, desired_retention: float = 0.9, enable_fuzzing: bool = False) -> None:
        self._scheduler = Scheduler(desired_retention=desired_retention, enable_fuzzing=enable_fuzzing)

    def new_card(self, item_id: str, now: datetime) -> Card:
        return Card(card_id=card_id_for(item_id), due=now)

    def review(self, card: Card, rating: Rating, now: datetime) -> tuple[Card, ReviewLog]:
        return self._scheduler.review_card(card, rating, now)

    def retrievability(self, card: Card, now: datetime) -> float:
        """Probability of recall now (0-1); 0 for a card never reviewed."""
        if card.last_review is None:
            return 0.0
        return float(self._scheduler.get_card_retrievability(card, now))


@dataclass(frozen=True)
class DailyQueue:
    due: list[str]  # item ids already studied and due now, most overdue first
    new: list[str]  # item ids never studied, up to today's remaining new-card allowance

    @property
    def ids(self) -> list[str]:
        return self.due + self.new


def build_queue(items: list[QAItem], cards: dict[str, Card], now: datetime, new_limit: int, new_seen_today: int = 0) -> DailyQueue:
    """Due cards first (oldest due date first), then unseen items in bank order up to the limit."""
    due = sorted((item.id for item in items if item.id in cards and cards[item.id].due <= now), key=lambda i: cards[i].due)
    allowance = max(0, new_limit - new_seen_today)
    new = [item.id for item in items if item.id not in cards][:allowance]
    return DailyQueue(due, new)


def due_forecast(cards: dict[str, Card], now: datetime, days: int = 14) -> list[int]:
    """Cards falling due on each of the next `days` days (day 0 includes the overdue ones)."""
    counts = [0] * days
    for card in cards.values():
        offset = max(0, (card.due - now) // timedelta(days=1))
        if offset < days:
            counts[int(offset)] += 1
    return counts


def format_interval(delta: timedelta) -> str:
    """An interval as Anki prints it on its rating buttons: "<1m", "10m", "5h", "3d", "1.5mo", "2.1y"."""
    seconds = delta.total_seconds()
    if seconds < 60:
        return "<1m"
    if seconds < 3600:
        return f"{round(seconds / 60)}m"
    if seconds < 86_400:
        return f"{round(seconds / 3600)}h"
    days = seconds / 86_400
    if days < 30:
        return f"{round(days)}d"
    if days < 365:
        return f"{days / 30:.1f}mo"
    return f"{days / 365:.1f}y"
