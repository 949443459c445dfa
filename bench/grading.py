"""Grading quality on the labelled set (tests/study/data/grading_set.yaml): the confusion matrix
of suggested rating against label, the targets of the grading issue, and the latency of one grade."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bench.common import REPO_ROOT, BenchResult, percentiles
from qa_bank.loader import load_bank
from study.grading import grade

GRADING_SET = REPO_ROOT / "tests" / "study" / "data" / "grading_set.yaml"
# Written after the grader was finished: its figures are closer to what new answers get (the README
# says which general fixes followed its first run).
HELD_OUT_SET = REPO_ROOT / "tests" / "study" / "data" / "grading_heldout.yaml"
LABELS = ("paraphrase", "partial", "reversed", "misconception")
RATINGS = ("Again", "Hard", "Good", "Easy")
# What each label should be rated: the grading issue's targets.
ACCEPTED = {
    "paraphrase": ("Good", "Easy"),
    "partial": ("Hard", "Good"),
    "reversed": ("Again", "Hard"),
    "misconception": ("Again", "Hard"),
}
TARGETS = {"paraphrase": 0.90, "reversed": 0.90, "misconception": 0.95}


@dataclass(frozen=True)
class Graded:
    item_id: str
    label: str
    answer: str
    rating: str
    kind: str = ""  # for a reversed answer: negation, antonym, swap or number

    @property
    def accepted(self) -> bool:
        return self.rating in ACCEPTED[self.label]


@dataclass
class Evaluation:
    graded: list[Graded] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)

    def confusion(self) -> dict[str, Counter]:
        table = {label: Counter() for label in LABELS}
        for g in self.graded:
            table[g.label][g.rating] += 1
        return table

    def share_accepted(self, label: str, kind: str | None = None) -> float:
        rows = [g for g in self.graded if g.label == label and (kind is None or g.kind == kind)]
        return sum(g.accepted for g in rows) / len(rows) if rows else float("nan")

    def failures(self) -> list[Graded]:
        return [g for g in self.graded if not g.accepted]


def load_set(path: Path = GRADING_SET) -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["items"]


def evaluate(entries: list[dict]) -> Evaluation:
    items = load_bank().by_id()
    evaluation = Evaluation()
    for entry in entries:
        for label in LABELS:
            start = time.perf_counter()
            result = grade(items[entry["item"]], entry[label])
            evaluation.latencies_ms.append((time.perf_counter() - start) * 1000)
            kind = entry.get("reversed_kind", "") if label == "reversed" else ""
            evaluation.graded.append(Graded(entry["item"], label, entry[label], result.suggested_rating, kind))
    return evaluation


@dataclass(frozen=True)
class ModelAnswerCheck:
    """The bank's own model answers graded against their items: a check never tuned on. Every
    contradiction or misconception found here is a false alarm (or a seed answer that a note corrects)."""

    key_points: int
    contradicted: list[tuple[str, str]]  # (item id, key point)
    misconceptions: list[tuple[str, str]]  # (item id, belief)


def check_model_answers() -> ModelAnswerCheck:
    items = load_bank().items
    contradicted, misconceptions = [], []
    for item in items:
        result = grade(item, item.answer)
        contradicted += [(item.id, point) for point in result.contradicted]
        misconceptions += [(item.id, hit.belief) for hit in result.misconceptions]
    return ModelAnswerCheck(sum(len(item.key_points) for item in items), contradicted, misconceptions)


def confusion_markdown(evaluation: Evaluation) -> str:
    lines = ["| label \\ suggested | " + " | ".join(RATINGS) + " | accepted |", "| --- " * (len(RATINGS) + 2) + "|"]
    for label, counts in evaluation.confusion().items():
        cells = " | ".join(str(counts[r]) for r in RATINGS)
        lines.append(f"| {label} | {cells} | {evaluation.share_accepted(label):.0%} |")
    return "\n".join(lines)


def failures_markdown(evaluation: Evaluation, limit: int = 40) -> str:
    lines = ["Answers rated outside their label's accepted ratings:", ""]
    for g in evaluation.failures()[:limit]:
        kind = f" ({g.kind})" if g.kind else ""
        lines.append(f"- {g.label}{kind} rated {g.rating}: `{g.item_id}`: {g.answer}")
    return "\n".join(lines)


def run(quick: bool) -> BenchResult:
    result = BenchResult("grading")
    entries = load_set()
    evaluation = evaluate(entries)
    if not quick:  # a second pass, warm, so the latency is the steady-state figure
        evaluation.latencies_ms = evaluate(entries).latencies_ms
    items = Counter(load_bank().by_id()[e["item"]].source.document for e in entries)
    by_document = ", ".join(f"{n} {document[:24]}" for document, n in items.items())
    result.add("labelled items", len(entries), "items", f"{len(evaluation.graded)} answers; {by_document}")
    for label in LABELS:
        target = TARGETS.get(label)
        note = f"rated {' or '.join(ACCEPTED[label])}" + (f"; target >= {target:.0%}" if target else "")
        result.add(f"{label} answers accepted", 100 * evaluation.share_accepted(label), "%", note)
    for kind in ("negation", "antonym", "swap", "number"):
        result.add(f"reversed by {kind} caught", 100 * evaluation.share_accepted("reversed", kind), "%", "rated Again or Hard")
    held_out = evaluate(load_set(HELD_OUT_SET))
    for label in LABELS:
        note = f"held-out set ({len(held_out.graded) // len(LABELS)} items, written after the grader); rated {' or '.join(ACCEPTED[label])}"
        result.add(f"held-out {label} accepted", 100 * held_out.share_accepted(label), "%", note)
    own = check_model_answers()
    note = f"of {own.key_points} key points, grading each item's own model answer; never tuned on"
    result.add("model answers: points contradicted", len(own.contradicted), "points", note)
    result.add("model answers: misconceptions flagged", len(own.misconceptions), "hits", ", ".join(i for i, _ in own.misconceptions))
    p50, p95, worst = percentiles(evaluation.latencies_ms)
    result.add("grade p50", p50, "ms")
    result.add("grade p95", p95, "ms", "target < 50 ms")
    result.details = "\n\n".join(
        [
            confusion_markdown(evaluation),
            failures_markdown(evaluation),
            "Held-out set:\n\n" + confusion_markdown(held_out),
            failures_markdown(held_out),
        ]
    )
    return result
