"""Data exercises: uint8 images to normalised tensors, a stratified split, a confusion matrix."""

from exercises.library import code
from exercises.library.kit import draw_seed, variant
from exercises.model import Exercise, Mistake
from exercises.observe import Raised, WrongResult
from exercises.report import Check, Finding, error_finding, kind_of, values

# ---------------------------------------------------------------- normalise a batch

_MEAN, _STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)


def _images(n: int, seed: int):
    import numpy as np

    return np.random.default_rng(seed).integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)


def _normalise_run(fn, n: int, seed: int, as_lists: bool = False):
    mean, std = (list(_MEAN), list(_STD)) if as_lists else (_MEAN, _STD)
    return fn(_images(n, seed), mean, std)


def _normalise_input_kept(fn, n: int, seed: int):
    images = _images(n, seed)
    fn(images, _MEAN, _STD)
    return bool((images == _images(n, seed)).all())


def _normalise_variant(scale: float, axes: tuple, swap: bool = False):
    def normalise(images, mean, std):
        import torch

        x = torch.from_numpy(images).float().permute(*axes) / scale
        m, s = torch.tensor(mean).view(1, 3, 1, 1), torch.tensor(std).view(1, 3, 1, 1)
        return (x - s) / m if swap else (x - m) / s

    return normalise


def _normalise_reshaped(images, mean, std):
    import torch

    x = torch.from_numpy(images).float().reshape(images.shape[0], 3, 32, 32) / 255.0
    return (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)


def _normalise_checks(rng):
    meaning = "divide by 255 first (the statistics are for pixels in [0, 1]), move channels first with permute(0, 3, 1, 2), then (x - mean) / std per channel"
    mistakes = (
        variant(_normalise_variant(1.0, (0, 3, 1, 2)), "divide by 255 first: the mean and std are statistics of pixels in [0, 1]"),
        variant(
            _normalise_variant(255.0, (0, 3, 2, 1)),
            "permute(0, 3, 2, 1) also swaps height and width: channels first is permute(0, 3, 1, 2)",
        ),
        variant(_normalise_variant(255.0, (0, 3, 1, 2), swap=True), "subtract the mean and divide by the std, not the other way round"),
        variant(
            _normalise_reshaped, "reshape and view keep the memory order (H, W, C): they scramble the pixels; permute the axes instead"
        ),
    )
    compare = values(meaning, rtol=1e-5, atol=1e-5, variants=mistakes, exact_dtype=True)
    n, seeds = rng.randint(2, 6), [draw_seed(rng) for _ in range(4)]

    def kept(expected, got, context):
        if isinstance(got, Raised):
            return error_finding(got, meaning)
        return (
            None
            if got
            else Finding(
                "failed",
                "the images unchanged",
                "modified",
                "do not modify the caller's array: torch.from_numpy shares its memory, so work on a float copy",
            )
        )

    return [
        Check(f"a batch of {n} images: float32, (N, 3, 32, 32), standardised", lambda fn: _normalise_run(fn, n, seeds[0]), compare),
        Check("a batch of one image", lambda fn: _normalise_run(fn, 1, seeds[1]), compare),
        Check("mean and std given as lists", lambda fn: _normalise_run(fn, 3, seeds[2], as_lists=True), compare),
        Check("the caller's uint8 array is left unchanged", lambda fn: _normalise_input_kept(fn, 2, seeds[3]), kept),
    ]


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
    checks=_normalise_checks,
    mistakes=(Mistake("forgetting to divide by 255", _normalise_code("x = x  # still 0-255"), "divide by 255"),),
    items=("viva-04-normalization-values-applied-cifar-10", "resnet-05-normalize-inputs-using-dataset-mean"),
)


# ---------------------------------------------------------------- stratified split


def _split_labels(rng, gaps: bool = False):
    import numpy as np

    def count() -> int:
        while True:  # no class whose count * fraction ends in .5: rounding rules would then differ
            drawn = rng.choice([3, 7, 11, 14, 23, 38, 61, 100])
            if abs((drawn * fraction) % 1 - 0.5) > 0.05:
                return drawn

    fraction = rng.choice([0.1, 0.15, 0.2, 0.25, 0.3])
    classes = rng.sample([0, 2, 3, 7, 9, 12], rng.randint(3, 5)) if gaps else list(range(rng.randint(3, 6)))
    labels = np.concatenate([np.full(count(), c) for c in classes])
    np.random.default_rng(rng.randrange(2**31)).shuffle(labels)
    return labels, fraction, rng.randint(0, 10_000)


def _split_run(fn, labels, fraction: float, seed: int) -> dict:
    def indices(result) -> tuple:
        import numpy as np

        if not isinstance(result, tuple | list) or len(result) != 2:
            raise WrongResult(f"returned {kind_of(result)}: return the pair (train_indices, val_indices)")
        arrays = tuple(np.asarray(part) for part in result)
        if any(a.dtype == bool for a in arrays):
            raise WrongResult("return index arrays (np.flatnonzero of a mask), not boolean masks")
        if any(a.ndim != 1 or (a.size and a.dtype.kind not in "iu") for a in arrays):
            raise WrongResult("return two 1-D arrays of integer indices")
        return arrays

    train, val = indices(fn(labels.copy(), fraction, seed))
    again = indices(fn(labels.copy(), fraction, seed))
    other = indices(fn(labels.copy(), fraction, seed + 1))
    return {"labels": labels, "fraction": fraction, "train": train, "val": val, "again": again, "other": other}


def _split_checks(rng):
    def problem(got) -> tuple[str, str, str] | None:
        """(expected, got, message) for the first property the split breaks."""
        import numpy as np

        labels, train, val = got["labels"], got["train"], got["val"]
        together = np.sort(np.concatenate([train, val]))
        shared = len(np.intersect1d(train, val))
        if shared or not np.array_equal(together, np.arange(len(labels))):
            return (f"disjoint index arrays covering all {len(labels)} samples once", f"{len(train)} train + {len(val)} val, {shared} shared",
                    "return two index arrays that do not overlap and together hold every sample once")  # fmt: skip
        classes = np.unique(labels)
        want = [round(int((labels == c).sum()) * got["fraction"]) for c in classes]
        have = [int((labels[val] == c).sum()) for c in classes]
        if want != have:
            return (f"per class {dict(zip(classes.tolist(), want, strict=True))}", f"{dict(zip(classes.tolist(), have, strict=True))}",
                    "split each class separately: the validation set holds round(count * val_fraction) of every class (a plain random split does not)")  # fmt: skip
        return None

    def valid(expected, got, context):
        if isinstance(got, Raised):
            return error_finding(
                got,
                "loop over np.unique(labels); shuffle each class's indices with rng = np.random.default_rng(seed); the first round(n * val_fraction) go to validation",
            )
        found = problem(got)
        return Finding("failed", *found) if found else None

    def seeded(expected, got, context):
        import numpy as np

        found = valid(expected, got, context)
        if found:
            return found
        same = lambda a, b: all(np.array_equal(np.sort(x), np.sort(y)) for x, y in zip(a, b, strict=True))  # noqa: E731
        if not same((got["train"], got["val"]), got["again"]):
            return Finding(
                "failed",
                "the same split for the same seed",
                "another split",
                "draw every random choice from np.random.default_rng(seed), so the same seed gives the same split",
            )
        if same((got["train"], got["val"]), got["other"]):
            return Finding(
                "failed",
                "another split for another seed",
                "the same split",
                "the split must be random and depend on the seed: shuffle each class's indices with np.random.default_rng(seed)",
            )
        return None

    cases_ = [_split_labels(rng), _split_labels(rng), _split_labels(rng, gaps=True)]
    return [
        Check(
            f"train and validation partition the {len(cases_[0][0])} indices, every class in proportion",
            lambda fn: _split_run(fn, *cases_[0]),
            valid,
        ),
        Check("the same seed gives the same split, another seed another", lambda fn: _split_run(fn, *cases_[1]), seeded),
        Check("class labels with gaps (not 0..C-1)", lambda fn: _split_run(fn, *cases_[2]), valid),
    ]


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
    checks=_split_checks,
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


def _confusion_inputs(n: int, classes: int, seed: int, absent: int | None = None):
    import torch

    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, classes, (n,), generator=generator)
    predictions = torch.where(torch.rand(n, generator=generator) < 0.6, labels, torch.randint(0, classes, (n,), generator=generator))
    if absent is not None:  # a class that is never the label nor the prediction
        labels, predictions = labels.masked_fill(labels == absent, 0), predictions.masked_fill(predictions == absent, 0)
    return predictions, labels, classes


def _confusion_advanced_indexing(predictions, labels, num_classes):
    import torch

    matrix = torch.zeros(num_classes, num_classes, dtype=torch.long)
    matrix[labels, predictions] += 1
    return matrix


def _confusion_swapped(predictions, labels, num_classes):
    import torch

    matrix = torch.zeros(num_classes, num_classes, dtype=torch.long)
    for prediction, label in zip(predictions.tolist(), labels.tolist(), strict=True):
        matrix[prediction, label] += 1
    return matrix


def _confusion_checks(rng):
    meaning = "rows are the true classes and columns the predictions: matrix[label, prediction] += 1 for every sample, in a long tensor of num_classes x num_classes"
    mistakes = (
        variant(_confusion_swapped, "rows are the true classes and columns the predictions: you have them swapped"),
        variant(
            _confusion_advanced_indexing,
            "matrix[labels, predictions] += 1 counts a repeated pair once: use index_put_(..., accumulate=True), torch.bincount, or a loop",
        ),
    )
    compare = values(meaning, rtol=0, atol=0, variants=mistakes)
    n, classes = rng.randint(40, 90), rng.randint(3, 7)
    seeds = [draw_seed(rng) for _ in range(4)]
    return [
        Check(f"{n} predictions over {classes} classes", lambda fn: fn(*_confusion_inputs(n, classes, seeds[0])), compare),
        Check(
            "a class that never occurs still has its row and column",
            lambda fn: fn(*_confusion_inputs(30, classes + 1, seeds[1], absent=classes)),
            compare,
        ),
        Check("one sample", lambda fn: fn(*_confusion_inputs(1, classes, seeds[2])), compare),
        Check("every sample the same pair", lambda fn: fn(_full(5, 1), _full(5, 2), 3), compare),
    ]


def _full(n: int, value: int):
    import torch

    return torch.full((n,), value, dtype=torch.long)


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
    checks=_confusion_checks,
    mistakes=(Mistake("rows and columns swapped", _confusion_code("prediction, label"), "rows are the true classes"),),
    items=("viva-29-add-per-class-accuracy-logging",),
)

EXERCISES = (NORMALISE, STRATIFIED_SPLIT, CONFUSION_MATRIX)
