"""Counts over the bank: by source document, topic and type, and how many items are linked."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass

from qa_bank.schema import Bank


@dataclass(frozen=True)
class BankStats:
    items: int
    by_source: dict[str, int]
    by_topic: dict[str, int]
    by_type: dict[str, int]
    by_difficulty: dict[str, int]
    with_code_refs: int
    with_demo: int
    unproved: int
    unproved_by_reason: dict[str, int]
    proved_by_source: dict[str, str]  # "with demo / items" per source document
    linked: int  # items with a code reference or a demo
    with_notes: int

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def bank_stats(bank: Bank) -> BankStats:
    items = bank.items
    topics = Counter(topic for item in items for topic in item.topics)
    return BankStats(
        items=len(items),
        by_source=dict(Counter(item.source.document for item in items)),
        by_topic={topic: topics.get(topic, 0) for topic in bank.topics},
        by_type=dict(Counter(word for item in items for word in item.type).most_common()),
        by_difficulty={str(level): count for level, count in sorted(Counter(i.difficulty for i in items).items())},
        with_code_refs=sum(1 for item in items if item.code_refs),
        with_demo=sum(1 for item in items if item.demo),
        unproved=sum(1 for item in items if item.unproved),
        unproved_by_reason=dict(Counter(item.unproved.reason for item in items if item.unproved).most_common()),
        proved_by_source={
            document: f"{sum(1 for i in items if i.demo and i.source.document == document)}/{count}"
            for document, count in Counter(item.source.document for item in items).items()
        },
        linked=sum(1 for item in items if item.code_refs or item.demo),
        with_notes=sum(1 for item in items if item.notes),
    )


def format_stats(stats: BankStats) -> str:
    lines = [f"{stats.items} items"]
    for title, counts in (("by source", stats.by_source), ("by topic", stats.by_topic), ("by type", stats.by_type)):
        lines.append(f"{title}:")
        lines.extend(f"  {count:4d}  {name}" for name, count in counts.items())
    lines.append(f"with code refs: {stats.with_code_refs}")
    lines.append(f"with a demo:    {stats.with_demo}")
    lines.append(f"unproved:       {stats.unproved} ({', '.join(f'{r} {n}' for r, n in stats.unproved_by_reason.items())})")
    lines.extend(f"  proved {share:>7s}  {document}" for document, share in stats.proved_by_source.items())
    lines.append(f"linked (either): {stats.linked}")
    lines.append(f"with a correction note: {stats.with_notes}")
    return "\n".join(lines)
