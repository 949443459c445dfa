"""Grade a typed answer clause by clause: each key point matched, missed or contradicted by the
learner's own words, known misconceptions caught, and a suggested FSRS rating."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum

from fsrs import Rating

from qa_bank.schema import QAItem
from study.grading.align import Alignment, align, states
from study.grading.lexicon import Lexicon, load_lexicon
from study.grading.text import Clause, clauses, key_point_clause, merge

POINT_MATCHED = 0.6  # share of a key point's terms one clause must state
# A wrong belief must be stated whole (all but one term of a long one), and compactly: its terms
# gathered within a few words, not scattered over a long list, before the learner is told so.
MISCONCEPTION_SLACK = 3  # extra words allowed between the belief's terms
# Suggested rating from the score (mean credit over key points): an answer that states one point
# of several, or most of two, is a weak recall (Hard), not a failure; scattered words stay under
# Again's bar (0.1 is one term in three of each of three points).
RATING_FLOORS = ((0.85, Rating.Easy), (0.55, Rating.Good), (0.1, Rating.Hard))


class PointStatus(StrEnum):
    MATCHED = "matched"
    PARTIAL = "partial"  # some of its terms, not enough to count
    MISSED = "missed"
    CONTRADICTED = "contradicted"  # stated with its meaning reversed


@dataclass(frozen=True)
class PointResult:
    point: str
    status: PointStatus
    coverage: float  # 0-1: share of the point's terms one clause states
    clause: str | None  # the learner's words that matched or contradicted it


@dataclass(frozen=True)
class MisconceptionHit:
    belief: str
    correction: str
    clause: str  # the learner's words that state the belief


@dataclass(frozen=True)
class GradeResult:
    score: float  # 0-1: mean credit over key points, 0 for a contradicted one
    suggested_rating: str  # Again, Hard, Good or Easy; the learner may override it
    points: list[PointResult] = field(default_factory=list)
    misconceptions: list[MisconceptionHit] = field(default_factory=list)

    @property
    def matched(self) -> list[str]:
        return [p.point for p in self.points if p.status is PointStatus.MATCHED]

    @property
    def missed(self) -> list[str]:
        return [p.point for p in self.points if p.status in (PointStatus.MISSED, PointStatus.PARTIAL)]

    @property
    def contradicted(self) -> list[str]:
        return [p.point for p in self.points if p.status is PointStatus.CONTRADICTED]

    def to_dict(self) -> dict[str, object]:
        return {
            "score": self.score,
            "matched": self.matched,
            "missed": self.missed,
            "contradicted": self.contradicted,
            "misconceptions": [asdict(hit) for hit in self.misconceptions],
            "points": [{**asdict(p), "status": p.status.value} for p in self.points],
            "suggested_rating": self.suggested_rating,
        }


def _credit(coverage: float) -> float:
    """Full credit at POINT_MATCHED; below it, quadratic fall-off so scattered words earn little."""
    return 1.0 if coverage >= POINT_MATCHED else 0.5 * (coverage / POINT_MATCHED) ** 2


def _cleared_by_sibling(point: Clause, clause: Clause, alignment: Alignment, answer: list[Clause], lexicon: Lexicon) -> bool:
    """A clause that seems to reverse the point is cleared when another clause of its sentence
    states the reversed term itself, consistently ("statistics are updated during training and used
    at inference"): the reversed term was a contrast, not the claim."""
    for sibling in answer:
        if sibling is clause or sibling.sentence != clause.sentence:
            continue
        # The sibling must talk about the point itself, not merely name the reversed word
        # ("split the test set ..., and use the training loader" states no split of training data).
        reading = align(point, sibling, lexicon)
        if reading.reversed or reading.aligned < 2:
            continue
        if any(states(sibling, key, lexicon) for key in alignment.opposed_terms):
            return True
    return False


def _windows(answer: list[Clause]) -> list[list[int]]:
    """Every run of neighbouring clauses within one sentence."""
    runs = []
    for start, clause in enumerate(answer):
        for end in range(start, len(answer)):
            if answer[end].sentence != clause.sentence:
                break
            runs.append(list(range(start, end + 1)))
    return runs


def grade_point(point: str, answer: list[Clause], lexicon: Lexicon) -> PointResult:
    """Contradiction is read clause by clause; coverage over runs of clauses that contain no
    contradicting clause, so a claim is credited where the learner stated it, and only there."""
    target = key_point_clause(point, lexicon)
    if not target.terms:
        return PointResult(point, PointStatus.MISSED, 0.0, None)
    blocked: set[int] = set()
    contradiction: tuple[float, str] | None = None
    for index, clause in enumerate(answer):
        alignment = align(target, clause, lexicon)
        if alignment.contradicts and not _cleared_by_sibling(target, clause, alignment, answer, lexicon):
            blocked.add(index)
            contradiction = max(contradiction or (0.0, ""), (alignment.aligned / alignment.total, clause.text))
    best: tuple[float, str | None] = (0.0, None)
    for run in _windows(answer):
        if blocked.intersection(run):
            continue
        parts = [answer[i] for i in run]
        text = parts[0].text if len(parts) == 1 else f"{parts[0].text} … {parts[-1].text}"
        coverage = align(target, merge(parts, text), lexicon).coverage
        if coverage > best[0] or (coverage == best[0] and best[1] is not None and len(text) < len(best[1])):
            best = (coverage, text)
    coverage, where = best
    if contradiction and (coverage < POINT_MATCHED or contradiction[0] > coverage):
        return PointResult(point, PointStatus.CONTRADICTED, 0.0, contradiction[1])
    if coverage >= POINT_MATCHED:
        return PointResult(point, PointStatus.MATCHED, round(coverage, 3), where)
    status = PointStatus.PARTIAL if coverage > 0 else PointStatus.MISSED
    return PointResult(point, status, round(coverage, 3), where if coverage > 0 else None)


def find_misconceptions(item: QAItem, answer: list[Clause], lexicon: Lexicon) -> list[MisconceptionHit]:
    hits = []
    for misconception in item.misconceptions:
        belief = key_point_clause(misconception.belief, lexicon)
        needed = len(belief.terms) - (len(belief.terms) > 5)
        for clause in answer:
            alignment = align(belief, clause, lexicon)
            span = alignment.span or 0
            if not alignment.reversed and alignment.aligned >= max(2, needed) and span <= needed + MISCONCEPTION_SLACK:
                hits.append(MisconceptionHit(misconception.belief, misconception.correction, clause.text))
                break
    return hits


def suggest_rating(score: float, points: list[PointResult], misconceptions: list[MisconceptionHit]) -> Rating:
    """From the score, capped at Hard by a contradiction or a misconception, and Again when the
    answer reverses at least as many points as it gets right."""
    rating = next((r for floor, r in RATING_FLOORS if score >= floor), Rating.Again)
    matched = sum(p.status is PointStatus.MATCHED for p in points)
    contradicted = sum(p.status is PointStatus.CONTRADICTED for p in points)
    if contradicted or misconceptions:
        rating = min(rating, Rating.Hard)
    if contradicted >= max(1, matched) or (misconceptions and not matched):
        rating = Rating.Again
    return rating


def grade(item: QAItem, answer: str, lexicon: Lexicon | None = None) -> GradeResult:
    """Grade `answer` against the item's key points and misconceptions (see the module doc)."""
    lexicon = lexicon or load_lexicon()
    answer_clauses = clauses(answer, lexicon)
    points = [grade_point(point, answer_clauses, lexicon) for point in item.key_points]
    score = sum(0.0 if p.status is PointStatus.CONTRADICTED else _credit(p.coverage) for p in points) / len(points)
    hits = find_misconceptions(item, answer_clauses, lexicon)
    return GradeResult(round(score, 3), suggest_rating(score, points, hits).name, points, hits)
