"""A learned calibration of the grader's own features: a logistic regression, stored as a few
numbers in `calibration.yaml`, that raises a weak recall (Hard) to Good where answers like it were
correct on the labelled sets. Issue 28's sixth round measured it leave-one-set-out (each of the
seven labelled sets graded by a model fitted on the other six; docs/grading.md, "Round 6"): the
rules' failures it fixes on sets it never saw outnumber those it causes about fifty to one, where
each round of new rules carried only a third of its gain to unseen answers.

It only raises, and only an answer the rules left at Hard with nothing against it: never one with a
contradicted point, a stated misconception or a term list (similarity of shape cannot see a
reversal, so what the checks reject stays rejected). Refit with `python -m bench.grading_calibration --write`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

CALIBRATION_PATH = Path(__file__).with_name("calibration.yaml")
# The grader's own reading of an answer, in this order (see `features`).
FEATURES = (
    "score",  # mean credit over key points
    "matched",  # share of key points matched
    "partial",  # share of key points partly stated
    "contradicted",  # share of key points contradicted
    "any_contradicted",  # 1 if any point is contradicted
    "misconception",  # 1 if a listed misconception is stated
    "listed",  # 1 for a term list
    "on_topic",  # share of the answer's words found in the item's own text
    "focus",  # share of the answer's clauses that state a fragment of some point
    "best_coverage",  # the highest coverage of a point not contradicted
    "log_clauses",  # log(1 + number of clauses): how much the learner wrote
)


class CalibrationError(ValueError):
    """A problem in calibration.yaml, naming the field."""


@dataclass(frozen=True)
class Calibration:
    intercept: float
    weights: tuple[float, ...]  # one per FEATURES, on the features' own scale
    threshold: float  # raise Hard to Good at this probability that the answer is correct

    def probability(self, features: Sequence[float]) -> float:
        logit = self.intercept + sum(w * x for w, x in zip(self.weights, features, strict=True))
        return 1.0 / (1.0 + math.exp(-logit))


def features(
    score: float,
    statuses: Sequence[str],
    coverages: Sequence[float],
    misconception: bool,
    listed: bool,
    on_topic: float,
    focus: float,
    clauses: int,
) -> tuple[float, ...]:
    """The FEATURES of one grade: statuses are the points' PointStatus values, coverages those of
    the points not contradicted."""
    n = max(1, len(statuses))
    contradicted = sum(s == "contradicted" for s in statuses)
    return (
        score,
        sum(s == "matched" for s in statuses) / n,
        sum(s == "partial" for s in statuses) / n,
        contradicted / n,
        float(contradicted > 0),
        float(misconception),
        float(listed),
        on_topic,
        focus,
        max(coverages, default=0.0),
        math.log1p(clauses),
    )


def build_calibration(data: dict[str, object], source: str = "calibration.yaml") -> Calibration:
    weights = data.get("weights")
    if not isinstance(weights, dict) or tuple(weights) != FEATURES:
        raise CalibrationError(f"{source}: weights: must name exactly {', '.join(FEATURES)}, in that order")
    try:
        values = tuple(float(weights[name]) for name in FEATURES)
        return Calibration(float(data["intercept"]), values, float(data["threshold"]))
    except (KeyError, TypeError, ValueError) as error:
        raise CalibrationError(f"{source}: intercept, threshold and every weight must be numbers ({error})") from error


@cache
def load_calibration(path: Path = CALIBRATION_PATH) -> Calibration:
    return build_calibration(yaml.safe_load(path.read_text(encoding="utf-8")), path.name)
