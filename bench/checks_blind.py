"""Whether the Quiz's exact checks read the same to someone who never saw their answers: experienced
helpers' blind answers to every item's "Which does what?" (tests/study/data/roles_blind_*.yaml) and
"Which is right?" (beliefs_blind_*.yaml), scored against the bank. A disagreement is an entry to reread:
ambiguous wording, a wrong role or truth, or, where the item's notes correct its answer, the outdated
belief the check is there to catch."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import yaml

from bench.common import REPO_ROOT, BenchResult
from qa_bank.loader import load_bank
from qa_bank.schema import Misconception, QAItem
from study.belief_check import asked_misconceptions

DATA = REPO_ROOT / "tests" / "study" / "data"
ROLE_FILES = sorted(DATA.glob("roles_blind_*.yaml"))
BELIEF_FILES = sorted(DATA.glob("beliefs_blind_*.yaml"))  # the pairs the grader reads too, answered before the value pairs
VALUE_FILES = sorted(DATA.glob("values_blind_*.yaml"))  # the check-only value pairs (round 16)
POINT_FILES = sorted(DATA.glob("points_blind_*.yaml"))  # the check-only pairs written for key points (round 18)
SOURCE_LEARNER = DATA / "checks_source_learner.yaml"
VALUES_SOURCE_LEARNER = DATA / "values_source_learner.yaml"  # the same kind of learner, on the value pairs
POINTS_SOURCE_LEARNER = DATA / "points_source_learner.yaml"  # ... and on the key-point pairs (round 18)


@dataclass(frozen=True)
class Disagreement:
    item_id: str
    asked: str  # the role's text, or the pair's truth
    key: str  # the bank's answer: the role's subject, or the truth
    answered: str | None  # None: the answers do not cover it (added since)
    doubt: str | None  # the answerer's own doubt about it, if they flagged one


@dataclass(frozen=True)
class Agreement:
    right: int
    asked: int  # roles, or pairs
    items_right: int
    items: int
    disagreements: tuple[Disagreement, ...]


def _agreement(items: list[QAItem], wrong_in: Callable[[QAItem], list[Disagreement]], asked: Callable[[QAItem], int]) -> Agreement:
    """Count over the items that ask something: a disagreement per answer that is not the bank's."""
    asking = [item for item in items if asked(item)]
    per_item = [wrong_in(item) for item in asking]
    disagreements = tuple(d for wrong in per_item for d in wrong)
    total = sum(asked(item) for item in asking)
    return Agreement(total - len(disagreements), total, sum(not wrong for wrong in per_item), len(asking), disagreements)


def score_roles(items: list[QAItem], answers: list[dict]) -> Agreement:
    """Every role counts; `match` maps each role's text to the subject chosen; `doubt` is keyed by text."""
    by_id = {answer["id"]: answer for answer in answers}

    def wrong_in(item: QAItem) -> list[Disagreement]:
        answer = by_id.get(item.id, {})
        match, doubts = answer.get("match") or {}, answer.get("doubt") or {}
        return [
            Disagreement(item.id, r.does, r.subject, match.get(r.does), doubts.get(r.does))
            for r in item.roles
            if match.get(r.does) != r.subject
        ]

    return _agreement(items, wrong_in, lambda item: len(item.roles))


Pairs = Callable[[QAItem], tuple[Misconception, ...]]


def graded_pairs(item: QAItem) -> tuple[Misconception, ...]:
    """The pairs whose beliefs the typed-answer grader reads too (not check_only)."""
    return tuple(m for m in asked_misconceptions(item) if not m.check_only)


def value_pairs(item: QAItem) -> tuple[Misconception, ...]:
    """The check-only value pairs: a value bound to the wrong name, asked and never graded."""
    return tuple(m for m in asked_misconceptions(item) if m.check_only and not m.point)


def point_pairs(item: QAItem) -> tuple[Misconception, ...]:
    """The check-only pairs written for a key point: the point said backwards, asked and never graded."""
    return tuple(m for m in asked_misconceptions(item) if m.point)


def score_beliefs(items: list[QAItem], answers: list[dict], pairs: Pairs = asked_misconceptions) -> Agreement:
    """Every pair `pairs` gives counts; `picks` maps each pair's belief to the statement chosen as true,
    and `doubt` maps a belief to the answerer's doubt about its pair."""
    by_id = {answer["id"]: answer for answer in answers}

    def wrong_in(item: QAItem) -> list[Disagreement]:
        answer = by_id.get(item.id, {})
        picks, doubts = answer.get("picks") or {}, answer.get("doubt") or {}
        return [
            Disagreement(item.id, m.belief, m.truth, picks.get(m.belief), doubts.get(m.belief))
            for m in pairs(item)
            if picks.get(m.belief) != m.truth
        ]

    return _agreement(items, wrong_in, lambda item: len(pairs(item)))


def longer_pick(items: list[QAItem], pairs: Pairs = asked_misconceptions) -> Agreement:
    """What a learner who knows nothing and always picks the longer statement of a pair scores (a tie
    counts as wrong): the cue the truths must not give."""
    longer = [{m.belief: m.truth if len(m.truth) > len(m.belief) else m.belief for m in pairs(item)} for item in items]
    answers = [{"id": item.id, "picks": picks} for item, picks in zip(items, longer, strict=True)]
    return score_beliefs(items, answers, pairs)


def answered(answers: list[dict], pairs: Pairs = asked_misconceptions) -> Pairs:
    """Of `pairs`, those a learner's `picks` answer: a pair added to the bank since they played is not a wrong pick."""
    picked = {answer["id"]: set(answer.get("picks") or {}) for answer in answers}
    return lambda item: tuple(m for m in pairs(item) if m.belief in picked.get(item.id, ()))


def held_cards(items: list[QAItem], answers: list[dict]) -> tuple[set[str], set[str]]:
    """A learner's answers to both checks (`roles` maps each role's text to a subject, `picks` each
    belief to a statement): the cards they would be held at Hard on (a check wrong), and those they pass."""
    roles = score_roles(items, [{"id": answer["id"], "match": answer.get("roles") or {}} for answer in answers])
    answered_pairs = answered(answers)
    picked = {answer["id"] for answer in answers}
    beliefs = score_beliefs(items, answers, answered_pairs)
    asking = {item.id for item in items if item.id in picked and (item.roles or answered_pairs(item))}
    held = {d.item_id for d in (*roles.disagreements, *beliefs.disagreements)} & asking
    return held, asking - held


def _add_source_learner(result: BenchResult, items: list[QAItem], answers: list[dict]) -> None:
    """Held where the notes correct or qualify the source answer, let through where there is no note."""
    held, passed = held_cards(items, answers)
    noted = {item.id for item in items if item.notes}
    for label, cards in (("cards with a note (the source answer corrected or qualified)", noted), ("cards with no note", None)):
        among = {c for c in held | passed if (c in noted) == (cards is not None)}
        count = len(held & among)
        result.add(f"source-only learner held at Hard: {label}", 100 * count / len(among), "%", f"{count}/{len(among)}")


def _add_pairs_source_learner(
    result: BenchResult, items: list[QAItem], answers: list[dict], pairs: Pairs = value_pairs, which: str = "the value pairs"
) -> None:
    """A check-only pair that holds a source-only learner on a card with no note contradicts the card's own answer."""
    held = {d.item_id for d in score_beliefs(items, answers, answered(answers, pairs)).disagreements}
    noted = {item.id for item in items if item.notes}
    asking = {item.id for item in items if pairs(item)}
    for label, among in (("cards with a note", asking & noted), ("cards with no note", asking - noted)):
        count = len(held & among)
        result.add(f"source-only learner held by {which}: {label}", 100 * count / len(among), "%", f"{count}/{len(among)}")


def chance_roles(items: list[QAItem]) -> float:
    """The share of roles a random one-to-one match gets right: each of an item's n roles with chance 1/n,
    so one role per item is expected right."""
    roles = sum(len(item.roles) for item in items)
    return sum(1 for item in items if item.roles) / roles if roles else 0.0


def _details(title: str, agreement: Agreement) -> str:
    lines = [f"**{title}**: {len(agreement.disagreements)} answered otherwise than the bank:"]
    for d in agreement.disagreements:
        answered = "not answered" if d.answered is None else f"answered “{d.answered}”"
        doubt = f" (doubt: {d.doubt})" if d.doubt else ""
        lines.append(f"- {d.item_id}: “{d.asked}”: the bank has “{d.key}”; {answered}{doubt}")
    return "\n".join(lines)


def _add(result: BenchResult, label: str, agreement: Agreement) -> None:
    note = f"{agreement.right}/{agreement.asked}; items all right {agreement.items_right}/{agreement.items}"
    result.add(label, 100 * agreement.right / agreement.asked, "%", note)


def run(
    quick: bool,
    role_files: list[Path] | None = None,
    belief_files: list[Path] | None = None,
    value_files: list[Path] | None = None,
    point_files: list[Path] | None = None,
) -> BenchResult:
    result = BenchResult("checks")
    items = load_bank().items
    result.add("roles matched by a random guess", 100 * chance_roles(items), "%", "each of an item's n roles right with chance 1/n")
    result.add("truths picked by a random guess", 50.0, "%", "one of two statements")
    _add(result, "truths picked by always taking the longer statement", longer_pick(items, graded_pairs))
    # The value pairs often tie (one value for another), so a tie counts as a coin flip here, not as wrong: what a
    # learner who knows nothing and prefers the longer statement scores on them.
    values = [m for item in items for m in value_pairs(item)]
    longer, ties = sum(len(m.truth) > len(m.belief) for m in values), sum(len(m.truth) == len(m.belief) for m in values)
    note = f"{longer} truths longer, {len(values) - longer - ties} shorter, {ties} ties (a tie counts half)"
    result.add("value truths picked by always taking the longer statement", 100 * (longer + ties / 2) / len(values), "%", note)
    points = [m for item in items for m in point_pairs(item)]
    longer, ties = sum(len(m.truth) > len(m.belief) for m in points), sum(len(m.truth) == len(m.belief) for m in points)
    note = f"{longer} truths longer, {len(points) - longer - ties} shorter, {ties} ties (a tie counts half)"
    result.add("key-point truths picked by always taking the longer statement", 100 * (longer + ties / 2) / len(points), "%", note)
    details = []
    for kind, files, scorer in (
        ("roles matched", ROLE_FILES if role_files is None else role_files, score_roles),
        ("truths picked", BELIEF_FILES if belief_files is None else belief_files, partial(score_beliefs, pairs=graded_pairs)),
        ("value truths picked", VALUE_FILES if value_files is None else value_files, partial(score_beliefs, pairs=value_pairs)),
        ("key-point truths picked", POINT_FILES if point_files is None else point_files, partial(score_beliefs, pairs=point_pairs)),
    ):
        for path in files:
            name = path.stem.split("_blind_")[-1]  # beliefs_blind_c -> c
            agreement = scorer(items, yaml.safe_load(path.read_text()))
            _add(result, f"{kind} blind ({name})", agreement)
            details.append(_details(f"{kind}, answerer {name}", agreement))
    if SOURCE_LEARNER.exists():
        _add_source_learner(result, items, yaml.safe_load(SOURCE_LEARNER.read_text()))
    if VALUES_SOURCE_LEARNER.exists():
        _add_pairs_source_learner(result, items, yaml.safe_load(VALUES_SOURCE_LEARNER.read_text()))
    if POINTS_SOURCE_LEARNER.exists():
        _add_pairs_source_learner(result, items, yaml.safe_load(POINTS_SOURCE_LEARNER.read_text()), point_pairs, "the key-point pairs")
    result.details = "\n\n".join(details)
    return result
