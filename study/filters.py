"""Which items a study session draws from: topic, source, type, difficulty, proved or unproved."""

from __future__ import annotations

from dataclasses import dataclass

from qa_bank.schema import QAItem


@dataclass(frozen=True)
class ItemFilter:
    """Empty tuples mean "any"."""

    topics: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()  # source document titles
    types: tuple[str, ...] = ()
    difficulties: tuple[int, ...] = ()
    has_demo: bool | None = None  # True: proved by a demo; False: unproved
    unproved_reason: str | None = None  # only items unproved for this reason

    def accepts(self, item: QAItem) -> bool:
        return (
            (not self.topics or bool(set(item.topics) & set(self.topics)))
            and (not self.sources or item.source.document in self.sources)
            and (not self.types or bool(set(item.type) & set(self.types)))
            and (not self.difficulties or item.difficulty in self.difficulties)
            and (self.has_demo is None or bool(item.demo) == self.has_demo)
            and (self.unproved_reason is None or (item.unproved is not None and item.unproved.reason == self.unproved_reason))
        )

    def apply(self, items: list[QAItem]) -> list[QAItem]:
        return [item for item in items if self.accepts(item)]
