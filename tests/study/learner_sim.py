"""A simulated learner for the fit and plan tests: their memory is FSRS with parameters of their
own (the truth the app never sees); they study through the app's real store and queue, and
recall a card with the probability their true memory gives."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from fsrs import Card, Rating, ReviewLog, Scheduler
from fsrs.scheduler import DEFAULT_PARAMETERS

from study.daily import start_of_day, todays_queue

# A learner who forgets new material faster than FSRS-6's defaults expect: initial stabilities of
# 0.05-2 days (defaults 0.2-8.3) and slower growth of stability with each recall (w8 1.0, not 1.87).
FORGETFUL = (0.05, 0.2, 0.6, 2.0, *DEFAULT_PARAMETERS[4:8], 1.0, *DEFAULT_PARAMETERS[9:])
SECONDS_PER_CARD = 20


@dataclass
class Learner:
    parameters: Sequence[float]
    seed: int = 0
    first_again: float = 0.2  # share of new cards rated Again the first time
    truth: dict[str, Card] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.memory = Scheduler(parameters=tuple(self.parameters), enable_fuzzing=False)
        self.rng = random.Random(self.seed)

    def rating(self, item_id: str, now: datetime) -> Rating:
        card = self.truth.get(item_id)
        if card is None or card.last_review is None:
            return Rating.Again if self.rng.random() < self.first_again else Rating.Good
        if card.last_review.date() == now.date():
            return Rating.Good  # a learning step minutes later: still in mind
        return Rating.Good if self.rng.random() < self.memory.get_card_retrievability(card, now) else Rating.Again

    def remember(self, item_id: str, rating: Rating, now: datetime) -> None:
        card = self.truth.get(item_id) or Card(card_id=len(self.truth) + 1, due=now)
        self.truth[item_id], _ = self.memory.review_card(card, rating, now)

    def true_recall(self, item_ids: Sequence[str], moment: datetime) -> float:
        """The share of `item_ids` this learner would recall at `moment` (never seen: 0)."""
        known = [self.memory.get_card_retrievability(self.truth[i], moment) if i in self.truth else 0.0 for i in item_ids]
        return sum(known) / len(known)


def study_day(store, items, learner: Learner, profile: str, morning: datetime, on_review=None) -> int:
    """One sitting as the Flashcards page runs it: the queue is rebuilt after every rating, and a
    learning step's card comes back when its minutes have passed. Returns the cards rated."""
    clock, rated = morning, 0
    end = start_of_day(morning) + timedelta(days=1)
    while True:
        queue = todays_queue(store, items, profile, clock)
        if not queue.ids:
            waiting = [c.due for c in store.cards(profile).values() if clock < c.due < end]
            if not waiting:
                return rated
            clock = min(waiting)
            continue
        item_id = queue.ids[0]
        rating = learner.rating(item_id, clock)
        store.record_review(item_id, rating, clock, profile, duration_ms=SECONDS_PER_CARD * 1000)
        learner.remember(item_id, rating, clock)
        rated += 1
        if on_review is not None:
            on_review(clock)
        clock += timedelta(seconds=SECONDS_PER_CARD)


def review_log(learner: Learner, scheduler, cards: int, days: int, start: datetime) -> list[ReviewLog]:
    """The log of `learner` studying `cards` new cards spread over the first two thirds of `days`,
    scheduled by `scheduler` (a StudyScheduler), without a store: quick enough for the optimizer
    tests. Reviews happen at 09:00 each day; learning steps minutes later."""
    logs, deck = [], {}
    per_day = max(1, cards * 3 // (2 * days))
    for day in range(days):
        clock = start + timedelta(days=day)
        introduced = len(deck)
        for index in range(introduced, min(cards, introduced + per_day)):
            deck[f"item-{index}"] = scheduler.new_card(f"item-{index}", clock)
        while True:
            due = sorted((c.due, i) for i, c in deck.items() if c.due <= clock)
            if not due:
                waiting = [c.due for c in deck.values() if clock < c.due < clock.replace(hour=23)]
                if not waiting:
                    break
                clock = min(waiting)
                continue
            item_id = due[0][1]
            rating = learner.rating(item_id, clock)
            deck[item_id], log = scheduler.review(deck[item_id], rating, clock)
            learner.remember(item_id, rating, clock)
            logs.append(ReviewLog(log.card_id, rating, clock, SECONDS_PER_CARD * 1000))
            clock += timedelta(seconds=SECONDS_PER_CARD)
    return logs
