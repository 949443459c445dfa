"""Mock viva: questions drawn towards weak topics and low retrievability, a time limit per
question, a follow-up from a related item after a weak answer, and a report per topic."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from fsrs import Card

from qa_bank.schema import QAItem
from study.grading import GradeResult, grade
from study.scheduling import StudyScheduler
from study.vocabulary import content_words

WEAK_ANSWER = 0.6  # a score below this earns a follow-up question


@dataclass(frozen=True)
class VivaConfig:
    questions: int = 8  # main questions; follow-ups come on top
    seconds_per_question: int = 90
    follow_ups: bool = True
    seed: int = 0


@dataclass(frozen=True)
class VivaAnswer:
    item_id: str
    answer: str
    seconds: float
    result: GradeResult
    timed_out: bool
    follow_up_of: str | None


def item_weakness(item: QAItem, cards: dict[str, Card], scheduler: StudyScheduler, now: datetime) -> float:
    """1 - probability of recall; an item never studied counts as weak (1.0)."""
    card = cards.get(item.id)
    return 1.0 if card is None else 1.0 - scheduler.retrievability(card, now)


def plan_questions(items: list[QAItem], cards: dict[str, Card], now: datetime, config: VivaConfig, scheduler: StudyScheduler) -> list[str]:
    """Main questions, sampled without replacement with probability ~ weakness (seeded)."""
    rng = random.Random(config.seed)
    pool = {item.id: 0.05 + item_weakness(item, cards, scheduler, now) for item in items}
    chosen: list[str] = []
    while pool and len(chosen) < config.questions:
        ids, weights = zip(*pool.items(), strict=True)
        pick = rng.choices(ids, weights=weights)[0]
        chosen.append(pick)
        del pool[pick]
    return chosen


def related_items(item: QAItem, items: list[QAItem], limit: int = 3) -> list[QAItem]:
    """Items sharing a topic, ordered by how many key-point words they share with this one."""
    words = set(content_words(" ".join(item.key_points) + " " + item.question))

    def overlap(other: QAItem) -> int:
        return len(words & set(content_words(" ".join(other.key_points) + " " + other.question)))

    candidates = [o for o in items if o.id != item.id and set(o.topics) & set(item.topics)]
    return sorted(candidates, key=lambda o: (-overlap(o), o.id))[:limit]


@dataclass
class VivaSession:
    items: dict[str, QAItem]
    config: VivaConfig
    queue: list[str]
    answers: list[VivaAnswer] = field(default_factory=list)
    _follow_up_of: dict[str, str] = field(default_factory=dict)

    @classmethod
    def start(
        cls, items: list[QAItem], cards: dict[str, Card], now: datetime, config: VivaConfig, scheduler: StudyScheduler
    ) -> VivaSession:
        return cls({i.id: i for i in items}, config, plan_questions(items, cards, now, config, scheduler))

    def follow_up_of(self, item_id: str) -> str | None:
        """The question this one follows up, if it is a follow-up."""
        return self._follow_up_of.get(item_id)

    @property
    def current(self) -> QAItem | None:
        return self.items[self.queue[0]] if self.queue else None

    def answer(self, text: str, seconds: float) -> VivaAnswer:
        """Grade the current question; past the time limit it scores 0. A weak answer queues a follow-up."""
        item = self.items[self.queue.pop(0)]
        timed_out = seconds > self.config.seconds_per_question
        result = grade(item, "" if timed_out else text)
        record = VivaAnswer(item.id, text, seconds, result, timed_out, self.follow_up_of(item.id))
        self.answers.append(record)
        if self.config.follow_ups and result.score < WEAK_ANSWER and record.follow_up_of is None:
            asked = {a.item_id for a in self.answers} | set(self.queue)
            follow = next((o for o in related_items(item, list(self.items.values())) if o.id not in asked), None)
            if follow is not None:
                self.queue.insert(0, follow.id)
                self._follow_up_of[follow.id] = item.id
        return record

    def report_by_topic(self) -> dict[str, dict[str, float]]:
        """Per topic: questions asked, mean score (0-1), timed-out count."""
        grouped: dict[str, list[VivaAnswer]] = defaultdict(list)
        for answer in self.answers:
            for topic in self.items[answer.item_id].topics:
                grouped[topic].append(answer)
        return {
            topic: {
                "asked": len(group),
                "mean_score": sum(a.result.score for a in group) / len(group),
                "timed_out": sum(a.timed_out for a in group),
            }
            for topic, group in sorted(grouped.items())
        }

    def report_markdown(self, points_hidden: Collection[int] = ()) -> str:
        """points_hidden: the answers (numbered from 1) whose exact checks are still open; their missed points
        would answer those checks, so only how many is written."""
        lines = ["# Mock viva report", "", "| topic | asked | mean score | timed out |", "| --- | --- | --- | --- |"]
        for topic, row in self.report_by_topic().items():
            lines.append(f"| {topic} | {row['asked']} | {row['mean_score']:.0%} | {row['timed_out']} |")
        lines.append("")
        for number, answer in enumerate(self.answers, start=1):
            item = self.items[answer.item_id]
            tag = " (follow-up)" if answer.follow_up_of else ""
            lines.append(f"## {number}. {item.question}{tag}")
            late = " - time ran out" if answer.timed_out else ""
            missed = "; ".join(answer.result.missed) or "nothing"
            if number in points_hidden and answer.result.missed:
                missed = f"{len(answer.result.missed)} point(s), named once this answer's checks are answered"
            lines.append(f"Score {answer.result.score:.0%}{late}; missed: {missed}")
            if answer.result.listed_terms:
                lines.append(f"- {answer.result.hint}")
            for point in answer.result.points:
                if point.status.value == "contradicted":
                    lines.append(f'- Contradicted ({point.why}): {point.point} (you said: "{point.clause}"; {point.explain()})')
            for hit in answer.result.misconceptions:
                lines.append(f"- Misconception: {hit.belief}. Correction: {hit.correction}")
            lines.append("")
        return "\n".join(lines)
