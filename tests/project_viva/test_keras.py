"""Keras projects, read without TensorFlow: trainable parameters by the layer arithmetic (checked
against the same layers counted by hand, which is what model.summary() prints), the learning rate
of a schedule function, and the Keras detectors on defects and look-alikes."""

from tests.project_viva.scripts import kinds, line_of, run

HEAD = """\
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers
from tensorflow.keras.datasets import cifar10

(x_train, y_train), (x_test, y_test) = cifar10.load_data()
x_train = x_train.astype("float32") / 255.0
x_test = x_test.astype("float32") / 255.0
"""


def conv(c_in: int, c_out: int, k: int = 3) -> int:
    return k * k * c_in * c_out + c_out


def test_a_sequential_cnn_counts_like_model_summary():
    code = (
        HEAD
        + """
model = keras.Sequential([
    layers.Conv2D(32, 3, padding="same", activation="relu", input_shape=(32, 32, 3)),
    layers.BatchNormalization(),
    layers.MaxPooling2D(),
    layers.Conv2D(64, (3, 3), activation="relu"),
    layers.GlobalAveragePooling2D(),
    layers.Dropout(0.3),
    layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, epochs=12, batch_size=100, validation_split=0.1)
"""
    )
    analysis = run(code)
    expected = conv(3, 32) + 2 * 32 + conv(32, 64) + 64 * 10 + 10  # BatchNorm: gamma and beta train, the running pair does not
    facts = analysis.facts
    assert facts["params"] == expected and facts["framework"] == "keras" and facts["model_class"] == "Sequential"
    assert facts["optimizer"] == {"name": "Adam", "lr": 0.001, "momentum": None, "weight_decay": 0.0}
    assert (facts["epochs"], facts["batch_size_train"], facts["loss"]) == (12, 100, "SparseCategoricalCrossentropy")
    assert facts["uses_batchnorm"] and facts["uses_dropout"] and facts["lr_by_epoch"] == [0.001] * 12
    assert analysis.findings == []  # validation_split holds out training data: no test-set selection
    assert [row["output_shape"] for row in analysis.layers][:3] == [[1, 32, 32, 32], [1, 32, 32, 32], [1, 16, 16, 32]]


def test_a_functional_residual_model_counts_a_shared_layer_once():
    code = (
        HEAD
        + """
inputs = keras.Input(shape=(32, 32, 3))
stem = layers.Conv2D(16, 3, padding="same")(inputs)
shared = layers.Conv2D(16, 3, padding="same")
x = shared(stem)
x = shared(x)
x = layers.add([x, stem])
x = layers.Concatenate()([x, stem])
x = layers.GlobalAveragePooling2D()(x)
outputs = layers.Dense(10)(x)
model = keras.Model(inputs, outputs)
model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.9), loss="categorical_crossentropy")
model.fit(x_train, y_train, epochs=3)
"""
    )
    facts = run(code).facts
    assert facts["params"] == conv(3, 16) + conv(16, 16) + 32 * 10 + 10
    assert facts["model_class"] == "Model" and facts["optimizer"]["momentum"] == 0.9 and facts["batch_size_train"] == 32


def test_a_frozen_application_base_trains_only_the_head():
    code = (
        HEAD
        + """
base = keras.applications.ResNet50(weights="imagenet", include_top=False, input_shape=(32, 32, 3), pooling="avg")
base.trainable = False
model = keras.Sequential([base, layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(x_train, y_train, epochs=2, validation_split=0.1)
"""
    )
    assert run(code).facts["params"] == 2048 * 10 + 10


def test_a_schedule_function_is_evaluated_per_epoch():
    code = (
        HEAD
        + """
def step_decay(epoch, lr):
    return 0.01 * (0.5 ** (epoch // 4))


model = keras.Sequential([layers.Flatten(input_shape=(32, 32, 3)), layers.Dense(10)])
model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="sparse_categorical_crossentropy")
model.fit(x_train, y_train, epochs=10, callbacks=[keras.callbacks.LearningRateScheduler(step_decay)])
"""
    )
    facts = run(code).facts
    assert facts["lr_by_epoch"] == [0.01 * 0.5 ** (e // 4) for e in range(10)]
    assert facts["scheduler"] == {"name": "LearningRateScheduler", "stepped": "per_epoch"}


MODEL = """
model = keras.Sequential([layers.Flatten(input_shape=(32, 32, 3)), layers.Dense(10, activation="{activation}")])
model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits={logits}))
"""


def test_softmax_with_from_logits_is_found_at_the_last_layer():
    code = HEAD + MODEL.format(activation="softmax", logits=True) + "model.fit(x_train, y_train, epochs=2, validation_split=0.1)\n"
    assert kinds(run(code)) == {"keras_softmax_from_logits": [line_of(code, "layers.Dense(10, activation")]}


def test_softmax_without_from_logits_and_logits_with_it_are_right():
    for activation, logits in (("softmax", False), ("linear", True)):
        code = HEAD + MODEL.format(activation=activation, logits=logits) + "model.fit(x_train, y_train, epochs=2, validation_split=0.1)\n"
        assert run(code).findings == []


def test_keeping_the_best_epoch_on_the_test_set_is_found_at_the_callback():
    fit = "keep = keras.callbacks.ModelCheckpoint('best.keras', monitor='val_accuracy', save_best_only=True)\n"
    fit += "model.fit(x_train, y_train, epochs=5, validation_data=(x_test, y_test), callbacks=[keep])\n"
    code = HEAD + MODEL.format(activation="softmax", logits=False) + fit
    assert kinds(run(code)) == {"selection_on_test_set": [line_of(code, "keep = keras.callbacks.ModelCheckpoint")]}
    assert run(code).facts["selection_on_test_set"] is True


def test_watching_the_test_set_without_keeping_the_best_is_not_selection():
    fit = "model.fit(x_train, y_train, epochs=5, validation_data=(x_test, y_test))\n"
    assert run(HEAD + MODEL.format(activation="softmax", logits=False) + fit).findings == []


def test_preprocess_input_on_pixels_already_divided_by_255_is_found():
    code = HEAD + "from tensorflow.keras.applications.resnet50 import preprocess_input\n\nx_train = preprocess_input(x_train)\n"
    code += MODEL.format(activation="softmax", logits=False) + "model.fit(x_train, y_train, epochs=2, validation_split=0.1)\n"
    assert kinds(run(code)) == {"keras_preprocess_on_unit_range": [line_of(code, "x_train = preprocess_input(x_train)")]}


def test_preprocess_input_on_raw_pixels_is_right():
    code = HEAD.replace(" / 255.0", "") + "from tensorflow.keras.applications.resnet50 import preprocess_input\n\n"
    code += "x_train = preprocess_input(x_train)\n" + MODEL.format(activation="softmax", logits=False)
    code += "model.fit(x_train, y_train, epochs=2, validation_split=0.1)\n"
    assert run(code).findings == []
