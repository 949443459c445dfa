"""What a class's instructors see: per-topic class retention, the items with the most lapses,
exercise pass rates, and how many learners are on track for their viva date. Learners appear
under pseudonyms unless the deployer turns them off; nothing here reaches a learner's pages."""

from __future__ import annotations

import csv
import hashlib
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from qa_bank.schema import Bank
from study.fit import is_flashcard
from study.own_cards import apply_overlay
from study.plan import days_left, make_plan
from study.simulate import RatingMix


@dataclass(frozen=True)
class LearnerRow:
    name: str  # a pseudonym ("Learner 3f9a2c") or the signed-in name
    reviews: int
    cards_seen: int
    viva_date: str  # YYYY-MM-DD, or "" without one
    predicted_recall: float | None  # following their plan; None without a date ahead
    on_track: bool | None


@dataclass(frozen=True)
class ClassReport:
    learners: list[LearnerRow]
    topic_retention: dict[str, tuple[float, int]]  # topic -> (share of interday reviews recalled, reviews)
    most_lapsed: list[tuple[str, int, int]]  # (item id, lapses over the class, learners who lapsed)
    exercise_pass: dict[str, tuple[float, int]]  # exercise id -> (share of rated attempts with every check passed, attempts)

    @property
    def on_track(self) -> tuple[int, int]:
        """(learners on track, learners with a viva date ahead)."""
        planned = [row for row in self.learners if row.on_track is not None]
        return sum(row.on_track for row in planned), len(planned)


def pseudonym(profile: str) -> str:
    """A stable name that does not reveal the profile (itself a hash of the sign-in subject)."""
    return "Learner " + hashlib.sha256(f"class-view:{profile}".encode()).hexdigest()[:6]


def class_report(store, bank: Bank, now: datetime, pseudonymous: bool = True, runs: int = 3) -> ClassReport:
    reviews = store.class_reviews()
    names = {} if pseudonymous else store.display_names()
    settings = store.class_settings()
    by_profile: dict[str, list] = defaultdict(list)
    for row in reviews:
        by_profile[row[0]].append(row)
    learners = [_learner_row(store, bank, profile, by_profile[profile], settings.get(profile), names, now, runs)
                for profile in sorted(set(by_profile) | set(settings))]  # fmt: skip
    return ClassReport(learners, _topic_retention(bank, reviews), _most_lapsed(store), _exercise_pass(reviews))


def _learner_row(store, bank: Bank, profile: str, reviews: list, settings, names: dict[str, str], now: datetime, runs: int) -> LearnerRow:
    from study.learner import LearnerSettings

    settings = settings or LearnerSettings()
    name = names.get(profile) or pseudonym(profile)
    seen = len(store.cards(profile))
    if settings.viva_date is None or days_left(settings.viva_date, now.date()) < 1:
        return LearnerRow(name, len(reviews), seen, settings.viva_date.isoformat() if settings.viva_date else "", None, None)
    items = apply_overlay(bank, store.own_cards(profile)).items
    mix = RatingMix.from_reviews(store.reviews(profile))
    plan = make_plan(items, store.cards(profile), store.meta(profile), store.scheduler_for(profile, settings=settings), settings, now, mix,
                     runs=runs)  # fmt: skip
    return LearnerRow(name, len(reviews), seen, settings.viva_date.isoformat(), plan.predicted_recall_on_date, plan.on_track)


def _topic_retention(bank: Bank, reviews: list) -> dict[str, tuple[float, int]]:
    """Recall (not Again) of flashcard reviews made a day or more after the card's previous one."""
    topics = {item.id: item.topics for item in bank.items}
    last: dict[tuple[str, str], datetime] = {}
    outcomes: dict[str, list[int]] = defaultdict(list)
    for profile, item_id, rating, moment, _score, _mode in reviews:
        if not is_flashcard(item_id):
            continue
        previous = last.get((profile, item_id))
        last[(profile, item_id)] = moment
        if previous is not None and (moment - previous).days >= 1:
            for topic in topics.get(item_id, ()):
                outcomes[topic].append(int(rating != 1))
    return {topic: (sum(v) / len(v), len(v)) for topic, v in sorted(outcomes.items())}


def _most_lapsed(store, limit: int = 10) -> list[tuple[str, int, int]]:
    lapses: dict[str, list[int]] = defaultdict(list)
    for row in store.class_cards():
        if row.kind == "card" and row.lapses:
            lapses[row.item_id].append(row.lapses)
    ranked = sorted(lapses.items(), key=lambda item: (-sum(item[1]), item[0]))
    return [(item_id, sum(counts), len(counts)) for item_id, counts in ranked[:limit]]


def _exercise_pass(reviews: list) -> dict[str, tuple[float, int]]:
    """An attempt passes when every check passed (the exercise's score is the share of checks passed)."""
    attempts: dict[str, list[int]] = defaultdict(list)
    for _profile, item_id, _rating, _moment, score, _mode in reviews:
        if item_id.startswith("exercise:"):
            attempts[item_id.removeprefix("exercise:")].append(int(score is not None and score >= 1.0))
    return {exercise: (sum(v) / len(v), len(v)) for exercise, v in sorted(attempts.items())}


def to_csv(report: ClassReport, bank: Bank) -> str:
    """One CSV for the instructors' records, a row per figure: section, key, name, value, count, note."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "key", "name", "value", "count", "note"])
    for topic, (share, count) in report.topic_retention.items():
        writer.writerow(["topic retention", topic, bank.topics[topic].name if topic in bank.topics else topic, f"{share:.4f}", count, ""])
    questions = {item.id: item.question.splitlines()[0] for item in bank.items}
    for item_id, lapses, learners in report.most_lapsed:
        writer.writerow(["most lapses", item_id, questions.get(item_id, item_id), lapses, learners, "lapses, learners"])
    for exercise, (share, count) in report.exercise_pass.items():
        writer.writerow(["exercise pass rate", exercise, exercise, f"{share:.4f}", count, ""])
    for row in report.learners:
        recall = "" if row.predicted_recall is None else f"{row.predicted_recall:.4f}"
        status = "" if row.on_track is None else ("on track" if row.on_track else "behind")
        writer.writerow(["learner", row.name, row.viva_date, recall, row.reviews, status])
    return out.getvalue()
