"""The training script's own pieces: the per-sample running loss, overfitting a few samples,
stratified splits, baselines, steps per epoch, patience-based callbacks and safe checkpoints."""

import contextlib
import io
import math
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader, TensorDataset, random_split

from cifar_core.checkpoint import atomic_torch_save, load_checkpoint
from cifar_core.data import stratified_split
from cifar_core.metrics import report_from_logits
from cifar_core.train import save_checkpoint, train_epoch
from proofs.registry import DemoResult, Param, demo


@demo(
    "running-loss-per-sample-mean",
    "Why the running loss is multiplied by the batch size",
    "train_epoch sums loss.item() * inputs.size(0) and divides by the number of samples, which is the exact "
    "per-sample mean loss over the epoch even when the last batch is smaller; the mean of the batch means is not.",
    Param("samples", 100, 33, 1000),
    mistake="averaging the batch means, which over-weights the short last batch",
    threads=1,
)
def running_loss_per_sample_mean(samples: int, broken: bool = False) -> DemoResult:
    result = DemoResult()
    torch.manual_seed(0)
    images, labels = torch.randn(samples, 6), torch.randint(0, 3, (samples,))
    model = nn.Linear(6, 3)
    loader = DataLoader(TensorDataset(images, labels), batch_size=32)  # the last batch is shorter unless 32 divides samples
    frozen = torch.optim.SGD(model.parameters(), lr=0.0)  # lr 0: every batch sees the same model, so one exact mean exists
    reported, _ = train_epoch(model, torch.device("cpu"), loader, nn.CrossEntropyLoss(), frozen)
    with torch.no_grad():
        exact = nn.functional.cross_entropy(model(images), labels).item()  # one call over every sample: the second route
        batch_means = [nn.functional.cross_entropy(model(x), y).item() for x, y in loader]
    mean_of_means = sum(batch_means) / len(batch_means)
    running = mean_of_means if broken else reported
    result.check("train_epoch's loss equals the per-sample mean over the epoch", abs(running - exact) < 1e-5, reported=running, exact=exact)
    result.check(
        "the mean of batch means differs when the last batch is short",
        samples % 32 == 0 or abs(mean_of_means - exact) > 1e-4,
        mean_of_means=mean_of_means,
        last_batch=samples % 32 or 32,
    )
    return result


def _overfit_ten(learning_rate: float, zero_grad: bool = True) -> tuple[float, float, float]:
    """(first epoch's loss, last epoch's loss, last accuracy) of 40 epochs of train_epoch on ten samples.
    zero_grad=False: the optimizer's zero_grad does nothing, the bug of a step that forgets to clear gradients."""
    torch.manual_seed(0)
    images, labels = torch.randn(10, 3, 8, 8), torch.arange(10)
    loader = DataLoader(TensorDataset(images, labels), batch_size=5, shuffle=True)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 64), nn.ReLU(), nn.Linear(64, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    if not zero_grad:
        optimizer.zero_grad = lambda set_to_none=True: None
    history = [train_epoch(model, torch.device("cpu"), loader, nn.CrossEntropyLoss(), optimizer) for _ in range(40)]
    return history[0][0], history[-1][0], history[-1][1]


@demo(
    "train-epoch-overfits-few-samples",
    "train_epoch memorises ten samples, which shows it can learn, not that it is right",
    "A working training step drives a handful of samples to 100% training accuracy within a few dozen epochs; if it "
    "cannot, the loop (not the data) is broken. Passing proves less than it seems: a step that never calls "
    "optimizer.zero_grad(), so that gradients pile up, memorises the ten samples too.",
    mistake="a loop that forgets optimizer.step() (here: learning rate 0), so nothing is learned",
    threads=1,
)
def train_epoch_overfits(broken: bool = False) -> DemoResult:
    result = DemoResult()
    first_loss, last_loss, last_acc = _overfit_ten(0.0 if broken else 1e-2)
    result.check("training accuracy reaches 100%", last_acc == 100.0, accuracy=last_acc)
    bug_first, bug_last, bug_acc = _overfit_ten(1e-2, zero_grad=False)
    result.check(
        "loss falls below a tenth of its start; a step without zero_grad passes the same test",
        last_loss < first_loss / 10 and bug_last < bug_first / 10 and bug_acc == 100.0,
        first=first_loss,
        last=last_loss,
        without_zero_grad_first=bug_first,
        without_zero_grad_last=bug_last,
    )
    return result


@demo(
    "stratified-split-proportions",
    "Stratified splitting keeps class proportions",
    "cifar_core's stratified_split takes the same fraction of every class: on balanced labels 20% of 10,000 gives "
    "exactly 200 of each class for validation, and on imbalanced labels each class keeps its share (it does not make "
    "them equal); random_split lets the counts drift.",
    Param("seed", 42, 0, 10_000),
    mistake="a plain random split (random_split) where a stratified one was meant",
)
def stratified_split_proportions(seed: int, broken: bool = False) -> DemoResult:
    result = DemoResult()

    def split(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if broken:
            subsets = random_split(
                range(len(labels)), [len(labels) - len(labels) // 5, len(labels) // 5], torch.Generator().manual_seed(seed)
            )
            return np.asarray(subsets[0].indices), np.asarray(subsets[1].indices)
        return stratified_split(labels, 0.2, seed)

    balanced = np.repeat(np.arange(10), 1000)
    train_idx, val_idx = split(balanced)
    per_class_val = np.bincount(balanced[val_idx], minlength=10)
    result.check("8,000 train and 2,000 validation", (len(train_idx), len(val_idx)) == (8000, 2000), train=len(train_idx), val=len(val_idx))
    result.check(
        "exactly 200 of each class in validation", (per_class_val == 200).all(), min=int(per_class_val.min()), max=int(per_class_val.max())
    )
    imbalanced = np.repeat(np.arange(6), [5000, 2000, 1000, 1000, 500, 500])
    _, val_idx = split(imbalanced)
    overall, in_val = np.bincount(imbalanced) / len(imbalanced), np.bincount(imbalanced[val_idx], minlength=6) / len(val_idx)
    drift = float(np.abs(in_val - overall).max())
    result.check(
        "imbalanced labels: every class keeps its share in validation (50% stays 50%, 5% stays 5%), not equal counts",
        drift < 0.001,
        largest_share_drift=drift,
        validation_counts=str(np.bincount(imbalanced[val_idx], minlength=6).tolist()),
    )
    return result


def _write_image_folder(root: Path, split: str, counts: list[int], seed: int) -> dict[bytes, int]:
    """root/split/class-i/*.png with counts[i] random images each (ImageFolder layout); returns each image's bytes -> class."""
    rng, written = np.random.default_rng(seed), {}
    for label, count in enumerate(counts):
        folder = root / split / f"class-{label}"
        folder.mkdir(parents=True)
        for index in range(count):
            pixels = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / f"{index}.png")
            written[pixels.tobytes()] = label
    return written


@demo(
    "validation-split-from-train",
    "The validation split is carved from the training images; the test images stay out",
    "get_data_loaders (through load_splits) holds out --val-split of the training folder's images, the same fraction "
    "of every class, as the validation loader that main() tunes and picks best.pth on; the test folder's images appear "
    "in neither loader, so they are left for the final report.",
    mistake="validating on the test folder's images (tuning on the test set)",
)
def validation_split_from_train(broken: bool = False) -> DemoResult:
    from cifar_core.config import DataOptions
    from cifar_core.data import read_image_folder
    from cifar_core.train import get_data_loaders

    result = DemoResult()
    counts = [20, 15, 10, 10, 5]  # unequal classes, so that "the same fraction of each" is a visible property
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        train_images, test_images = _write_image_folder(root, "train", counts, 0), _write_image_folder(root, "test", [3] * 5, 1)
        loaders = get_data_loaders(16, None, 0, options=DataOptions(data_dir=directory, val_split=0.2, use_cache=False))
        val = loaders.val.dataset.images
        if broken:
            val = read_image_folder(root / "test", use_cache=False).images
    trained, validated = {i.tobytes() for i in loaders.train.dataset.images}, [i.tobytes() for i in val]
    per_class = np.bincount([train_images.get(image, -1) + 1 for image in validated], minlength=6)[1:]  # 0: not a training image
    expected = [round(0.2 * count) for count in counts]  # 20% of each class
    result.check(
        "validation: 20% of each class of the training folder (4, 3, 2, 2, 1), no test image, none trained on",
        per_class.tolist() == expected
        and len(validated) == sum(expected)
        and not set(validated) & set(test_images)
        and not set(validated) & trained
        and not trained & set(test_images)
        and trained | set(validated) == set(train_images),
        validation_per_class=str(per_class.tolist()),
        expected=str(expected),
        test_images_in_validation=len(set(validated) & set(test_images)),
        test_images_in_training=len(trained & set(test_images)),
    )
    return result


@demo(
    "split-seed-repeats",
    "A fixed seed gives the same split every run",
    "stratified_split draws its shuffle from a generator seeded with the given number, so seed 42 gives the same "
    "validation images in every run (any fixed integer does; 42 is only a convention), while another seed gives another split.",
    Param("seed", 42, 0, 10_000),
    mistake="no fixed seed: a fresh seed drawn for each run",
)
def split_seed_repeats(seed: int, broken: bool = False) -> DemoResult:
    result = DemoResult()
    labels = np.repeat(np.arange(10), 100)

    def one_run() -> np.ndarray:
        run_seed = int(np.random.default_rng().integers(2**31)) if broken else seed  # default_rng(): fresh OS entropy
        return stratified_split(labels, 0.2, run_seed)[1]

    first, second = one_run(), one_run()
    other = stratified_split(labels, 0.2, seed + 1)[1]
    result.check(
        "two runs with the seed fixed pick the same validation images",
        np.array_equal(first, second),
        first_five=str(first[:5].tolist()),
        second_five=str(second[:5].tolist()),
    )
    result.check("another seed picks other images", not np.array_equal(first, other), overlap=len(np.intersect1d(first, other)))
    return result


@demo(
    "majority-class-trap",
    "On imbalanced data accuracy flatters a model biased to the majority",
    "A classifier trained with plain cross-entropy on 90/10 labels leans to the majority class: on a test set with the "
    "same imbalance it scores about 90% accuracy, as much as always answering 'majority', while it finds few of the "
    "minority (cifar_core's per-class recall shows it).",
    Param("data_seed", 0, 0, 10_000, help="seed of the generated points"),
    mistake="checking the model on a balanced test set, where the imbalance no longer inflates accuracy",
    threads=1,
)
def majority_class_trap(data_seed: int, broken: bool = False) -> DemoResult:
    result = DemoResult()
    generator = torch.Generator().manual_seed(data_seed)

    def draw(majority: int, minority: int) -> tuple[torch.Tensor, torch.Tensor]:
        labels = torch.cat([torch.zeros(majority, dtype=torch.long), torch.ones(minority, dtype=torch.long)])
        return torch.randn(len(labels), 2, generator=generator) + 1.2 * labels[:, None].float(), labels  # overlapping clouds

    train_x, train_y = draw(1800, 200)
    test_x, test_y = draw(500, 500) if broken else draw(900, 100)
    torch.manual_seed(0)
    model = nn.Linear(2, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    for _ in range(200):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(train_x), train_y).backward()
        optimizer.step()
    with torch.no_grad():
        report = report_from_logits(model(test_x), test_y, ("majority", "minority"))
    always_majority = (test_y == 0).float().mean().item()  # the accuracy of answering "majority" every time
    result.check(
        "on the imbalanced test set: accuracy 85%+, within 5 points of always answering 'majority'; recall over 0.95 "
        "on the majority, under 0.5 on the minority",
        report.accuracy > 0.85
        and abs(report.accuracy - always_majority) < 0.05
        and report.per_class["majority"] > 0.95
        and report.per_class["minority"] < 0.5,
        accuracy=report.accuracy,
        always_majority=always_majority,
        majority_recall=report.per_class["majority"],
        minority_recall=report.per_class["minority"],
    )
    return result


@demo(
    "ten-percent-is-chance",
    "10% on ten balanced classes: chance, not necessarily guessing",
    "On balanced CIFAR-10 labels, random guessing scores about 10%, and so does a model that gives every image the "
    "same class, which is what near-constant inputs produce (cifar_core's SimpleCNN shown here); only the predicted-class "
    "counts or the confusion matrix tell the two apart.",
    mistake="a test set that is not balanced (one class 91% of the labels) read as if it were",
)
def ten_percent_is_chance(broken: bool = False) -> DemoResult:
    from cifar_core.models import SimpleCNN

    result = DemoResult()
    labels = torch.arange(10).repeat(50)
    if broken:
        labels[:450] = 0
    torch.manual_seed(0)
    near_constant = -1.1 + 0.003 * torch.rand(len(labels), 3, 32, 32)  # inputs that barely differ
    with torch.no_grad():
        logits = SimpleCNN().eval()(near_constant)
    report = report_from_logits(logits, labels, tuple(str(c) for c in range(10)))
    predicted_classes = int((torch.tensor(report.confusion).sum(0) > 0).sum())
    guesses = torch.randint(0, 10, (len(labels),), generator=torch.Generator().manual_seed(0))
    guessing = guesses.eq(labels).float().mean().item()
    result.check(
        "one class for every image: 10% accuracy, the same as guessing, with one column in the confusion matrix",
        predicted_classes == 1 and abs(report.accuracy - 0.1) < 1e-6 and abs(guessing - 0.1) < 0.03,
        accuracy=report.accuracy,
        guessing=guessing,
        classes_predicted=predicted_classes,
    )
    return result


@demo(
    "steps-per-epoch",
    "Epochs, batches and iterations",
    "An epoch is one pass over the data; a DataLoader over 50,000 images in batches of 256 yields 196 batches, "
    "ceil(50000 / 256) with a short last batch of 80, and the loop makes one optimizer step (an iteration) per batch.",
    mistake="counting only full batches (drop_last=True, 50000 // 256 = 195), which skips the last 80 images every epoch",
)
def steps_per_epoch(broken: bool = False) -> DemoResult:
    result = DemoResult()
    loader = DataLoader(TensorDataset(torch.zeros(50_000, 1)), batch_size=256, drop_last=broken)
    parameter = nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([parameter], lr=1.0)
    sizes = []
    for (batch,) in loader:  # one epoch
        sizes.append(len(batch))
        optimizer.zero_grad()
        parameter.sum().backward()  # gradient 1 per step: the parameter counts the steps
        optimizer.step()
    result.check(
        "196 batches per epoch (ceil(50000 / 256)), covering all 50,000 images",
        len(loader) == 196 == math.ceil(50_000 / 256) and sum(sizes) == 50_000,
        batches=len(loader),
        images_seen=sum(sizes),
        last_batch=sizes[-1],
    )
    result.check("one optimizer step (iteration) per batch", -parameter.item() == len(sizes), steps=-parameter.item())
    return result


@demo(
    "onecycle-total-steps",
    "One Cycle plans its curve over len(train_loader) * epochs steps",
    "cifar_core's build_scheduler gives OneCycleLR total_steps = epochs * len(train_loader), since it is stepped once per "
    "batch: the learning rate rises to its peak 30% of the way in and comes back down at the last batch of the last "
    "epoch; a total counted in epochs ends the cycle (and raises an error) after a few batches.",
    mistake="passing the number of epochs where build_scheduler expects len(train_loader), as if One Cycle were stepped per epoch",
)
def onecycle_total_steps(broken: bool = False) -> DemoResult:
    from cifar_core.config import TrainConfig
    from cifar_core.optim import build_scheduler

    result = DemoResult()
    loader = DataLoader(TensorDataset(torch.zeros(50_000, 1)), batch_size=256)
    cfg = TrainConfig(epochs=2, lr=0.1, optimizer="sgd", scheduler="onecycle")
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=cfg.lr)
    scheduler, per_batch = build_scheduler(optimizer, cfg, cfg.epochs if broken else len(loader))
    lrs, error = [], ""
    try:
        for _ in range(cfg.epochs * len(loader)):  # stepped once per batch
            optimizer.step()
            scheduler.step()
            lrs.append(optimizer.param_groups[0]["lr"])
    except ValueError as exception:
        error = str(exception).splitlines()[0]
    peak_at = lrs.index(max(lrs)) / len(lrs) if lrs else 0.0
    result.check(
        "stepped per batch for 2 epochs of 196 batches: runs to the end, peak 30% in, back near 0",
        per_batch and len(lrs) == 392 and abs(peak_at - 0.3) < 0.01 and lrs[-1] < 1e-5 and not error,
        steps=len(lrs),
        peak_at=peak_at,
        last_lr=lrs[-1] if lrs else float("nan"),
        error=error or "none",
    )
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


def _run_main(directory: str, **overrides) -> tuple[object, str]:
    """cifar_core.train.main on 100 generated images for a few epochs, its printout captured; plot_curves
    (matplotlib, not what these demos are about) is skipped. Returns (RunSummary, stdout)."""
    from cifar_core import train as script
    from cifar_core.config import DataOptions, TrainConfig

    settings = {"data": DataOptions(dataset="synthetic", synthetic_size=100), "epochs": 2, "batch_size": 64, "num_workers": 0}
    cfg = TrainConfig(**{**settings, "checkpoint_dir": directory, **overrides})
    output, plot = io.StringIO(), script.plot_curves
    script.plot_curves = lambda history, out_dir: None
    try:
        with contextlib.redirect_stdout(output):
            summary = script.main(cfg)
    finally:
        script.plot_curves = plot
    return summary, output.getvalue()


@demo(
    "main-early-stopping",
    "Early stopping in main(): patience counted in epochs since the last validation gain",
    "cifar_core's main() (unlike the document's original script) counts the epochs since validation accuracy last "
    "improved, resets the count on every gain, and stops once it reaches early_stopping_patience, saying why; best.pth "
    "keeps the best epoch. With patience 2 and validation accuracies 50, 55, 54, 56, 55, 55, 57, 58 it stops after "
    "epoch 6, two epochs after the best (epoch 4); without the option it trains every epoch.",
    mistake="leaving early_stopping_patience unset, the original script's behaviour: every epoch runs whatever validation does",
    threads=1,
)
def main_early_stopping(broken: bool = False) -> DemoResult:
    from cifar_core import train as script
    from cifar_core.config import DataOptions

    result = DemoResult()
    curve, patience = [50.0, 55.0, 54.0, 56.0, 55.0, 55.0, 57.0, 58.0], 2  # a stall of one epoch, a gain, then a stall of two
    evaluate = script.eval_model
    script.eval_model = _scripted_validation(curve)
    try:
        with tempfile.TemporaryDirectory() as directory:
            summary, printed = _run_main(
                directory, data=DataOptions(dataset="synthetic", synthetic_size=40), epochs=len(curve),
                early_stopping_patience=None if broken else patience,
            )  # fmt: skip
            best_epoch = load_checkpoint(Path(directory) / "best.pth")["epoch"]
    finally:
        script.eval_model = evaluate
    expected = _patience_stop(curve, patience)[0]  # a plain scan of the curve: the first epoch `patience` after the best so far
    result.check(
        "patience 2: main() stops after epoch 6, two epochs after the best (4), not at the first stall (3), and says why",
        summary.epochs_run == expected == 6 and summary.stop_reason.startswith("early stopping") and "early stopping" in printed,
        epochs_run=summary.epochs_run,
        expected_stop=expected,
        stop_reason=summary.stop_reason,
    )
    result.check("best.pth holds the best epoch (4)", best_epoch == 4, best_epoch=best_epoch)
    return result


def _scripted_validation(accuracies: list[float]):
    """A stand-in for eval_model that reports the given validation accuracies, one per epoch."""
    remaining = iter(accuracies)
    return lambda *_args, **_kwargs: (1.0, next(remaining))


@demo(
    "checkpoint-best-and-last",
    "checkpoint.pth every epoch, best.pth when validation accuracy improves",
    "main() saves checkpoint_state (epoch, state_dict, optimizer, scheduler, best_acc, history...) to checkpoint.pth "
    "after every epoch and to best.pth only when validation accuracy beats the best so far: with validation accuracies "
    "50, 61, 58, checkpoint.pth ends at epoch 3 and best.pth at epoch 2.",
    mistake="passing is_best=True every epoch, so best.pth is just the latest epoch",
)
def checkpoint_best_and_last(broken: bool = False) -> DemoResult:
    from cifar_core import train as script

    result = DemoResult()
    evaluate, save = script.eval_model, script.save_checkpoint
    script.eval_model = _scripted_validation([50.0, 61.0, 58.0])
    if broken:
        script.save_checkpoint = lambda state, _is_best, directory: save(state, True, directory)
    try:
        with tempfile.TemporaryDirectory() as directory:
            _run_main(directory, epochs=3)
            latest, best = load_checkpoint(Path(directory) / "checkpoint.pth"), load_checkpoint(Path(directory) / "best.pth")
    finally:
        script.eval_model, script.save_checkpoint = evaluate, save
    result.check(
        "checkpoint.pth is epoch 3 (the last), best.pth epoch 2 (validation 61)",
        latest["epoch"] == 3 and best["epoch"] == 2 and best["best_acc"] == 61.0,
        latest=latest["epoch"],
        best=best["epoch"],
        best_acc=best["best_acc"],
    )
    wanted = {"epoch", "state_dict", "optimizer", "best_acc"}
    result.check("the state holds epoch, state_dict, optimizer and best_acc", wanted <= set(latest), keys=", ".join(sorted(latest)))
    return result


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
    threads=1,
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
    "history: one list per curve, one entry per epoch, saved with np.savez",
    "main() keeps history as a dict of lists, one value per epoch: train_loss, val_loss, train_acc and val_acc as the "
    "document says, plus lr in cifar_core; at the end save_history writes history.npz with np.savez(path, **history), "
    "so np.load gives each curve back by its name, matching the printed epoch lines.",
    mistake="np.savez(path, history): the dict passed as one argument, saved as a single pickled object named arr_0",
)
def history_saved_as_npz(broken: bool = False) -> DemoResult:
    result = DemoResult()
    with tempfile.TemporaryDirectory() as directory:
        summary, printed = _run_main(directory, epochs=2)
        path = Path(directory) / "history.npz"
        if broken:
            np.savez(path, summary.history)
        try:
            loaded = {key: values.tolist() for key, values in np.load(path).items()}
        except ValueError as error:  # NumPy refuses the pickled object without allow_pickle
            loaded = {"arr_0": str(error).splitlines()[0]}
    lines = [line for line in printed.splitlines() if line.startswith("Epoch ")]
    printed_values = {
        name: [float(line.split(f"{name}: ")[1].split()[0]) for line in lines]
        for name in ("train_loss", "val_loss", "train_acc", "val_acc")
    }
    matches = all(
        len(loaded.get(name, [])) == 2 and all(abs(a - b) < 6e-3 for a, b in zip(loaded[name], values, strict=True))
        for name, values in printed_values.items()
    )
    result.check(
        "history.npz: train_loss, val_loss, train_acc, val_acc (and lr), two values each, as printed",
        set(loaded) == {"train_loss", "val_loss", "train_acc", "val_acc", "lr"} and matches,
        keys=", ".join(sorted(loaded)),
        lengths=str({key: len(values) for key, values in loaded.items()}),
    )
    return result


@demo(
    "onnx-export-runs-in-onnxruntime",
    "Exporting SimpleCNN to ONNX for inference, checked in onnxruntime",
    "cifar_core's export_onnx (torch.onnx.export with a (1, 3, 32, 32) dummy, input and output names, dynamo=True), "
    "called on a model left in training mode as main() leaves it, writes a file that onnxruntime runs to SimpleCNN's "
    "eval-mode logits, at the exporter's current opset (17 or later: the answer's opset 11 needs the legacy "
    "TorchScript exporter, deprecated); the graph takes exactly the dummy's shape, so a batch of 4 is refused.",
    mistake="following the answer's opset_version=11, which only the deprecated TorchScript exporter (dynamo=False) still writes",
    # onnxscript and the torch.export-based exporter take 2.5 s to import, the export itself about 1 s.
    imports=("onnx", "onnxruntime", "onnxscript", "torch.onnx._internal.exporter._core"),
)
def onnx_export_runs_in_onnxruntime(broken: bool = False) -> DemoResult:
    import warnings

    import onnx
    import onnxruntime

    from cifar_core.models import SimpleCNN
    from cifar_core.train import export_onnx

    result = DemoResult()
    torch.manual_seed(0)
    model = SimpleCNN()
    with torch.no_grad():  # a few training-mode passes give BatchNorm running statistics unlike its initial 0 and 1
        for _ in range(3):
            model(torch.randn(16, 3, 32, 32) * 2 + 0.5)
    path = Path(tempfile.mkdtemp()) / "model.onnx"
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if broken:
            dummy = torch.randn(1, 3, 32, 32)
            names = {"input_names": ["input"], "output_names": ["output"]}
            torch.onnx.export(model.eval(), (dummy,), str(path), **names, opset_version=11, dynamo=False)
        else:
            export_onnx(model, torch.device("cpu"), path)
    deprecations = [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning | FutureWarning)]
    opset = next(entry.version for entry in onnx.load(str(path)).opset_import if entry.domain in ("", "ai.onnx"))
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    image = torch.randn(1, 3, 32, 32)
    (ours,) = session.run(["output"], {"input": image.numpy()})
    model.eval()
    with torch.no_grad():
        reference = model(image).numpy()
    gap = float(np.abs(ours - reference).max())
    result.check(
        "onnxruntime reproduces SimpleCNN's eval-mode logits from export_onnx's file, at opset 17 or later",
        gap < 1e-4 and opset >= 17 and not deprecations,
        largest_logit_gap=gap,
        logit_range=float(np.ptp(reference)),
        opset=opset,
        input_shape=str(session.get_inputs()[0].shape),
        deprecation_warnings=len(deprecations),
    )
    try:
        session.run(["output"], {"input": torch.randn(4, 3, 32, 32).numpy()})
        refused = "accepted"
    except Exception as error:  # noqa: BLE001 - onnxruntime's own error type; its message is shown
        refused = str(error).splitlines()[0][:120]
    result.check("the batch is fixed at the dummy's 1: a batch of 4 is refused", refused != "accepted", batch_of_4=refused)
    shutil.rmtree(path.parent, ignore_errors=True)
    return result
