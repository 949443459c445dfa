"""Early stopping on validation accuracy, shared by the training script and the fast trainer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class EarlyStopping:
    """Tracks the best validation accuracy; stops after `patience` epochs without beating it."""

    patience: int | None  # epochs without a better validation accuracy before stopping; None: never
    # Best accuracy so far, in the caller's unit (the script uses %, the fast trainer 0-1). It starts
    # below any accuracy, so the first validated epoch is a best even at 0% (and best.pth is written).
    best: float = float("-inf")
    epochs_without_gain: int = 0

    def update(self, accuracy: float | None) -> bool:
        """Record one epoch's validation accuracy (None: not validated); True when it is a new best."""
        if accuracy is None:
            return False
        improved = accuracy > self.best
        if improved:
            self.best = accuracy
            self.epochs_without_gain = 0
        else:
            self.epochs_without_gain += 1
        return improved

    @classmethod
    def replayed(cls, patience: int | None, accuracies: list[float]) -> EarlyStopping:
        """The state after these epochs' accuracies: a resumed run counts the epochs without a gain
        that came before the checkpoint, as the uninterrupted run would."""
        stopping = cls(patience)
        for accuracy in accuracies:
            stopping.update(accuracy)
        return stopping

    @property
    def should_stop(self) -> bool:
        return self.patience is not None and self.epochs_without_gain >= self.patience
