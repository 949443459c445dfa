"""Around the epoch loop: where the scheduler steps, and how the DataLoader feeds the loop
(batching, shuffling, worker processes, and where a step's time goes)."""

import os
import tempfile
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

from cifar_core.data import DataSourceError, read_torchvision_cifar10
from cifar_core.demos.registry import DemoResult, demo


@demo(
    "scheduler-step-placement",
    "scheduler.step() after validation: right for StepLR, with the metric for ReduceLROnPlateau",
    "StepLR counts epochs, so one step after each epoch's validation decays the LR exactly every step_size epochs "
    "whatever the number of batches; ReduceLROnPlateau must be given the validation metric and reacts to it.",
    mistake="stepping StepLR once per batch (4 batches an epoch)",
)
def scheduler_step_placement(broken: bool = False) -> DemoResult:
    result = DemoResult()
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1)
    step_lr = torch.optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.1)
    per_epoch = []
    for _epoch in range(6):
        for _batch in range(4):
            optimizer.step()
            if broken:
                step_lr.step()
        if not broken:
            step_lr.step()  # after the epoch's validation
        per_epoch.append(optimizer.param_groups[0]["lr"])
    expected = [0.1, 0.1, 0.01, 0.01, 0.01, 0.001]
    result.check(
        "LR after each epoch: decays at epochs 3 and 6",
        all(abs(a - b) < 1e-12 for a, b in zip(per_epoch, expected, strict=True)),
        lrs=str([round(v, 6) for v in per_epoch]),
    )
    plateau_optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(plateau_optimizer, mode="max", patience=0, factor=0.5)
    try:
        plateau.step()  # no metric
        needs_metric = False
    except TypeError:
        needs_metric = True
    result.check("ReduceLROnPlateau.step() needs the validation metric", needs_metric)
    for accuracy in (50.0, 60.0, 60.0):
        plateau.step(accuracy)
    result.check(
        "and halves the LR when the metric stalls",
        plateau_optimizer.param_groups[0]["lr"] == 0.05,
        lr=plateau_optimizer.param_groups[0]["lr"],
    )
    return result


class SlowDataset(Dataset):
    """Each sample costs 6 ms of CPU-side work (decoding, augmenting), and records which process loaded it."""

    def __len__(self) -> int:
        return 96

    def __getitem__(self, index: int):
        time.sleep(0.006)
        return torch.full((8,), float(index)), os.getpid()


def _epoch_timing(num_workers: int) -> tuple[float, float, set[int]]:
    """(seconds waiting for batches, seconds of compute, loader pids) over one epoch."""
    loader = DataLoader(SlowDataset(), batch_size=8, num_workers=num_workers)
    waiting = computing = 0.0
    pids: set[int] = set()
    started = time.perf_counter()
    for batch, batch_pids in loader:
        got = time.perf_counter()
        waiting += got - started
        pids.update(batch_pids.tolist())
        (batch @ batch.T).sum()  # the "model": far cheaper than loading here
        started = time.perf_counter()
        computing += started - got
    return waiting, computing, pids


@demo(
    "dataloader-workers",
    "num_workers: loading in parallel processes",
    "With num_workers=0 the main process loads every sample itself and the loop waits on data most of the time "
    "(timers around loading and compute show it); with workers, separate processes load batches in parallel and "
    "the epoch is faster, at the cost of one process each.",
    mistake="num_workers=0 in the run meant to use 2 workers",
)
def dataloader_workers(broken: bool = False) -> DemoResult:
    result = DemoResult()
    serial_wait, serial_compute, serial_pids = _epoch_timing(0)
    parallel_wait, _, parallel_pids = _epoch_timing(0 if broken else 2)
    result.check("num_workers=0: loaded by the main process", serial_pids == {os.getpid()}, pids=len(serial_pids))
    result.check(
        "timers: the loop waits on data far longer than it computes",
        serial_wait > 5 * serial_compute,
        waiting_s=serial_wait,
        compute_s=serial_compute,
    )
    result.check(
        "workers: batches come from 2 other processes",
        len(parallel_pids) == 2 and os.getpid() not in parallel_pids,
        pids=len(parallel_pids),
    )
    result.check("workers: the epoch waits less for data", parallel_wait < 0.8 * serial_wait, serial_s=serial_wait, workers_s=parallel_wait)
    return result


@demo(
    "cifar10-loader-offline",
    "Loading CIFAR-10 through torchvision, offline",
    "torchvision.datasets.CIFAR10 reads the batches under root; with download=False and no files it fails, which "
    "the project turns into one clear line; the DataLoader then batches and reshuffles every epoch.",
    mistake="a loader with shuffle=False, which serves the same order every epoch",
)
def cifar10_loader_offline(broken: bool = False) -> DemoResult:
    result = DemoResult()
    with tempfile.TemporaryDirectory() as empty:
        try:
            read_torchvision_cifar10(Path(empty), train=True, allow_download=False)
            message = ""
        except DataSourceError as error:
            message = str(error)
    result.check(
        "no files, no download: one clear line naming the directory", empty in message and "\n" not in message, message=message[:140]
    )
    loader = DataLoader(TensorDataset(torch.arange(100)), batch_size=32, shuffle=not broken)
    first, second = [torch.cat([b[0] for b in loader]) for _ in range(2)]
    result.check("batches of 32 with a short last batch of 4", [len(b[0]) for b in loader] == [32, 32, 32, 4])
    result.check(
        "shuffled: a new order every epoch, the same samples",
        not torch.equal(first, second) and torch.equal(first.sort().values, second.sort().values),
    )
    return result
