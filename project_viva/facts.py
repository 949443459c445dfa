"""Facts read from a PyTorch project's code, each with the file and line it comes from: the model
trained, optimizer and arguments, scheduler and how it is stepped, loss, batch size, epochs,
augmentations (and whether the test set gets them), normalisation, validation data, BatchNorm and
Dropout, mixed precision, checkpointing, eval mode and no_grad in evaluation."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from project_viva.interpreter import CallEvent, Loop, Walker
from project_viva.sources import Location
from project_viva.training import (
    Training,
    dataset_role,
    defined_class,
    is_torch,
    loader_dataset,
    loader_role,
)
from project_viva.values import AttrOf, DefRef, Element, Ext, Known, Obj, Seq, Value, is_call_of, literal, qualname, tail

# (lr, momentum, weight_decay) when the script does not pass them (torch 2.x); None: no such argument.
OPTIMIZER_DEFAULTS: dict[str, tuple[float | None, float | None, float]] = {
    "SGD": (0.001, 0.0, 0.0), "Adam": (0.001, None, 0.0), "AdamW": (0.001, None, 0.01), "RMSprop": (0.01, 0.0, 0.0),
    "Adagrad": (0.01, None, 0.0), "Adadelta": (1.0, None, 0.0), "Adamax": (0.002, None, 0.0), "NAdam": (0.002, None, 0.0),
    "RAdam": (0.001, None, 0.0), "ASGD": (0.01, None, 0.0), "Rprop": (0.01, None, 0.0), "LBFGS": (1.0, None, 0.0),
}  # fmt: skip
RANDOM_TRANSFORMS = {
    "RandomCrop", "RandomHorizontalFlip", "RandomVerticalFlip", "RandomRotation", "RandomResizedCrop", "ColorJitter", "RandomErasing",
    "RandomAffine", "RandomPerspective", "RandomGrayscale", "AutoAugment", "RandAugment", "TrivialAugmentWide", "AugMix",
    "RandomApply", "RandomChoice", "RandomOrder", "GaussianBlur", "RandomInvert", "RandomPosterize", "RandomSolarize",
    "RandomAdjustSharpness", "RandomAutocontrast", "RandomEqualize",
}  # fmt: skip
TORCHVISION_FAMILIES = {  # factory prefix -> (class, has BatchNorm, has Dropout)
    "resnet": ("ResNet", True, False), "wide_resnet": ("ResNet", True, False), "resnext": ("ResNet", True, False),
    "vgg": ("VGG", False, True), "alexnet": ("AlexNet", False, True), "densenet": ("DenseNet", True, False),
    "mobilenet_v2": ("MobileNetV2", True, True), "mobilenet_v3": ("MobileNetV3", True, True), "efficientnet": ("EfficientNet", True, True),
    "googlenet": ("GoogLeNet", True, True), "squeezenet": ("SqueezeNet", False, True), "shufflenet": ("ShuffleNetV2", True, False),
    "regnet": ("RegNet", True, False), "convnext": ("ConvNeXt", False, False), "vit": ("VisionTransformer", False, True),
    "inception": ("Inception3", True, True), "mnasnet": ("MNASNet", True, True),
}  # fmt: skip


@dataclass
class Facts:
    values: dict[str, Any] = field(default_factory=dict)
    where: dict[str, Location] = field(default_factory=dict)
    unmeasured: list[str] = field(default_factory=list)

    def set(self, name: str, value: Any, event: CallEvent | Loop | tuple | None = None) -> None:
        self.values[name] = value
        location = _location(event)
        if location is not None:
            self.where[name] = location


def _location(event: CallEvent | Loop | tuple | None) -> Location | None:
    if isinstance(event, CallEvent):
        return event.ctx.module.where(event.obj.node)
    if isinstance(event, Loop):
        return event.module.where(event.node)
    if isinstance(event, tuple):  # (module, node)
        return event[0].where(event[1])
    return None


def event_of(training: Training, obj: Value | None) -> CallEvent | None:
    return next((e for e in training.calls if e.obj is obj), None)


def number(value: Value | None) -> Any:
    held = literal(value)
    return held if isinstance(held, int | float) and not isinstance(held, bool) else None


# -- the pieces ---------------------------------------------------------------------------------


def read_optimizer(training: Training, facts: Facts) -> None:
    optimizer = training.optimizer
    if optimizer is None:
        facts.set("optimizer", None)
        return
    name = tail(optimizer.callee)
    default_lr, default_momentum, default_decay = OPTIMIZER_DEFAULTS.get(name, (None, None, 0.0))
    values = {"name": name}
    for key, position, default in (("lr", 1, default_lr), ("momentum", 99, default_momentum), ("weight_decay", 99, default_decay)):
        given = optimizer.arg(position, key)
        values[key] = default if given is None else number(given)
        if given is not None and values[key] is None:
            facts.unmeasured.append(f"optimizer {key}: set at run time ({_why(given)})")
    facts.set("optimizer", values, event_of(training, optimizer))


def _why(value: Value) -> str:
    return getattr(value, "reason", "not a literal the reader can follow")


def scheduler_calls(walker: Walker) -> list[CallEvent]:
    return [e for e in walker.calls if "lr_scheduler." in (qualname(e.obj.callee) or "") and tail(e.obj.callee)[:1].isupper()]


def the_scheduler(training: Training) -> tuple[CallEvent | None, list[CallEvent]]:
    """The scheduler the script steps (or the one it builds), and its step() calls in the training
    (in the epoch loop, not in a resume branch that fast-forwards it)."""
    created = scheduler_calls(training.walker)
    loop = training.epoch_loop
    for event in created:
        steps = training.method_calls(event.obj, "step")
        in_training = [s for s in steps if loop is not None and loop in s.ctx.loops] or [s for s in steps if not s.ctx.conditional]
        if in_training or steps:
            return event, in_training or steps
    return (created[0] if created else None), []


def read_scheduler(training: Training, facts: Facts) -> None:
    event, steps = the_scheduler(training)
    if event is None:
        facts.set("scheduler", None)
        return
    per_batch = any(any(loop.batches for loop in step.ctx.loops) for step in steps)
    stepped = ("per_batch" if per_batch else "per_epoch") if steps else None
    facts.set("scheduler", {"name": tail(event.obj.callee), "stepped": stepped}, event)


def read_loss(training: Training, facts: Facts) -> None:
    loss = training.loss
    if loss is None:
        facts.set("loss", None)
        return
    from project_viva.training import FUNCTIONAL_LOSSES

    name = tail(loss.callee)
    facts.set("loss", FUNCTIONAL_LOSSES.get(name, name), event_of(training, loss))


def read_batch_and_epochs(training: Training, facts: Facts) -> None:
    loader = training.train_loader
    if isinstance(loader, Obj) and tail(loader.callee) == "DataLoader":
        given = loader.arg(1, "batch_size")
        batch = 1 if given is None else number(given)
        facts.set("batch_size_train", batch, event_of(training, loader))
        if batch is None:
            facts.unmeasured.append(f"training batch size: set at run time ({_why(given)})")
    else:
        facts.set("batch_size_train", None)
        facts.unmeasured.append("training batch size: the training loader could not be followed")
    loop = training.epoch_loop
    epochs = None
    if loop is not None and isinstance(loop.node, ast.For):
        held = literal(loop.iterable)
        epochs = len(held) if isinstance(held, range | list | tuple) else None
    facts.set("epochs", epochs, loop)
    if epochs is None:
        facts.unmeasured.append("epochs: the epoch loop's range is decided at run time" if loop else "epochs: no epoch loop found")


def transform_list(transform: Value | None) -> list[Obj]:
    """The transforms of a Compose (nested Composes flattened), or the one transform given."""
    if isinstance(transform, Obj) and tail(transform.callee) == "Compose":
        items = transform.args[0] if transform.args else transform.kwargs.get("transforms")
        found: list[Obj] = []
        for item in items.items if isinstance(items, Seq) else []:
            found += transform_list(item)
        return found
    return [transform] if isinstance(transform, Obj) else []


def dataset_transform(dataset: Value | None, depth: int = 0) -> Value | None:
    """The transform a dataset applies: its transform= argument (CIFAR10's third positional),
    through random_split and Subset to the dataset they split."""
    if depth > 6:
        return None
    if isinstance(dataset, Element) and isinstance(dataset.base, Obj) and tail(dataset.base.callee) == "random_split" and dataset.base.args:
        return dataset_transform(dataset.base.args[0], depth + 1)
    if isinstance(dataset, Obj):
        if "transform" in dataset.kwargs:
            return dataset.kwargs["transform"]
        if tail(dataset.callee) in ("CIFAR10", "CIFAR100", "MNIST", "FashionMNIST", "KMNIST") and len(dataset.args) > 2:
            return dataset.args[2]
        if tail(dataset.callee) == "ImageFolder" and len(dataset.args) > 1:
            return dataset.args[1]
        if tail(dataset.callee) == "Subset" and dataset.args:
            return dataset_transform(dataset.args[0], depth + 1)
    return None


def augmentations(transform: Value | None, walker: Walker) -> list[str]:
    names = []
    for item in transform_list(transform):
        name = tail(item.callee)
        if name in RANDOM_TRANSFORMS or (isinstance(item.callee, DefRef) and _random_class(item.callee)):
            names.append(name)
    return names


def _random_class(cls: DefRef) -> bool:
    """A transform class of the project that draws random numbers (Cutout, a noise transform)."""
    text = cls.module.segment(cls.node).lower()
    return "random" in text or "rand(" in text or "randint" in text


def datasets_used(training: Training) -> list[CallEvent]:
    """Every torchvision dataset (or ImageFolder) the script builds."""
    return [e for e in training.calls if tail(e.obj.callee) in ("CIFAR10", "CIFAR100", "MNIST", "FashionMNIST", "SVHN", "ImageFolder")]


def read_data(training: Training, facts: Facts) -> None:
    walker = training.walker
    train_set = loader_dataset(training.train_loader)
    train_transform = dataset_transform(train_set)
    facts.set("augmentations", augmentations(train_transform, walker), event_of(training, train_transform))
    test_events = [e for e in datasets_used(training) if dataset_role(e.obj, walker.names) == "test"]
    test_augmented = sorted({a for e in test_events for a in augmentations(dataset_transform(e.obj), walker)})
    facts.set("test_augmentations", test_augmented, test_events[0] if test_events else None)
    normalize = next((t for t in transform_list(train_transform) if tail(t.callee) == "Normalize"), None)
    if normalize is None:
        normalize = next((e.obj for e in training.calls if tail(e.obj.callee) == "Normalize"), None)
    if normalize is not None:
        mean, std = literal(normalize.arg(0, "mean")), literal(normalize.arg(1, "std"))
        value = {"mean": list(mean) if isinstance(mean, list | tuple) else mean, "std": list(std) if isinstance(std, list | tuple) else std}
        facts.set("normalization", value, event_of(training, normalize))
    else:
        facts.set("normalization", None)


def evaluation_loops(training: Training) -> list[tuple[Loop, list[CallEvent]]]:
    """Batch loops other than the training loop in which the model is run, with those calls."""
    found: dict[Loop, list[CallEvent]] = {}
    for event in training.calls:
        if not training.is_model(event.obj.callee) or training.in_training(event):
            continue
        loops = [loop for loop in event.ctx.loops if loop.batches and loop is not training.train_loop]
        if loops:
            found.setdefault(loops[-1], []).append(event)
    return list(found.items())


def read_validation(training: Training, facts: Facts) -> None:
    loops = evaluation_loops(training)
    # the data evaluated during training is the validation data; a final test after the epochs is not
    during = [(loop, calls) for loop, calls in loops if training.epoch_loop is not None and training.epoch_loop in calls[0].ctx.loops]
    roles = [(loop, _evaluated_role(training, loop)) for loop, _ in during or loops]
    kinds = {role for _, role in roles}
    if "val-part" in kinds:
        value = "a split of the training set"
    elif "test" in kinds:
        value = "the test set"
    elif kinds:
        value = "unknown"
    else:
        value = None
    facts.set("validation", value, roles[0][0] if roles else None)


def _evaluated_role(training: Training, loop: Loop) -> str:
    loader = loop.iterable and _inner(loop.iterable)
    role = loader_role(loader, training.walker.names)
    data = loader_dataset(loader)
    if role == "train" and is_call_of(data, "Subset") and data is not loader_dataset(training.train_loader):
        return "val-part"  # `Subset(train_set, range(45000, 50000))`: a part of the training set held for validation
    return role


def _inner(iterable: Value) -> Value:
    from project_viva.interpreter import unwrap_iteration

    return unwrap_iteration(iterable)


def read_precision(training: Training, facts: Facts) -> None:
    amp = [
        e
        for e in training.calls
        if (tail(e.obj.callee) in ("autocast", "GradScaler") and literal(e.obj.kwargs.get("enabled")) is not False)
        or (isinstance(e.obj.callee, AttrOf) and e.obj.callee.name == "half")
    ]  # `GradScaler(enabled=args.amp)` with --amp off by default (the AMP recipe's idiom) trains in full precision
    facts.set("mixed_precision", bool(amp), amp[0] if amp else None)


def model_nodes(cls: DefRef, walker: Walker, seen: set | None = None) -> list[tuple[DefRef, ast.AST]]:
    """The model class and every project class or function its code names (blocks, layers,
    factories), so "does the model use BatchNorm" reads the blocks too."""
    seen = seen if seen is not None else set()
    if cls.node in seen or len(seen) > 60:
        return []
    seen.add(cls.node)
    found = [(cls, cls.node)]
    names = walker.namespace(cls.module)
    for node in ast.walk(cls.node):
        if isinstance(node, ast.Name) and isinstance(names.get(node.id), DefRef) and names[node.id].node not in seen:
            found += model_nodes(names[node.id], walker, seen)
    return found


def static_layers(training: Training) -> tuple[bool | None, bool | None, tuple | None]:
    """(uses BatchNorm, uses Dropout, where) read from the model's code, None when unknown."""
    model = training.model
    cls = defined_class(model)
    if cls is not None:
        batchnorm = dropout = None
        for definition, node in model_nodes(cls, training.walker):
            for sub in ast.walk(node):
                text = ast.unparse(sub.func) if isinstance(sub, ast.Call) else ""
                if "BatchNorm" in text and batchnorm is None:
                    batchnorm = (definition.module, sub)
                if ("Dropout" in text or text.endswith("dropout")) and dropout is None:
                    dropout = (definition.module, sub)
        return batchnorm is not None, dropout is not None, (batchnorm, dropout)
    name = tail(model.callee) if isinstance(model, Obj) else ""
    for prefix, (_, bn, drop) in TORCHVISION_FAMILIES.items():
        if name.startswith(prefix):
            return bn or name.endswith("_bn"), drop, None
    return None, None, None


def model_class_name(training: Training) -> str | None:
    model = training.model
    cls = defined_class(model)
    if cls is not None:
        return cls.name
    if isinstance(model, Obj):
        name = tail(model.callee)
        if "torchvision" in (qualname(model.callee) or ""):
            return name  # a torchvision factory names the architecture exactly: resnet18, not ResNet
        if name in ("Sequential",):
            return name
        if name in ("create_model",):
            return literal(model.args[0]) if model.args and isinstance(literal(model.args[0]), str) else None
        return name or None
    return None


def mode_events(training: Training) -> list[tuple[int, str]]:
    """(walk order, 'train' | 'eval') of every model.train()/model.eval() call."""
    found = []
    for order, event in enumerate(training.calls):
        callee = event.obj.callee
        if isinstance(callee, AttrOf) and callee.name in ("train", "eval") and training.is_model(callee.base):
            mode = callee.name
            if mode == "train" and literal(event.obj.arg(0, "mode")) is False:
                mode = "eval"
            found.append((order, mode))
    return found


def mode_at(order: int, modes: list[tuple[int, str]]) -> str:
    before = [mode for at, mode in modes if at < order]
    return before[-1] if before else "train"


def read_eval(training: Training, facts: Facts) -> None:
    loops = evaluation_loops(training)
    if not loops:
        facts.set("eval_mode_used", None)
        facts.set("no_grad_in_eval", None)
        return
    modes = mode_events(training)
    order = {id(e): i for i, e in enumerate(training.calls)}
    in_eval_mode = all(mode_at(order[id(calls[0])], modes) == "eval" for _, calls in loops)
    no_grad = all(any(_grad_off(w) for w in e.ctx.withs) for _, calls in loops for e in calls)
    facts.set("eval_mode_used", in_eval_mode, loops[0][0])
    facts.set("no_grad_in_eval", no_grad, loops[0][0])


def _grad_off(value: Value) -> bool:
    if not isinstance(value, Obj):
        return False
    name = tail(value.callee)
    return name in ("no_grad", "inference_mode") or (name == "set_grad_enabled" and literal(value.arg(0, "mode")) is False)


def read_checkpointing(training: Training, facts: Facts) -> None:
    saves = [e for e in training.calls if tail(e.obj.callee) == "save" and is_torch(e.obj.callee)]
    if not saves:
        facts.set("checkpointing", None)
        return
    event = saves[0]
    what = _saved_what(event.obj.args[0] if event.obj.args else None)
    best = any(_under_best_comparison(training, e) for e in saves)
    facts.set(
        "checkpointing", {"what": what, "when": "on a new best" if best else "every epoch" if event.ctx.loops else "at the end"}, event
    )


def _saved_what(value: Value | None) -> str:
    if isinstance(value, Obj) and isinstance(value.callee, AttrOf) and value.callee.name == "state_dict":
        return "state_dict"
    if isinstance(value, Known) or (isinstance(value, Obj) and tail(value.callee) == "dict"):
        return "dict"
    from project_viva.values import Mapping

    if isinstance(value, Mapping):
        return "dict with " + ", ".join(str(k) for k in value.items)
    return "the whole model" if value is not None and not isinstance(value, Ext) else "unknown"


def _under_best_comparison(training: Training, event: CallEvent) -> bool:
    """The save, or a call into the project that reaches it (`save_checkpoint(...)` in utils.py), sits
    in the body of an `if ... best ...:` (not in its else or elif, which run when there is no new best)."""
    places = [(event.ctx.module.name, getattr(event.obj.node, "lineno", -1)), *event.ctx.sites]
    return any(
        _mentions_best(if_event.node.test) and _in_body(line, if_event.node)
        for if_event in training.walker.ifs
        for module, line in places
        if if_event.ctx.module.name == module
    )


def _mentions_best(test: ast.expr) -> bool:
    return any(isinstance(n, ast.Name | ast.Attribute) and "best" in ast.unparse(n).lower() for n in ast.walk(test))


def _in_body(line: int, if_node: ast.If) -> bool:
    return if_node.body[0].lineno <= line <= (if_node.body[-1].end_lineno or 0)


def read_facts(training: Training) -> Facts:
    facts = Facts()
    facts.set("model_class", model_class_name(training), training.model_event)
    bound = next((a for a in training.walker.assigns if a.value is training.model and isinstance(a.target, ast.Name)), None)
    if bound is not None:  # where the script names its model (`net = ResNet18()`), not inside a factory
        facts.where["model_class"] = bound.ctx.module.where(bound.node)
    if training.model is None:
        facts.unmeasured.append("model: no model whose parameters an optimizer trains was found")
    read_optimizer(training, facts)
    read_scheduler(training, facts)
    read_loss(training, facts)
    read_batch_and_epochs(training, facts)
    read_data(training, facts)
    read_validation(training, facts)
    bn, dropout, where = static_layers(training)
    facts.set("uses_batchnorm", bn, where[0] if where else None)
    facts.set("uses_dropout", dropout, where[1] if where else None)
    read_precision(training, facts)
    read_checkpointing(training, facts)
    read_eval(training, facts)
    return facts
