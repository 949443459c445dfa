"""Progress within an epoch: a tqdm bar when the output is a terminal, nothing otherwise.

A seed-recipe epoch takes a minute or more on a laptop CPU, and with one line per epoch a learner
wonders whether the run is stuck. Piped output (logs, tests, the app's worker processes) keeps
its plain per-epoch lines: a bar there would be a stream of carriage returns."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterable
from typing import IO, Any


def is_terminal(stream: IO[str] | None = None) -> bool:
    stream = stream or sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)()) and os.environ.get("TERM") != "dumb"


def _width() -> int:
    # A terminal that reports no size (a fresh pty, some CI consoles) reads as 0 columns, and tqdm
    # would draw an empty bar; shutil falls back to $COLUMNS, then 80.
    return shutil.get_terminal_size().columns


def epoch_bar(batches: Iterable[Any], epoch: int, epochs: int, stream: IO[str] | None = None) -> Iterable[Any]:
    """`batches` with a bar (batches per second, ETA of the epoch) on a terminal; unchanged otherwise."""
    if not is_terminal(stream):
        return batches
    from tqdm import tqdm

    total = len(batches) if hasattr(batches, "__len__") else None
    return tqdm(batches, total=total, desc=f"epoch {epoch}/{epochs}", unit="batch", leave=False, file=stream or sys.stdout, ncols=_width())


class StepBar:
    """The fast trainer's `on_step` callback: one bar per epoch, with the run's ETA beside it.

    Under a time budget the run ends at its deadline, part-way through an epoch, so the bar counts
    the epoch's steps and the postfix says how long the whole run has left. The epoch's summary
    closes the bar (`close`), and the next step opens the next epoch's: the step number alone
    cannot say where an epoch starts, since a budgeted run's calibration steps come first."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stdout
        self.enabled = is_terminal(self.stream)
        self.bar = None
        self.epochs_shown = 0

    def __call__(self, info) -> None:  # info: cifar_core.fast.StepInfo
        if not self.enabled:
            return
        if self.bar is None:
            from tqdm import tqdm

            self.epochs_shown += 1
            self.bar = tqdm(
                total=info.steps_per_epoch, desc=f"epoch {self.epochs_shown}", unit="step", leave=False, file=self.stream, ncols=_width()
            )
        self.bar.set_postfix_str(f"loss {info.loss:.3f}, {info.image_size} px, run ETA {info.eta:.0f} s", refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        """Clear the bar, so the epoch's summary line prints on a clean line."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
