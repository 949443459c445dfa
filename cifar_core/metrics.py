"""Evaluation metrics over collected logits: accuracy, per-class scores, confusion, calibration."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch


@dataclass(frozen=True)
class EvalReport:
    accuracy: float  # 0-1
    loss: float  # mean cross-entropy
    per_class: dict[str, float]  # class name -> accuracy (recall)
    precision: dict[str, float]
    f1: dict[str, float]
    confusion: list[list[int]]  # rows: true class, columns: predicted class
    ece: float  # expected calibration error, 15 equal-width confidence bins

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def confusion_matrix(targets: torch.Tensor, predictions: torch.Tensor, num_classes: int) -> torch.Tensor:
    """(C, C) counts; cell (i, j) counts samples of class i predicted as j."""
    flat = targets.long() * num_classes + predictions.long()
    return torch.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def expected_calibration_error(probabilities: torch.Tensor, targets: torch.Tensor, bins: int = 15) -> float:
    """Weighted mean |accuracy - confidence| over equal-width confidence bins."""
    confidence, predicted = probabilities.max(dim=1)
    correct = predicted.eq(targets).float()
    edges = torch.linspace(0, 1, bins + 1)
    ece = torch.zeros(())
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        in_bin = (confidence > low) & (confidence <= high)
        if in_bin.any():
            weight = in_bin.float().mean()
            ece += weight * (correct[in_bin].mean() - confidence[in_bin].mean()).abs()
    return float(ece)


def reliability_bins(probabilities: torch.Tensor, targets: torch.Tensor, bins: int = 15) -> list[tuple[float, float, int]]:
    """(mean confidence, accuracy, count) per non-empty bin, for a reliability diagram."""
    confidence, predicted = probabilities.max(dim=1)
    correct = predicted.eq(targets).float()
    edges = torch.linspace(0, 1, bins + 1)
    rows = []
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        in_bin = (confidence > low) & (confidence <= high)
        if in_bin.any():
            rows.append((float(confidence[in_bin].mean()), float(correct[in_bin].mean()), int(in_bin.sum())))
    return rows


def report_from_logits(logits: torch.Tensor, targets: torch.Tensor, classes: tuple[str, ...]) -> EvalReport:
    """Every metric of the evaluation output from (N, C) logits and (N,) targets."""
    logits, targets = logits.float().cpu(), targets.cpu()
    probabilities = logits.softmax(dim=1)
    predictions = probabilities.argmax(dim=1)
    matrix = confusion_matrix(targets, predictions, len(classes))
    true_counts = matrix.sum(1)  # rows: true class
    predicted_counts = matrix.sum(0)
    hits = matrix.diag()
    recall = hits / true_counts.clamp(min=1)
    precision = hits / predicted_counts.clamp(min=1)
    f1 = 2 * precision * recall / (precision + recall).clamp(min=1e-12)
    return EvalReport(
        accuracy=float(predictions.eq(targets).float().mean()) if len(targets) else 0.0,
        loss=float(torch.nn.functional.cross_entropy(logits, targets)) if len(targets) else 0.0,
        per_class={name: float(recall[i]) for i, name in enumerate(classes)},
        precision={name: float(precision[i]) for i, name in enumerate(classes)},
        f1={name: float(f1[i]) for i, name in enumerate(classes)},
        confusion=matrix.tolist(),
        ece=expected_calibration_error(probabilities, targets),
    )
