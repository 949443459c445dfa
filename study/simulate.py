"""The workload simulator: days of study played forward from a learner's own cards with their
own scheduler (parameters, desired retention, viva cap, load balancing), as Anki's simulator does
(manual, deck-options.md, The Simulator: it "takes into account the real memory states ... of
your cards" and "uses your FSRS parameters and the value of desired retention").

Each simulated learner studies once a day at the hour of `now`: the due cards (most overdue
first) up to the review limit, then new cards, then any extra cards the plan asks for (the final
pass). A due card is recalled with the probability the model predicts; ratings follow the
learner's own habits (RatingMix). Runs differ only by seed, so results replay exactly."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from fsrs import Card, Rating, State

from study.scheduling import StudyScheduler

RECALLED = (Rating.Hard, Rating.Good, Rating.Easy)
MIN_HABIT_REVIEWS = 30  # fewer of the learner's own ratings than this and the mix is all Good


@dataclass(frozen=True)
class RatingMix:
    """How a learner rates: on a new card (Again, Hard, Good, Easy) and on a recalled card (Hard, Good, Easy)."""

    first: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 0.0)
    recalled: tuple[float, float, float] = (0.0, 1.0, 0.0)

    @classmethod
    def from_reviews(cls, records: Iterable) -> RatingMix:
        """The learner's own shares from their review log (ReviewRecords, oldest first)."""
        seen: set[str] = set()
        first, later = Counter(), Counter()
        for record in records:
            (later if record.item_id in seen else first)[record.rating] += 1
            seen.add(record.item_id)
        recalled = [later[r] for r in RECALLED]
        if sum(first.values()) < MIN_HABIT_REVIEWS or sum(recalled) < MIN_HABIT_REVIEWS:
            return cls()
        total = sum(first.values())
        return cls(tuple(first[r] / total for r in Rating), tuple(n / sum(recalled) for n in recalled))


ALL_GOOD = RatingMix()  # a learner who rates every recalled card Good


@dataclass(frozen=True)
class Workload:
    days: int  # days simulated, today first
    new_per_day: int  # new cards introduced a day while any are left
    max_reviews_per_day: int  # Anki's review limit: due reviews and new cards together
    runs: int = 10  # simulated learners averaged
    seed: int = 0
    done_today: tuple[int, int] = (0, 0)  # (new, review) cards already studied today
    extra: Callable[[int, dict[str, Card]], Sequence[str]] | None = None  # cards to add on day k (the final pass)


@dataclass(frozen=True)
class SimResult:
    cards_per_day: list[float]  # cards studied each day (due reviews, new and extra cards), mean over runs
    new_per_day: list[float]
    recall_at: dict[str, float] = field(default_factory=dict)  # mean predicted recall per item at the moment asked (0: never seen)
    unseen_at_end: float = 0.0


def simulate(
    cards: dict[str, Card],
    unseen: Sequence[str],
    scheduler: StudyScheduler,
    workload: Workload,
    now: datetime,
    mix: RatingMix = ALL_GOOD,
    recall_moment: datetime | None = None,
    frozen: Iterable[str] = (),
) -> SimResult:
    """Play `workload` forward `runs` times; `frozen` cards (suspended) keep their state."""
    totals = [[0.0] * workload.days, [0.0] * workload.days]
    recall: Counter[str] = Counter()
    unseen_left = 0
    for run in range(workload.runs):
        day = _Run(scheduler, mix, random.Random(workload.seed * 1000 + run), dict(cards), set(frozen))
        left = list(unseen)
        for k in range(workload.days):
            studied, introduced, left = day.study(k, now + timedelta(days=k), left, workload)
            totals[0][k] += studied
            totals[1][k] += introduced
        unseen_left += len(left)
        if recall_moment is not None:
            for item_id in [*cards, *unseen]:
                card = day.deck.get(item_id)
                recall[item_id] += scheduler.retrievability(card, recall_moment) if card else 0.0
    runs = workload.runs
    mean_recall = {item_id: r / runs for item_id, r in recall.items()}
    return SimResult([t / runs for t in totals[0]], [t / runs for t in totals[1]], mean_recall, unseen_left / runs)


class _Run:
    """One simulated learner: their deck and the load balancer's count of cards due per date."""

    def __init__(self, scheduler: StudyScheduler, mix: RatingMix, rng: random.Random, deck: dict[str, Card], frozen: set[str]) -> None:
        self.scheduler, self.mix, self.rng, self.deck, self.frozen = scheduler, mix, rng, deck, frozen
        self.load: Counter[date] = Counter(card.due.date() for item, card in deck.items() if item not in frozen)

    def study(self, k: int, moment: datetime, left: list[str], workload: Workload) -> tuple[int, int, list[str]]:
        """Day k: returns (cards studied, new cards introduced, the new cards still left)."""
        new_done, reviews_done = workload.done_today if k == 0 else (0, 0)
        day_end = moment.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        due = sorted((i for i, c in self.deck.items() if i not in self.frozen and c.due < day_end), key=lambda i: self.deck[i].due)
        room = max(0, workload.max_reviews_per_day - new_done - reviews_done)
        due = due[:room]
        new = left[: max(0, min(workload.new_per_day - new_done, room - len(due)))]
        extra = [i for i in (workload.extra(k, self.deck) if workload.extra else ()) if i not in due]
        for item_id in due + extra:
            self._review(item_id, moment, self._recall_rating(self.deck[item_id], moment))
        for item_id in new:
            self._review(item_id, moment, self.rng.choices(list(Rating), self.mix.first)[0], new=True)
        return len(due) + len(new) + len(extra), len(new), left[len(new) :]

    def _recall_rating(self, card: Card, moment: datetime) -> Rating:
        if self.rng.random() >= self.scheduler.retrievability(card, moment):
            return Rating.Again
        return self.rng.choices(RECALLED, self.mix.recalled)[0]

    def _review(self, item_id: str, moment: datetime, rating: Rating, new: bool = False) -> None:
        """One card's review and its same-day (re)learning steps, passed with Good."""
        card = self.scheduler.new_card(item_id, moment) if new else self.deck[item_id]
        if not new:
            self.load[card.due.date()] -= 1
        card, _ = self.scheduler.review(card, rating, moment, self.load)
        for _ in range(4):  # learning and relearning steps are minutes apart: done in the same sitting
            if card.state == State.Review:
                break
            card, _ = self.scheduler.review(card, Rating.Good, card.due, self.load)
        self.deck[item_id] = card
        self.load[card.due.date()] += 1
