"""Weights pretrained here, on part of the real CIFAR-10 sample: the analogue of ImageNet pretraining
for the transfer-learning items, with no weights downloaded. A small conv net (global-pooled, so any input size
runs) is trained with cifar_core's training_step on a SOURCE task, five of the ten classes of the seeded sample
(proofs/dataset.py), and transferred to a TARGET task, the other five classes of the same sample.

What it is not: ImageNet. Source and target share CIFAR-10's photos, size and camera style (near domains), the
source is 750 images, and the net is small; a figure here gives the direction of an effect, not its size on ResNet50.
Round 9c measured with it the three items that had been unlinked for "pretrained weights" (keras-s7-q2, resnet-29,
keras-s6-q4); none holds with a margin a two-second check could keep, and their notes give the figures, which
`python -m proofs.pretraining ITEM` reproduces (2 samples x 10 seeds; minutes on a busy machine). Round 9d
re-tried two partials with it (keras-s6-q6: frozen features; keras-s7-q4: unfreezing depth and each block's
task-specificity); neither held with a margin either, and their `tried` lines in proofs/audit.yaml give the figures.

Round 10 pretrains the same net offline instead (`stored_pretrained`: 22,106 source-class images outside the demos'
samples, 40 epochs, stored in proofs/weights/source_convnet.pt and rebuilt by `python -m proofs.pretraining
build-weights`, about a minute): with 30 times the images, its features transfer with the margin a check needs, and
demos pretrained-start-transfers (resnet-29) and lower-lr-keeps-pretrained (keras-s7-q2) use it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from proofs.dataset import Sample

SOURCE_CLASSES = ("airplane", "bird", "deer", "frog", "ship")  # every other class: both tasks mix vehicles and animals
TARGET_CLASSES = ("automobile", "cat", "dog", "horse", "truck")
SIZE = 16  # the images averaged to 16 x 16: four times cheaper than 32, so pretraining fits inside a demo's time
FEATURES = 64


@dataclass(frozen=True)
class Task:
    inputs: torch.Tensor  # (N, 3, size, size), normalised with cifar_core's CIFAR-10 figures
    labels: torch.Tensor  # (N,) 0..4, in the order of `classes`
    train: np.ndarray  # indices carved with cifar_core's stratified_split
    test: np.ndarray
    classes: tuple[str, ...]


def task(sample: Sample, classes: tuple[str, ...], train_per_class: int, seed: int = 0, size: int = SIZE) -> Task:
    """The sample's images of `classes`, relabelled 0..len-1, split per class into `train_per_class` training images
    and the rest held out (cifar_core's stratified_split); averaged to `size` pixels (torch's area interpolation)."""
    from cifar_core.data import CIFAR10_MEAN, CIFAR10_STD, stratified_split

    names = np.array(sample.classes)[sample.labels]
    keep = np.flatnonzero(np.isin(names, classes))
    labels = np.array([classes.index(name) for name in names[keep]])
    train, test = stratified_split(labels, 1 - train_per_class / (len(keep) // len(classes)), seed=seed)
    pixels = torch.from_numpy(np.array(sample.images[keep])).permute(0, 3, 1, 2).float() / 255
    inputs = (pixels - torch.tensor(CIFAR10_MEAN).view(1, 3, 1, 1)) / torch.tensor(CIFAR10_STD).view(1, 3, 1, 1)
    if size != inputs.shape[-1]:
        inputs = nn.functional.interpolate(inputs, size=size, mode="area")
    return Task(inputs, torch.from_numpy(labels), train, test, classes)


def small_convnet(classes: int, seed: int) -> nn.Sequential:
    """Three 3x3 conv layers (16, 32, 64 channels, ReLU; the first two with stride 2, cheaper than max-pooling),
    global average pooling and a linear head: body = model[:-1], head = model[-1]. Seeded."""
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(16, 32, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(32, FEATURES, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(FEATURES, classes),
    )


def accuracy(model: nn.Module, data: Task, part: str = "test") -> float:
    """Accuracy on the task's held-out (or training) images, with cifar_core.metrics."""
    from cifar_core.metrics import report_from_logits

    at = data.test if part == "test" else data.train
    model.eval()
    with torch.no_grad():
        return report_from_logits(model(data.inputs[at]), data.labels[at], data.classes).accuracy


def fit(model: nn.Module, data: Task, steps: int, lr: float, seed: int = 0, batch: int = 32, every: int = 0) -> list[float]:
    """`steps` Adam steps of cifar_core's training_step on the task's training images, reshuffled each pass (seeded).
    With `every`, returns the held-out accuracy after each `every` steps (the learning curve)."""
    from cifar_core.steps import training_step

    generator = torch.Generator().manual_seed(seed)
    optimizer, criterion = torch.optim.Adam(model.parameters(), lr=lr), nn.CrossEntropyLoss()
    train, done, curve = torch.from_numpy(data.train), 0, []
    while done < steps:
        for indices in train[torch.randperm(len(train), generator=generator)].split(batch)[: steps - done]:
            model.train()
            training_step(model, data.inputs[indices], data.labels[indices], criterion, optimizer)
            done += 1
            if every and done % every == 0:
                curve.append(accuracy(model, data))
    return curve


def pretrained(
    sample: Sample, seed: int = 0, steps: int = 300, lr: float = 2e-3, size: int = SIZE, shuffle_labels: bool = False
) -> tuple[nn.Sequential, Task]:
    """The small conv net trained on the SOURCE task: 150 images a class of the sample (50 a class held out). With
    `shuffle_labels` its training labels are permuted first, so what it learns says nothing about the classes."""
    source = task(sample, SOURCE_CLASSES, 150, seed, size)
    fitted = source
    if shuffle_labels:
        labels = source.labels.clone()
        labels[source.train] = labels[source.train][torch.randperm(len(source.train), generator=torch.Generator().manual_seed(seed + 1000))]
        fitted = Task(source.inputs, labels, source.train, source.test, source.classes)
    model = small_convnet(len(SOURCE_CLASSES), seed)
    fit(model, fitted, steps, lr, seed)
    return model, source


def with_new_head(model: nn.Sequential, classes: int, seed: int) -> nn.Sequential:
    """The model's body under a fresh linear head for `classes` classes (seeded: every variant gets the same head)."""
    torch.manual_seed(seed)
    return nn.Sequential(*model[:-1], nn.Linear(FEATURES, classes))


def _flat(module: nn.Module) -> torch.Tensor:
    return torch.cat([parameter.detach().flatten() for parameter in module.parameters()])


def forgetting_by_lr(sample: Sample, seed: int, steps: int = 300, rates: tuple[float, ...] = (1e-3, 1e-4)) -> dict:
    """keras-s7-q2: the pretrained net's body under a new head for the target classes (the head trained alone for 60
    steps, the notebook's Phase 1), then all layers fine-tuned `steps` Adam steps at each rate. Per rate: how far the
    body moved (norm of the change over the norm of the pretrained weights), the source head's held-out accuracy on
    the fine-tuned body, the share of source images whose predicted class it kept, and the target accuracy."""
    import copy

    model, source = pretrained(sample, seed)
    model.eval()
    with torch.no_grad():
        before = model(source.inputs).argmax(dim=1)
    target, weights = task(sample, TARGET_CLASSES, 150, seed), _flat(model[:-1])
    figures: dict = {"source_accuracy_pretrained": accuracy(model, source)}
    for lr in rates:
        tuned = with_new_head(copy.deepcopy(model), len(TARGET_CLASSES), seed + 7)
        tuned[:-1].requires_grad_(False)
        fit(tuned, target, 60, 1e-3, seed)
        head_only = accuracy(tuned, target)
        tuned.requires_grad_(True)
        fit(tuned, target, steps, lr, seed + 1)
        on_source = nn.Sequential(*tuned[:-1], model[-1]).eval()
        with torch.no_grad():
            kept = (on_source(source.inputs).argmax(dim=1) == before).float().mean().item()
        figures[lr] = {
            "moved": ((_flat(tuned[:-1]) - weights).norm() / weights.norm()).item(),
            "source_accuracy": accuracy(on_source, source),
            "source_predictions_kept": kept,
            "target_accuracy_head_only": head_only,
            "target_accuracy": accuracy(tuned, target),
        }
    return figures


def pretrained_against_scratch(sample: Sample, seed: int, start: str = "pretrained", lr: float = 1e-3, steps: int = 150) -> dict:
    """resnet-29: the target's 100 training images (20 a class), fine-tuned `steps` steps from `start` weights
    ("pretrained", "shuffled": pretrained on shuffled labels, "random": another initialisation, "stored": the weights
    pretrained offline, `stored_pretrained`) and from scratch,
    same head, rate and batches. The held-out accuracy every 15 steps, both curves."""
    target = task(sample, TARGET_CLASSES, 20, seed)
    if start == "random":
        body = small_convnet(len(SOURCE_CLASSES), seed + 500)
    elif start == "stored":
        body = stored_pretrained()
    else:
        body = pretrained(sample, seed, shuffle_labels=start == "shuffled")[0]
    curves = {}
    for name, model in ((start, body), ("scratch", small_convnet(len(TARGET_CLASSES), seed))):
        curves[name] = fit(with_new_head(model, len(TARGET_CLASSES), seed + 7), target, steps, lr, seed, every=15)
    return curves


def resizing_for_frozen_features(sample: Sample, seed: int, small: int = 8) -> dict:
    """keras-s6-q4: the net pretrained at 32 pixels and the same net with random weights, frozen; the target images
    given at `small` pixels (torch's bilinear interpolate, antialiased) as they are, resized back up to 32, and at 32
    as decoded; a linear head trained on each set of standardised features. Held-out accuracies."""
    model = pretrained(sample, seed, size=32)[0]
    target = task(sample, TARGET_CLASSES, 150, seed, size=32)
    shrunk = nn.functional.interpolate(target.inputs, size=small, mode="bilinear", antialias=True, align_corners=False)
    feeds = {
        "small": shrunk,
        "resized": nn.functional.interpolate(shrunk, size=32, mode="bilinear", align_corners=False),
        "full": target.inputs,
    }
    figures = {}
    for weights, net in (("pretrained", model), ("random", small_convnet(len(SOURCE_CLASSES), seed))):
        body = net[:-1].eval()
        for feed, images in feeds.items():
            with torch.no_grad():
                features = body(images)
            train = features[target.train]
            features = (features - train.mean(dim=0)) / (train.std(dim=0) + 1e-6)
            torch.manual_seed(seed)
            head = nn.Linear(FEATURES, len(TARGET_CLASSES))
            on_features = Task(features, target.labels, target.train, target.test, target.classes)
            fit(head, on_features, 200, 1e-2, seed)
            figures[f"{weights}_{feed}"] = accuracy(head, on_features)
    return figures


def linear_probe(features: torch.Tensor, data: Task, seed: int, standardise: bool = True, steps: int = 200, lr: float = 1e-2) -> float:
    """Held-out accuracy of a linear head trained on frozen `features` of the task's images (standardised with the
    training images' mean and std unless `standardise` is False: then the head sees them as the net gives them,
    as the notebook's Dense layer on GlobalAveragePooling does)."""
    if standardise:
        train = features[data.train]
        features = (features - train.mean(dim=0)) / (train.std(dim=0) + 1e-6)
    torch.manual_seed(seed)
    head = nn.Linear(features.shape[1], len(data.classes))
    on_features = Task(features, data.labels, data.train, data.test, data.classes)
    fit(head, on_features, steps, lr, seed)
    return accuracy(head, on_features)


def _frozen(body: nn.Module, inputs: torch.Tensor, upto: int | None = None) -> torch.Tensor:
    """The body's output (or its first `upto` layers', averaged over positions), weights frozen."""
    body.eval()
    with torch.no_grad():
        out = body[:upto](inputs) if upto else body(inputs)
    return out.mean(dim=(2, 3)) if out.dim() == 4 else out


def frozen_features_transfer(sample: Sample, seed: int) -> dict:
    """keras-s6-q6: the pretrained body frozen, a linear head on the target task (150 images a class), against the
    same body with random weights and one pretrained on shuffled labels; and the pretrained body fed the target
    images scaled twice (the 0-1 pixels divided by 255 again before the mean and std subtraction meant for them,
    the notebook's /255 before preprocess_input). Each with the head on standardised features and on raw ones."""
    from cifar_core.data import CIFAR10_MEAN, CIFAR10_STD

    target = task(sample, TARGET_CLASSES, 150, seed)
    mean, std = torch.tensor(CIFAR10_MEAN).view(1, 3, 1, 1), torch.tensor(CIFAR10_STD).view(1, 3, 1, 1)
    twice = ((target.inputs * std + mean) / 255 - mean) / std
    bodies = {
        "pretrained": pretrained(sample, seed)[0][:-1],
        "random": small_convnet(len(SOURCE_CLASSES), seed + 500)[:-1],
        "shuffled": pretrained(sample, seed, shuffle_labels=True)[0][:-1],
    }
    feeds = {name: _frozen(body, target.inputs) for name, body in bodies.items()}
    feeds["pretrained_scaled_twice"] = _frozen(bodies["pretrained"], twice)
    figures = {}
    for name, features in feeds.items():
        figures[f"{name}_standardised"] = linear_probe(features, target, seed)
        figures[f"{name}_raw"] = linear_probe(features, target, seed, standardise=False, steps=300, lr=1e-3)
    spread = feeds["pretrained_scaled_twice"]
    figures["scaled_twice_spread_over_mean"] = (spread.std(dim=0).mean() / spread.mean(dim=0).abs().mean()).item()
    return figures


def block_specificity(sample: Sample, seed: int) -> dict:
    """keras-s7-q4 (Yosinski et al. 2014's transferability): a standardised linear probe on each conv block's frozen
    features (averaged over positions), on the SOURCE task's held-out images and the TARGET task's (150 a class),
    for the pretrained net and the same net with random weights. Per block: source and target accuracy, and what
    pretraining adds to each (pretrained minus random)."""
    model, source = pretrained(sample, seed)
    target = task(sample, TARGET_CLASSES, 150, seed)
    random = small_convnet(len(SOURCE_CLASSES), seed + 500)
    figures = {}
    for block, upto in ((1, 2), (2, 4), (3, 6)):
        for name, data in (("source", source), ("target", target)):
            trained = linear_probe(_frozen(model, data.inputs, upto), data, seed)
            untrained = linear_probe(_frozen(random, data.inputs, upto), data, seed)
            figures[f"block{block}_{name}"] = trained
            figures[f"block{block}_{name}_gain"] = trained - untrained
        figures[f"block{block}_specificity"] = figures[f"block{block}_source_gain"] - figures[f"block{block}_target_gain"]
    return figures


def unfreeze_depth(sample: Sample, seed: int, steps: int = 150, per_class: int = 20) -> dict:
    """keras-s7-q4 (overfitting on small data): the pretrained body under a new head on a small target set
    (`per_class` images a class), fine-tuned `steps` Adam steps at 1e-3 with the last conv block unfrozen, or the
    last two; the rest frozen. Training and held-out accuracy of each."""
    import copy

    model = pretrained(sample, seed)[0]
    target = task(sample, TARGET_CLASSES, per_class, seed)
    figures = {}
    for name, unfrozen in (("last", (4,)), ("last_two", (2, 4))):
        tuned = with_new_head(copy.deepcopy(model), len(TARGET_CLASSES), seed + 7)
        tuned[:-1].requires_grad_(False)
        for layer in unfrozen:
            tuned[layer].requires_grad_(True)
        fit(tuned, target, steps, 1e-3, seed)
        figures[f"{name}_train"], figures[f"{name}_test"] = accuracy(tuned, target, "train"), accuracy(tuned, target)
        figures[f"{name}_gap"] = figures[f"{name}_train"] - figures[f"{name}_test"]
    return figures


STORED_WEIGHTS = Path(__file__).resolve().parent / "weights" / "source_convnet.pt"
STORED_EXCLUDES = (0, 1, 2)  # the seeds of the samples the demos and measurements draw: none of their images is pretrained on
STORED_EPOCHS = 40


def stored_pretrained(path: Path = STORED_WEIGHTS) -> nn.Sequential:
    """The small conv net pretrained offline (`python -m proofs.pretraining build-weights`, about a minute on a quiet machine) on every real
    training image of the SOURCE classes outside the samples of seeds 0-2 (22,106 images at 16 pixels, 40 epochs of
    Adam): pretraining with 30 times the images and 100 times the steps that fit inside a demo. The file is 0.1 MB.
    `path` reads another build (`build_weights(seed=..., path=...)`), as the audits do to try other weights."""
    saved = torch.load(path, weights_only=True)
    if tuple(saved["classes"]) != SOURCE_CLASSES or saved["size"] != SIZE:
        raise ValueError(f"{path}: pretrained on {saved['classes']} at {saved['size']} pixels; rebuild it")
    model = small_convnet(len(SOURCE_CLASSES), 0)
    model.load_state_dict(saved["state_dict"])
    return model


def build_weights(epochs: int = STORED_EPOCHS, seed: int = 1234, path: Path = STORED_WEIGHTS) -> dict:
    """Pretrain the stored weights: all SOURCE-class PNGs of $CIFAR10_DIR/train except the demos' samples, decoded,
    normalised and averaged to SIZE pixels as `task` does; a tenth held out to report the source accuracy reached.
    Another `seed` with another `path` gives other weights of the same recipe (the stored file is seed 1234's)."""
    import os

    from PIL import Image

    from cifar_core.data import CIFAR10_MEAN, CIFAR10_STD
    from proofs.dataset import cifar10_dir, training_sample

    excluded = {path for seed_ in STORED_EXCLUDES for path in training_sample(seed=seed_).files}
    train_dir, decoded, labels = cifar10_dir() / "train", [], []
    for label, name in enumerate(SOURCE_CLASSES):
        for file in sorted(os.listdir(train_dir / name)):
            if train_dir / name / file not in excluded:
                with Image.open(train_dir / name / file) as image:
                    decoded.append(np.asarray(image.convert("RGB")))
                labels.append(label)
    pixels = torch.from_numpy(np.stack(decoded)).permute(0, 3, 1, 2).float() / 255
    inputs = (pixels - torch.tensor(CIFAR10_MEAN).view(1, 3, 1, 1)) / torch.tensor(CIFAR10_STD).view(1, 3, 1, 1)
    inputs = nn.functional.interpolate(inputs, size=SIZE, mode="area")
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed)).numpy()
    held = len(order) // 10
    source = Task(inputs, torch.tensor(labels), order[held:], order[:held], SOURCE_CLASSES)
    model = small_convnet(len(SOURCE_CLASSES), seed)
    fit(model, source, epochs * -(-len(source.train) // 128), 2e-3, seed, batch=128)
    figures = {"images": len(labels), "held_out_accuracy": accuracy(model, source), "epochs": epochs}
    path.parent.mkdir(exist_ok=True)
    state = {"state_dict": model.state_dict(), "classes": list(SOURCE_CLASSES), "size": SIZE, **figures}
    state["excluded_sample_seeds"] = list(STORED_EXCLUDES)
    torch.save(state, path)
    return figures


MEASUREMENTS = {
    "keras-s7-q2": forgetting_by_lr,
    "resnet-29": pretrained_against_scratch,
    "keras-s6-q4": resizing_for_frozen_features,
    "keras-s6-q6": frozen_features_transfer,
    "keras-s7-q4-specificity": block_specificity,
    "keras-s7-q4-unfreeze": unfreeze_depth,
}


def fine_tuning_rates_on_stored(sample_seed: int, seed: int, lr: float, steps: int, weights: Path = STORED_WEIGHTS) -> dict:
    """keras-s7-q2's demo measurement (proofs.demos.transfer.fine_tuned_at) on `weights` for one run, with the verdict
    its claim check gives."""
    from proofs.demos.transfer import fine_tuned_at, gentle_fine_tune_holds

    figures = fine_tuned_at(lr, seed=seed, sample_seed=sample_seed, start=stored_pretrained(weights), steps=steps)
    return {"lr": lr, **figures, "claim_check_passes": gentle_fine_tune_holds(figures)}


def main(argv: list[str] | None = None) -> None:
    """Print one JSON line a run: `python -m proofs.pretraining ITEM [--samples 2] [--seeds 10] [--start random] [--lr 3e-3]`;
    `keras-s7-q2-stored --lr 1e-4 --steps 150 300 [--weights FILE]` runs keras-s7-q2's demo measurement per run and
    length; `build-weights [--build-seed 1 --weights FILE]` pretrains (other seeds into other files, for audits)."""
    import argparse
    import json

    from proofs.dataset import training_sample

    parser = argparse.ArgumentParser(prog="python -m proofs.pretraining", description=main.__doc__)
    parser.add_argument("item", choices=[*sorted(MEASUREMENTS), "keras-s7-q2-stored", "build-weights"])
    parser.add_argument("--samples", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--start", default="pretrained", choices=("pretrained", "shuffled", "random", "stored"), help="resnet-29's start")
    parser.add_argument("--lr", type=float, default=1e-3, help="resnet-29's fine-tuning rate; keras-s7-q2-stored's Phase 2 rate")
    parser.add_argument("--steps", type=int, nargs="+", default=[150], help="keras-s7-q2-stored's Phase 2 lengths")
    parser.add_argument("--weights", type=Path, default=STORED_WEIGHTS, help="the weights file to read (or build)")
    parser.add_argument("--build-seed", type=int, default=1234, help="build-weights' seed (the stored file's is 1234)")
    args = parser.parse_args(argv)
    if args.item == "build-weights":
        print(json.dumps(build_weights(seed=args.build_seed, path=args.weights)))
        return
    torch.set_num_threads(1)
    for sample_seed in range(args.samples):
        sample = training_sample(seed=sample_seed)
        for seed in range(args.seeds):
            if args.item == "keras-s7-q2-stored":
                for steps in args.steps:
                    figures = fine_tuning_rates_on_stored(sample_seed, seed, args.lr, steps, args.weights)
                    print(json.dumps({"weights": args.weights.name, "sample": sample_seed, "seed": seed, **figures}), flush=True)
                continue
            extra = {"start": args.start, "lr": args.lr} if args.item == "resnet-29" else {}
            figures = MEASUREMENTS[args.item](sample, seed, **extra)
            print(json.dumps({"sample": sample_seed, "seed": seed, **{str(k): v for k, v in figures.items()}}), flush=True)


if __name__ == "__main__":
    main()
