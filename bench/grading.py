"""Grading quality per kind of answer, on the tuned labelled set, the held-out set, the dev-A set (blind set A,
tuned on since), the dev-B set (blind set B, read from issue 28's third round; its two halves apart, see
`halves`), the dev-C set (blind set C, read from the fourth round), the dev-D set (blind set D, read from the
fifth), the dev-E set (blind set E, read from the sixth; its two halves apart, as dev-B's), the dev-F set
(blind set F, read from the ninth), the blind-G set (written blind, read by nobody changing the grader), the
dev-H set (blind set H, measured once blind, read from the thirteenth), the blind-I, blind-J, blind-K and
blind-L sets (written blind, read by nobody changing the grader) and any other labelled files given with `--blind PATH` (a new blind
set, reported apart): the share of each kind rated as its label expects, the ratings it got, the answers that
missed, and the latency of one grade (p50/p95), each set apart. A blind set's missed answers are not printed
unless asked for (`show_blind_failures`): reading them to change the grader is what ends its blindness."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bench.common import REPO_ROOT, BenchResult, percentiles
from qa_bank.loader import load_bank
from qa_bank.schema import QAItem
from study.grading import grade

GRADING_SET = REPO_ROOT / "tests" / "study" / "data" / "grading_set.yaml"
# Never tuned on: written after the first grader, extended before the claim grader (see its header).
HELD_OUT_SET = REPO_ROOT / "tests" / "study" / "data" / "grading_heldout.yaml"
# Blind set A, written by a helper who never saw the grader; tuned on from issue 28's second round,
# so reported as its own set (dev-A), never as the blind figure (see its header).
DEV_SET = REPO_ROOT / "tests" / "study" / "data" / "grading_dev_blind_a.yaml"
# Blind set B, by the same author; blind until issue 28's third round, which developed on its first
# half (alternate items by sorted id) and read the second only after its last rule change: dev-B.
DEV_B_SET = REPO_ROOT / "tests" / "study" / "data" / "grading_blind_b.yaml"
# Blind set C, by another helper who read only the bank; blind until issue 28's fourth round, which
# read its failures while writing rules: dev-C since (see its header and docs/grading.md).
DEV_C_SET = REPO_ROOT / "tests" / "study" / "data" / "grading_blind_c.yaml"
# Blind set D, measured blind before and after the fourth round; the fifth round read its failures (see its header).
DEV_D_SET = REPO_ROOT / "tests" / "study" / "data" / "grading_dev_d.yaml"
# Blind set E, measured blind after rounds 4 and 5; the sixth round developed on its first half and read its
# failures (see its header): dev-E since.
DEV_E_SET = REPO_ROOT / "tests" / "study" / "data" / "grading_dev_e.yaml"
# Blind set F, written from the bank alone, measured blind after rounds 6 to 8; round 9 read its failures: dev-F.
DEV_F_SET = REPO_ROOT / "tests" / "study" / "data" / "grading_dev_f.yaml"
# Blind set G, written from the bank alone and measured by the lead only (see its header).
BLIND_G_SET = REPO_ROOT / "tests" / "study" / "data" / "grading_blind_g.yaml"
# Blind set H, written from the bank alone and measured blind once; round 13 read its failures: dev-H.
DEV_H_SET = REPO_ROOT / "tests" / "study" / "data" / "grading_dev_h.yaml"
# Blind set I, written from the bank alone during round 13 and measured by the lead only (see its header).
BLIND_I_SET = REPO_ROOT / "tests" / "study" / "data" / "grading_blind_i.yaml"
# Blind set J, written from each item's text alone in round 16 and measured by the lead only (see its header).
BLIND_J_SET = REPO_ROOT / "tests" / "study" / "data" / "grading_blind_j.yaml"
# Blind set K, written from each item's text alone in round 17 and measured by the lead only (see its header).
BLIND_K_SET = REPO_ROOT / "tests" / "study" / "data" / "grading_blind_k.yaml"
# Blind set L, written in round 17 to test a rule fixed before it existed, measured by the lead only (see its header).
BLIND_L_SET = REPO_ROOT / "tests" / "study" / "data" / "grading_blind_l.yaml"
RATINGS = ("Again", "Hard", "Good", "Easy")
EXPECT = {
    "good_or_easy": ("Good", "Easy"),
    "hard_or_good": ("Hard", "Good"),
    "not_good": ("Again", "Hard"),
    "again_or_hard": ("Again", "Hard"),
    "again": ("Again",),
}
# Kinds in report order, with the target share (None: no target).
KINDS = {
    "correct_paraphrase": 0.90,
    "correct_negation": 0.90,
    "numeric_equivalent": 0.90,
    "partial": None,
    "term_list": 1.0,
    "off_topic": 1.0,
    "reversed_negation": 0.95,
    "reversed_antonym": 0.95,
    "role_swap": 0.95,
    "value_flip": 0.95,
    "misconception": 0.95,
}
FIELDS = ("item", "kind", "expect", "answer", "why")


class LabelledSetError(ValueError):
    """A labelled file that cannot be read: every problem, each naming the file and entry."""


@dataclass(frozen=True)
class Labelled:
    item: str
    kind: str
    expect: str
    answer: str
    why: str = ""


@dataclass(frozen=True)
class Graded:
    labelled: Labelled
    rating: str
    score: float

    @property
    def accepted(self) -> bool:
        return self.rating in EXPECT[self.labelled.expect]


@dataclass
class Evaluation:
    name: str
    graded: list[Graded] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[Graded]:
        return [g for g in self.graded if g.labelled.kind == kind]

    def share_accepted(self, kind: str | None = None) -> float:
        rows = self.graded if kind is None else self.of_kind(kind)
        return sum(g.accepted for g in rows) / len(rows) if rows else float("nan")

    def failures(self) -> list[Graded]:
        return [g for g in self.graded if not g.accepted]


def _entries(raw: object) -> list | None:
    """The list of entries: the file itself, or the one list under its top-level key."""
    if isinstance(raw, list):
        return raw
    if isinstance(raw, dict):
        lists = [value for value in raw.values() if isinstance(value, list)]
        return lists[0] if len(lists) == 1 else None
    return None


def _problems(position: int, entry: object, items: dict[str, QAItem]) -> list[str]:
    if not isinstance(entry, dict):
        return [f"entry {position}: must be a mapping with {', '.join(FIELDS)}"]
    problems = [f"entry {position}: missing {name}" for name in FIELDS[:4] if not entry.get(name)]
    if entry.get("item") and entry["item"] not in items:
        problems.append(f"entry {position}: unknown item {entry['item']!r}")
    if entry.get("kind") and entry["kind"] not in KINDS:
        problems.append(f"entry {position}: unknown kind {entry['kind']!r}; use {', '.join(KINDS)}")
    if entry.get("expect") and entry["expect"] not in EXPECT:
        problems.append(f"entry {position}: unknown expect {entry['expect']!r}; use {', '.join(EXPECT)}")
    return problems


def load_labelled(path: Path, items: dict[str, QAItem] | None = None) -> list[Labelled]:
    """A labelled YAML file as entries; LabelledSetError lists every problem at once."""
    items = items if items is not None else load_bank().by_id()
    try:
        entries = _entries(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError) as error:
        raise LabelledSetError(f"{path}: {error}") from error
    if entries is None:
        raise LabelledSetError(f"{path}: expected a list of entries ({', '.join(FIELDS)}), or one list under a top-level key")
    problems = [p for n, entry in enumerate(entries, start=1) for p in _problems(n, entry, items)]
    if problems:
        raise LabelledSetError(f"{path}: " + "; ".join(problems))
    return [Labelled(*(str(entry.get(name) or "") for name in FIELDS)) for entry in entries]


def evaluate(labelled: list[Labelled], name: str = "tuned") -> Evaluation:
    items = load_bank().by_id()
    evaluation = Evaluation(name)
    for entry in labelled:
        start = time.perf_counter()
        result = grade(items[entry.item], entry.answer)
        evaluation.latencies_ms.append((time.perf_counter() - start) * 1000)
        evaluation.graded.append(Graded(entry, result.suggested_rating, result.score))
    return evaluation


@dataclass(frozen=True)
class ModelAnswerCheck:
    """The bank's own model answers graded against their items: a check never tuned on. Every
    contradiction or misconception found here is a false alarm (or a seed answer that a note corrects)."""

    key_points: int
    contradicted: list[tuple[str, str]]  # (item id, key point)
    misconceptions: list[tuple[str, str]]  # (item id, belief)
    below_good: list[str]  # items whose own answer is rated Again or Hard


def halves(graded: list[Graded]) -> tuple[list[Graded], list[Graded]]:
    """A set split by item: sorted item ids taken alternately, so both halves span the bank."""
    ids = sorted({g.labelled.item for g in graded})
    first = set(ids[0::2])
    return [g for g in graded if g.labelled.item in first], [g for g in graded if g.labelled.item not in first]


def check_model_answers() -> ModelAnswerCheck:
    items = load_bank().items
    contradicted, misconceptions, below = [], [], []
    for item in items:
        result = grade(item, item.answer)
        contradicted += [(item.id, point) for point in result.contradicted]
        misconceptions += [(item.id, hit.belief) for hit in result.misconceptions]
        below += [item.id] if result.suggested_rating in ("Again", "Hard") else []
    return ModelAnswerCheck(sum(len(item.key_points) for item in items), contradicted, misconceptions, below)


def kinds_markdown(evaluation: Evaluation) -> str:
    lines = [
        f"{evaluation.name}: ratings per kind of answer",
        "",
        "| kind | n | " + " | ".join(RATINGS) + " | as expected | target |",
        "| --- " * (len(RATINGS) + 4) + "|",
    ]
    for kind, target in KINDS.items():
        rows = evaluation.of_kind(kind)
        if not rows:
            continue
        counts = Counter(g.rating for g in rows)
        cells = " | ".join(str(counts[r]) for r in RATINGS)
        goal = f">= {target:.0%}" if target else "-"
        lines.append(f"| {kind} | {len(rows)} | {cells} | {evaluation.share_accepted(kind):.0%} | {goal} |")
    return "\n".join(lines)


def failures_markdown(evaluation: Evaluation, limit: int = 60) -> str:
    failures = evaluation.failures()
    lines = [f"{evaluation.name}: {len(failures)} answers rated outside their label (first {limit}):", ""]
    for g in failures[:limit]:
        entry = g.labelled
        lines.append(f"- {entry.kind} ({entry.expect}) rated {g.rating} ({g.score:.2f}): `{entry.item}`: {entry.answer}")
    return "\n".join(lines)


def withheld(evaluation: Evaluation) -> str:
    return (
        f"{evaluation.name}: {len(evaluation.failures())} answers rated outside their label, not listed: "
        "this set stays blind while nobody changing the grader reads them (--show-blind-failures lists them "
        "and makes it a development set)."
    )


def report(result: BenchResult, evaluation: Evaluation) -> None:
    """One figure per kind present, overall share, and latency, each named after the set."""
    for kind, target in KINDS.items():
        rows = evaluation.of_kind(kind)
        if rows:
            expects = sorted({g.labelled.expect for g in rows})
            note = f"n={len(rows)}; expect {'/'.join(expects)}" + (f"; target >= {target:.0%}" if target else "")
            result.add(f"{evaluation.name}: {kind}", 100 * evaluation.share_accepted(kind), "%", note)
    result.add(f"{evaluation.name}: all answers", 100 * evaluation.share_accepted(), "%", f"n={len(evaluation.graded)}")
    p50, p95, _ = percentiles(evaluation.latencies_ms)
    result.add(f"{evaluation.name}: grade p50", p50, "ms")
    result.add(f"{evaluation.name}: grade p95", p95, "ms", "target < 50 ms")


def is_blind(set_name: str) -> bool:
    return set_name.startswith("blind")


def details_markdown(evaluations: list[Evaluation], show_blind_failures: bool = False) -> str:
    """Each set's ratings per kind and its missed answers; a blind set's missed answers only when asked."""
    parts = []
    for e in evaluations:
        listed = show_blind_failures or not is_blind(e.name)
        parts += [kinds_markdown(e), failures_markdown(e) if listed else withheld(e)]
    return "\n\n".join(parts)


def run(quick: bool, blind: list[str] | None = None, show_blind_failures: bool = False) -> BenchResult:
    result = BenchResult("grading")
    items = load_bank().by_id()
    sets = [
        ("tuned", GRADING_SET),
        ("held-out", HELD_OUT_SET),
        ("dev-A", DEV_SET),
        ("dev-B", DEV_B_SET),
        ("dev-C", DEV_C_SET),
        ("dev-D", DEV_D_SET),
        ("dev-E", DEV_E_SET),
        ("dev-F", DEV_F_SET),
        ("blind-G", BLIND_G_SET),
        ("dev-H", DEV_H_SET),
        ("blind-I", BLIND_I_SET),
        ("blind-J", BLIND_J_SET),
        ("blind-K", BLIND_K_SET),
        ("blind-L", BLIND_L_SET),
    ]
    sets += [(f"blind {Path(p).name}", Path(p)) for p in blind or ()]
    evaluations = []
    for name, path in sets:
        labelled = load_labelled(path, items)
        evaluation = evaluate(labelled, name)
        if not quick:  # a second pass, warm, so the latency is the steady-state figure
            evaluation.latencies_ms = evaluate(labelled, name).latencies_ms
        report(result, evaluation)
        evaluations.append(evaluation)
        if name in ("dev-B", "dev-E"):
            for half, rows in zip(("half 1 (developed on)", "half 2 (read after)"), halves(evaluation.graded), strict=True):
                result.add(f"{name} {half}: all answers", 100 * sum(g.accepted for g in rows) / len(rows), "%", f"n={len(rows)}")
    own = check_model_answers()
    note = f"of {own.key_points} key points, grading each item's own model answer; never tuned on"
    result.add("model answers: points contradicted", len(own.contradicted), "points", note)
    result.add("model answers: rated Again or Hard", len(own.below_good), "items", f"of {len(items)}")
    result.add("model answers: misconceptions flagged", len(own.misconceptions), "hits", ", ".join(i for i, _ in own.misconceptions))
    result.details = details_markdown(evaluations, show_blind_failures)
    return result
