"""The Keras notebook's claims, checked with Keras 3 itself on its PyTorch backend (weights=None everywhere:
nothing is downloaded).

Each demo declares `imports=("keras",)`, so `proofs.registry.run` imports Keras before its timer starts
(about 2.6 s on top of torch's import, as torch's own import is not demo time either). This module never
imports Keras at load: listing the demos, and the app's first page, stay free of it. It sets KERAS_BACKEND
before anything imports Keras, and points KERAS_HOME at a temporary folder unless one is set, so a
learner's ~/.keras/keras.json (say, channels_first) cannot change what the demos measure and a read-only
home does not matter.

Expected values come from a second route: torchvision's ImageNet statistics for preprocess_input, the
closed forms of a rotation's angle and a zoom's scale against the centroid of a blob in Keras' output,
NumPy's mirror for RandomFlip, the notebook's own printed parameter counts, a snapshot of the weights
taken at every epoch for EarlyStopping."""

from __future__ import annotations

import contextlib
import os
import random
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from proofs.registry import DemoResult, SkipDemo, demo

if "keras" not in sys.modules:  # Keras reads both when it is imported, never again
    os.environ["KERAS_BACKEND"] = "torch"
    os.environ.setdefault("KERAS_HOME", os.path.join(tempfile.gettempdir(), "viva-drill-keras"))

KERAS = ("keras",)


def _keras() -> Any:
    """Keras 3, checked to run on the PyTorch backend with channels-last images (what every demo here assumes)."""
    import keras

    if keras.backend.backend() != "torch":
        raise SkipDemo(
            f"Keras was already imported in this process with the {keras.backend.backend()} backend; these demos run on "
            "PyTorch (KERAS_BACKEND=torch, set before Keras is first imported)"
        )
    if keras.config.image_data_format() != "channels_last":
        raise SkipDemo(f"Keras is set to {keras.config.image_data_format()} images; these demos use channels_last (the notebook's)")
    return keras


def _numpy(value: Any) -> np.ndarray:
    """A layer's output or a Keras variable as a NumPy array. On the PyTorch backend both hold torch tensors, read
    through torch: Keras' own convert_to_numpy calls np.array(tensor), which NumPy 2.4 warns about with torch's
    __array__ (pytest turns the warning into an error)."""
    import torch

    value = getattr(value, "value", value)  # a Keras variable keeps its torch tensor in .value
    return value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)


@contextlib.contextmanager
def _keras_to_numpy() -> Iterator[None]:
    """Around Keras calls that return NumPy themselves (model.predict): the DeprecationWarning described in `_numpy`
    comes from inside Keras, not from the demo."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="__array__ implementation doesn't accept a copy keyword", category=DeprecationWarning)
        yield


def _resnet50_base() -> Any:
    """The notebook's base: Keras' ResNet50 without its top, average-pooled, random weights (none downloaded).

    32x32 inputs: the layers, names and parameter counts do not depend on the input size (the notebook later
    resized to 224, which only changes the maps' sizes)."""
    from keras.applications import ResNet50

    return ResNet50(weights=None, include_top=False, pooling="avg", input_shape=(32, 32, 3))


def _notebook_model(base: Any, training_flag: bool = True, side: int = 32) -> Any:
    """inputs -> base(x, training=False) -> Dropout(0.3) -> Dense(256, relu) -> Dropout(0.3) -> Dense(10, softmax),
    the notebook's Functional model with ResNet50 nested as one layer (`training_flag=False` leaves the flag out)."""
    keras = _keras()
    layers = keras.layers
    inputs = keras.Input((side, side, 3))
    features = base(inputs, training=False) if training_flag else base(inputs)
    hidden = layers.Dense(256, activation="relu")(layers.Dropout(0.3)(features))
    return keras.Model(inputs, layers.Dense(10, activation="softmax")(layers.Dropout(0.3)(hidden)))


@demo(
    "keras-preprocess-input-range",
    "preprocess_input expects 0-255 pixels",
    "Checked with Keras 3 itself (PyTorch backend): keras.applications.resnet50.preprocess_input turns RGB into BGR and "
    "subtracts ImageNet's channel means on the 0-255 scale (torchvision's ImageNet mean x 255, reversed, agrees within 0.6). "
    "Fed 0-255 pixels the images come out centred near 0 with their contrast; fed pixels already divided by 255, every "
    "value sits within 1 of -104, -117 or -124, nearly the same input for every image.",
    mistake="dividing by 255 first and then calling preprocess_input (the notebook's order)",
    imports=KERAS,
    threads=1,
)
def keras_preprocess_input_range(broken: bool = False) -> DemoResult:
    _keras()
    from keras.applications import resnet50
    from torchvision.models import ResNet50_Weights

    from cifar_core.data import make_synthetic

    result = DemoResult()
    pixels = make_synthetic(16, seed=0).images.astype(np.float32)  # (16, 32, 32, 3) RGB, 0-255 as decoded
    fed = pixels / 255 if broken else pixels
    out = np.asarray(resnet50.preprocess_input(fed.copy()), dtype=np.float64)  # a copy: Keras works in place on float arrays
    # What was subtracted, read back per channel: constant across all pixels only if out = BGR(fed) - means.
    subtracted = fed[..., ::-1] - out
    means = subtracted.mean(axis=(0, 1, 2))
    imagenet_bgr = np.array(ResNet50_Weights.IMAGENET1K_V2.transforms().mean)[::-1] * 255  # a second route
    centres = out.mean(axis=(0, 1, 2))
    contrast = (out.std(axis=(0, 1, 2)) / np.abs(out).mean(axis=(0, 1, 2))).min()
    unit = np.asarray(resnet50.preprocess_input(pixels / 255), dtype=np.float64)
    span = (unit.max(axis=(0, 1, 2)) - unit.min(axis=(0, 1, 2))).max()
    result.check(
        "preprocess_input subtracts ImageNet's BGR means on the 0-255 scale: the pixels fed come out centred (channel "
        "means within 40 of 0) with their contrast (spread over 10% of the size); [0, 1] pixels come out within 1 of "
        "-104, -117 or -124",
        float(subtracted.std(axis=(0, 1, 2)).max()) < 1e-3
        and float(np.abs(means - imagenet_bgr).max()) < 0.6
        and float(np.abs(centres).max()) < 40
        and contrast > 0.1
        and span <= 1.0 + 1e-4
        and float(np.abs(unit.mean(axis=(0, 1, 2)) + imagenet_bgr).max()) < 1.5,
        subtracted_b=means[0],
        subtracted_g=means[1],
        subtracted_r=means[2],
        output_mean=float(out.mean()),
        largest_channel_mean=float(np.abs(centres).max()),
        spread_over_size=float(contrast),
        unit_range_mean=float(unit.mean()),
        unit_range_largest_channel_span=float(span),
    )
    result.text.append(
        f"Keras subtracted B {means[0]:.3f}, G {means[1]:.3f}, R {means[2]:.3f}; torchvision's ImageNet mean x 255 gives "
        f"{imagenet_bgr[0]:.3f}, {imagenet_bgr[1]:.3f}, {imagenet_bgr[2]:.3f}."
    )
    return result


def _blob_images(count: int, side: int, offset: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`count` copies of a dark (side, side, 1) image with one Gaussian blob `offset` pixels right of the centre,
    and the row and column index grids (to locate the blob again)."""
    rows, cols = np.mgrid[0:side, 0:side].astype(np.float32)
    centre = (side - 1) / 2
    blob = np.exp(-((rows - centre) ** 2 + (cols - centre - offset) ** 2) / (2 * 2.0**2))
    return np.repeat(blob[None, :, :, None], count, 0).astype(np.float32), rows, cols


def _blob_polar(images: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each image's blob as (angle in degrees, distance from the centre in pixels), from its intensity centroid."""
    centre = (rows.shape[0] - 1) / 2
    weight = images[..., 0].sum((1, 2))
    y = (images[..., 0] * rows).sum((1, 2)) / weight - centre
    x = (images[..., 0] * cols).sum((1, 2)) / weight - centre
    return np.degrees(np.arctan2(y, x)), np.hypot(y, x)


@demo(
    "keras-rotation-zoom-ranges",
    "RandomRotation(0.1) turns up to 36 degrees, RandomZoom(0.1) scales by up to 10%",
    "Checked with Keras 3 itself (PyTorch backend): a blob 20 pixels right of the centre, put through 256 draws of "
    "RandomRotation(0.1) and RandomZoom(0.1), is found again at angles spanning -36 to +36 degrees (0.1 of a full turn) "
    "and at 20 / z pixels with the zoom z spanning 0.9 to 1.1.",
    mistake="reading RandomRotation's factor as an angle in radians (0.1 rad = 5.7 degrees), as tf.image-style rotate functions take it",
    imports=KERAS,
    threads=1,
)
def keras_rotation_zoom_ranges(broken: bool = False) -> DemoResult:
    keras = _keras()
    result = DemoResult()
    factor, offset = 0.1, 20.0
    images, rows, cols = _blob_images(256, 64, offset)
    rotated = _numpy(keras.layers.RandomRotation(factor, fill_mode="constant", seed=0)(images, training=True))
    angles, radii = _blob_polar(rotated, rows, cols)
    limit = np.degrees(factor) if broken else factor * 360  # what the factor is read as: radians, or a fraction of a turn
    zoomed = _numpy(keras.layers.RandomZoom(factor, fill_mode="constant", seed=0)(images, training=True))
    zoom_angles, zoom_radii = _blob_polar(zoomed, rows, cols)
    zoom = offset / zoom_radii  # the blob lands at offset / z for a zoom z (z > 1: zoomed out)
    result.check(
        "the angles reach within 3 degrees of the factor's limit (0.1 of a turn: +-36) and never pass it; the zoom spans 0.9 to 1.1",
        angles.max() > limit - 3 and angles.min() < -(limit - 3) and np.abs(angles).max() <= limit + 0.3
        and abs(zoom.min() - (1 - factor)) < 0.01 and abs(zoom.max() - (1 + factor)) < 0.01,
        limit_degrees=float(limit),
        largest_angle=float(angles.max()),
        smallest_angle=float(angles.min()),
        smallest_zoom=float(zoom.min()),
        largest_zoom=float(zoom.max()),
    )  # fmt: skip
    result.check(
        "a rotation keeps the blob's distance and a zoom keeps its direction (within 0.1 pixel and 0.1 degree)",
        np.abs(radii - offset).max() < 0.1 and np.abs(zoom_angles).max() < 0.1,
        largest_radius_change=float(np.abs(radii - offset).max()),
        largest_zoom_turn=float(np.abs(zoom_angles).max()),
    )
    return result


@demo(
    "keras-flip-training-flag",
    "RandomFlip reads the training flag",
    "Checked with Keras 3 itself (PyTorch backend): in a model that starts with RandomFlip('horizontal'), a call with "
    "training=True returns about half of 64 images as exact mirrors (NumPy's [:, ::-1]) and the rest unchanged; the "
    "inference calls, model(x, training=False) and model.predict(x), return every image unchanged. Called with no flag "
    "at all the layer flips: its training argument defaults to True.",
    mistake="calling the model at inference without training=False (model(images)), where the layer's default, True, applies",
    imports=KERAS,
    threads=1,
)
def keras_flip_training_flag(broken: bool = False) -> DemoResult:
    keras = _keras()
    result = DemoResult()
    images = np.random.default_rng(0).random((64, 8, 8, 3), dtype=np.float32)
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.RandomFlip("horizontal", seed=0)])

    def mirrored_and_kept(out: np.ndarray) -> tuple[int, int]:
        mirrored = sum(np.array_equal(o, i[:, ::-1]) for o, i in zip(out, images, strict=True))
        return mirrored, sum(np.array_equal(o, i) for o, i in zip(out, images, strict=True))

    trained = mirrored_and_kept(_numpy(model(images, training=True)))
    inference = _numpy(model(images) if broken else model(images, training=False))
    unchanged = mirrored_and_kept(inference)[1]
    with _keras_to_numpy():
        predicted = mirrored_and_kept(model.predict(images, verbose=0))[1]
    result.check(
        "training=True: 16-48 of 64 images exact mirrors, the others unchanged; the inference calls: all 64 unchanged",
        16 <= trained[0] <= 48 and sum(trained) == 64 and unchanged == 64 and predicted == 64,
        mirrored_in_training=trained[0],
        unchanged_in_training=trained[1],
        unchanged_at_inference=unchanged,
        unchanged_by_predict=predicted,
    )
    no_flag = mirrored_and_kept(_numpy(model(images)))
    result.check(
        "with no flag at all the layer flips (its default is training=True)",
        no_flag[0] > 0 and sum(no_flag) == 64,
        mirrored=no_flag[0],
        unchanged=no_flag[1],
    )
    return result


def _draw_keras_randomness(keras: Any) -> list[np.ndarray]:
    """One 'run' of the notebook's random draws: a Dense layer's initial weights, a Dropout mask, a RandomFlip and a
    RandomRotation of the same images, all left unseeded as the notebook leaves them."""
    layers = keras.layers
    dense = layers.Dense(8)
    dense.build((None, 16))
    images = np.linspace(0, 1, 4 * 8 * 8 * 3, dtype=np.float32).reshape(4, 8, 8, 3)
    return [
        _numpy(dense.kernel),
        _numpy(layers.Dropout(0.5)(np.ones((4, 64), np.float32), training=True)),
        _numpy(layers.RandomFlip("horizontal")(images, training=True)),
        _numpy(layers.RandomRotation(0.1)(images, training=True)),
    ]


def _repeats(seed_with: Callable[[], None], keras: Any) -> list[bool]:
    """Seed, draw; seed again, draw again: which of the four draws came out the same."""
    seed_with()
    first = _draw_keras_randomness(keras)
    seed_with()
    return [np.array_equal(a, b) for a, b in zip(first, _draw_keras_randomness(keras), strict=True)]


@demo(
    "keras-seed-generator",
    "Keras 3 needs keras.utils.set_random_seed, not NumPy's and the backend's seeds",
    "Checked with Keras 3 itself (PyTorch backend): with NumPy and the backend (torch) seeded, a second run draws other "
    "initial weights, flips and rotations, because Keras' SeedGenerator starts from Python's random module; seeding "
    "Python's random alone repeats them. keras.utils.set_random_seed seeds Python, NumPy and the backend and repeats all "
    "four draws (weights, dropout mask, flip, rotation).",
    mistake="seeding NumPy and the backend only (np.random.seed and torch.manual_seed), the answer's recipe",
    imports=KERAS,
    threads=1,
)
def keras_seed_generator(broken: bool = False) -> DemoResult:
    keras = _keras()
    import torch

    result = DemoResult()
    python_state, numpy_state = random.getstate(), np.random.get_state()  # given back: other code shares them

    def numpy_and_backend() -> None:
        np.random.seed(0)
        torch.manual_seed(0)

    try:
        recipe = numpy_and_backend if broken else (lambda: keras.utils.set_random_seed(0))
        repeated = _repeats(recipe, keras)
        python_only = _repeats(lambda: random.seed(0), keras)
        answer_recipe = _repeats(numpy_and_backend, keras)
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)
    names = ("weights", "dropout", "flip", "rotation")
    result.check(
        "the seeding used (keras.utils.set_random_seed) repeats Keras' initial weights, dropout mask, flip and rotation "
        "exactly; NumPy's and torch's seeds alone repeat none of the weights, flip and rotation",
        all(repeated) and not (answer_recipe[0] or answer_recipe[2] or answer_recipe[3]),
        **{f"{name}_repeated": str(same) for name, same in zip(names, repeated, strict=True)},
        **{f"numpy_torch_{name}": str(same) for name, same in zip(names, answer_recipe, strict=True)},
    )
    result.check(
        "Python's random decides the initial weights, flip and rotation: seeding it alone repeats them",
        python_only[0] and python_only[2] and python_only[3],
        **{f"python_only_{name}": str(same) for name, same in zip(names, python_only, strict=True)},
    )
    result.text.append(
        "On the PyTorch backend an unseeded Dropout draws from torch's own generator (torch.manual_seed repeats it); on "
        "the TensorFlow backend, the notebook's, it draws its seed from the layer's SeedGenerator like the others."
    )
    return result


def _moved_statistics(model: Any, norms: list[Any], images: np.ndarray) -> int:
    """How many BatchNormalization layers' moving means change in a training step's forward pass: model(x,
    training=True), the call fit's train_step makes (the statistics move in the forward pass; no backward needed)."""
    import torch

    before = [_numpy(norm.moving_mean).copy() for norm in norms]
    with torch.no_grad():
        model(images, training=True)
    return sum(not np.array_equal(b, _numpy(norm.moving_mean)) for b, norm in zip(before, norms, strict=True))


@demo(
    "keras-bn-trainable-decides",
    "In Keras 3, trainable decides whether BatchNormalization updates, not training=False",
    "Checked with Keras 3 itself (PyTorch backend) on ResNet50(weights=None), through model(x, training=True), the call "
    "fit's training step makes: frozen (trainable=False) and built without training=False, it moves none of the 53 "
    "BatchNormalization layers' moving means; unfrozen, it moves all 53 although the base was called with "
    "training=False (the outer training=True overrides it); unfreezing all but the BatchNormalization layers moves none.",
    mistake="relying on base(x, training=False) to hold BatchNorm's statistics while fine-tuning the unfrozen base",
    imports=KERAS,
    threads=1,
)
def keras_bn_trainable_decides(broken: bool = False) -> DemoResult:
    keras = _keras()
    result = DemoResult()
    base = _resnet50_base()
    norms = [layer for layer in base.layers if isinstance(layer, keras.layers.BatchNormalization)]
    images = np.random.default_rng(0).uniform(-120, 130, (4, 32, 32, 3)).astype(np.float32)  # preprocess_input's range
    base.trainable = False
    frozen_no_flag = _moved_statistics(_notebook_model(base, training_flag=False), norms, images)
    model = _notebook_model(base)  # base(inputs, training=False), as the notebook builds it
    base.trainable = True
    flag_only = _moved_statistics(model, norms, images)
    if not broken:  # Keras 3's way: unfreeze the base, then freeze its BatchNormalization layers again
        for norm in norms:
            norm.trainable = False
    recipe = _moved_statistics(model, norms, images)
    result.check(
        "trainable decides: frozen without the flag, none of the BN layers moves in a training step; unfrozen, all move "
        "despite training=False; the fine-tuning step used moves none",
        frozen_no_flag == 0 and flag_only == len(norms) and recipe == 0,
        batchnorm_layers=len(norms),
        moved_frozen_without_flag=frozen_no_flag,
        moved_unfrozen_with_training_false=flag_only,
        moved_in_fine_tuning_step_used=recipe,
    )
    return result


@demo(
    "keras-nested-get-layer",
    "Keras 3 nests ResNet50 in the model: its layers are found through base_model",
    "Checked with Keras 3 itself (PyTorch backend): in the notebook's model, ResNet50(weights=None) called on the inputs "
    "is one layer of the outer model, so model.get_layer('conv5_block3_out') raises ValueError while "
    "base_model.get_layer finds it, and a Grad-CAM model built from base_model's own inputs gives its 2048 maps.",
    mistake="looking the target layer up on the outer model, model.get_layer('conv5_block3_out'), as standard Grad-CAM code does",
    imports=KERAS,
    threads=1,
)
def keras_nested_get_layer(broken: bool = False) -> DemoResult:
    keras = _keras()
    result = DemoResult()
    base = _resnet50_base()
    model = _notebook_model(base)

    def lookup(owner: Any) -> tuple[Any, str]:
        try:
            return owner.get_layer("conv5_block3_out"), ""
        except ValueError as error:
            return None, str(error).split(".")[0]

    target, error = lookup(model if broken else base)
    outer, outer_error = lookup(model)
    result.check(
        "the lookup used finds conv5_block3_out; the outer model, which lists ResNet50 as one layer, raises",
        target is not None and outer is None and model.get_layer(base.name) is base,
        found=str(target is not None),
        error=error or "none",
        outer_model_error=outer_error or "none",
        outer_layers=len(model.layers),
        base_layers=len(base.layers),
    )
    maps = None
    if target is not None:
        grad_model = keras.Model(base.input, [target.output, base.output])
        maps = _numpy(grad_model(np.zeros((1, 32, 32, 3), np.float32))[0])
    try:  # Keras 2's route: the outer inputs with the nested layer's output
        keras.Model(model.inputs, [base.get_layer("conv5_block3_out").output, model.output])
        mixed = "built"
    except ValueError as mixed_error:
        mixed = str(mixed_error)[:80]
    result.check(
        "a Grad-CAM model on base_model's inputs gives the (1, 1, 1, 2048) maps; mixing the outer inputs with them raises",
        maps is not None and maps.shape == (1, 1, 1, 2048) and mixed != "built",
        maps_shape=str(None if maps is None else maps.shape),
        outer_inputs_with_inner_layer=mixed,
    )
    return result


@demo(
    "keras-conv5-unfrozen",
    "Unfreezing the conv5 layers gives the notebook's 15.5M trainable parameters",
    "Checked with Keras 3 itself (PyTorch backend) on ResNet50(weights=None) and the notebook's head: setting trainable "
    "on exactly the layers Keras names conv5_* gives 15,503,114 trainable parameters, the notebook's 15.5M (keras-s7-q3), "
    "with every conv1-conv4 layer frozen; a training step then changes conv5's weights and leaves conv4's as they were.",
    mistake="unfreezing the whole base for fine-tuning",
    imports=KERAS,
    threads=1,
)
def keras_conv5_unfrozen(broken: bool = False) -> DemoResult:
    keras = _keras()
    result = DemoResult()
    base = _resnet50_base()
    model = _notebook_model(base)
    base.trainable = True
    for layer in base.layers:
        layer.trainable = broken or layer.name.startswith("conv5")
    trainable = sum(int(np.prod(weight.shape)) for weight in model.trainable_weights)
    early = ("conv1", "conv2", "conv3", "conv4")
    early_trainable = [layer.name for layer in base.layers if layer.trainable and layer.name.startswith(early)]
    result.check(
        "15.5M trainable (the notebook's figure, within 0.05M), none of it in conv1-conv4",
        abs(trainable - 15.5e6) < 0.05e6 and not early_trainable,
        trainable=trainable,
        notebook_figure="15.5M",
        conv1_to_conv4_layers_trainable=len(early_trainable),
    )
    conv4, conv5 = base.get_layer("conv4_block6_3_conv").kernel, base.get_layer("conv5_block3_3_conv").kernel
    before = _numpy(conv4).copy(), _numpy(conv5).copy()
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="sparse_categorical_crossentropy")
    model.train_on_batch(np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32), np.array([0, 1]))
    conv4_change, conv5_change = (float(np.abs(_numpy(k) - b).max()) for k, b in zip((conv4, conv5), before, strict=True))
    result.check(
        "one training step: conv5's last kernel changes, conv4's last kernel stays exactly as it was",
        conv5_change > 0 and conv4_change == 0,
        conv4_largest_change=conv4_change,
        conv5_largest_change=conv5_change,
    )
    return result


def _notebook_callbacks(keras: Any, checkpoint: str) -> list[Any]:
    """The notebook's three callbacks (keras-s6-q8), all watching validation accuracy."""
    callbacks = keras.callbacks
    return [
        callbacks.EarlyStopping(monitor="val_accuracy", patience=5, restore_best_weights=True),
        callbacks.ReduceLROnPlateau(monitor="val_accuracy", factor=0.5, patience=3),
        callbacks.ModelCheckpoint(checkpoint, monitor="val_accuracy", save_best_only=True, save_weights_only=True),
    ]


def _weights(model: Any) -> list[np.ndarray]:
    return [_numpy(variable).copy() for variable in model.weights]


def _weights_equal(one: list[np.ndarray], other: list[np.ndarray]) -> bool:
    return len(one) == len(other) and all(np.array_equal(a, b) for a, b in zip(one, other, strict=True))


@demo(
    "keras-early-stopping-epoch-30",
    "Best at epoch 25 of 30: EarlyStopping(patience=5) fires at epoch 30",
    "Checked with Keras 3 itself (PyTorch backend): a real 30-epoch fit of a small model with the notebook's callbacks, "
    "EarlyStopping(patience=5, restore_best_weights=True), ReduceLROnPlateau(factor=0.5, patience=3) and "
    "ModelCheckpoint(save_best_only=True) on val_accuracy, reading the notebook's validation curve (best, 49%, at epoch "
    "25, nothing better after; written into the logs by a callback placed first): EarlyStopping fires at epoch 30 and "
    "hands back epoch 25's weights, the rate halves after epoch 28, the checkpoint file holds epoch 25.",
    mistake="the answer's premise: validation accuracy kept improving to the last epoch",
    imports=KERAS,
    threads=1,
)
def keras_early_stopping_epoch_30(broken: bool = False) -> DemoResult:
    keras = _keras()
    result = DemoResult()
    rising = [0.105 + (0.49 - 0.105) * epoch / 24 for epoch in range(25)]  # epochs 1-25, best 0.49 at 25
    curve = rising + ([0.495, 0.50, 0.505, 0.51, 0.515] if broken else [0.48, 0.47, 0.485, 0.46, 0.475])

    class NotebookCurve(keras.callbacks.Callback):
        """Writes the notebook's validation accuracy into the logs before the other callbacks read them, and
        keeps a copy of the weights at each epoch's end (the expected values for the restore)."""

        def __init__(self) -> None:
            super().__init__()
            self.weights: list[list[np.ndarray]] = []

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            logs["val_accuracy"] = curve[epoch]
            self.weights.append(_weights(self.model))

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    features, labels = rng.normal(size=(64, 8)).astype(np.float32), rng.integers(0, 3, 64)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    recorder = NotebookCurve()
    with tempfile.TemporaryDirectory() as folder, _keras_to_numpy():  # EarlyStopping copies weights through NumPy
        checkpoint = os.path.join(folder, "best.weights.h5")
        stopping, plateau, saver = _notebook_callbacks(keras, checkpoint)
        history = model.fit(features, labels, validation_data=(features, labels), epochs=30, batch_size=64, verbose=0,
                            callbacks=[recorder, stopping, plateau, saver])  # fmt: skip
        saved = keras.models.clone_model(model)
        saved.load_weights(checkpoint)
        saved_weights = _weights(saved)
    final = _weights(model)
    restored_epoch = next((e + 1 for e, w in enumerate(recorder.weights) if _weights_equal(w, final)), 0)
    result.check(
        "best at epoch 25: EarlyStopping fires at epoch 30 and the model ends with epoch 25's weights",
        stopping.stopped_epoch + 1 == 30 and restored_epoch == 25,
        fired_at_epoch=stopping.stopped_epoch + 1 if stopping.stopped_epoch else "never",
        best_epoch=stopping.best_epoch + 1,
        epochs_run=len(history.history["loss"]),
        weights_restored_from_epoch=restored_epoch,
    )
    rates = [float(rate) for rate in history.history["learning_rate"]]
    halved = next((e + 1 for e, rate in enumerate(rates) if rate < rates[0]), 0)
    saved_epoch = next((e + 1 for e, w in enumerate(recorder.weights) if _weights_equal(w, saved_weights)), 0)
    result.check(
        "ReduceLROnPlateau halves the rate after 3 epochs without a new best (epochs 29-30 at half); the checkpoint holds epoch 25",
        halved == 29 and abs(rates[-1] - rates[0] / 2) < 1e-7 and saved_epoch == 25,
        first_epoch_at_lower_rate=halved,
        last_rate=rates[-1],
        checkpoint_epoch=saved_epoch,
    )
    return result


@demo(
    "keras-augmentation-in-model",
    "Augmentation layers inside the model draw fresh transforms every epoch",
    "Checked with Keras 3 itself (PyTorch backend): with RandomFlip and RandomRotation(0.1) as the model's first layers, "
    "a 2-epoch fit on 8 images hands the network different versions of every image in each epoch, and predict() hands "
    "it the originals. Whether this is faster on a GPU than CPU preprocessing is not measured here.",
    mistake="augmenting the dataset once before training and fitting on that fixed copy",
    imports=KERAS,
    threads=1,
)
def keras_augmentation_in_model(broken: bool = False) -> DemoResult:
    keras = _keras()
    layers = keras.layers
    result = DemoResult()
    seen: list[np.ndarray] = []

    class Seen(layers.Layer):
        """Passes its input on unchanged and keeps a copy: what the network's first trainable layer receives."""

        def call(self, inputs: Any) -> Any:
            seen.append(_numpy(inputs).copy())
            return inputs

    augment = [layers.RandomFlip("horizontal", seed=0), layers.RandomRotation(0.1, seed=1)]
    images = np.random.default_rng(0).random((8, 16, 16, 3), dtype=np.float32)
    labels = np.arange(8) % 2
    network = [Seen(), layers.Flatten(), layers.Dense(2, activation="softmax")]
    if broken:  # augmented once, up front; the model has no augmentation layers
        fixed = _numpy(keras.Sequential([keras.Input((16, 16, 3)), *augment])(images, training=True))
        model, inputs = keras.Sequential([keras.Input((16, 16, 3)), *network]), fixed
    else:
        model, inputs = keras.Sequential([keras.Input((16, 16, 3)), *augment, *network]), images
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(inputs, labels, epochs=2, batch_size=8, shuffle=False, verbose=0)
    first, second = seen[-2], seen[-1]
    changed = sum(not np.allclose(a, b) for a, b in zip(first, second, strict=True))
    augmented = sum(not np.allclose(a, b) for a, b in zip(first, images, strict=True))
    result.check(
        "each epoch the network receives new versions: at least 7 of the 8 images differ between epoch 1 and 2",
        changed >= 7 and augmented >= 7,
        images_changed_between_epochs=changed,
        epoch_1_images_augmented=augmented,
    )
    seen.clear()
    with _keras_to_numpy():
        model.predict(images, verbose=0)
    result.check(
        "predict() passes the originals on unchanged",
        len(seen) == 1 and np.array_equal(seen[0], images),
        predict_sees_originals=str(len(seen) == 1 and np.array_equal(seen[0], images)),
    )
    return result


def _frozen_features(base: Any, pixels: np.ndarray) -> np.ndarray:
    """The notebook's Phase 1 input pipeline up to the head: preprocess_input, then the frozen base in inference mode.

    A frozen base maps each image to fixed features (its BatchNormalization layers use their moving statistics:
    keras-bn-trainable-decides), so fitting the head on these features is fitting the notebook's Phase 1 model,
    without a ResNet50 pass per epoch."""
    import torch
    from keras.applications import resnet50

    base.trainable = False
    with torch.no_grad():
        return _numpy(base(resnet50.preprocess_input(pixels.copy()), training=False)).astype(np.float64)


def _relative_spread(features: np.ndarray) -> float:
    """How far the images' feature vectors lie from their mean, as a fraction of the mean's length."""
    centre = features.mean(axis=0)
    return float(np.linalg.norm(features - centre, axis=1).mean() / np.linalg.norm(centre))


@demo(
    "keras-unit-range-constant-features",
    "preprocess_input on [0, 1] pixels gives every image nearly the same features, and the head stays at chance",
    "Checked with Keras 3 itself (PyTorch backend) on ResNet50(weights=None), frozen, at the notebook's 32 pixels, and "
    "its head (Dropout 0.3, Dense 256, Dropout 0.3, Dense 10) fit by Adam(1e-3) for 10 epochs on 60 generated images: "
    "fed 0-255 pixels through preprocess_input, the images' features differ (about 26% from their mean) and the head "
    "fits 73% of its training images; fed pixels already divided by 255, every image's features lie within 0.2% of "
    "the mean and the head gives one class to all 60, 10%, its own training images included. The base's weights are "
    "random: what ImageNet's weights give at 32 pixels (the answer's cause) is not measured.",
    mistake="dividing by 255 first and then calling preprocess_input (the notebook's order)",
    imports=KERAS,
    threads=1,
)
def keras_unit_range_constant_features(broken: bool = False) -> DemoResult:
    keras = _keras()
    from cifar_core.data import make_synthetic

    result = DemoResult()
    data = make_synthetic(60, seed=0)  # (60, 32, 32, 3) uint8 RGB, 6 a class
    pixels = data.images.astype(np.float32)
    keras.utils.set_random_seed(0)
    features = _frozen_features(_resnet50_base(), pixels / 255 if broken else pixels)
    layers = keras.layers
    head = keras.Sequential([keras.Input((2048,)), layers.Dropout(0.3), layers.Dense(256, activation="relu"),
                             layers.Dropout(0.3), layers.Dense(10, activation="softmax")])  # fmt: skip
    head.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    head.fit(features.astype(np.float32), data.labels, epochs=10, batch_size=32, verbose=0)
    with _keras_to_numpy():
        predicted = head.predict(features.astype(np.float32), verbose=0).argmax(axis=1)
    spread = _relative_spread(features)
    accuracy = float((predicted == data.labels).mean())
    unit_cosine = features / np.linalg.norm(features, axis=1, keepdims=True)
    result.check(
        "the images' features differ (spread over 5% of their mean) and the head fit on them tells its training images "
        "apart (accuracy at least 25%, over 2.5 times chance, with at least 4 classes predicted)",
        spread > 0.05 and accuracy >= 0.25 and len(set(predicted.tolist())) >= 4,
        feature_spread_over_mean=spread,
        lowest_cosine_between_images=float((unit_cosine @ unit_cosine.T).min()),
        head_training_accuracy=accuracy,
        classes_predicted=len(set(predicted.tolist())),
        images=len(features),
    )
    return result


@demo(
    "keras-resizing-keeps-constant-features",
    "Resizing to 224 does not undo preprocess_input on [0, 1] pixels",
    "Checked with Keras 3 itself (PyTorch backend): the notebook's Phase 1 fix, Resizing(224, 224) before ResNet50"
    "(weights=None), frozen. Fed 0-255 pixels through preprocess_input, two generated images get features about 17% "
    "from their mean; fed pixels already divided by 255, within 0.3% of it, as at 32 pixels (keras-unit-range-constant-"
    "features): resizing interpolates nearly constant inputs into nearly constant inputs. The base's weights are "
    "random: whether frozen ImageNet features transfer to CIFAR-10 is not measured.",
    mistake="dividing by 255 first and then calling preprocess_input (the notebook's order), with the Resizing layer in place",
    imports=KERAS,
    threads=1,
)
def keras_resizing_keeps_constant_features(broken: bool = False) -> DemoResult:
    keras = _keras()
    import torch
    from keras.applications import ResNet50, resnet50

    from cifar_core.data import make_synthetic

    result = DemoResult()
    pixels = make_synthetic(2, seed=0).images.astype(np.float32)
    keras.utils.set_random_seed(0)
    inputs = keras.Input((32, 32, 3))
    base = ResNet50(weights=None, include_top=False, pooling="avg", input_shape=(224, 224, 3))
    base.trainable = False
    model = keras.Model(inputs, base(keras.layers.Resizing(224, 224)(inputs), training=False))
    fed = resnet50.preprocess_input((pixels / 255 if broken else pixels).copy())
    with torch.no_grad():
        features = _numpy(model(fed, training=False)).astype(np.float64)
    spread = _relative_spread(features)
    result.check(
        "after Resizing(224) the two images' features still differ: spread over 5% of their mean",
        spread > 0.05 and features.shape == (2, 2048),
        feature_spread_over_mean=spread,
        input_size_seen_by_base=str(base.input_shape[1:3]),
        features_shape=str(features.shape),
    )
    return result


def _dead_taps(kernel_grad: Any) -> Any:
    """Which (row, col) taps of a Keras conv kernel's gradient, shaped (kh, kw, in, out), are exactly zero for every
    input and output channel: weights that learnt nothing from the batch."""
    return kernel_grad.abs().amax(dim=(2, 3)) == 0


def _resnet9_dead_weights(images: np.ndarray, labels: np.ndarray) -> tuple[int, int]:
    """cifar_core's ResNet9 at 32 pixels: the weights of its 3x3 convs whose taps get no gradient, and its size."""
    import torch
    from torch import nn

    from cifar_core.models import ResNet9, count_parameters

    model = ResNet9().train()
    pixels = torch.from_numpy(images).permute(0, 3, 1, 2) / 255
    nn.functional.cross_entropy(model(pixels), torch.from_numpy(labels)).backward()
    dead = 0
    for conv in (m for m in model.modules() if isinstance(m, nn.Conv2d)):
        taps = conv.weight.grad.abs().amax(dim=(0, 1)) == 0  # (kh, kw): torch keeps taps last
        dead += int(taps.sum()) * conv.in_channels * conv.out_channels
    return dead, count_parameters(model)


@demo(
    "keras-resnet50-idle-at-32",
    "At 32 pixels a quarter of ResNet50's weights can never learn; a CIFAR network uses all of its own",
    "Checked with Keras 3 itself (PyTorch backend) on the notebook's model, ResNet50(weights=None) and its head, one "
    "backward pass of the cross-entropy on 4 generated 32-pixel images: 6.6M of the base's 23.5M trainable weights (28%) get a "
    "gradient of exactly zero, and redrawing them changes no output. Keras' shapes say why: conv5's three 3x3 kernels "
    "work on a 1x1 map, so their 8 outer taps only ever meet zero padding (3 x 8 x 512 x 512 = 6,291,456), and "
    "conv5's strided 1x1 convs read one of conv4's four positions (5 more taps of conv4's last 3x3 kernel). cifar_core's "
    "ResNet9, built for 32 pixels (6.6M weights, last maps 4x4), gets a gradient at every tap.",
    mistake="judging ResNet50 at the 224 pixels it was designed for, where every tap meets data, instead of at CIFAR's 32",
    imports=KERAS,
    threads=1,
)
def keras_resnet50_idle_at_32(broken: bool = False) -> DemoResult:
    keras = _keras()
    import torch
    from keras.applications import ResNet50, resnet50

    from cifar_core.data import make_synthetic

    result = DemoResult()
    side, count = (224, 1) if broken else (32, 4)  # one image at 224: a pass there costs about 0.3 s an image
    data = make_synthetic(4, seed=0)
    keras.utils.set_random_seed(0)
    base = ResNet50(weights=None, include_top=False, pooling="avg", input_shape=(side, side, 3))
    model = _notebook_model(base, side=side)  # base(x, training=False): BatchNorm on its moving statistics, as the notebook fine-tunes
    pixels = keras.ops.image.resize(data.images[:count].astype(np.float32), (side, side)) if broken else data.images
    images = torch.from_numpy(np.ascontiguousarray(resnet50.preprocess_input(_numpy(pixels).astype(np.float32))))
    outputs = model(images)
    keras.losses.sparse_categorical_crossentropy(torch.from_numpy(data.labels[:count]), outputs).mean().backward()
    convs = [layer for layer in base.layers if isinstance(layer, keras.layers.Conv2D)]
    dead = {layer.name: _dead_taps(layer.kernel.value.grad) for layer in convs}
    dead_weights = sum(int(dead[layer.name].sum()) * layer.kernel.shape[2] * layer.kernel.shape[3] for layer in convs)
    # The second route: Keras' own shape inference. A 3x3 'same' kernel on a 1x1 map meets data only at its centre.
    on_one_pixel = [layer for layer in convs if layer.kernel.shape[:2] == (3, 3) and tuple(layer.input.shape[1:3]) == (1, 1)]
    expected = sum(8 * layer.kernel.shape[2] * layer.kernel.shape[3] for layer in on_one_pixel)
    outer_dead = all(int(dead[layer.name].sum()) == 8 and not dead[layer.name][1, 1] for layer in on_one_pixel)
    moved, weights_moved = _redrawn_outputs_move(model, base, images, outputs.detach(), dead) if dead_weights else (0.0, 0.0)
    trainable = sum(int(np.prod(weight.shape)) for weight in base.trainable_weights)
    resnet9_dead, resnet9_size = _resnet9_dead_weights(data.images[:2], data.labels[:2])
    result.check(
        "at 32 pixels at least the outer taps of every 3x3 kernel on a 1x1 map (Keras' shapes: conv5's three, "
        "6,291,456 weights) get exactly zero gradient, over 25% of the base, and redrawing them changes no output; "
        "every tap of cifar_core's ResNet9 gets gradient",
        expected > 0
        and outer_dead
        and dead_weights >= expected
        and dead_weights / trainable > 0.25
        and moved < 1e-6
        and weights_moved > 0.5
        and resnet9_dead == 0,
        input_side=side,
        weights_with_zero_gradient=dead_weights,
        expected_from_shapes=expected,
        kernels_on_a_1x1_map=len(on_one_pixel),
        share_of_trainable=dead_weights / trainable,
        base_trainable=trainable,
        outputs_moved_by_redrawing_them=moved,
        redrawn_weights_moved=weights_moved,
        resnet9_weights_with_zero_gradient=resnet9_dead,
        resnet9_parameters=resnet9_size,
    )
    return result


def _redrawn_outputs_move(model: Any, base: Any, images: Any, outputs: Any, dead: dict[str, Any]) -> tuple[float, float]:
    """Redraw every weight that got no gradient at its kernel's scale: how far the model's outputs then move (largest
    change over the largest output), and how far the redrawn weights moved (the same measure on the kernels)."""
    import torch

    changed = 0.0
    with torch.no_grad():
        for name, taps in dead.items():
            if taps.any():
                kernel = base.get_layer(name).kernel.value
                before = kernel[taps].clone()
                kernel[taps] = torch.randn_like(before) * kernel.std()
                changed = max(changed, float((kernel[taps] - before).abs().max() / before.abs().max()))
        after = model(images)
    return float((after - outputs).abs().max() / outputs.abs().max()), changed
