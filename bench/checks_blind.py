"""Whether the bank's roles read the same to someone who never saw them: two experienced helpers'
blind answers to every item's "Which does what?" (tests/study/data/roles_blind_*.yaml), scored
against the roles. A disagreement is a role to reread: ambiguous wording, a wrong role, or, where the
item's notes correct its answer, the outdated belief the check is there to catch."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from bench.common import REPO_ROOT, BenchResult
from qa_bank.loader import load_bank
from qa_bank.schema import QAItem

ANSWER_FILES = sorted((REPO_ROOT / "tests" / "study" / "data").glob("roles_blind_*.yaml"))


@dataclass(frozen=True)
class Disagreement:
    item_id: str
    does: str
    key: str  # the bank's subject
    answered: str | None  # None: the answers do not cover this role (a role added since)
    doubt: str | None  # the answerer's own doubt about this text, if they flagged one


@dataclass(frozen=True)
class Agreement:
    roles_right: int
    roles: int
    items_right: int
    items: int
    disagreements: tuple[Disagreement, ...]


def score(items: list[QAItem], answers: list[dict]) -> Agreement:
    """Every role of every item with roles counts; one the answers miss is a disagreement."""
    by_id = {answer["id"]: answer for answer in answers}
    disagreements: list[Disagreement] = []
    items_right = 0
    with_roles = [item for item in items if item.roles]
    for item in with_roles:
        answer = by_id.get(item.id, {})
        match, doubts = answer.get("match") or {}, answer.get("doubt") or {}
        wrong = [
            Disagreement(item.id, r.does, r.subject, match.get(r.does), doubts.get(r.does))
            for r in item.roles
            if match.get(r.does) != r.subject
        ]
        disagreements += wrong
        items_right += not wrong
    roles = sum(len(item.roles) for item in with_roles)
    return Agreement(roles - len(disagreements), roles, items_right, len(with_roles), tuple(disagreements))


def _details(name: str, agreement: Agreement) -> str:
    lines = [f"**{name}**: {len(agreement.disagreements)} role(s) answered otherwise than the bank:"]
    for d in agreement.disagreements:
        answered = "not answered" if d.answered is None else f"answered {d.answered}"
        doubt = f" (doubt: {d.doubt})" if d.doubt else ""
        lines.append(f"- {d.item_id}: “{d.does}” is {d.key}'s; {answered}{doubt}")
    return "\n".join(lines)


def chance(items: list[QAItem]) -> float:
    """The share of roles a random one-to-one match gets right: each of an item's n roles with chance 1/n,
    so one role per item is expected right."""
    roles = sum(len(item.roles) for item in items)
    return sum(1 for item in items if item.roles) / roles if roles else 0.0


def run(quick: bool, files: list[Path] | None = None) -> BenchResult:
    result = BenchResult("roles")
    items = load_bank().items
    result.add("roles matched by a random guess", 100 * chance(items), "%", "expected: each of an item's n roles right with chance 1/n")
    details = []
    for path in ANSWER_FILES if files is None else files:
        name = path.stem.removeprefix("roles_blind_")
        agreement = score(items, yaml.safe_load(path.read_text()))
        result.add(
            f"roles matched blind ({name})",
            100 * agreement.roles_right / agreement.roles,
            "%",
            f"{agreement.roles_right}/{agreement.roles}",
        )
        result.add(
            f"items all matched blind ({name})",
            100 * agreement.items_right / agreement.items,
            "%",
            f"{agreement.items_right}/{agreement.items}",
        )
        details.append(_details(name, agreement))
    result.details = "\n\n".join(details)
    return result
