"""The learner's own cards laid over the shipped bank: edits of shipped items and new items, kept
in the progress store (the bank's YAML files are never written), validated by the bank's rules."""

from __future__ import annotations

import re
from datetime import datetime

from qa_bank.schema import Bank, QAItem, validate_item
from study.store import DEFAULT_PROFILE, OwnCard, ProgressStore

OWN_DOCUMENT = "My cards"  # the source document of every card a learner adds
OWN_ID_PREFIX = "own-"  # new cards' ids, so they can never take a shipped item's id


class OwnCardError(ValueError):
    """A card the learner wrote breaks the bank's rules; `problems` lists every one."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def apply_overlay(bank: Bank, own: list[OwnCard]) -> Bank:
    """The bank as this learner sees it: edited items replace theirs in place, new ones follow."""
    if not own:
        return bank
    edits = {card.edits: QAItem.from_dict(card.item) for card in own if card.edits}
    added = [QAItem.from_dict(card.item) for card in own if not card.edits]
    items = [edits.get(item.id, item) for item in bank.items] + added
    return Bank(items=items, topics=bank.topics)


def new_card_id(question: str, taken: set[str]) -> str:
    """A readable, unused id from the question's first words."""
    words = re.findall(r"[a-z0-9]+", question.lower())[:5] or ["card"]
    base = OWN_ID_PREFIX + "-".join(words)
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def _checked(raw: dict, bank: Bank) -> dict:
    problems = [problem.message for problem in validate_item(raw, set(bank.topics), require_proof=False)]
    if problems:
        raise OwnCardError(problems)
    return raw


def edit_item(store: ProgressStore, bank: Bank, item: QAItem, changes: dict, now: datetime, profile: str = DEFAULT_PROFILE) -> QAItem:
    """Store the learner's version of `item` (question, answer, key_points, topics...), validated.

    Raises:
        OwnCardError: listing every rule the edited card breaks; nothing is stored then.
    """
    raw = {**item.to_dict(), **changes, "id": item.id}
    if not raw.get("misconceptions"):
        raw.pop("misconceptions", None)  # the bank writes "none" by leaving the field out
    # A claim explains one key point; an edited card keeps those whose point it kept.
    claims = [claim for claim in raw.pop("claims", []) if claim["point"] in raw.get("key_points", [])]
    if claims:
        raw["claims"] = claims
    raw = _checked(raw, bank)
    shipped = not item.id.startswith(OWN_ID_PREFIX)
    store.save_own_card(raw, now, profile, edits=item.id if shipped else None)
    return QAItem.from_dict(raw)


def add_item(
    store: ProgressStore,
    bank: Bank,
    question: str,
    answer: str,
    key_points: list[str],
    topics: list[str],
    now: datetime,
    profile: str = DEFAULT_PROFILE,
) -> QAItem:
    """Store a new card of the learner's own. Raises OwnCardError listing every problem."""
    number = 1 + sum(item.source.document == OWN_DOCUMENT for item in bank.items)
    raw = {
        "id": new_card_id(question, {item.id for item in bank.items}),
        "question": question.strip(),
        "answer": answer.strip(),
        "type": ["conceptual"],
        "topics": topics,
        "difficulty": 2,
        "source": {"document": OWN_DOCUMENT, "number": number},
        "key_points": [point.strip() for point in key_points if point.strip()],
    }
    store.save_own_card(_checked(raw, bank), now, profile)
    return QAItem.from_dict(raw)


def import_items(store: ProgressStore, bank: Bank, raws: list[dict], now: datetime, profile: str = DEFAULT_PROFILE) -> list[str]:
    """Store imported item dicts as own cards (ids made unique); returns one line per item skipped."""
    taken = {item.id for item in bank.items}
    skipped = []
    for raw in raws:
        raw = {**raw, "id": new_card_id(raw["question"], taken)}
        problems = [p.message for p in validate_item(raw, set(bank.topics), require_proof=False)]
        if problems:
            skipped.append(f"{raw['question'][:60]}: {'; '.join(problems)}")
            continue
        store.save_own_card(raw, now, profile)
        taken.add(raw["id"])
    return skipped
