"""FSRS scheduling (the `fsrs` package, Anki's scheduler) and the day's review queue."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta

from fsrs import Card, Rating, ReviewLog, Scheduler, State
from fsrs.scheduler import DEFAULT_PARAMETERS, FUZZ_RANGES

from qa_bank.schema import QAItem
from study.controls import CardMeta, is_hidden


def card_id_for(item_id: str) -> int:
    """A stable integer id per item (FSRS cards carry an int id)."""
    return int(hashlib.sha1(item_id.encode()).hexdigest()[:12], 16)


class StudyScheduler:
    """FSRS with an explicit `now`, the learner's parameters and desired retention, and three
    adjustments to a review interval, each reproducible (no hidden randomness):

    - fuzz and load balancing (`load_balance`): Anki fuzzes intervals so that "cards that were
      introduced at the same time and given the same ratings" do not stick together (manual,
      studying.md, Fuzz Factor) and, since 24.11, its load balancer (ankitects/anki#3230,
      rslib/src/scheduler/states/load_balancer.rs) draws a day of that fuzz range by weighted
      chance: weight 1 for a day with no card due, else (1 / cards due)^2 * (1 / interval), so
      quiet days and earlier days are likelier but not certain. Here the range is py-fsrs's
      (Anki's), the weights are Anki's (balance_weight) and the draw is seeded by the card and the
      time of its previous review, as Anki seeds its draw by the card and its review count; over
      90 days (where Anki stops balancing) a day of the range is drawn uniformly with the same seed.
    - the viva cap (`viva_date`): before the viva, an interval that would carry a card past the
      date with its predicted recall there below the desired retention ends on the day before.
    """

    def __init__(
        self,
        desired_retention: float = 0.9,
        parameters: Sequence[float] = DEFAULT_PARAMETERS,
        viva_date: date | None = None,
        load_balance: bool = False,
    ) -> None:
        self._scheduler = Scheduler(parameters=tuple(parameters), desired_retention=desired_retention, enable_fuzzing=False)
        self.desired_retention = desired_retention
        self.parameters = tuple(parameters)
        self.viva_date = viva_date
        self.load_balance = load_balance

    @property
    def viva_moment(self) -> datetime | None:
        """When recall "on the day" is predicted: midday UTC of the viva date."""
        return datetime.combine(self.viva_date, time(12), UTC) if self.viva_date else None

    def new_card(self, item_id: str, now: datetime) -> Card:
        return Card(card_id=card_id_for(item_id), due=now)

    def review(self, card: Card, rating: Rating, now: datetime, due_counts: Mapping[date, int] | None = None) -> tuple[Card, ReviewLog]:
        """Review `card`; `due_counts` (cards due per UTC date, this card left out) feeds the load balancer."""
        # The draw is fixed by the card as it was before this review (Anki: card id + review count),
        # so the day a rating button shows is the day the rating gives, whenever it is pressed: its
        # last review, or none for a new card (whose due is the moment it is first shown).
        draw = _unit_hash(card.card_id, card.last_review)
        card, log = self._scheduler.review_card(card, rating, now)
        if card.state == State.Review:
            card.due = self._adjusted_due(card, now, card.due, due_counts, draw)
        return card, log

    def due_for(self, card: Card) -> datetime:
        """A reviewed card's due date recomputed from its memory state (after the desired retention
        or the parameters change), fuzzed and capped at the viva as a review is. The fuzz draw is
        seeded by the card's last review, where that review's own draw was seeded by the one
        before it (not known here), so the recomputed day may be another day of the same range,
        with the same chances; no load balancing, since no day's count is given."""
        if card.state != State.Review or card.last_review is None:
            return card.due
        interval = next_interval(card.stability, self.desired_retention, self.parameters)
        draw = _unit_hash(card.card_id, card.last_review)
        return self._adjusted_due(card, card.last_review, card.last_review + timedelta(days=interval), None, draw)

    def replay(self, card: Card, history: Sequence[tuple[Rating, datetime]]) -> Card:
        """The card's memory state rebuilt from its reviews with these parameters (after a fit),
        due as a review today would make it."""
        rebuilt = Card(card_id=card.card_id, due=history[0][1])
        for rating, moment in sorted(history, key=lambda review: review[1]):
            rebuilt, _ = self._scheduler.review_card(rebuilt, rating, moment)
        rebuilt.due = self.due_for(rebuilt)
        return rebuilt

    def retrievability(self, card: Card, now: datetime) -> float:
        """Probability of recall now (0-1); 0 for a card never reviewed."""
        if card.last_review is None:
            return 0.0
        return float(self._scheduler.get_card_retrievability(card, now))

    def recall_at_viva(self, card: Card) -> float | None:
        """Predicted recall at the viva if the card is not reviewed again; None without a date."""
        return self.retrievability(card, self.viva_moment) if self.viva_date else None

    # -- interval adjustments ------------------------------------------------------------------

    def _adjusted_due(self, card: Card, now: datetime, due: datetime, due_counts: Mapping[date, int] | None, draw: float) -> datetime:
        days = (due - now).days
        if self.load_balance and days >= 3:  # py-fsrs and Anki leave intervals under 2.5 days unfuzzed
            days = self._spread(now, days, due_counts or {}, draw)
        return self._viva_cap(card, now, now + timedelta(days=days))

    def _spread(self, now: datetime, days: int, due_counts: Mapping[date, int], draw: float) -> int:
        """A day of the fuzz range: drawn by Anki's load-balancer weights, uniformly beyond 90 days."""
        low, high = fuzz_range(days, self._scheduler.maximum_interval)
        if days > LOAD_BALANCE_MAX_DAYS:
            return low + int(draw * (high - low + 1))
        weights = [balance_weight(due_counts.get((now + timedelta(days=d)).date(), 0), d) for d in range(low, high + 1)]
        return low + weighted_index(weights, draw)

    def _viva_cap(self, card: Card, now: datetime, due: datetime) -> datetime:
        viva = self.viva_moment
        if viva is None or now >= viva:
            return due
        viva_day = datetime.combine(self.viva_date, time(0), UTC)
        if due < viva_day:
            return due  # it comes back before the viva anyway
        if self.retrievability(replace(card, last_review=now), viva) >= self.desired_retention:
            return due  # recalled well enough on the day without another review
        days_to_day_before = (self.viva_date - timedelta(days=1) - now.date()).days
        return now + timedelta(days=days_to_day_before) if days_to_day_before >= 1 else due


LOAD_BALANCE_MAX_DAYS = 90  # Anki's load balancer leaves longer intervals alone


def next_interval(stability: float, desired_retention: float, parameters: Sequence[float], maximum: int = 36500) -> int:
    """FSRS's interval in whole days, as py-fsrs rounds and bounds it: recall falls to the desired
    retention after this long."""
    decay = -parameters[20]
    factor = 0.9 ** (1 / decay) - 1
    return min(max(round(stability / factor * (desired_retention ** (1 / decay) - 1)), 1), maximum)


def fuzz_range(days: int, maximum: int = 36500) -> tuple[int, int]:
    """The days an interval may move to: py-fsrs's (and Anki's) fuzz range, 2.5-7 days +-15%,
    7-20 days +-10%, beyond +-5%, plus one day."""
    delta = 1.0 + sum(f["factor"] * max(min(float(days), f["end"]) - f["start"], 0.0) for f in FUZZ_RANGES)
    high = min(round(days + delta), maximum)
    return min(max(2, round(days - delta)), high), high


def balance_weight(cards_due: int, interval: int) -> float:
    """Anki's load-balancer weight for a day `interval` days away with `cards_due` cards due there
    (select_weighted_interval, without its sibling and easy-day factors: one card per item here,
    and no easy days): a quiet day 1, else fewer cards and an earlier day weigh more."""
    return 1.0 if cards_due == 0 else (1 / cards_due) ** 2 / interval


def weighted_index(weights: Sequence[float], draw: float) -> int:
    """The index a draw in [0, 1) picks when each index has its share of the total weight."""
    target, total = draw * sum(weights), 0.0
    for index, weight in enumerate(weights):
        total += weight
        if target < total:
            return index
    return len(weights) - 1  # a draw that rounding carried past the last share


def _unit_hash(card_id: int, moment: datetime | None) -> float:
    """A number in [0, 1) fixed by the card and a moment of its history (None: never reviewed):
    fuzz that replays identically."""
    digest = hashlib.sha256(f"{card_id}@{moment.isoformat() if moment else 'new'}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass(frozen=True)
class DailyQueue:
    due: list[str]  # item ids already studied and due now, most overdue first
    new: list[str]  # item ids never studied, up to today's remaining new-card allowance
    final_pass: list[str] = field(default_factory=list)  # the day before the viva: the weakest cards, not due

    @property
    def ids(self) -> list[str]:
        return self.due + self.new + self.final_pass


def build_queue(
    items: list[QAItem],
    cards: dict[str, Card],
    now: datetime,
    new_limit: int,
    new_seen_today: int = 0,
    meta: Mapping[str, CardMeta] | None = None,
    review_limit: int | None = None,
    reviews_done_today: int = 0,
    final_pass: Sequence[str] = (),
) -> DailyQueue:
    """Due cards first (oldest due date first), then unseen items in bank order up to the limit.

    Suspended and buried cards are left out. With a review limit, as in Anki (manual,
    deck-options.md, Maximum Reviews/Day and New Cards Ignore Review Limit): at most that many
    cards a day, and "no new cards will be shown when the review limit has been reached"."""
    meta = meta or {}
    shown = [item.id for item in items if not is_hidden(meta, item.id, now)]
    due = sorted((i for i in shown if i in cards and cards[i].due <= now), key=lambda i: cards[i].due)
    new = [i for i in shown if i not in cards]
    room = len(due) + len(new) + len(final_pass) if review_limit is None else max(0, review_limit - reviews_done_today - new_seen_today)
    due = due[:room]
    new = new[: max(0, min(new_limit - new_seen_today, room - len(due)))]
    passed = [i for i in final_pass if i in shown and i not in due][: max(0, room - len(due) - len(new))]
    return DailyQueue(due, new, passed)


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
