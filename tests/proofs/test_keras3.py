"""The keras3 family: demos that check the Keras notebook's items with Keras 3 itself (PyTorch backend).

Registry: a demo's declared libraries are imported by `run` before it starts (and a missing one is a skip
naming it); loading the demos imports no Keras. Attacks: each breaks Keras the way the item's answer (or
the misconception its note corrects) says it works, and the item's claim check must then fail."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import proofs.demos.keras3  # noqa: F401 - sets KERAS_BACKEND=torch before anything here imports Keras
from proofs.registry import Demo, DemoResult, SkipDemo, run
from tests.proofs.test_attacks import claim_passes

REPO_ROOT = Path(__file__).resolve().parents[2]
keras = pytest.importorskip("keras", reason="requirements.txt installs keras; the keras3 demos skip without it")


def _python(code: str, **env: str) -> str:
    environment = {**os.environ, **env}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=environment, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


def _demo(function, imports: tuple[str, ...] = ()) -> Demo:
    return Demo("t", "t", "t", "t", (), function, "m", imports=imports)


def test_loading_every_demo_imports_no_keras():
    code = "import sys\nfrom proofs.catalogue import all_demos\nall_demos()\nprint('keras' in sys.modules)"
    assert _python(code) == "False"


def test_declared_libraries_are_imported_before_the_demo_runs(monkeypatch):
    monkeypatch.delitem(sys.modules, "colorsys", raising=False)
    seen = []

    def function(broken: bool = False) -> DemoResult:
        seen.append("colorsys" in sys.modules)
        result = DemoResult()
        result.check("ran", True)
        return result

    assert run(_demo(function, ("colorsys",))).passed and seen == [True]


def test_a_missing_library_is_a_skip_naming_it():
    outcome = run(_demo(lambda broken=False: DemoResult(), ("no_such_library_here",)))
    assert outcome.skipped and "needs no_such_library_here" in outcome.skipped and "pip install" in outcome.skipped


@pytest.mark.parametrize("broken", [False, True])
def test_skip_demo_is_a_skip_not_a_failure(broken):
    def function(broken: bool = False) -> DemoResult:
        raise SkipDemo("Keras was already imported with the jax backend")

    outcome = run(_demo(function), broken=broken)
    assert outcome.skipped == "Keras was already imported with the jax backend" and outcome.error is None


def test_keras_imported_with_another_backend_skips_with_the_reason(monkeypatch):
    from proofs.catalogue import get_demo

    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")  # as if Keras had been imported with KERAS_BACKEND=jax
    for broken in (False, True):
        outcome = run(get_demo("keras-flip-training-flag"), broken=broken)
        assert "already imported in this process with the jax backend" in outcome.skipped and outcome.error is None


def test_keras3_demos_leave_the_learners_home_alone(tmp_path):
    """KERAS_HOME points at a temporary folder unless set: ~/.keras is neither read (a channels_first keras.json
    there would change the demos) nor written (a read-only home does not matter)."""
    code = "from proofs.catalogue import get_demo\nfrom proofs.registry import run\nprint(run(get_demo('keras-flip-training-flag')).passed)"
    environment = {k: v for k, v in os.environ.items() if k not in ("KERAS_HOME", "KERAS_BACKEND")}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env={**environment, "HOME": str(tmp_path)}, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "True" and not (tmp_path / ".keras").exists()


# Attacks: Keras made to behave as the answer (or the corrected belief) says.


def test_s3_q1_a_preprocess_input_that_rescales_unit_pixels_itself(monkeypatch):
    from keras.applications import resnet50

    original = resnet50.preprocess_input
    monkeypatch.setattr(resnet50, "preprocess_input", lambda x: original(x * 255 if x.max() <= 1 else x))
    assert not claim_passes("keras-s3-q1-normalize-0-1-instead-1")


def test_s3_q1_a_tf_mode_preprocess_input(monkeypatch):
    from keras.applications import resnet50

    monkeypatch.setattr(resnet50, "preprocess_input", lambda x: x / 127.5 - 1)
    assert not claim_passes("keras-s3-q1-normalize-0-1-instead-1")


def test_s4_q1_a_rotation_factor_taken_in_radians(monkeypatch):
    rotation = keras.layers.RandomRotation
    monkeypatch.setattr(keras.layers, "RandomRotation", lambda factor, **kw: rotation(factor / (2 * np.pi), **kw))
    assert not claim_passes("keras-s4-q1-augmentations-applied-parameters")


@pytest.mark.parametrize("forced", [True, False])
def test_s4_q4_a_flip_that_ignores_the_flag(monkeypatch, forced):
    from keras.src.layers.preprocessing.image_preprocessing.random_flip import RandomFlip

    call = RandomFlip.call
    monkeypatch.setattr(RandomFlip, "call", lambda self, data, training=True: call(self, data, training=forced))
    assert not claim_passes("keras-s4-q4-training-true-control-augmentation-behavior")


def _fit_batch_order(seed) -> np.ndarray:
    """The order in which fit(shuffle=True) hands 32 numbered samples to the model, after `seed()`."""
    import warnings

    import torch

    seen = []

    class Recorder(keras.layers.Layer):
        def call(self, inputs):
            if inputs.device.type != "meta":  # Keras infers output shapes with a pass on the meta device first
                seen.append(inputs.detach()[:, 0].clone())
            return inputs

    seed()
    model = keras.Sequential([keras.Input((1,)), Recorder(), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    samples = np.arange(32, dtype=np.float32)[:, None]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # Keras' NumPy conversion on NumPy 2.4
        model.fit(samples, np.zeros(32, dtype=np.float32), batch_size=8, epochs=1, shuffle=True, verbose=0)
    return torch.cat(seen).numpy()


def test_s1_q5_note_fit_shuffles_with_the_backends_generator_not_numpys():
    """The note's correction of 'NumPy controls data shuffling': on the PyTorch backend fit's shuffle follows
    torch's seed, and NumPy's seed does not repeat it (on TensorFlow it is tf.random.shuffle)."""
    import torch

    def numpy_seed():
        np.random.seed(0)

    def torch_seed():
        torch.manual_seed(0)

    assert not np.array_equal(_fit_batch_order(numpy_seed), _fit_batch_order(numpy_seed))
    assert np.array_equal(_fit_batch_order(torch_seed), _fit_batch_order(torch_seed))


def test_s1_q5_a_seed_generator_that_follows_numpy(monkeypatch):
    from keras.src.random import seed_generator

    monkeypatch.setattr(seed_generator, "make_default_seed", lambda: int(np.random.randint(1, int(1e9))))
    assert not claim_passes("keras-s1-q5-set-random-seeds-both-numpy")


def test_s5_q6_batchnorm_that_ignores_trainable_as_the_answer_says(monkeypatch):
    from keras.src.layers.normalization.batch_normalization import BatchNormalization

    call = BatchNormalization.call

    def updating_while_frozen(self, inputs, training=None, mask=None):
        trainable = self._trainable
        self._trainable = True
        try:
            return call(self, inputs, training=training, mask=mask)
        finally:
            self._trainable = trainable

    monkeypatch.setattr(BatchNormalization, "call", updating_while_frozen)
    assert not claim_passes("keras-s5-q6-use-training-false-calling-base")


def test_s5_q6_a_graph_flag_that_holds_as_the_old_note_says(monkeypatch):
    from keras.src.models import functional

    def keep_graph_flags(operation, **context):
        return lambda *args, **kwargs: operation(*args, **{**{k: v for k, v in context.items() if v is not None}, **kwargs})

    monkeypatch.setattr(functional, "operation_fn", keep_graph_flags)
    assert not claim_passes("keras-s5-q6-use-training-false-calling-base")


def test_s9_q4_a_get_layer_that_searches_nested_models(monkeypatch):
    from keras.src.models.functional import Functional

    get_layer = Functional.get_layer

    def deep(self, name=None, index=None):
        try:
            return get_layer(self, name, index)
        except ValueError:
            for layer in self.layers:
                if isinstance(layer, Functional):
                    return deep(layer, name, index)
            raise

    monkeypatch.setattr(Functional, "get_layer", deep)
    assert not claim_passes("keras-s9-q4-standard-grad-cam-fail-require")


def test_s7_q6_an_early_stopping_that_waits_one_epoch_more(monkeypatch):
    from keras.src.callbacks.early_stopping import EarlyStopping

    init = EarlyStopping.__init__
    monkeypatch.setattr(EarlyStopping, "__init__", lambda self, **kw: init(self, **{**kw, "patience": kw["patience"] + 1}))
    assert not claim_passes("keras-s7-q6-training-run-all-30-epochs")


def test_s7_q6_no_restore_unless_it_fires_early(monkeypatch):
    from keras.src.callbacks.early_stopping import EarlyStopping

    monkeypatch.setattr(EarlyStopping, "on_train_end", lambda self, logs=None: None)
    assert not claim_passes("keras-s7-q6-training-run-all-30-epochs")


def test_s4_q7_augmentation_that_draws_the_same_transform_every_call(monkeypatch):
    from keras.src.random.seed_generator import SeedGenerator

    monkeypatch.setattr(SeedGenerator, "next", lambda self, ordered=True: self.state.value * 1)  # never advances
    assert not claim_passes("keras-s4-q7-augmentations-applied-keras-layer-instead")


def _unit_range_first(monkeypatch):
    """preprocess_input as the notebook fed it: whatever comes in is divided by 255 first."""
    from keras.applications import resnet50

    original = resnet50.preprocess_input
    monkeypatch.setattr(resnet50, "preprocess_input", lambda x: original(x / 255))


@pytest.mark.parametrize("item", ["keras-s6-q1-frozen-training-fail-10-accuracy", "keras-s6-q6-resizing-still-result-10-accuracy"])
def test_s6_the_notebooks_order_inside_preprocess_input(monkeypatch, item):
    _unit_range_first(monkeypatch)
    assert not claim_passes(item)


def test_s6_q1_a_head_that_cannot_learn(monkeypatch):
    """The check's head half: with a learning rate of 0 the head keeps its random start and cannot fit the images."""
    adam = keras.optimizers.Adam
    monkeypatch.setattr(keras.optimizers, "Adam", lambda learning_rate=0.001, **kw: adam(0.0, **kw))
    assert not claim_passes("keras-s6-q1-frozen-training-fail-10-accuracy")


def test_s6_q6_a_resizing_that_hands_the_base_one_image(monkeypatch):
    """The check's feature half: a Resizing that gives every image the first one's pixels leaves nothing to tell apart."""
    from keras import ops

    resizing = keras.layers.Resizing

    class SameImage(resizing):
        def call(self, inputs):
            resized = super().call(inputs)
            return ops.zeros_like(resized) + resized[:1]

    monkeypatch.setattr(keras.layers, "Resizing", SameImage)
    assert not claim_passes("keras-s6-q6-resizing-still-result-10-accuracy")
