"""The training script's own pieces: the per-sample running loss, overfitting a few samples,
stratified splits, baselines, steps per epoch, patience-based callbacks and safe checkpoints."""

import math
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset, random_split

from cifar_core.checkpoint import atomic_torch_save, load_checkpoint
from cifar_core.data import stratified_split
from cifar_core.train import save_checkpoint, train_epoch
from proofs.registry import DemoResult, Param, demo


@demo(
    "running-loss-per-sample-mean",
    "Why the running loss is multiplied by the batch size",
    "Summing loss.item() * batch size and dividing by the number of samples gives the exact per-sample mean even "
    "when the last batch is smaller; the mean of the batch means does not.",
    Param("samples", 100, 2, 1000),
    mistake="averaging the batch means, which over-weights the short last batch",
)
def running_loss_per_sample_mean(samples: int, broken: bool = False) -> DemoResult:
    result = DemoResult()
    losses = torch.rand(samples) * 3  # per-sample losses of one epoch
    batches = losses.split(32)  # the last batch is shorter unless 32 divides samples
    if broken:
        running = sum(batch.mean().item() for batch in batches) / len(batches)
    else:
        running = sum(batch.mean().item() * len(batch) for batch in batches) / samples
    mean_of_means = sum(batch.mean().item() for batch in batches) / len(batches)
    exact = losses.mean().item()
    result.check("weighted sum equals the per-sample mean", abs(running - exact) < 1e-5, running=running, exact=exact)
    result.check(
        "the mean of batch means differs when the last batch is short",
        samples % 32 == 0 or abs(mean_of_means - exact) > 1e-4,
        mean_of_means=mean_of_means,
        last_batch=len(batches[-1]),
    )
    return result


@demo(
    "train-epoch-overfits-few-samples",
    "train_epoch memorises ten samples",
    "A working training step drives a handful of samples to 100% training accuracy within a few dozen epochs; "
    "if it cannot, the loop (not the data) is broken.",
    mistake="a loop that forgets optimizer.step() (here: learning rate 0), so nothing is learned",
)
def train_epoch_overfits(broken: bool = False) -> DemoResult:
    result = DemoResult()
    torch.manual_seed(0)
    images, labels = torch.randn(10, 3, 8, 8), torch.arange(10)
    loader = DataLoader(TensorDataset(images, labels), batch_size=5, shuffle=True)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 64), nn.ReLU(), nn.Linear(64, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.0 if broken else 1e-2)
    history = [train_epoch(model, torch.device("cpu"), loader, nn.CrossEntropyLoss(), optimizer) for _ in range(40)]
    first_loss, (last_loss, last_acc) = history[0][0], history[-1]
    result.check("training accuracy reaches 100%", last_acc == 100.0, accuracy=last_acc)
    result.check("loss falls below a tenth of its start", last_loss < first_loss / 10, first=first_loss, last=last_loss)
    return result


@demo(
    "stratified-split-proportions",
    "Stratified splitting keeps class proportions",
    "A stratified 80/20 split of 10,000 images gives 8,000 and 2,000 with every class in the same proportion "
    "(800/200 for balanced classes); the same seed gives the same split, and random_split lets proportions drift.",
    Param("seed", 42, 0, 10_000),
    mistake="a plain random split (random_split) where a stratified one was meant",
)
def stratified_split_proportions(seed: int, broken: bool = False) -> DemoResult:
    result = DemoResult()
    labels = np.repeat(np.arange(10), 1000)
    if broken:
        val_idx = np.asarray(random_split(range(len(labels)), [8000, 2000], torch.Generator().manual_seed(seed))[1].indices)
        train_idx = np.setdiff1d(np.arange(len(labels)), val_idx)
    else:
        train_idx, val_idx = stratified_split(labels, 0.2, seed)
    per_class_val = np.bincount(labels[val_idx], minlength=10)
    result.check("8,000 train and 2,000 validation", (len(train_idx), len(val_idx)) == (8000, 2000), train=len(train_idx), val=len(val_idx))
    result.check(
        "exactly 200 of each class in validation", (per_class_val == 200).all(), min=int(per_class_val.min()), max=int(per_class_val.max())
    )
    again, _ = stratified_split(labels, 0.2, seed)
    other, _ = stratified_split(labels, 0.2, seed + 1)
    result.check(
        "same seed, same split; another seed, another split", np.array_equal(again, train_idx) and not np.array_equal(again, other)
    )
    drifted = np.bincount(
        labels[np.asarray(random_split(range(10_000), [8000, 2000], torch.Generator().manual_seed(seed))[1].indices)], minlength=10
    )
    result.text.append(f"random_split's validation counts per class for the same seed: {drifted.tolist()}")
    return result


@demo(
    "chance-and-majority-baselines",
    "Chance accuracy and the majority-class trap",
    "On ten balanced classes random guessing scores about 10%; on imbalanced data always predicting the majority "
    "class scores high accuracy while its recall on every other class is 0.",
    mistake="taking a test set where one class is 91% of the labels for a balanced one",
)
def chance_and_majority(broken: bool = False) -> DemoResult:
    result = DemoResult()
    generator = torch.Generator().manual_seed(0)
    balanced = torch.arange(10).repeat(1000)
    if broken:
        balanced[:9000] = 0  # class 0 now 9,100 of 10,000
    guesses = torch.zeros(10_000, dtype=torch.long) if broken else torch.randint(0, 10, (10_000,), generator=generator)
    chance = guesses.eq(balanced).float().mean().item()
    result.check("uninformed guesses on balanced classes: 10% within 1 point", abs(chance - 0.1) < 0.01, accuracy=chance)
    imbalanced = torch.cat([torch.zeros(900, dtype=torch.long), torch.ones(100, dtype=torch.long)])
    majority = torch.zeros_like(imbalanced)
    accuracy = majority.eq(imbalanced).float().mean().item()
    minority_recall = majority[imbalanced == 1].eq(1).float().mean().item()
    result.check(
        "majority predictor: 90% accuracy, 0 recall on the minority",
        abs(accuracy - 0.9) < 1e-6 and minority_recall == 0.0,
        accuracy=accuracy,
        minority_recall=minority_recall,
    )
    return result


@demo(
    "steps-per-epoch-and-onecycle",
    "Epochs, batches, iterations, and why One Cycle needs len(train_loader)",
    "50,000 images in batches of 256 make ceil(50000 / 256) = 196 iterations per epoch; OneCycleLR plans its curve "
    "over len(train_loader) * epochs steps and raises an error when stepped past them.",
    Param("epochs", 2, 1, 5),
    mistake="giving OneCycleLR the number of epochs as its total steps, as if it were stepped once per epoch",
)
def steps_per_epoch_and_onecycle(epochs: int, broken: bool = False) -> DemoResult:
    result = DemoResult()
    loader = DataLoader(TensorDataset(torch.zeros(50_000, 1)), batch_size=256)
    result.check("196 iterations per epoch", len(loader) == 196 == math.ceil(50_000 / 256), iterations=len(loader))
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1)
    total = epochs if broken else len(loader) * epochs
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=total)
    stepped, error = 0, ""
    try:
        for _ in range(len(loader) * epochs):  # stepped once per batch, as One Cycle expects
            optimizer.step()
            scheduler.step()
            stepped += 1
    except ValueError as exception:
        error = str(exception).splitlines()[0]
    result.check(
        "len(train_loader) * epochs steps run without error", stepped == len(loader) * epochs, steps=stepped, error=error or "none"
    )
    try:
        scheduler.step()
        raised = False
    except ValueError:
        raised = True
    result.check("one step past the planned total raises", raised)
    return result


@demo(
    "plateau-callbacks",
    "ReduceLROnPlateau and early stopping on a validation curve",
    "With factor 0.5 and patience 3, PyTorch's ReduceLROnPlateau tolerates three epochs without improvement and "
    "halves the LR on the fourth (Keras' halves on the third); early stopping with patience 5 stops five epochs "
    "after the best epoch, and never while the validation metric keeps improving.",
    mistake="resetting the patience counter on every epoch instead of only on an improvement",
)
def plateau_callbacks(broken: bool = False) -> DemoResult:
    result = DemoResult()
    improving_then_flat = [40, 45, 49, 52, 54, 54, 53, 54, 52, 53, 51, 50, 50, 49]  # best at epoch 5 (index 4)
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1e-3)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", factor=0.5, patience=3)
    best, waited, stopped_at, lrs = -math.inf, 0, None, []
    for epoch, accuracy in enumerate(improving_then_flat, start=1):
        plateau.step(accuracy)
        lrs.append(optimizer.param_groups[0]["lr"])
        best, waited = (accuracy, 0) if accuracy > best or broken else (best, waited + 1)
        if waited >= 5:
            stopped_at = epoch
            break
    result.check(
        "LR kept for three bad epochs (6-8), halved on the fourth (9)",
        lrs[7] == 1e-3 and lrs[8] == 5e-4,
        lr_epoch8=lrs[7],
        lr_epoch9=lrs[8],
    )
    result.check("early stopping stops 5 epochs after the best (epoch 10)", stopped_at == 10, stopped_at=stopped_at or -1)
    _, never_stopped = _patience_stop(list(range(30)), patience=5)
    result.check("a metric that keeps improving never triggers it", never_stopped)
    return result


def _patience_stop(curve: list[float], patience: int) -> tuple[int, bool]:
    best, waited = -math.inf, 0
    for epoch, value in enumerate(curve, start=1):
        best, waited = (value, 0) if value > best else (best, waited + 1)
        if waited >= patience:
            return epoch, False
    return len(curve), True


class _FailsWhilePickling:
    """Stands for a crash or a full disk in the middle of writing a checkpoint."""

    def __reduce__(self):
        raise OSError("disk full (simulated)")


@demo(
    "checkpoint-best-and-atomic",
    "best.pth follows validation accuracy; an interrupted save loses nothing",
    "save_checkpoint rewrites checkpoint.pth every epoch and best.pth only when validation accuracy improved; "
    "because it writes to a temporary file and renames it, a save interrupted midway leaves the last good file.",
    mistake="torch.save straight onto checkpoint.pth, which a crash mid-write leaves truncated",
)
def checkpoint_best_and_atomic(broken: bool = False) -> DemoResult:
    result = DemoResult()
    with tempfile.TemporaryDirectory() as directory:
        folder, best = Path(directory), 0.0
        for epoch, val_acc in enumerate([50.0, 61.0, 58.0], start=1):
            state = {"epoch": epoch, "state_dict": {}, "best_acc": max(best, val_acc)}
            save_checkpoint(state, val_acc > best, folder)
            best = max(best, val_acc)
        latest, best_state = load_checkpoint(folder / "checkpoint.pth"), load_checkpoint(folder / "best.pth")
        result.check(
            "checkpoint.pth is the last epoch, best.pth the best one",
            latest["epoch"] == 3 and best_state["epoch"] == 2,
            latest=latest["epoch"],
            best=best_state["epoch"],
        )
        try:
            if broken:
                torch.save({"epoch": 4, "state_dict": {}, "bad": _FailsWhilePickling()}, folder / "checkpoint.pth")
            else:
                atomic_torch_save({"epoch": 4, "state_dict": {}, "bad": _FailsWhilePickling()}, folder / "checkpoint.pth")
        except OSError:
            pass  # the crash
        try:
            survived = load_checkpoint(folder / "checkpoint.pth")["epoch"]
        except Exception:  # noqa: BLE001 - a truncated file is exactly what the check looks for
            survived = -1
        result.check("after the interrupted save, checkpoint.pth still loads as epoch 3", survived == 3, loaded_epoch=survived)
    return result


def _train_in_order(images: torch.Tensor, labels: torch.Tensor, shuffle: bool, epochs: int = 3) -> nn.Module:
    torch.manual_seed(0)
    model = nn.Linear(images.shape[1], 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    loader = DataLoader(TensorDataset(images, labels), batch_size=16, shuffle=shuffle, generator=torch.Generator().manual_seed(0))
    for _ in range(epochs):
        train_epoch(model, torch.device("cpu"), loader, nn.CrossEntropyLoss(), optimizer)
    return model


@demo(
    "shuffle-vs-class-sorted",
    "Shuffle the training set, not the validation set",
    "Trained on class-sorted batches without shuffling, SGD chases the last class it saw and ends worse than with "
    "shuffling; validation accuracy is the same in any order, so the validation loader need not shuffle.",
    mistake="shuffle=False on the class-sorted training loader in both runs",
)
def shuffle_vs_class_sorted(broken: bool = False) -> DemoResult:
    result = DemoResult()
    torch.manual_seed(0)
    labels = torch.cat([torch.zeros(256, dtype=torch.long), torch.ones(256, dtype=torch.long)])  # sorted by class
    images = torch.randn(512, 10) + 0.3 * (2 * labels[:, None].float() - 1)
    val_images, val_labels = images[::2].clone(), labels[::2].clone()

    def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
        with torch.no_grad():
            return model(x).argmax(1).eq(y).float().mean().item()

    sorted_model = _train_in_order(images, labels, shuffle=False)
    shuffled_model = _train_in_order(images, labels, shuffle=not broken)
    sorted_acc, shuffled_acc = accuracy(sorted_model, val_images, val_labels), accuracy(shuffled_model, val_images, val_labels)
    result.check(
        "shuffled training beats class-sorted by 5+ points", shuffled_acc > sorted_acc + 0.05, shuffled=shuffled_acc, sorted=sorted_acc
    )
    permutation = torch.randperm(len(val_labels))
    reordered = accuracy(shuffled_model, val_images[permutation], val_labels[permutation])
    result.check("validation accuracy does not depend on order", reordered == shuffled_acc, in_order=shuffled_acc, permuted=reordered)
    return result


@demo(
    "history-saved-as-npz",
    "history: four lists, one entry per epoch, saved with np.savez",
    "The history dict holds train_loss, val_loss, train_acc and val_acc as lists with one value per epoch; "
    "save_history writes them to history.npz, which np.load gives back key by key.",
    mistake="appending to the lists once per batch instead of once per epoch",
)
def history_saved_as_npz(broken: bool = False) -> DemoResult:
    from cifar_core.train import save_history

    result = DemoResult()
    epochs, batches = 3, 4
    history: dict[str, list[float]] = {"train_loss": [], "val_loss": [], "train_acc": [], "val_acc": []}
    for epoch in range(epochs):
        for _ in range(batches if broken else 1):
            for key in history:
                history[key].append(float(epoch))
    with tempfile.TemporaryDirectory() as directory:
        loaded = dict(np.load(save_history(history, directory)))
    result.check("the four keys come back", sorted(loaded) == sorted(history), keys=", ".join(sorted(loaded)))
    lengths = {key: len(values) for key, values in loaded.items()}
    result.check("one entry per epoch in every curve", all(n == epochs for n in lengths.values()), lengths=str(lengths))
    return result
