"""Keras/TensorFlow projects, read statically (TensorFlow is not installed here, so nothing is
run): the model's layers from Sequential([...]), model.add(...) or the functional API, trainable
parameters from the layer arithmetic, compile() and fit() arguments, callbacks, and the learning
rate of every epoch where the schedule is arithmetic the reader can follow."""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from typing import Any

from project_viva.findings import Finding, finding
from project_viva.interpreter import CallEvent, Walker
from project_viva.values import NOTHING, AttrOf, DefRef, Element, Known, Obj, Seq, Unknown, Value, literal, tail

LOSS_CLASSES = {
    "categorical_crossentropy": "CategoricalCrossentropy", "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy",
    "binary_crossentropy": "BinaryCrossentropy", "mse": "MeanSquaredError", "mean_squared_error": "MeanSquaredError",
}  # fmt: skip
KERAS_OPTIMIZERS = {  # name -> (class, default learning rate)
    "adam": ("Adam", 0.001), "sgd": ("SGD", 0.01), "rmsprop": ("RMSprop", 0.001), "adamw": ("AdamW", 0.001),
    "adagrad": ("Adagrad", 0.001), "adadelta": ("Adadelta", 0.001), "nadam": ("Nadam", 0.001), "adamax": ("Adamax", 0.001),
}  # fmt: skip
GENERATOR_AUGMENTATIONS = ("rotation_range", "width_shift_range", "height_shift_range", "shear_range", "zoom_range", "channel_shift_range",
                           "brightness_range", "horizontal_flip", "vertical_flip")  # fmt: skip
AUGMENTATION_LAYERS = {
    "RandomFlip",
    "RandomRotation",
    "RandomZoom",
    "RandomTranslation",
    "RandomContrast",
    "RandomCrop",
    "RandomBrightness",
}
# include_top=False bases: (trainable parameters, all parameters, output channels, downsampling)
APPLICATIONS = {
    "ResNet50": (23_534_592, 23_587_712, 2048, 32), "VGG16": (14_714_688, 14_714_688, 512, 32), "VGG19": (20_024_384, 20_024_384, 512, 32),
    "MobileNetV2": (2_223_872, 2_257_984, 1280, 32), "ResNet101": (42_552_832, 42_658_176, 2048, 32),
}  # fmt: skip


class LayerError(ValueError):
    """A layer the arithmetic cannot follow (its message says which and why)."""


@dataclass
class Shape:
    dims: tuple[int, ...]  # without the batch dimension, channels last


def _int_pair(value: Any) -> tuple[int, int]:
    if isinstance(value, int):
        return value, value
    if isinstance(value, list | tuple) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return value[0], value[1]
    raise LayerError(f"a size of {value!r}")


def _arg(layer: Obj, position: int, name: str, default: Any = NOTHING) -> Any:
    value = layer.arg(position, name)
    if value is None:
        if default is NOTHING:
            raise LayerError(f"{tail(layer.callee)} without {name}")
        return default
    held = literal(value)
    if held is NOTHING:
        raise LayerError(f"{tail(layer.callee)}'s {name} is set at run time")
    return held


def _spatial(size: int, kernel: int, stride: int, padding: str) -> int:
    return math.ceil(size / stride) if padding == "same" else (size - kernel) // stride + 1


def layer_step(layer: Obj, shape: Shape, frozen: bool) -> tuple[Shape, int, int]:
    """(output shape, trainable parameters, all parameters) of one layer."""
    name = tail(layer.callee)
    dims = shape.dims
    if name in ("Conv2D", "SeparableConv2D", "DepthwiseConv2D"):
        return _conv(layer, name, dims, frozen)
    if name == "Dense":
        units = _arg(layer, 0, "units")
        bias = _arg(layer, 99, "use_bias", True)
        count = dims[-1] * units + (units if bias else 0)
        return Shape((*dims[:-1], units)), 0 if frozen else count, count
    if name == "BatchNormalization":
        channels = dims[-1]
        trainable = channels * (int(_arg(layer, 99, "center", True)) + int(_arg(layer, 99, "scale", True)))
        return shape, 0 if frozen else trainable, trainable + 2 * channels
    if name in ("MaxPooling2D", "AveragePooling2D", "MaxPool2D", "AvgPool2D"):
        pool = _int_pair(_arg(layer, 0, "pool_size", 2))
        strides = _int_pair(_arg(layer, 1, "strides", None) or pool)
        padding = _arg(layer, 2, "padding", "valid")
        h, w = (_spatial(d, p, s, padding) for d, p, s in zip(dims[:2], pool, strides, strict=True))
        return Shape((h, w, dims[2])), 0, 0
    if name in ("GlobalAveragePooling2D", "GlobalMaxPooling2D", "GlobalAvgPool2D", "GlobalMaxPool2D"):
        return Shape((dims[-1],)), 0, 0
    if name == "Flatten":
        return Shape((math.prod(dims),)), 0, 0
    if name == "Resizing":
        return Shape((_arg(layer, 0, "height"), _arg(layer, 1, "width"), dims[-1])), 0, 0
    if name == "ZeroPadding2D":
        pad = _int_pair(_arg(layer, 0, "padding", 1))
        return Shape((dims[0] + 2 * pad[0], dims[1] + 2 * pad[1], dims[2])), 0, 0
    if name == "RandomCrop":
        return Shape((_arg(layer, 0, "height"), _arg(layer, 1, "width"), dims[-1])), 0, 0
    if name in APPLICATIONS:
        trainable, total, channels, down = APPLICATIONS[name]
        pooled = literal(layer.kwargs.get("pooling", Known(None)))
        out = (channels,) if pooled in ("avg", "max") else (max(1, dims[0] // down), max(1, dims[1] // down), channels)
        return Shape(out), 0 if frozen else trainable, total
    if name in ("Dropout", "SpatialDropout2D", "Activation", "ReLU", "LeakyReLU", "Softmax", "Rescaling", "GaussianNoise", "InputLayer",
                "Lambda", *AUGMENTATION_LAYERS - {"RandomCrop"}):  # fmt: skip
        return shape, 0, 0
    raise LayerError(f"a {name} layer")


def _conv(layer: Obj, name: str, dims: tuple[int, ...], frozen: bool) -> tuple[Shape, int, int]:
    depthwise = name == "DepthwiseConv2D"
    filters = dims[-1] * _arg(layer, 99, "depth_multiplier", 1) if depthwise else _arg(layer, 0, "filters")
    kernel = _int_pair(_arg(layer, 0 if depthwise else 1, "kernel_size"))
    strides = _int_pair(_arg(layer, 1 if depthwise else 2, "strides", 1))
    padding = _arg(layer, 2 if depthwise else 3, "padding", "valid")
    bias = _arg(layer, 99, "use_bias", True)
    c_in = dims[-1]
    if name == "SeparableConv2D":
        count = kernel[0] * kernel[1] * c_in + c_in * filters
    elif depthwise:
        count = kernel[0] * kernel[1] * filters
    else:
        count = kernel[0] * kernel[1] * c_in * filters
    count += filters if bias else 0
    h, w = (_spatial(d, k, s, padding) for d, k, s in zip(dims[:2], kernel, strides, strict=True))
    return Shape((h, w, filters)), 0 if frozen else count, count


# -- finding the model and its layers ------------------------------------------------------------


def keras_calls(walker: Walker, *names: str) -> list[CallEvent]:
    return [e for e in walker.calls if tail(e.obj.callee) in names]


def method_events(walker: Walker, name: str) -> list[CallEvent]:
    return [e for e in walker.calls if isinstance(e.obj.callee, AttrOf) and e.obj.callee.name == name]


FIT_METHODS = ("fit", "fit_generator")
MERGES = {"Add", "add", "Concatenate", "concatenate", "Multiply", "multiply", "Average", "average", "Subtract", "subtract"}


def fit_events(walker: Walker) -> list[CallEvent]:
    """model.fit(...) / fit_generator(...) calls, not ImageDataGenerator.fit(x) (which only computes statistics)."""
    return [
        e for name in FIT_METHODS for e in method_events(walker, name)
        if not (isinstance(e.obj.callee.base, Obj) and tail(e.obj.callee.base.callee) == "ImageDataGenerator")
    ]  # fmt: skip


def the_model(walker: Walker) -> tuple[Obj | None, CallEvent | None]:
    """The model that is compiled and fitted, and where it was built."""
    for event in method_events(walker, "compile") + fit_events(walker):
        model = event.obj.callee.base
        if isinstance(model, Obj):
            built = next((e for e in walker.calls if e.obj is model), None)
            return model, built
    return None, None


def sequential_layers(walker: Walker, model: Obj) -> tuple[list[Obj], Any]:
    """A Sequential's layers in order (model.add(...) included) and its input shape."""
    items = model.args[0].items if model.args and isinstance(model.args[0], Seq) else []
    items = [i for i in items if isinstance(i, Obj)]
    items += [e.obj.args[0] for e in method_events(walker, "add") if e.obj.callee.base is model and e.obj.args]
    layers = [i for i in _flatten(items) if isinstance(i, Obj)]
    given = next((literal(layer.kwargs["input_shape"]) for layer in layers if "input_shape" in layer.kwargs), NOTHING)
    inputs = [layer for layer in layers if tail(layer.callee) in ("Input", "InputLayer")]
    if inputs:
        given = literal(inputs[0].arg(0, "shape") or inputs[0].kwargs.get("input_shape"))
    return [layer for layer in layers if tail(layer.callee) not in ("Input", "InputLayer")], given


def _flatten(items: list[Value]) -> list[Value]:
    """Layers, with a nested Sequential (a data-augmentation block) opened up."""
    out: list[Value] = []
    for item in items:
        if isinstance(item, Obj) and tail(item.callee) == "Sequential" and item.args and isinstance(item.args[0], Seq):
            out += _flatten(item.args[0].items)
        else:
            out.append(item)
    return out


def frozen_objects(walker: Walker) -> set[int]:
    """ids of layers or bases set `trainable = False`."""
    frozen = set()
    for event in walker.assigns:
        if isinstance(event.target, ast.Attribute) and event.target.attr == "trainable" and literal(event.value) is False:
            frozen.add(id(event.base))
    return frozen


@dataclass
class Graph:
    """A functional model read backwards from its output: each layer object counted once (a shared
    layer has one set of weights), shapes computed from the Input forward."""

    frozen: set[int]
    default_input: tuple[int, ...]
    shapes: dict[int, Shape]
    counted: dict[int, tuple[int, int]]
    rows: list[dict[str, Any]]

    def shape_of(self, tensor: Value, depth: int = 0) -> Shape:
        if id(tensor) in self.shapes:
            return self.shapes[id(tensor)]
        if depth > 400:
            raise LayerError("a graph deeper than the reader follows")
        shape = self._compute(tensor, depth)
        self.shapes[id(tensor)] = shape
        return shape

    def _compute(self, tensor: Value, depth: int) -> Shape:
        if isinstance(tensor, Obj) and tail(tensor.callee) == "Input":
            given = literal(tensor.arg(0, "shape"))
            return Shape(tuple(given) if isinstance(given, list | tuple) else self.default_input)
        if isinstance(tensor, Obj) and tail(tensor.callee) in MERGES and not isinstance(tensor.callee, Obj):
            return self._merge(tail(tensor.callee), tensor.args[0] if tensor.args else None, depth)  # add([a, b])
        if isinstance(tensor, AttrOf) and tensor.name == "output" and isinstance(tensor.base, Obj):
            return self._apply(tensor.base, None, depth)  # base.output of an application
        if isinstance(tensor, Obj) and isinstance(tensor.callee, Obj):  # layer(x)
            layer = tensor.callee
            if tail(layer.callee) in MERGES:
                return self._merge(tail(layer.callee), tensor.args[0] if tensor.args else None, depth)
            return self._apply(layer, tensor.args[0] if tensor.args else None, depth)
        raise LayerError(f"a tensor the reader cannot follow ({type(tensor).__name__})")

    def _merge(self, name: str, inputs: Value | None, depth: int) -> Shape:
        parts = inputs.items if isinstance(inputs, Seq) else []
        if not parts:
            raise LayerError(f"{name} of unknown inputs")
        shapes = [self.shape_of(p, depth + 1) for p in parts]
        if name.lower() == "concatenate":
            return Shape((*shapes[0].dims[:-1], sum(sh.dims[-1] for sh in shapes)))
        return shapes[0]

    def _apply(self, layer: Obj, inputs: Value | None, depth: int) -> Shape:
        if inputs is None:
            given = literal(layer.kwargs.get("input_shape", Known(None)))
            shape = Shape(tuple(given) if isinstance(given, list | tuple) else self.default_input)
        else:
            shape = self.shape_of(inputs, depth + 1)
        out, trainable, total = layer_step(layer, shape, id(layer) in self.frozen)
        if id(layer) not in self.counted:
            self.counted[id(layer)] = (trainable, total)
            name = tail(layer.callee)
            self.rows.append({"name": name, "type": name, "depth": 1, "output_shape": [1, *out.dims], "params": total,
                              "trainable": trainable, "leaf": True})  # fmt: skip
        return out


def count_parameters(walker: Walker, model: Obj, default_input: tuple[int, ...]) -> tuple[int, list[dict[str, Any]], list[Obj]]:
    """(trainable parameters, layer rows, layers) by the layer arithmetic."""
    frozen = frozen_objects(walker)
    if tail(model.callee) == "Sequential":
        layers, given = sequential_layers(walker, model)
        shape = Shape(tuple(given) if isinstance(given, list | tuple) else default_input)
        total, rows = 0, []
        for layer in layers:
            shape, trainable, count = layer_step(layer, shape, id(layer) in frozen)
            total += trainable
            rows.append({"name": tail(layer.callee), "type": tail(layer.callee), "depth": 1, "output_shape": [1, *shape.dims],
                         "params": count, "trainable": trainable, "leaf": True})  # fmt: skip
        return total, rows, layers
    outputs = model.arg(1, "outputs")
    if outputs is None:
        raise LayerError(f"a {tail(model.callee)} model without outputs the reader can follow")
    graph = Graph(frozen, default_input, {}, {}, [])
    graph.shape_of(outputs)
    return sum(t for t, _ in graph.counted.values()), graph.rows, []


# -- compile, fit, callbacks -----------------------------------------------------------------------


def optimizer_fact(compile_event: CallEvent | None) -> dict[str, Any] | None:
    if compile_event is None:
        return None
    given = compile_event.obj.arg(0, "optimizer")
    held = literal(given)
    if isinstance(held, str):
        name, lr = KERAS_OPTIMIZERS.get(held.lower(), (held, None))
        return {"name": name, "lr": lr, "momentum": 0.0 if name == "SGD" else None, "weight_decay": 0.0}
    if isinstance(given, Obj):
        name = tail(given.callee)
        default = KERAS_OPTIMIZERS.get(name.lower(), (name, 0.001))[1]
        rate = given.arg(0, "learning_rate") or given.kwargs.get("lr")
        lr = literal(rate) if rate is not None else default
        momentum = literal(given.kwargs.get("momentum", Known(0.0 if name == "SGD" else None)))
        decay = literal(given.kwargs.get("weight_decay", Known(0.0)))
        return {
            "name": name, "lr": lr if isinstance(lr, int | float) else None, "momentum": momentum if momentum is not NOTHING else None,
            "weight_decay": decay if isinstance(decay, int | float) else 0.0,
        }  # fmt: skip
    return None


def _callbacks(fit: CallEvent | None) -> list[Obj]:
    value = fit.obj.kwargs.get("callbacks") if fit else None
    return [c for c in value.items if isinstance(c, Obj)] if isinstance(value, Seq) else []


def data_role(value: Value | None, depth: int = 0) -> str:
    """'train', 'test', 'train-part', 'val-part' or 'unknown' for arrays from cifar10.load_data(),
    through arithmetic, astype(), slicing and train_test_split."""
    if value is None or depth > 12:
        return "unknown"
    if isinstance(value, Element):
        base = value.base
        if isinstance(base, Element) and isinstance(base.base, Obj) and tail(base.base.callee) == "load_data":
            return "train" if base.index == 0 else "test"
        if isinstance(base, Obj) and tail(base.callee) == "train_test_split":
            whole = data_role(base.args[0] if base.args else None, depth + 1)
            part = "train-part" if value.index in (0, 2) else "val-part"
            return part if whole in ("train", "unknown") else whole
        return data_role(base, depth + 1)
    if isinstance(value, Unknown):
        roles = [data_role(part, depth + 1) for part in value.parts]
        return next((r for r in roles if r != "unknown"), "unknown")
    if isinstance(value, Obj) and isinstance(value.callee, AttrOf):
        return data_role(value.callee.base, depth + 1)
    if isinstance(value, Obj) and tail(value.callee) in ("preprocess_input", "array", "asarray", "flow") and value.args:
        return data_role(value.args[0], depth + 1)
    if isinstance(value, Seq) and value.items:
        return data_role(value.items[0], depth + 1)
    return "unknown"


def lr_schedule(
    walker: Walker, optimizer: dict | None, fit: CallEvent | None, epochs: int | None
) -> tuple[dict | None, list[float] | None, list[str]]:
    """(scheduler fact, lr by epoch, reasons) from LearningRateScheduler / ReduceLROnPlateau."""
    notes: list[str] = []
    lr = (optimizer or {}).get("lr")
    if not isinstance(epochs, int) or not isinstance(lr, int | float):
        return None, None, ["learning rate by epoch: epochs or the learning rate are set at run time"]
    for callback in _callbacks(fit):
        name = tail(callback.callee)
        if name == "LearningRateScheduler":
            function = callback.arg(0, "schedule")
            rates = _schedule_values(walker, function, lr, epochs) if isinstance(function, DefRef) else None
            if rates is None:
                notes.append("learning rate by epoch: the schedule function is not plain arithmetic the reader can follow")
            return {"name": name, "stepped": "per_epoch"}, rates, notes
        if name == "ReduceLROnPlateau":
            notes.append(
                "learning rate by epoch: ReduceLROnPlateau lowers it only when the monitored metric stalls; shown as if it never does"
            )
            return {"name": name, "stepped": "per_epoch"}, [float(lr)] * epochs, notes
    return None, [float(lr)] * epochs, notes


def _schedule_values(walker: Walker, function: DefRef, lr: float, epochs: int) -> list[float] | None:
    rates, current = [], float(lr)
    parameters = len(function.node.args.args)
    for epoch in range(epochs):
        args = [Known(epoch), Known(current)][: max(1, parameters)]
        value = literal(walker.inline(function, args, {}))
        walker.walked[function.node] = 0  # the schedule is evaluated per epoch, not "walked too often"
        if not isinstance(value, int | float):
            return None
        current = float(value)
        rates.append(current)
    return rates


# -- the whole Keras analysis --------------------------------------------------------------------


def analyse_keras(walker: Walker, analysis) -> None:
    facts, where = analysis.facts, analysis.where
    model, built = the_model(walker)
    fits, compiles = fit_events(walker), method_events(walker, "compile")
    fit = fits[0] if fits else None
    compile_event = compiles[0] if compiles else None
    facts["model_class"] = tail(model.callee) if model is not None else None  # Sequential, Model, or the subclass
    if built is not None:
        where["model_class"] = built.ctx.module.where(built.obj.node)
    facts["params"] = None
    layer_names: list[str] = []
    last_layer: Obj | None = None
    if model is not None:
        try:
            facts["params"], analysis.layers, layers = count_parameters(walker, model, (32, 32, 3))
            layer_names = [row["type"] for row in analysis.layers]
            last_layer = layers[-1] if layers and isinstance(layers[-1], Obj) else _last_layer(model)
        except LayerError as why:
            analysis.unmeasured.append(f"params: the layer arithmetic stops at {why}")
    else:
        analysis.unmeasured.append("model: no model with fit() was found")
    facts["optimizer"] = optimizer_fact(compile_event)
    decay = l2_everywhere(walker)
    if facts["optimizer"] is not None and decay is not None and not facts["optimizer"].get("weight_decay"):
        facts["optimizer"]["weight_decay"] = decay  # an L2 kernel_regularizer on every layer is this model's weight decay
    loss = compile_event.obj.arg(1, "loss") if compile_event else None
    facts["loss"] = loss_name(loss)
    _fit_facts(walker, fit, facts, where, analysis)
    names = layer_names or [tail(e.obj.callee) for e in walker.calls]
    facts["uses_batchnorm"] = "BatchNormalization" in names or any(n in ("ResNet50", "MobileNetV2", "ResNet101") for n in names)
    facts["uses_dropout"] = any(n in ("Dropout", "SpatialDropout2D") for n in names)
    facts["augmentations"] = _augmentations(walker, names)
    facts["normalization"] = _normalization(walker)
    facts["mixed_precision"] = any("mixed_float16" in str(literal(a)) for e in walker.calls for a in e.obj.args)
    facts["eval_mode_used"] = True  # evaluate(), predict() and validation run in inference mode by themselves
    facts["no_grad_in_eval"] = True
    scheduler, rates, notes = lr_schedule(walker, facts["optimizer"], fit, facts.get("epochs"))
    facts["scheduler"], facts["lr_by_epoch"] = scheduler, rates
    analysis.unmeasured += notes
    analysis.findings += keras_findings(walker, fit, compile_event, last_layer)
    facts["selection_on_test_set"] = any(f.kind == "selection_on_test_set" for f in analysis.findings)


def _fit_facts(walker: Walker, fit: CallEvent | None, facts: dict, where: dict, analysis) -> None:
    if fit is None:
        facts["batch_size_train"] = facts["epochs"] = None
        analysis.unmeasured.append("batch size and epochs: no fit() call was found")
        return
    data = fit.obj.arg(0, "x")
    batch = fit.obj.kwargs.get("batch_size")
    if isinstance(data, Obj) and tail(data.callee) == "flow":
        batch = data.arg(2, "batch_size") or Known(32)
    held = literal(batch) if batch is not None else 32
    facts["batch_size_train"] = held if isinstance(held, int) else None
    epochs = literal(fit.obj.kwargs.get("epochs", Known(1)))
    facts["epochs"] = epochs if isinstance(epochs, int) else None
    for name in ("batch_size_train", "epochs"):
        where[name] = fit.ctx.module.where(fit.obj.node)


def _augmentations(walker: Walker, layer_names: list[str]) -> list[str]:
    found = [n for n in layer_names if n in AUGMENTATION_LAYERS]
    for event in keras_calls(walker, "ImageDataGenerator"):
        found += [k for k in GENERATOR_AUGMENTATIONS if k in event.obj.kwargs and literal(event.obj.kwargs[k]) not in (0, False, None)]
    for event in keras_calls(walker, *AUGMENTATION_LAYERS):
        name = tail(event.obj.callee)
        if name not in found:
            found.append(name)
    return found


def l2_everywhere(walker: Walker) -> float | None:
    """The factor of regularizers.l2(...) when every Conv2D/Dense the script builds carries the same one."""
    layers = keras_calls(walker, "Conv2D", "Dense")
    factors = set()
    for event in layers:
        regularizer = event.obj.kwargs.get("kernel_regularizer")
        factor = literal(regularizer.arg(0, "l2")) if isinstance(regularizer, Obj) and tail(regularizer.callee) in ("l2", "L2") else NOTHING
        factors.add(factor if isinstance(factor, int | float) else None)
    return factors.pop() if len(factors) == 1 and None not in factors and layers else None


def loss_name(loss: Value | None) -> str | None:
    """The loss as its Keras class name, whether given as a string or an object."""
    held = literal(loss)
    if isinstance(held, str):
        return LOSS_CLASSES.get(held.lower(), held)
    return tail(loss.callee) if isinstance(loss, Obj) else None


def _normalization(walker: Walker) -> dict[str, Any] | None:
    """Per-channel mean and standard deviation, as PyTorch's Normalize states them; dividing by 255
    only rescales, and is not normalisation in this sense."""
    stats = {}
    for event in walker.assigns:
        if isinstance(event.target, ast.Name) and event.target.id.lower() in ("mean", "std", "means", "stds"):
            held = literal(event.value)
            if isinstance(held, list | tuple) and len(held) in (1, 3) and all(isinstance(v, int | float) for v in held):
                stats[event.target.id.lower().rstrip("s")] = list(held)
    if set(stats) == {"mean", "std"}:
        return stats
    for event in keras_calls(walker, "Normalization"):
        mean, variance = literal(event.obj.kwargs.get("mean", Known(None))), literal(event.obj.kwargs.get("variance", Known(None)))
        if isinstance(mean, list | tuple) and isinstance(variance, list | tuple):
            return {"mean": list(mean), "std": [v**0.5 for v in variance]}
    for event in keras_calls(walker, "ImageDataGenerator"):
        if literal(event.obj.kwargs.get("featurewise_center", Known(False))) is True:
            return {"featurewise": True}
    return None


def _last_layer(model: Obj) -> Obj | None:
    outputs = model.arg(1, "outputs")
    return outputs.callee if isinstance(outputs, Obj) and isinstance(outputs.callee, Obj) else None


def keras_findings(walker: Walker, fit: CallEvent | None, compile_event: CallEvent | None, last: Obj | None) -> list[Finding]:
    found: list[Finding] = []
    if fit is not None:
        validation = fit.obj.kwargs.get("validation_data")
        role = data_role(validation)
        selecting = [
            c for c in _callbacks(fit)
            if (tail(c.callee) == "ModelCheckpoint" and literal(c.kwargs.get("save_best_only", Known(False))) is True)
            or (tail(c.callee) == "EarlyStopping" and literal(c.kwargs.get("restore_best_weights", Known(False))) is True)
        ]  # fmt: skip
        location = fit.ctx.module.where(fit.obj.node)
        if role == "test" and selecting:
            keeper = selecting[0]  # the callback that keeps the best epoch: where the choice is made
            what = f"{tail(keeper.callee)} keeps the best epoch on validation_data=the test set"
            found.append(finding("selection_on_test_set", keeper.module.where(keeper.node), what))
        if role in ("train", "train-part"):
            found.append(finding("validation_overlaps_train", location, "validation_data is taken from the training arrays"))
    if compile_event is not None and last is not None:
        loss = compile_event.obj.arg(1, "loss")
        logits = isinstance(loss, Obj) and literal(loss.kwargs.get("from_logits", Known(False))) is True
        if logits and tail(last.callee) == "Dense" and literal(last.kwargs.get("activation", Known(None))) == "softmax":
            event = next((e for e in walker.calls if e.obj is last), compile_event)
            found.append(
                finding(
                    "keras_softmax_from_logits", event.ctx.module.where(event.obj.node), "Dense(activation='softmax') with from_logits=True"
                )
            )
    for event in keras_calls(walker, "preprocess_input"):
        argument = event.obj.args[0] if event.obj.args else None
        if _scaled_to_unit(walker, argument):
            found.append(
                finding(
                    "keras_preprocess_on_unit_range", event.ctx.module.where(event.obj.node), "preprocess_input on pixels divided by 255"
                )
            )
    for event in keras_calls(walker, "flow"):
        generator = event.obj.callee.base if isinstance(event.obj.callee, AttrOf) else None
        if isinstance(generator, Obj) and data_role(event.obj.args[0] if event.obj.args else None) == "test":
            augmented = [k for k in GENERATOR_AUGMENTATIONS if literal(generator.kwargs.get(k, Known(0))) not in (0, False, None)]
            if augmented:
                found.append(
                    finding(
                        "test_set_augmented", event.ctx.module.where(event.obj.node), f"the test images go through {', '.join(augmented)}"
                    )
                )
    return found


def _scaled_to_unit(walker: Walker, value: Value | None, depth: int = 0) -> bool:
    """Whether an array was divided by 255 (or multiplied by 1/255) on its way here."""
    if value is None or depth > 10:
        return False
    for event in walker.assigns:
        if event.value is value and isinstance(event.node, ast.Assign | ast.AugAssign):
            text = ast.unparse(event.node)
            if "/ 255" in text or "/255" in text or "* (1 / 255" in text or "/= 255" in text:
                return True
    if isinstance(value, Unknown):
        return any(_scaled_to_unit(walker, part, depth + 1) for part in value.parts)
    if isinstance(value, Obj) and isinstance(value.callee, AttrOf):
        return _scaled_to_unit(walker, value.callee.base, depth + 1)
    return isinstance(value, Element) and _scaled_to_unit(walker, value.base, depth + 1)
