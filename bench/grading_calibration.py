"""Does a learned calibration of the grader's own features generalise better than more rules?
Leave-one-set-out over the labelled sets (tuned, held-out, dev-A .. dev-E): each set graded by a
logistic regression fitted on the other six, against the rules alone; dev-E also by halves (fitted
with its first half, measured on its second). `--write` fits on every set and stores the numbers in
study/grading/calibration.yaml (the grader reads them; numpy is needed here only).

    python -m bench.grading_calibration [--write] [--threshold 0.7]

The fit: answers labelled good_or_easy are 1, those labelled Again or Hard (reversed, misconception,
term list, off-topic) 0, partial answers (Hard or Good both right) left out; L2 1.0 on standardised
features, Newton steps. The calibration acts only where `grader._raised` lets it."""

from __future__ import annotations

import argparse
from collections import Counter
from dataclasses import dataclass

import numpy as np
import yaml

from bench.grading import DEV_B_SET, DEV_C_SET, DEV_D_SET, DEV_E_SET, DEV_SET, EXPECT, GRADING_SET, HELD_OUT_SET, load_labelled
from qa_bank.loader import load_bank
from study.grading import grade
from study.grading.calibration import CALIBRATION_PATH, FEATURES, Calibration
from study.grading.grader import GradeResult, PointStatus

SETS = {
    "tuned": GRADING_SET,
    "held-out": HELD_OUT_SET,
    "dev-A": DEV_SET,
    "dev-B": DEV_B_SET,
    "dev-C": DEV_C_SET,
    "dev-D": DEV_D_SET,
    "dev-E": DEV_E_SET,
}
L2 = 1.0


@dataclass(frozen=True)
class Row:
    item: str
    kind: str
    expect: str
    result: GradeResult  # the rules alone (calibrate=False)


def rows_of(path) -> list[Row]:
    items = load_bank().by_id()
    return [Row(e.item, e.kind, e.expect, grade(items[e.item], e.answer, calibrate=False)) for e in load_labelled(path, items)]


def logistic_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """L2-penalised logistic regression by Newton's method: (intercept, weights) on the features' own
    scale, so whoever applies it needs no means (shared with bench/grading_lowering.py)."""
    mean, std = x.mean(0), x.std(0) + 1e-9
    z = np.c_[np.ones(len(x)), (x - mean) / std]
    penalty = L2 * np.diag(np.r_[0.0, np.ones(z.shape[1] - 1)])
    w = np.zeros(z.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-z @ w))
        w -= np.linalg.solve((z * (p * (1 - p))[:, None]).T @ z + penalty, z.T @ (p - y) + penalty @ w)
    return float(w[0] - (w[1:] * mean / std).sum()), w[1:] / std


def fit(rows: list[Row], threshold: float) -> Calibration:
    train = [r for r in rows if r.expect != "hard_or_good"]
    x = np.array([r.result.features for r in train])
    y = np.array([1.0 if r.expect == "good_or_easy" else 0.0 for r in train])
    intercept, weights = logistic_fit(x, y)
    return Calibration(intercept, tuple(float(v) for v in weights), threshold)


def calibrated_rating(row: Row, calibration: Calibration) -> str:
    r = row.result
    blocked = r.misconceptions or r.listed_terms or any(p.status is PointStatus.CONTRADICTED for p in r.points)
    if r.suggested_rating == "Hard" and not blocked and calibration.probability(r.features) >= calibration.threshold:
        return "Good"
    return r.suggested_rating


def measure(rows: list[Row], calibration: Calibration) -> tuple[int, int, Counter]:
    """(rules right, calibrated right, net change per kind)."""
    kinds: Counter = Counter()
    before = after = 0
    for row in rows:
        a = row.result.suggested_rating in EXPECT[row.expect]
        b = calibrated_rating(row, calibration) in EXPECT[row.expect]
        before, after = before + a, after + b
        kinds[row.kind] += b - a
    return before, after, kinds


def leave_one_set_out(data: dict[str, list[Row]], threshold: float) -> None:
    total: Counter = Counter()
    for held, rows in data.items():
        calibration = fit([r for name, rs in data.items() if name != held for r in rs], threshold)
        before, after, kinds = measure(rows, calibration)
        total.update(kinds)
        changed = ", ".join(f"{k} {v:+d}" for k, v in sorted(kinds.items()) if v)
        print(f"| {held} | {len(rows)} | {before} | {after} | {changed or '-'} |")
    print(f"\nnet per kind, all held-out sets: {', '.join(f'{k} {v:+d}' for k, v in sorted(total.items()) if v)}")


def split_half(data: dict[str, list[Row]], threshold: float) -> None:
    """dev-E's first half (alternate items by sorted id, as `bench.grading.halves`) joins the other
    sets; its second half is measured."""
    first_items = set(sorted({r.item for r in data["dev-E"]})[0::2])
    first = [r for r in data["dev-E"] if r.item in first_items]
    second = [r for r in data["dev-E"] if r.item not in first_items]
    calibration = fit([r for name, rs in data.items() if name != "dev-E" for r in rs] + first, threshold)
    before, after, _ = measure(second, calibration)
    print(f"dev-E half 2 (fitted with half 1 and the other sets): {before} -> {after} of {len(second)}")


def write(calibration: Calibration) -> None:
    data = {
        "threshold": calibration.threshold,
        "intercept": round(calibration.intercept, 6),
        "weights": {name: round(w, 6) for name, w in zip(FEATURES, calibration.weights, strict=True)},
    }
    header = (
        "# Written by `python -m bench.grading_calibration --write`: a logistic regression of the grader's own\n"
        "# features (study/grading/calibration.py), fitted on every labelled set; the grader raises a Hard with\n"
        "# nothing against it to Good at `threshold`. Do not edit by hand: refit.\n"
    )
    CALIBRATION_PATH.write_text(header + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="fit on every set and write study/grading/calibration.yaml")
    parser.add_argument("--threshold", type=float, default=0.7)
    args = parser.parse_args()
    data = {name: rows_of(path) for name, path in SETS.items()}
    print("| held-out set | n | rules alone | calibrated (fitted on the other six) | net per kind |\n| --- | --- | --- | --- | --- |")
    leave_one_set_out(data, args.threshold)
    split_half(data, args.threshold)
    if args.write:
        write(fit([r for rs in data.values() for r in rs], args.threshold))
        print(f"wrote {CALIBRATION_PATH}")


if __name__ == "__main__":
    main()
