"""Grade a typed answer against an item's key points with rapidfuzz."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from fsrs import Rating
from rapidfuzz import fuzz, process

from qa_bank.schema import QAItem
from study.vocabulary import content_words

WORD_MATCH = 82  # rapidfuzz ratio (0-100) above which two words count as the same (typos, inflections)
POINT_MATCHED = 0.6  # share of a key point's content words the answer must contain


@dataclass(frozen=True)
class GradeResult:
    score: float  # 0-1: mean coverage of the key points
    matched: list[str]
    missed: list[str]
    suggested_rating: str  # Again, Hard, Good or Easy

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def point_coverage(point: str, answer_words: list[str]) -> float:
    """Share of the key point's content words found (fuzzily) in the answer."""
    wanted = set(content_words(point))
    if not wanted or not answer_words:
        return 0.0
    found = sum(1 for word in wanted if process.extractOne(word, answer_words, scorer=fuzz.ratio, score_cutoff=WORD_MATCH))
    return found / len(wanted)


def _credit(coverage: float) -> float:
    if coverage >= POINT_MATCHED:
        return 1.0
    return 0.5 * (coverage / POINT_MATCHED) ** 2


def suggest_rating(score: float) -> Rating:
    if score < 0.35:
        return Rating.Again
    if score < 0.6:
        return Rating.Hard
    if score < 0.85:
        return Rating.Good
    return Rating.Easy


def grade(item: QAItem, answer: str) -> GradeResult:
    """Score = mean credit over key points. A point whose words appear at least POINT_MATCHED is
    matched (credit 1); below that, credit falls off quadratically so scattered single words
    (a number, "batch") earn little. Word overlap cannot see a negation or a swapped pair
    ("train" and "eval" exchanged); the learner still rates the card after seeing the answer."""
    answer_words = sorted(set(content_words(answer)))
    coverages = [point_coverage(point, answer_words) for point in item.key_points]
    score = sum(_credit(c) for c in coverages) / len(coverages)
    matched = [p for p, c in zip(item.key_points, coverages, strict=True) if c >= POINT_MATCHED]
    missed = [p for p, c in zip(item.key_points, coverages, strict=True) if c < POINT_MATCHED]
    return GradeResult(round(score, 3), matched, missed, suggest_rating(score).name)
