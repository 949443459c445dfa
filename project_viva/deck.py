"""The viva deck of a project: the bank items that apply to it, ranked (a finding's items first,
then what its facts touch: BatchNorm used -> BatchNorm items, Adam -> Adam items), and the questions
generated from its facts, stored as the learner's own cards (the overlay in the progress store,
never the YAML), so FSRS schedules them, the grader marks them and Anki exports them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from qa_bank.schema import Bank, QAItem, validate_item
from study.store import DEFAULT_PROFILE, ProgressStore

PROJECT_DOCUMENT = "My project"  # the source document of every generated card
PROJECT_PREFIX = "own-project-"  # own-: never a shipped id; project-: replaced when the project is analysed again
ANKI_PROJECT_DECK_ID = 1_918_273_645  # its own Anki deck, apart from the whole bank's
FINDING_WEIGHT = 10
DECK_SIZE = 25


@dataclass(frozen=True)
class RankedItem:
    item_id: str
    score: int
    reasons: tuple[str, ...]


@dataclass
class Deck:
    ranked: list[RankedItem] = field(default_factory=list)
    generated: list[QAItem] = field(default_factory=list)

    def item_ids(self) -> list[str]:
        return [item.id for item in self.generated] + [r.item_id for r in self.ranked]


def _mentions(item: QAItem, *words: str) -> bool:
    text = f"{item.question} {item.answer}".lower()
    return any(re.search(rf"\b{re.escape(word.lower())}", text) for word in words)


def _fact_rules(facts: dict[str, Any]) -> list[tuple[str, int, Any]]:
    """(reason, weight, test on an item) for what the project's facts touch."""
    rules: list[tuple[str, int, Any]] = [("training loop", 1, lambda i: "training-loop" in i.topics)]
    optimizer = (facts.get("optimizer") or {}).get("name") or ""
    if optimizer:
        words = (
            ("Adam", "AdamW") if optimizer.lower().startswith("adam") else (optimizer, "momentum") if optimizer == "SGD" else (optimizer,)
        )
        rules.append((f"{optimizer} optimizer", 3, lambda i, w=words: _mentions(i, *w)))
    scheduler = (facts.get("scheduler") or {}).get("name")
    if scheduler:
        word = {"OneCycleLR": "one cycle", "CosineAnnealingLR": "cosine", "ReduceLROnPlateau": "plateau"}.get(scheduler, scheduler)
        rules.append((f"{scheduler} scheduler", 3, lambda i, w=word: _mentions(i, w, scheduler)))
        rules.append(("a learning-rate schedule", 1, lambda i: "lr-schedules" in i.topics))
    for fact, topic, reason in (
        ("uses_batchnorm", "batchnorm", "BatchNorm used"),
        ("mixed_precision", "mixed-precision", "mixed precision"),
    ):
        if facts.get(fact):
            rules.append((reason, 3, lambda i, t=topic: t in i.topics))
    if facts.get("uses_dropout"):
        rules.append(("Dropout used", 3, lambda i: _mentions(i, "dropout")))
    if facts.get("augmentations"):
        rules.append(("augmentation", 2, lambda i: "augmentation" in i.topics))
        for name in facts["augmentations"][:4]:
            rules.append((name, 2, lambda i, n=name: _mentions(i, n)))
    if facts.get("normalization"):
        rules.append(("normalisation", 2, lambda i: "normalisation" in i.topics))
    if facts.get("loss"):
        rules.append((f"{facts['loss']}", 2, lambda i: _mentions(i, facts["loss"])))
    model = str(facts.get("model_class") or "")
    if "resnet" in model.lower():
        rules.append(("a ResNet", 2, lambda i: "resnet" in i.topics))
    if facts.get("framework") == "keras":
        rules.append(("a Keras project", 2, lambda i: "keras" in i.topics))
    return rules


def rank_items(bank: Bank, facts: dict[str, Any], findings: list[dict[str, Any]], limit: int = DECK_SIZE) -> list[RankedItem]:
    """Bank items by how much the project bears on them; ties by id, so the order is stable."""
    scores: dict[str, int] = {}
    reasons: dict[str, list[str]] = {}
    by_id = bank.by_id()
    for finding in findings:
        for item_id in finding.get("items", []):
            if item_id in by_id:
                scores[item_id] = scores.get(item_id, 0) + FINDING_WEIGHT
                reasons.setdefault(item_id, []).append(f"finding: {finding['kind']} at {finding['file']}:{finding['line']}")
    for reason, weight, applies in _fact_rules(facts):
        for item in bank.items:
            if not item.id.startswith("own-") and applies(item):
                scores[item.id] = scores.get(item.id, 0) + weight
                reasons.setdefault(item.id, []).append(reason)
    ranked = [RankedItem(i, s, tuple(reasons[i])) for i, s in scores.items() if s >= 2]
    return sorted(ranked, key=lambda r: (-r.score, r.item_id))[:limit]


def generated_items(questions: list[dict[str, Any]], project: str, topics: set[str]) -> list[QAItem]:
    """The generated questions as bank-valid items (id own-project-<key>, document "My project")."""
    items = []
    for number, question in enumerate(questions, start=1):
        slug = re.sub(r"[^a-z0-9]+", "-", question["key"].lower()).strip("-")
        raw = {
            "id": f"{PROJECT_PREFIX}{slug}",
            "question": question["question"],
            "answer": question["answer"] + (f"\n\n(Where: `{question['where']}`)" if question.get("where") else ""),
            "type": ["context"],
            "topics": [t for t in question["topics"] if t in topics] or ["training-loop"],
            "difficulty": 2,
            "source": {"document": PROJECT_DOCUMENT, "number": number, "title": project},
            "key_points": question["key_points"]
            if len(question["key_points"]) >= 2
            else [*question["key_points"], question["answer"][:80]],
        }
        problems = validate_item(raw, topics, require_proof=False)
        if not problems:
            items.append(QAItem.from_dict(raw))
    return items


def build_deck(bank: Bank, result: dict[str, Any]) -> Deck:
    """The deck for an analysis result (the JSON of `python -m project_viva analyse --json`)."""
    ranked = rank_items(bank, {**result, "framework": result.get("framework")}, result.get("findings", []))
    return Deck(ranked, generated_items(result.get("questions", []), result.get("project", "project"), set(bank.topics)))


def store_deck(store: ProgressStore, deck: Deck, now: datetime, profile: str = DEFAULT_PROFILE) -> int:
    """Save the generated cards as own cards, replacing the last project's; FSRS state of a card
    whose id stays (the same question) is kept. Returns the number stored."""
    keep = {item.id for item in deck.generated}
    for card in store.own_cards(profile):
        if card.item_id.startswith(PROJECT_PREFIX) and card.item_id not in keep:
            store.remove_own_card(card.item_id, profile)
    for item in deck.generated:
        store.save_own_card(item.to_dict(), now, profile)
    return len(deck.generated)


def remove_deck(store: ProgressStore, profile: str = DEFAULT_PROFILE) -> int:
    removed = 0
    for card in store.own_cards(profile):
        if card.item_id.startswith(PROJECT_PREFIX):
            removed += store.remove_own_card(card.item_id, profile)
    return removed


def deck_items(bank: Bank, deck: Deck) -> list[QAItem]:
    """The deck's items as the learner's bank holds them (generated first, then ranked)."""
    by_id = bank.by_id()
    generated = [by_id.get(item.id, item) for item in deck.generated]
    return generated + [by_id[r.item_id] for r in deck.ranked if r.item_id in by_id]


def export_deck(items: list[QAItem], out: Path, project: str) -> None:
    """An Anki package of the project deck, in a deck of its own."""
    import genanki

    from study.export import build_deck as build_anki

    deck = build_anki(items, f"Viva drill: {project}")
    deck.deck_id = ANKI_PROJECT_DECK_ID
    genanki.Package(deck).write_to_file(str(out))
