"""The Quiz's verdict on the blind answer sets: the typed-answer grader's suggested rating, then the exact
checks ("Which does what?", "Which is right?") that hold a Good or Easy at Hard until they are passed.

The grader's figures (bench/grading.py) say how often a typed answer alone is rated as its label expects.
A learner in the Quiz also answers the card's checks, so what they are finally told depends on those too.
Helpers who never saw the grader, its verdicts or the checks' keys played the author of each blind answer
(tests/study/data/quiz_verdict_blind_*.yaml): where the answer decides a check, they chose what the answer
implies, even when wrong; where it is silent, what is actually right. That makes the figure a floor for
the checks: a learner who also guesses wrong where their answer is silent is held more often, never less.
Only counts are printed: the blind answers stay unread by whoever changes the grader."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from bench.common import REPO_ROOT, BenchResult
from bench.grading import BLIND_G_SET, BLIND_I_SET, EXPECT, KINDS, Labelled, evaluate, load_labelled
from qa_bank.loader import load_bank
from qa_bank.schema import QAItem
from study.belief_check import asked_misconceptions, check_beliefs
from study.roles_check import check_roles
from study.self_check import rating_after_checks, self_checks

DATA = REPO_ROOT / "tests" / "study" / "data"
# (label, the blind answers, the helpers' play of their authors on the checks)
SETS = (
    ("blind-G", BLIND_G_SET, DATA / "quiz_verdict_blind_g.yaml"),
    ("blind-I", BLIND_I_SET, DATA / "quiz_verdict_blind_i.yaml"),
)


class QuizVerdictDataError(ValueError):
    """A play file that does not fit its answer set: the file and the entry named."""


@dataclass(frozen=True)
class Verdict:
    labelled: Labelled
    graded: str  # the grader's suggestion
    told: str  # what the Quiz suggests after the checks
    decided: bool  # the answer itself decided at least one check (the play file keeps only those)

    def accepted(self, rating: str) -> bool:
        return rating in EXPECT[self.labelled.expect]


def final_rating(item: QAItem, graded: str, play: dict | None) -> str:
    """The rating the Quiz suggests once the card's checks are answered as `play` says. A card that asks
    no check leaves the grader's rating; an answer the helpers did not play (off-topic) answers every
    check right, the reading least likely to hold it."""
    play = play or {}
    # A role or pair the bank gained after the play was written is taken as answered right, like an unplayed answer.
    chosen = {r.does: r.subject for r in item.roles} | (play.get("roles") or {})
    picks = play.get("picks") or {}
    roles = check_roles(item, chosen) if item.roles else None
    beliefs = check_beliefs(item, [picks.get(m.belief, m.truth) for m in asked_misconceptions(item)])
    return rating_after_checks(graded, self_checks(item, roles, beliefs))


def load_plays(path: Path, rows: list[Labelled]) -> dict[int, dict]:
    """Each play keyed by its answer's position in the set; its `card` must be that answer's item."""
    plays: dict[int, dict] = {}
    for n, play in enumerate(yaml.safe_load(path.read_text(encoding="utf-8")) or [], start=1):
        position = int(str(play.get("key", "")).rpartition("-")[2] or -1)
        if not 0 <= position < len(rows) or rows[position].item != play.get("card"):
            raise QuizVerdictDataError(f"{path}: entry {n}: key {play.get('key')!r} is not an answer on card {play.get('card')!r}")
        plays[position] = play
    return plays


def verdicts(answers: Path, plays_path: Path, items: dict[str, QAItem]) -> list[Verdict]:
    rows = load_labelled(answers, items)
    plays = load_plays(plays_path, rows)
    graded = evaluate(rows).graded
    return [
        Verdict(row, g.rating, final_rating(items[row.item], g.rating, plays.get(n)), n in plays)
        for n, (row, g) in enumerate(zip(rows, graded, strict=True))
    ]


def _count(rows: list[Verdict], told: bool) -> str:
    """As expected by the label: the grader's rating (told=False) or the Quiz's after the checks."""
    accepted = sum(v.accepted(v.told if told else v.graded) for v in rows)
    return f"{accepted}/{len(rows)} ({100 * accepted / len(rows):.1f}%)"


def _row(name: str, rows: list[Verdict], goal: str) -> str:
    decided = sum(v.decided for v in rows)
    return f"| {name} | {len(rows)} | {decided} | {_count(rows, told=False)} | {_count(rows, told=True)} | {goal} |"


def table(label: str, rows: list[Verdict]) -> str:
    """Per kind: the grader's rating and the Quiz's, each as expected by the answer's label."""
    lines = [
        f"**{label}**: the grader's rating, then the Quiz's after the checks, as the label expects",
        "",
        "| kind | answers | the answer decided a check | grader | Quiz, after the checks | target |",
        "| --- | --- | --- | --- | --- | --- |",
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
    for label, answers, plays in SETS:
        if not plays.exists():
            result.add(f"{label}: the Quiz's verdict", None, "%", f"{plays.name} missing")
            continue
        rows = verdicts(answers, plays, items)
        reversed_kinds = [v for v in rows if v.labelled.expect == "again_or_hard" and v.labelled.kind != "off_topic"]
        correct_kinds = [v for v in rows if v.labelled.expect == "good_or_easy"]
        for name, among in (("reversed and misconception answers", reversed_kinds), ("correct answers", correct_kinds)):
            for who, told in (("grader", False), ("Quiz after the checks", True)):
                accepted = sum(v.accepted(v.told if told else v.graded) for v in among)
                result.add(f"{label} {name} as expected: {who}", 100 * accepted / len(among), "%", f"{accepted}/{len(among)}")
        tables.append(table(label, rows))
    result.details = "\n\n".join(tables)
    return result
