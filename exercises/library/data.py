"""Data exercises: uint8 images to normalised tensors, a stratified split, a confusion matrix."""

from exercises.library import code
from exercises.model import Exercise, Mistake
from exercises.report import same

# ---------------------------------------------------------------- normalise a batch

_MEAN, _STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)


def _check_normalise(learner, reference, report) -> None:
    import numpy as np

    def batch(n: int, seed: int):
        return np.random.default_rng(seed).integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8), _MEAN, _STD

    def case(name: str, n: int, seed: int) -> None:
        def body():
            expected, got = reference(*batch(n, seed)), report.call(learner, *batch(n, seed))
            meaning = "divide by 255 first (the statistics are for pixels in [0, 1]), move channels first (N, C, H, W), then (x - mean) / std per channel"
            if hasattr(got, "shape") and tuple(got.shape) != tuple(expected.shape):
                return (
                    False,
                    f"shape {tuple(expected.shape)}",
                    f"shape {tuple(got.shape)}",
                    "permute (N, H, W, C) to (N, C, H, W): PyTorch puts channels first",
                )
            return same(got, expected, 1e-4), expected, got, meaning

        report.check(name, body, if_error="build a float tensor with torch.from_numpy(images).float() and permute it to (N, C, H, W)")

    case("a batch of 4", 4, 0)
    case("a batch of one", 1, 1)


def _normalise_code(scale: str) -> str:
    return code(f'''
        import torch


        def normalise(images, mean, std):
            """uint8 (N, H, W, C) images -> float32 (N, C, H, W), each channel standardised."""
            x = torch.from_numpy(images).float().permute(0, 3, 1, 2)  # (N, C, H, W)
            {scale}
            mean, std = torch.tensor(mean).view(1, 3, 1, 1), torch.tensor(std).view(1, 3, 1, 1)
            return (x - mean) / std
    ''')


NORMALISE = Exercise(
    id="normalise-images",
    title="uint8 images to a normalised batch",
    function="normalise",
    prompt=code("""
        Write `normalise(images, mean, std)`: `images` is a NumPy uint8 array (N, 32, 32, 3) as read from
        PNG files; `mean` and `std` are CIFAR-10's per-channel statistics of pixels scaled to [0, 1].
        Return a float32 tensor (N, 3, 32, 32), as `ToTensor()` followed by `Normalize(mean, std)` gives.
    """),
    starter=code('''
        import torch


        def normalise(images, mean, std):
            """uint8 (N, H, W, C) images -> float32 (N, C, H, W), each channel standardised."""
            raise NotImplementedError("scale, permute, standardise")
    '''),
    solution=_normalise_code("x = x / 255.0  # the statistics are of [0, 1] pixels"),
    hint="Three steps: / 255, permute(0, 3, 1, 2), (x - mean) / std with mean and std shaped (1, 3, 1, 1).",
    checks=_check_normalise,
    mistakes=(Mistake("forgetting to divide by 255", _normalise_code("x = x  # still 0-255"), "divide by 255"),),
    items=("viva-04-normalization-values-applied-cifar-10", "resnet-05-normalize-inputs-using-dataset-mean"),
)


# ---------------------------------------------------------------- stratified split


def _check_split(learner, _reference, report) -> None:
    import numpy as np

    labels = np.repeat(np.arange(4), [100, 60, 30, 10])  # imbalanced, as real subsets are
    np.random.default_rng(0).shuffle(labels)

    def split(seed: int = 0):
        train, val = report.call(learner, labels, 0.2, seed)
        return np.asarray(train), np.asarray(val)

    def partition():
        train, val = split()
        together = np.sort(np.concatenate([train, val]))
        ok = len(np.intersect1d(train, val)) == 0 and np.array_equal(together, np.arange(len(labels)))
        return (
            ok,
            "disjoint index arrays covering all 200 samples",
            f"{len(train)} train + {len(val)} val, {len(np.intersect1d(train, val))} shared",
            "return two index arrays that do not overlap and together cover every sample once",
        )

    def proportions():
        _, val = split()
        expected = [20, 12, 6, 2]
        got = np.bincount(labels[val], minlength=4).tolist()
        return (
            got == expected,
            expected,
            got,
            "split each class separately: the validation set must hold val_fraction of every class (a plain random split does not)",
        )

    def seeded():
        first, second = split(3)[1], split(3)[1]
        other = split(4)[1]
        ok = np.array_equal(np.sort(first), np.sort(second)) and not np.array_equal(np.sort(first), np.sort(other))
        return (
            ok,
            "same seed, same split; new seed, new split",
            "differs" if not ok else "as expected",
            "draw the permutation from np.random.default_rng(seed)",
        )

    report.check("train and validation partition the indices", partition)
    report.check("every class keeps its proportion in validation", proportions)
    report.check("the split is a function of the seed", seeded)


STRATIFIED_SPLIT = Exercise(
    id="stratified-split",
    title="A stratified, seeded validation split",
    function="stratified_split",
    prompt=code("""
        Write `stratified_split(labels, val_fraction, seed)`: return `(train_indices, val_indices)` such that
        every class contributes `round(count * val_fraction)` of its samples to validation, chosen at
        random with `np.random.default_rng(seed)`.
    """),
    starter=code("""
        import numpy as np


        def stratified_split(labels, val_fraction, seed):
            raise NotImplementedError("split each class")
    """),
    solution=code("""
        import numpy as np


        def stratified_split(labels, val_fraction, seed):
            rng = np.random.default_rng(seed)
            train, val = [], []
            for cls in np.unique(labels):
                members = rng.permutation(np.flatnonzero(labels == cls))  # this class's samples, shuffled
                n_val = int(round(len(members) * val_fraction))
                val.append(members[:n_val])
                train.append(members[n_val:])
            return np.concatenate(train), np.concatenate(val)
    """),
    hint="Loop over the classes; shuffle each class's indices; take the first round(n * fraction) for validation.",
    checks=_check_split,
    mistakes=(
        Mistake(
            "a plain random split",
            code("""
            import numpy as np


            def stratified_split(labels, val_fraction, seed):
                order = np.random.default_rng(seed).permutation(len(labels))
                n_val = int(round(len(labels) * val_fraction))
                return order[n_val:], order[:n_val]
        """),
            "split each class separately",
        ),
    ),
    items=("viva-40-code-add-validation-set-separate",),
)


# ---------------------------------------------------------------- confusion matrix


def _check_confusion(learner, reference, report) -> None:
    import torch

    def inputs():
        generator = torch.Generator().manual_seed(0)
        labels = torch.randint(0, 4, (60,), generator=generator)
        predictions = torch.where(torch.rand(60, generator=generator) < 0.6, labels, torch.randint(0, 4, (60,), generator=generator))
        return predictions, labels, 4

    def body():
        expected, got = reference(*inputs()), report.call(learner, *inputs())
        meaning = "rows are the true classes and columns the predictions: matrix[label, prediction] += 1 (torch and sklearn agree on this)"
        return same(got, expected, 0), expected, got, meaning

    def edge():
        predictions, labels = torch.tensor([2]), torch.tensor([1])
        expected, got = reference(predictions, labels, 3), report.call(learner, predictions, labels, 3)
        return (
            same(got, expected, 0),
            expected,
            got,
            "a single sample, and classes that never occur, still give a num_classes x num_classes matrix",
        )

    report.check("60 predictions over 4 classes", body)
    report.check("one sample, 3 classes", edge)


def _confusion_code(index: str) -> str:
    return code(f"""
        import torch


        def confusion_matrix(predictions, labels, num_classes):
            matrix = torch.zeros(num_classes, num_classes, dtype=torch.long)
            for prediction, label in zip(predictions.tolist(), labels.tolist()):
                matrix[{index}] += 1
            return matrix
    """)


CONFUSION_MATRIX = Exercise(
    id="confusion-matrix",
    title="A confusion matrix",
    function="confusion_matrix",
    prompt="Write `confusion_matrix(predictions, labels, num_classes)`: a long tensor (C, C) whose entry [i, j] counts samples of true class i predicted as j.\n",
    starter=code("""
        import torch


        def confusion_matrix(predictions, labels, num_classes):
            raise NotImplementedError("count the pairs")
    """),
    solution=_confusion_code("label, prediction"),
    hint="One count per (true class, predicted class) pair.",
    checks=_check_confusion,
    mistakes=(Mistake("rows and columns swapped", _confusion_code("prediction, label"), "rows are the true classes"),),
    items=("viva-29-add-per-class-accuracy-logging",),
)

EXERCISES = (NORMALISE, STRATIFIED_SPLIT, CONFUSION_MATRIX)
