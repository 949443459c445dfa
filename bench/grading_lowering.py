"""Issue 28, round 7: would a learned model that lowers a Good with a specific risk feature catch
reversed answers the rules miss, without losing correct ones? Measured leave-one-set-out exactly as
the round-6 calibration was (bench/grading_calibration.py): each of the seven labelled sets graded
by a logistic regression fitted on the other six. Measured, not adopted (docs/grading.md, round 7).

    python -m bench.grading_lowering [--thresholds 0.5 0.6 0.7 0.8]

The fit: only answers the grader (rules and calibration) rates Good or Easy; those labelled Again
or Hard (reversed, misconception, term list, off-topic) are 1, those labelled Good or Easy 0, partial
answers left out (Hard and Good are both right for them). A Good whose probability of being wrong
reaches the threshold is lowered to Hard. Features: the grader's eleven (calibration.FEATURES)
plus risk features read from the answer against the item (`risk`)."""

from __future__ import annotations

import argparse
import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from bench.grading import EXPECT, load_labelled
from bench.grading_calibration import SETS, logistic_fit
from qa_bank.loader import load_bank
from qa_bank.schema import QAItem
from study.grading import grade
from study.grading.lexicon import Lexicon, load_lexicon
from study.grading.text import clauses, key_point_clause

ORDER_WORDS = frozenset({"before", "after", "then", "first", "start", "end", "later", "earlier"})
RISKS = (
    "negated_terms",  # share of the answer's terms under a negation
    "rival_names",  # the answer names a counterpart of a key point's word that no key point names
    "opposite_words",  # ... or an opposite of one
    "foreign_numbers",  # share of the answer's numbers the item's own text does not have
    "order_words",  # before/after/then/first ... said
    "contrasted",  # a term under "instead of", "rather than", "than", "unlike"
    "min_matched",  # the lowest coverage of a matched point (0 if none)
)


@dataclass(frozen=True)
class Row:
    kind: str
    expect: str
    rating: str  # the grader's, calibration included
    x: tuple[float, ...]


def risk(item: QAItem, answer: str, lexicon: Lexicon) -> tuple[float, ...]:
    said = [t for c in clauses(answer, lexicon) for t in c.terms]
    points = [t for p in item.key_points for t in key_point_clause(p, lexicon).terms]
    own = {t.key for t in points}
    item_numbers = {t.value for c in clauses("\n".join([item.question, item.answer, *item.key_points]), lexicon) for t in c.terms}
    words = [t for t in said if t.value is None]
    numbers = [t for t in said if t.value is not None and not t.boolean]
    rivals = any(t.key in lexicon.counterparts.get(p, ()) and t.key not in own for t in words for p in own)
    opposites = any(t.key in lexicon.opposites.get(p, ()) and t.key not in own for t in words for p in own)
    foreign = sum(all(abs(n.value - v) > 1e-9 for v in item_numbers if v is not None) for n in numbers) / len(numbers) if numbers else 0.0
    return (
        sum(t.negated for t in said) / len(said) if said else 0.0,
        float(rivals),
        float(opposites),
        foreign,
        float(any(t.key in ORDER_WORDS or t.surface in ORDER_WORDS for t in said)),
        float(any(t.contrasted for t in said)),
    )


def rows_of(path) -> list[Row]:
    items, lexicon = load_bank().by_id(), load_lexicon()
    out = []
    for entry in load_labelled(path, items):
        result = grade(items[entry.item], entry.answer)
        matched = [p.coverage for p in result.points if p.status.value == "matched"]
        x = (*result.features, *risk(items[entry.item], entry.answer, lexicon), min(matched) if matched else 0.0)
        out.append(Row(entry.kind, entry.expect, result.suggested_rating, x))
    return out


def fit(rows: list[Row]) -> tuple[float, np.ndarray]:
    train = [r for r in rows if r.rating in ("Good", "Easy") and r.expect != "hard_or_good"]
    x = np.array([r.x for r in train])
    y = np.array([0.0 if r.expect == "good_or_easy" else 1.0 for r in train])
    return logistic_fit(x, y)


def lowered(row: Row, model: tuple[float, np.ndarray], threshold: float) -> str:
    if row.rating not in ("Good", "Easy"):
        return row.rating
    intercept, weights = model
    p = 1 / (1 + math.exp(-(intercept + float(np.dot(weights, row.x)))))
    return "Hard" if p >= threshold else row.rating


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--thresholds", type=float, nargs="+", default=[0.5, 0.6, 0.7, 0.8, 0.9])
    args = parser.parse_args()
    data = {name: rows_of(path) for name, path in SETS.items()}
    models = {held: fit([r for name, rs in data.items() if name != held for r in rs]) for held in data}
    for threshold in args.thresholds:
        print(f"\nthreshold {threshold}: | held-out set | reversed caught | correct lost | partial lost | net |")
        total: Counter = Counter()
        for held, rows in data.items():
            kinds: Counter = Counter()
            for row in rows:
                before = row.rating in EXPECT[row.expect]
                after = lowered(row, models[held], threshold) in EXPECT[row.expect]
                group = "correct" if row.expect == "good_or_easy" else "partial" if row.expect == "hard_or_good" else "reversed"
                kinds[group] += after - before
            total.update(kinds)
            net = sum(kinds.values())
            print(f"| {held} | {kinds['reversed']:+d} | {kinds['correct']:+d} | {kinds['partial']:+d} | {net:+d} |")
        print(f"| all | {total['reversed']:+d} | {total['correct']:+d} | {total['partial']:+d} | {sum(total.values()):+d} |")


if __name__ == "__main__":
    main()
