"""Around the epoch loop: what main() does each epoch, where the scheduler steps, how the
DataLoader feeds the loop (batching, shuffling, worker processes, where a step's time goes),
and how DistributedDataParallel splits it across processes."""

import contextlib
import io
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset
from torch.utils.data.distributed import DistributedSampler

from cifar_core.data import DataSourceError, read_torchvision_cifar10
from proofs.registry import DemoResult, demo


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
    # iter() forks the workers. Forking copies the parent's page tables, so it slows as the parent grows
    # (a long test run once pushed the 2-worker epoch from 0.31 s to 0.49 s); it is paid once per epoch,
    # not per batch, so the timers start after it.
    batches = iter(loader)
    waiting = computing = 0.0
    pids: set[int] = set()
    started = time.perf_counter()
    for batch, batch_pids in batches:
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


@contextlib.contextmanager
def _spy_on(module, names: tuple[str, ...], calls: list[str]):
    """Record each call to module.<name> in `calls`, then run the real function unchanged."""
    originals = {name: getattr(module, name) for name in names}

    def recorder(name: str):
        def record(*args, **kwargs):
            calls.append(name)
            return originals[name](*args, **kwargs)

        return record

    try:
        for name in names:
            setattr(module, name, recorder(name))
        yield
    finally:
        for name, original in originals.items():
            setattr(module, name, original)


def _skip_validation(*_args, **_kwargs):
    return float("nan"), 0.0  # the broken loop's stand-in for a validation pass it never runs


@demo(
    "main-epoch-loop",
    "main(): train_epoch, eval_model, scheduler, checkpoint, epoch line, curves",
    "Each epoch main() calls train_epoch then eval_model, steps the scheduler, saves the checkpoint and then prints "
    "the epoch's train and validation loss and accuracy; after the last epoch plot_curves saves training_curves.png "
    "in the checkpoint directory.",
    mistake="a loop that never validates (eval_model skipped), so its epoch line and best.pth track nothing",
)
def main_epoch_loop(broken: bool = False) -> DemoResult:
    from cifar_core import train as script  # the training script the viva asks about
    from cifar_core.config import DataOptions, TrainConfig

    result = DemoResult()
    calls: list[str] = []
    output = io.StringIO()
    with tempfile.TemporaryDirectory() as directory:
        cfg = TrainConfig(
            data=DataOptions(dataset="synthetic", synthetic_size=200), epochs=2, batch_size=64, num_workers=0,
            scheduler="step", step_size=1, checkpoint_dir=directory,
        )  # fmt: skip
        spied = ("train_epoch", "eval_model", "save_checkpoint", "plot_curves")
        with _spy_on(script, spied, calls), contextlib.redirect_stdout(output):
            if broken:
                script.eval_model = _skip_validation
            summary = script.main(cfg)
        written = sorted(path.name for path in Path(directory).iterdir())
    per_epoch = ["train_epoch", "eval_model", "save_checkpoint"]
    result.check(
        "each epoch: train_epoch, then eval_model, then save_checkpoint",
        calls[:6] == per_epoch * 2,
        calls=", ".join(calls),
    )
    lrs = summary.history["lr"]
    result.check("the scheduler stepped once per epoch (StepLR, step_size=1)", len(lrs) == 2 and lrs[1] < lrs[0], lrs=str(lrs))
    epoch_lines = [line for line in output.getvalue().splitlines() if line.startswith("Epoch ")]
    fields = ("train_loss", "train_acc", "val_loss", "val_acc")
    result.check(
        "one printed line per epoch with train and validation loss and accuracy",
        len(epoch_lines) == 2 and all(f"{name}: " in line and "nan" not in line for line in epoch_lines for name in fields),
        last_line=epoch_lines[-1] if epoch_lines else "",
    )
    result.check(
        "plot_curves ran once, after the last epoch, and saved training_curves.png in the checkpoint directory",
        calls[-1] == "plot_curves" and calls.count("plot_curves") == 1 and "training_curves.png" in written,
        files=", ".join(written),
    )
    return result


def _shard_worker(rank: int, world: int, init_file: str, data: tuple, steps: int, wrap: bool, weights) -> None:
    """One process of a 2-process run: its own shard of each batch, gradients averaged by DDP."""
    images, labels = data
    # A forked child must not enter the OpenMP thread pool it inherited from a parent that used
    # it: that deadlocks. One thread each is also what one process per GPU or core means.
    torch.set_num_threads(1)
    torch.manual_seed(0)  # the same initial weights in every process (DDP also broadcasts rank 0's)
    model = nn.Linear(images.shape[1], 3)
    if wrap:
        dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
        model = nn.parallel.DistributedDataParallel(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    shard = list(DistributedSampler(TensorDataset(labels), num_replicas=world, rank=rank, shuffle=False))
    for _ in range(steps):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(images[shard]), labels[shard]).backward()  # DDP all-reduces here
        optimizer.step()
    weights[rank] = torch.cat([p.detach().flatten() for p in model.parameters()]).tolist()
    if wrap:
        dist.destroy_process_group()


@demo(
    "ddp-matches-one-process",
    "DistributedDataParallel: two processes, one model",
    "With DistributedDataParallel each process trains on its DistributedSampler shard and the gradients are "
    "averaged during backward, so two processes (gloo, on the CPU) end with the same weights as one process "
    "training on the whole batch; the shards are disjoint and cover the data.",
    mistake="two processes that train their shards without the DistributedDataParallel wrapper (no gradient averaging)",
)
def ddp_matches_one_process(broken: bool = False) -> DemoResult:
    result = DemoResult()
    torch.manual_seed(1)
    images, labels, steps = torch.randn(32, 6), torch.randint(0, 3, (32,)), 5
    shards = [set(DistributedSampler(TensorDataset(labels), num_replicas=2, rank=r, shuffle=False)) for r in range(2)]
    result.check(
        "DistributedSampler: disjoint shards that cover the data",
        not shards[0] & shards[1] and len(shards[0] | shards[1]) == 32,
        per_process=len(shards[0]),
    )
    context = multiprocessing.get_context("fork")  # fork: the children reuse this process's torch import
    with tempfile.TemporaryDirectory() as directory, context.Manager() as manager:
        weights = manager.dict()
        args = (2, os.path.join(directory, "rendezvous"), (images, labels), steps, not broken, weights)
        workers = [context.Process(target=_shard_worker, args=(rank, *args)) for rank in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=30)
            if worker.is_alive():  # a stuck rendezvous must not outlive the demo
                worker.kill()
        per_process = [torch.tensor(weights[rank]) for rank in range(2)] if len(weights) == 2 else []
    torch.manual_seed(0)
    alone = nn.Linear(6, 3)
    optimizer = torch.optim.SGD(alone.parameters(), lr=0.5)
    for _ in range(steps):
        optimizer.zero_grad()
        nn.functional.cross_entropy(alone(images), labels).backward()
        optimizer.step()
    reference = torch.cat([p.detach().flatten() for p in alone.parameters()])
    gaps = [(w - reference).abs().max().item() for w in per_process] or [float("inf")]
    result.check("both processes finished", len(per_process) == 2, exit_codes=str([w.exitcode for w in workers]))
    result.check("each ends with the weights of one process on the whole batch", max(gaps) < 1e-5, max_difference=max(gaps))
    return result


_SPAWN_SCRIPT = """
import multiprocessing

def load(index):  # stands in for a Dataset's __getitem__ in a worker process
    return index * index

{body}
"""
_UNGUARDED = """
context = multiprocessing.get_context("spawn")
worker = context.Process(target=load, args=(3,))
worker.start()
worker.join()
print("exit code of the worker:", worker.exitcode)
"""
_GUARDED = "if __name__ == '__main__':\n" + "".join(f"    {line}\n" for line in _UNGUARDED.strip().splitlines())


def _run_script(directory: str, name: str, source: str) -> subprocess.CompletedProcess:
    path = Path(directory) / name
    path.write_text(source)
    return subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=30, cwd=directory)


@demo(
    "spawn-needs-main-guard",
    "Worker processes under spawn need if __name__ == '__main__'",
    "Under the spawn start method (the default on Windows and macOS) each worker process re-imports the main "
    "script; a worker started at module level therefore tries to start its own workers while it is still "
    "bootstrapping, and fails. Under the guard the re-import skips that code and the worker runs. DataLoader "
    "workers are such processes; this demo starts one with multiprocessing directly, without torch, because a "
    "spawned child that re-imports torch takes over a second.",
    mistake="the worker started at module level in both scripts, with no __main__ guard",
)
def spawn_needs_main_guard(broken: bool = False) -> DemoResult:
    result = DemoResult()
    with tempfile.TemporaryDirectory() as directory:
        unguarded = _run_script(directory, "unguarded.py", _SPAWN_SCRIPT.format(body=_UNGUARDED))
        guarded = _run_script(directory, "guarded.py", _SPAWN_SCRIPT.format(body=_UNGUARDED if broken else _GUARDED))
    error_lines = [line for line in unguarded.stderr.splitlines() if "bootstrapping phase" in line]
    result.check(
        "no guard: the re-imported script starts a worker while bootstrapping, a RuntimeError",
        "bootstrapping phase" in unguarded.stderr and "exit code of the worker: 1" in unguarded.stdout,
        error=error_lines[0].strip()[:140] if error_lines else "",
    )
    result.check(
        "with the guard: the worker runs and exits cleanly",
        "exit code of the worker: 0" in guarded.stdout and "bootstrapping phase" not in guarded.stderr,
        output=guarded.stdout.strip()[:140],
    )
    return result


@demo(
    "train-vs-eval-loader",
    "train_loader shuffles and augments, the validation loader does neither",
    "get_data_loaders gives a training loader that reshuffles every epoch and draws new random crops and flips, "
    "and a validation loader without shuffling or augmentation (Normalize only), so two passes over it give "
    "the same batches, value for value: evaluation is deterministic.",
    mistake="a validation loader built with shuffle=True and the training augmentation",
)
def train_vs_eval_loader(broken: bool = False) -> DemoResult:
    from cifar_core.config import DataOptions
    from cifar_core.train import ArrayImageDataset, get_data_loaders

    result = DemoResult()
    loaders = get_data_loaders(64, None, 0, options=DataOptions(dataset="synthetic", synthetic_size=300, val_split=0.2))
    val_loader = loaders.val
    if broken:
        val_set = loaders.val.dataset
        val_loader = DataLoader(ArrayImageDataset(val_set.images, val_set.labels, loaders.train.dataset.transform), 64, shuffle=True)

    def two_passes(loader: DataLoader) -> list[tuple[torch.Tensor, torch.Tensor]]:
        return [tuple(torch.cat(part) for part in zip(*list(loader), strict=True)) for _ in range(2)]

    (_, train_labels_a), (_, train_labels_b) = two_passes(loaders.train)
    result.check(
        "train: a new order each epoch, over the same images",
        not torch.equal(train_labels_a, train_labels_b) and torch.equal(train_labels_a.sort().values, train_labels_b.sort().values),
    )
    train_set = loaders.train.dataset
    changed = sum(not torch.equal(train_set[i][0], train_set[i][0]) for i in range(16))
    result.check("train: the same image comes out with a new random crop or flip each time", changed >= 12, changed_of_16=changed)
    (val_a, val_labels_a), (val_b, val_labels_b) = two_passes(val_loader)
    result.check(
        "validation: two passes give identical batches, labels and pixels",
        torch.equal(val_labels_a, val_labels_b) and torch.equal(val_a, val_b),
        images=len(val_labels_a),
    )
    return result
