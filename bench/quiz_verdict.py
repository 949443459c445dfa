"""The Quiz's verdict on the blind answer sets: the typed-answer grader's suggested rating, then the exact
checks ("Which does what?", "Which is right?") that hold a Good or Easy at Hard until they are passed.

The grader's figures (bench/grading.py) say how often a typed answer alone is rated as its label expects.
A learner in the Quiz also answers the card's checks, so what they are finally told depends on those too.
Helpers who never saw the grader, its verdicts or the checks' keys played the author of each blind answer:
where the answer decides a check, they chose what the answer implies, even when wrong. The play files
(tests/study/data/quiz_verdict_blind_*.yaml) keep only those decided choices; every check an answer leaves
open counts as answered right. So the reversals held are a floor (a learner who also errs where their answer
is silent is held more often) and the correct answers let through a ceiling (the same learner is held there
too). Only counts are printed: the blind answers stay unread by whoever changes the grader."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from bench.common import REPO_ROOT, BenchResult
from bench.grading import BLIND_G_SET, BLIND_I_SET, BLIND_J_SET, BLIND_K_SET, BLIND_L_SET, EXPECT, KINDS, Labelled, evaluate, load_labelled
from qa_bank.loader import load_bank
from qa_bank.schema import QAItem
from study.belief_check import asked_misconceptions, check_beliefs
from study.roles_check import check_roles
from study.self_check import rating_after_checks, self_checks

DATA = REPO_ROOT / "tests" / "study" / "data"
# (label, the blind answers, the helpers' play of their authors on the checks, and on the key-point pairs of round 18)
SETS = (
    ("blind-G", BLIND_G_SET, DATA / "quiz_verdict_blind_g.yaml", DATA / "quiz_verdict_points_g.yaml"),
    ("blind-I", BLIND_I_SET, DATA / "quiz_verdict_blind_i.yaml", DATA / "quiz_verdict_points_i.yaml"),
    ("blind-J", BLIND_J_SET, DATA / "quiz_verdict_blind_j.yaml", DATA / "quiz_verdict_points_j.yaml"),
    ("blind-K", BLIND_K_SET, DATA / "quiz_verdict_blind_k.yaml", DATA / "quiz_verdict_points_k.yaml"),
    ("blind-L", BLIND_L_SET, DATA / "quiz_verdict_blind_l.yaml", DATA / "quiz_verdict_points_l.yaml"),
)
# What the Quiz suggests as each kind of check is added (Verdict's fields), by the name the bench prints.
STAGES = {
    "grader": "graded",
    "Quiz, first checks": "first",
    "Quiz, checks before round 18": "values",
    "Quiz after every check": "told",
}
REVERSED = ("reversed_negation", "reversed_antonym", "role_swap", "value_flip", "misconception")  # held: Again or Hard
CORRECT = ("correct_paraphrase", "correct_negation", "numeric_equivalent")  # let through: Good or Easy


class QuizVerdictDataError(ValueError):
    """A play file that does not fit its answer set or the bank: the file and the entry named."""


@dataclass(frozen=True)
class Verdict:
    labelled: Labelled
    graded: str  # the grader's suggestion
    first: str  # what the Quiz suggests after the roles and the misconception pairs (no check-only pair)
    values: str  # ... and the value pairs: every check before round 18 (the key-point pairs left out)
    told: str  # what the Quiz suggests after every check the card asks
    decided: bool  # the answer itself decided at least one check (the play files keep only those)

    def accepted(self, rating: str) -> bool:
        return rating in EXPECT[self.labelled.expect]


def final_rating(item: QAItem, graded: str, play: dict | None) -> str:
    """The rating the Quiz suggests once the card's checks are answered as `play` says: its `roles` (each
    role's text to a subject) and `picks` (a pair's belief to the statement picked). A card that asks no
    check keeps the grader's rating; a role or pair the play leaves out counts as answered right."""
    play = play or {}
    chosen = {r.does: r.subject for r in item.roles} | (play.get("roles") or {})
    picks = play.get("picks") or {}
    roles = check_roles(item, chosen) if item.roles else None
    beliefs = check_beliefs(item, [picks.get(m.belief, m.truth) for m in asked_misconceptions(item)])
    return rating_after_checks(graded, self_checks(item, roles, beliefs))


def without_check_only_pairs(item: QAItem) -> QAItem:
    """The card as the first checks asked it: roles and misconception pairs, no check-only pairs."""
    return replace(item, misconceptions=tuple(m for m in item.misconceptions if not m.check_only))


def without_point_pairs(item: QAItem) -> QAItem:
    """The card as it was asked before round 18: every check but the pairs written for its key points."""
    return replace(item, misconceptions=tuple(m for m in item.misconceptions if not m.point))


def merged(*plays: dict | None) -> dict:
    """One author's choices from several play files (each file plays other checks of the card)."""
    return {
        "roles": {does: who for play in plays if play for does, who in (play.get("roles") or {}).items()},
        "picks": {belief: pick for play in plays if play for belief, pick in (play.get("picks") or {}).items()},
    }


def load_plays(path: Path, rows: list[Labelled], items: dict[str, QAItem], prefix: str) -> dict[int, dict]:
    """Each play keyed by its answer's position in the set (`key` "<prefix>-<n>"). Refused, naming the entry:
    a key that is not an answer on its `card`, a key given twice, and a role or pick the card does not ask
    now (a reworded or dropped check must be played again, or its choice would silently count as right)."""
    plays: dict[int, dict] = {}
    for n, play in enumerate(yaml.safe_load(path.read_text(encoding="utf-8")) or [], start=1):
        where = f"{path}: entry {n}: key {play.get('key')!r}"
        set_prefix, _, number = str(play.get("key", "")).rpartition("-")
        position = int(number) if number.isdigit() else -1
        if set_prefix != prefix or not 0 <= position < len(rows) or rows[position].item != play.get("card"):
            raise QuizVerdictDataError(f"{where} is not a {prefix}- answer on card {play.get('card')!r}")
        if position in plays:
            raise QuizVerdictDataError(f"{where} is given twice")
        if problem := _unasked(items[rows[position].item], play):
            raise QuizVerdictDataError(f"{where}: {problem}")
        plays[position] = play
    return plays


def _unasked(item: QAItem, play: dict) -> str | None:
    owners = {r.does: r.subject for r in item.roles}
    for does, subject in (play.get("roles") or {}).items():
        if does not in owners or subject not in owners.values():
            return f"the card has no role {does!r} for {subject!r}"
    pairs = {m.belief: m for m in asked_misconceptions(item)}
    for belief, pick in (play.get("picks") or {}).items():
        if belief not in pairs or pick not in (belief, pairs[belief].truth):
            return f"the card asks no pair {belief!r} with {pick!r}"
    return None


def verdicts(answers: Path, plays_path: Path, points_path: Path | None, items: dict[str, QAItem], prefix: str) -> list[Verdict]:
    """Without a play of the key-point pairs (`points_path` None or missing) they count as answered right."""
    rows = load_labelled(answers, items)
    plays = load_plays(plays_path, rows, items, prefix)
    point_plays = load_plays(points_path, rows, items, prefix) if points_path and points_path.exists() else {}
    graded = evaluate(rows).graded
    out = []
    for n, (row, g) in enumerate(zip(rows, graded, strict=True)):
        item, play = items[row.item], merged(plays.get(n), point_plays.get(n))
        first = final_rating(without_check_only_pairs(item), g.rating, play)
        values = final_rating(without_point_pairs(item), g.rating, play)
        out.append(Verdict(row, g.rating, first, values, final_rating(item, g.rating, play), n in plays or n in point_plays))
    return out


def _count(rows: list[Verdict], stage: str) -> str:
    """As the label expects, at `stage`: "graded", "first", "values" or "told" (see Verdict)."""
    accepted = sum(v.accepted(getattr(v, stage)) for v in rows)
    return f"{accepted}/{len(rows)} ({100 * accepted / len(rows):.1f}%)"


def _row(name: str, rows: list[Verdict], goal: str) -> str:
    stages = " | ".join(_count(rows, stage) for stage in STAGES.values())
    return f"| {name} | {len(rows)} | {sum(v.decided for v in rows)} | {stages} | {goal} |"


def table(label: str, rows: list[Verdict]) -> str:
    """Per kind: the grader's rating and the Quiz's, each as expected by the answer's label."""
    lines = [
        f"**{label}**: the grader's rating, then the Quiz's as each kind of check is added, as the label expects",
        "",
        "| kind | answers | the answer decided a check | " + " | ".join(STAGES) + " | target |",
        "|" + " --- |" * (len(STAGES) + 4),
    ]
    for kind, target in KINDS.items():
        of_kind = [v for v in rows if v.labelled.kind == kind]
        if of_kind:
            lines.append(_row(kind, of_kind, "-" if target is None else f">= {target:.0%}"))
    return "\n".join([*lines, _row("all", rows, "")])


def run(quick: bool) -> BenchResult:
    result = BenchResult("quiz-verdict")
    items = load_bank().by_id()
    tables = []
    for label, answers, plays, points in SETS:
        if not plays.exists():
            result.add(f"{label}: the Quiz's verdict", None, "%", f"{plays.name} missing")
            continue
        if not points.exists():  # without it the key-point pairs would silently count as answered right
            result.add(f"{label}: the Quiz's verdict", None, "%", f"{points.name} missing")
            continue
        rows = verdicts(answers, plays, points, items, label[-1].lower())
        for name, kinds in (("reversed and misconception answers", REVERSED), ("correct answers", CORRECT)):
            among = [v for v in rows if v.labelled.kind in kinds]
            for who, stage in STAGES.items():
                accepted = sum(v.accepted(getattr(v, stage)) for v in among)
                result.add(f"{label} {name} as expected: {who}", 100 * accepted / len(among), "%", f"{accepted}/{len(among)}")
        tables.append(table(label, rows))
    result.details = "\n\n".join(tables)
    return result
