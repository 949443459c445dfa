"""Search over questions, answers, topics and key points: field weights, the field's
abbreviations, typo tolerance (rapidfuzz) and filters."""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz, process

from qa_bank.schema import Bank, QAItem
from study.filters import ItemFilter
from study.vocabulary import STOPWORDS, expand

# How much a query word found in each field counts; the question says most about an item.
FIELD_WEIGHTS = {"question": 3.0, "key_points": 2.0, "topics": 2.0, "answer": 1.0}
TYPO_CUTOFF = 80  # rapidfuzz ratio (0-100) for a misspelt query word to match a vocabulary word
MIN_TYPO_LENGTH = 4  # shorter words must match exactly ("lr" is not a typo of "l2")


@dataclass(frozen=True)
class SearchHit:
    id: str
    question: str
    score: float

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "question": self.question, "score": round(self.score, 3)}


class SearchIndex:
    """An inverted index over expanded tokens; built once per bank (a few ms for 218 items)."""

    def __init__(self, items: list[QAItem], topic_names: dict[str, str] | None = None) -> None:
        self.items = items
        self._postings: dict[str, dict[int, float]] = {}  # word -> {item index: weight}
        for index, item in enumerate(items):
            topics_text = " ".join(topic_names.get(t, t) if topic_names else t for t in item.topics)
            fields = {"question": item.question, "key_points": " ".join(item.key_points), "topics": topics_text, "answer": item.answer}
            for name, text in fields.items():
                for word in set(expand(text)) - STOPWORDS:
                    bucket = self._postings.setdefault(word, {})
                    bucket[index] = max(bucket.get(index, 0.0), FIELD_WEIGHTS[name])
        self._vocabulary = list(self._postings)
        self._idf = {word: 1.0 / (1.0 + len(bucket) / 20.0) for word, bucket in self._postings.items()}

    @classmethod
    def from_bank(cls, bank: Bank) -> SearchIndex:
        return cls(bank.items, {t.id: t.name for t in bank.topics.values()})

    def _matches(self, word: str) -> list[tuple[str, float]]:
        """Vocabulary words standing for a query word, with a similarity factor (1.0 exact)."""
        if word in self._postings:
            return [(word, 1.0)]
        if len(word) < MIN_TYPO_LENGTH:
            return []
        found = process.extract(word, self._vocabulary, scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF, limit=3)
        return [(candidate, score / 100.0) for candidate, score, _ in found]

    def search(self, query: str, top_k: int = 10, item_filter: ItemFilter | None = None) -> list[SearchHit]:
        """Best matches first; an empty query or no match gives an empty list."""
        words = [w for w in expand(query) if w not in STOPWORDS]
        scores: dict[int, float] = {}
        for word in dict.fromkeys(words):
            for candidate, similarity in self._matches(word):
                weight = similarity * self._idf[candidate]
                for index, field_weight in self._postings[candidate].items():
                    scores[index] = scores.get(index, 0.0) + weight * field_weight
        ranked = sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))
        hits = []
        for index, score in ranked:
            item = self.items[index]
            if item_filter is None or item_filter.accepts(item):
                hits.append(SearchHit(item.id, item.question, score))
            if len(hits) == top_k:
                break
        return hits
