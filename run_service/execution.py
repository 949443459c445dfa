"""What a worker does with one run, on either backend: reuse loaded data, train, report."""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable

DATASETS_KEPT = 2  # loaded splits a worker keeps for the next runs (the 50k-image set is ~180 MB)
_loaded: OrderedDict = OrderedDict()  # DataOptions -> DataSplits, most recently used last


def limit_threads(threads: int) -> None:
    """Give this process its share of the cores. The environment variables must be set before
    torch is first imported (OpenMP reads them once); set_num_threads covers a later change."""
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[name] = str(threads)
    import torch

    torch.set_num_threads(threads)


def cached_splits(options):
    """The splits for `options`, loaded once per worker: the next run on the same data reuses them."""
    from cifar_core.data import load_splits

    if options in _loaded:
        _loaded.move_to_end(options)
        return _loaded[options]
    splits = load_splits(options)
    _loaded[options] = splits
    while len(_loaded) > DATASETS_KEPT:
        _loaded.popitem(last=False)
    return splits


def run_one(cfg, emit: Callable[[str, object], None], should_stop: Callable[[], bool]):
    """Execute one run; `emit(kind, payload)` carries status, data, step and epoch events."""
    from run_service.outcome import RunCallbacks, execute

    callbacks = RunCallbacks(
        on_status=lambda status: emit("status", status),
        on_data=lambda description: emit("data", description),
        on_step=lambda info: emit("step", info),
        on_epoch=lambda info: emit("epoch", info),
    )
    return execute(cfg, callbacks, should_stop, load=cached_splits)
