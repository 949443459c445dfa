"""The training as the walk saw it: which loop trains (the batch loop around `loss.backward()`),
which loop counts epochs, the optimizer whose `step()` it calls, the model whose parameters that
optimizer holds, the loss, the loaders and what data each one reads. Facts and detectors start
from here, so they agree on what "the model" and "the training loader" are."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from project_viva.interpreter import CallEvent, Loop, Walker, is_phase_list, unwrap_iteration
from project_viva.values import NOTHING, AttrOf, DefRef, Element, Ext, Known, Mapping, Obj, Seq, Unknown, Value, literal, qualname, tail

OPTIMIZERS = {"SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam", "LBFGS", "SparseAdam", "ASGD", "Rprop"}
DATASETS_TRAIN_SIZE = {"CIFAR10": (50000, 10000), "CIFAR100": (50000, 10000), "MNIST": (60000, 10000), "FashionMNIST": (60000, 10000),
                       "KMNIST": (60000, 10000), "SVHN": (73257, 26032), "STL10": (5000, 8000)}  # fmt: skip
DATASET_CLASSES = {"CIFAR10": 10, "CIFAR100": 100, "MNIST": 10, "FashionMNIST": 10, "KMNIST": 10, "SVHN": 10, "STL10": 10}
FUNCTIONAL_LOSSES = {"cross_entropy": "CrossEntropyLoss", "nll_loss": "NLLLoss", "mse_loss": "MSELoss", "l1_loss": "L1Loss",
                     "binary_cross_entropy_with_logits": "BCEWithLogitsLoss", "binary_cross_entropy": "BCELoss",
                     "kl_div": "KLDivLoss", "smooth_l1_loss": "SmoothL1Loss"}  # fmt: skip
WRAPPERS = {"DataParallel", "DistributedDataParallel", "compile"}  # share the wrapped model's parameters


def is_torch(value: Value | None, *parts: str) -> bool:
    name = qualname(value) or ""
    return name.startswith("torch") and (not parts or any(f".{p}." in f"{name}." for p in parts))


def root(value: Value | None) -> Value | None:
    """The object an attribute chain or method call hangs from: model for model.fc.parameters()."""
    for _ in range(12):
        if isinstance(value, AttrOf):
            value = value.base
        elif isinstance(value, Obj) and isinstance(value.callee, AttrOf):
            value = value.callee.base
        else:
            break
    return value


def unwrap_model(value: Value | None) -> Value | None:
    for _ in range(4):
        if isinstance(value, Obj) and tail(value.callee) in WRAPPERS and value.args:
            value = value.args[0]
        else:
            break
    return value


def values_in(value: Value | None, depth: int = 0) -> list[Value]:
    """Every value reachable from one (arguments, items, bases), for "what does this hold"."""
    if value is None or depth > 6:
        return []
    found = [value]
    children: list[Value] = []
    if isinstance(value, Obj):
        children = [value.callee, *value.args, *value.kwargs.values()]
    elif isinstance(value, AttrOf | Element):
        children = [value.base]
    elif isinstance(value, Seq):
        children = value.items
    elif isinstance(value, Mapping):
        children = list(value.items.values())
    elif isinstance(value, Unknown):
        children = list(value.parts)
    for child in children:
        found += values_in(child, depth + 1)
    return found


@dataclass
class Training:
    walker: Walker
    backward: list[CallEvent] = field(default_factory=list)
    train_loop: Loop | None = None  # the batch loop around backward()
    epoch_loop: Loop | None = None  # the loop around that (or around the call that reaches it)
    optimizer: Obj | None = None
    optimizer_steps: list[CallEvent] = field(default_factory=list)
    model: Value | None = None  # the model the optimizer trains (unwrapped from DataParallel)
    model_event: CallEvent | None = None  # where it was built
    loss: Obj | None = None
    train_loader: Value | None = None

    @property
    def calls(self) -> list[CallEvent]:
        return self.walker.calls

    def method_calls(self, target: Value | None, *methods: str) -> list[CallEvent]:
        """Calls of `target.method(...)` (target None: on anything)."""
        return [
            e
            for e in self.calls
            if isinstance(e.obj.callee, AttrOf) and e.obj.callee.name in methods and (target is None or e.obj.callee.base is target)
        ]

    def is_model(self, value: Value | None) -> bool:
        """The trained model, whatever wrapper or .to() it went through."""
        if value is None or self.model is None:
            return False
        return unwrap_model(value) is self.model or value is self.model

    def in_training(self, event: CallEvent) -> bool:
        return self.train_loop is not None and self.train_loop in event.ctx.loops

    def name_of(self, value: Value | None) -> str:
        return self.walker.names.get(id(value), "") if value is not None else ""


def read_training(walker: Walker) -> Training:
    training = Training(walker)
    training.backward = [e for e in walker.calls if isinstance(e.obj.callee, AttrOf) and e.obj.callee.name == "backward"]
    training.train_loop = _train_loop(training)
    training.epoch_loop = _epoch_loop(training)
    training.optimizer = _optimizer(training)
    training.model = _model(training)
    training.model_event = next((e for e in walker.calls if e.obj is training.model), None)
    training.loss = _loss(training)
    if training.train_loop is not None:
        training.train_loader = unwrap_iteration(training.train_loop.iterable)
    return training


def _train_loop(training: Training) -> Loop | None:
    for event in training.backward:
        batch_loops = [loop for loop in event.ctx.loops if loop.batches]
        if batch_loops:
            return batch_loops[-1]
        if event.ctx.loops:
            return event.ctx.loops[-1]
    return None


def _epoch_loop(training: Training) -> Loop | None:
    if training.train_loop is None:
        return None
    for event in training.backward:
        loops = list(event.ctx.loops)
        if training.train_loop in loops:
            outer = [
                loop
                for loop in loops[: loops.index(training.train_loop)]
                if not loop.batches and not is_phase_list(literal(loop.iterable))  # a phase loop runs inside the epoch loop
            ]
            return outer[-1] if outer else None
    return None


def optimizer_calls(walker: Walker) -> list[CallEvent]:
    return [
        e for e in walker.calls if tail(e.obj.callee) in OPTIMIZERS and (is_torch(e.obj.callee, "optim") or isinstance(e.obj.callee, Ext))
    ]


def _optimizer(training: Training) -> Obj | None:
    created = optimizer_calls(training.walker)
    stepped = [e for e in training.method_calls(None, "step") if any(e.obj.callee.base is c.obj for c in created)]
    training.optimizer_steps = stepped
    if stepped:
        return stepped[0].obj.callee.base
    unconditional = [c for c in created if not c.ctx.conditional]
    return (unconditional or created)[-1].obj if created else None


def owner(walker: Walker, value: Value | None) -> Value | None:
    """The object a value hangs from: for model.fc (set by `model.fc = nn.Linear(...)`), the model."""
    for _ in range(8):
        value = root(value)
        above = walker.owners.get(id(value))
        if above is None:
            return value
        value = above
    return value


def _model(training: Training) -> Value | None:
    if training.optimizer is not None:
        for value in values_in(training.optimizer.arg(0, "params")):
            if isinstance(value, Obj) and isinstance(value.callee, AttrOf) and value.callee.name in ("parameters", "named_parameters"):
                model = owner(training.walker, value.callee.base)
                if isinstance(model, Obj):
                    return unwrap_model(model)
    # No optimizer to follow: the object called inside the training loop that is not a loss.
    for event in training.calls:
        callee = event.obj.callee
        if (
            training.train_loop is not None
            and training.in_training(event)
            and isinstance(callee, Obj)
            and "Loss" not in tail(callee.callee)
        ):
            return unwrap_model(callee)
    return None


def _loss(training: Training) -> Obj | None:
    """The criterion called in the training loop, or the functional loss called there."""
    for event in training.calls:
        callee = event.obj.callee
        if isinstance(callee, Obj) and tail(callee.callee).endswith("Loss") and (training.in_training(event) or not training.train_loop):
            return callee
    for event in training.calls:
        if tail(event.obj.callee) in FUNCTIONAL_LOSSES and is_torch(event.obj.callee) and training.in_training(event):
            return event.obj
    losses = [e.obj for e in training.calls if tail(e.obj.callee).endswith("Loss") and is_torch(e.obj.callee)]
    return losses[0] if losses else None


# -- data: what each loader reads -----------------------------------------------------------------


def loader_dataset(loader: Value | None) -> Value | None:
    if isinstance(loader, Obj) and tail(loader.callee) == "DataLoader":
        return loader.arg(0, "dataset")
    return loader


def dataset_role(dataset: Value | None, names: dict[int, str] | None = None, depth: int = 0) -> str:
    """'train', 'test', 'train-part' (a split of the training set used to train), 'val-part' (the
    held-out part of the training set), or 'unknown'. Read from what the dataset is built from
    (train=False, split='test', random_split's second part), then from the names it was given."""
    if dataset is None or depth > 8:
        return "unknown"
    dataset = loader_dataset(dataset)
    if isinstance(dataset, Element) and isinstance(dataset.base, Obj) and tail(dataset.base.callee) in ("random_split", "train_test_split"):
        whole = dataset_role(dataset.base.args[0] if dataset.base.args else None, names, depth + 1)
        part = "train-part" if dataset.index in (0, 2) else "val-part"
        return part if whole in ("train", "unknown") else whole
    if isinstance(dataset, Obj):
        name = tail(dataset.callee)
        train_flag = literal(dataset.arg(1, "train")) if name in DATASETS_TRAIN_SIZE else NOTHING
        if train_flag in (True, False):
            return "train" if train_flag else "test"
        split = literal(dataset.kwargs.get("split", Known(None)))
        if isinstance(split, str):
            return "test" if split.startswith("test") else "val-part" if split.startswith("val") else "train"
        if name in ("Subset", "ConcatDataset") and dataset.args:
            return dataset_role(dataset.args[0], names, depth + 1)
        if name == "ImageFolder" and dataset.args:
            return _role_from_text(str(literal(dataset.args[0])))
    role = _role_from_text((names or {}).get(id(dataset), ""))
    return role


def _role_from_text(text: str) -> str:
    text = text.lower()
    if "test" in text:
        return "test"
    if re.search(r"(^|[^a-z])val", text):
        return "val-part"
    if "train" in text:
        return "train"
    return "unknown"


def loader_role(loader: Value | None, names: dict[int, str]) -> str:
    """The role of the data a loader reads; its own name when the dataset tells nothing."""
    role = dataset_role(loader_dataset(loader), names)
    if role == "unknown":
        role = _role_from_text(names.get(id(loader), ""))
    return role


def sequence_length(value: Value | None, depth: int = 0) -> int | None:
    """Length of an index list the script builds: range(...), randperm(n).tolist(), a slice of one."""
    held = literal(value)
    if isinstance(held, list | tuple | range):
        return len(held)
    if depth > 6 or value is None:
        return None
    if isinstance(value, Element) and isinstance(value.index, slice):
        whole = sequence_length(value.base, depth + 1)
        return len(range(*value.index.indices(whole))) if whole is not None else None
    if isinstance(value, Obj) and isinstance(value.callee, AttrOf) and value.callee.name in ("tolist", "numpy", "copy"):
        return sequence_length(value.callee.base, depth + 1)
    if isinstance(value, Obj) and tail(value.callee) in ("randperm", "permutation", "arange", "list") and value.args:
        count = literal(value.args[0])
        return count if isinstance(count, int) else (len(count) if isinstance(count, range) else sequence_length(value.args[0], depth + 1))
    return None


def data_length(value: Value | None) -> int | None:
    """len() of a DataLoader (batches) or of a dataset (images), when the reader can tell."""
    if isinstance(value, Obj) and tail(value.callee) == "DataLoader":
        return loader_length(value)[0]
    return dataset_size(value)


def dataset_size(dataset: Value | None, depth: int = 0) -> int | None:
    if dataset is None or depth > 8:
        return None
    dataset = loader_dataset(dataset)
    if isinstance(dataset, Element) and isinstance(dataset.base, Obj) and tail(dataset.base.callee) == "random_split":
        lengths = literal(dataset.base.arg(1, "lengths"))
        if isinstance(lengths, list | tuple) and isinstance(dataset.index, int) and dataset.index < len(lengths):
            whole = dataset_size(dataset.base.args[0], depth + 1)
            part = lengths[dataset.index]
            if isinstance(part, float) and whole:
                return int(part * whole)
            return part if isinstance(part, int) else None
    if isinstance(dataset, Obj):
        name = tail(dataset.callee)
        if name in DATASETS_TRAIN_SIZE:
            train_flag = literal(dataset.arg(1, "train"))
            sizes = DATASETS_TRAIN_SIZE[name]
            return sizes[1] if train_flag is False or literal(dataset.kwargs.get("split", Known(""))) == "test" else sizes[0]
        if name == "Subset" and len(dataset.args) > 1:
            return sequence_length(dataset.args[1])
    return None


def loader_length(loader: Value | None) -> tuple[int | None, str]:
    """Batches per epoch of a DataLoader (len(loader)), and how it was worked out."""
    if not (isinstance(loader, Obj) and tail(loader.callee) == "DataLoader"):
        return None, "the training loader is not a DataLoader the reader can follow"
    size = dataset_size(loader.arg(0, "dataset"))
    batch = literal(loader.arg(1, "batch_size"))
    batch = 1 if "batch_size" not in loader.kwargs and len(loader.args) < 2 else batch
    if not isinstance(size, int) or not isinstance(batch, int) or batch <= 0:
        return None, "the size of the training set or the batch size is decided at run time"
    drop_last = literal(loader.kwargs.get("drop_last", Known(False))) is True
    batches = size // batch if drop_last else -(-size // batch)
    return batches, f"{size:,} images / batch {batch}{' (drop_last)' if drop_last else ''}"


def class_count(training: Training) -> int | None:
    """Classes of the dataset the script trains on (CIFAR-10: 10), when a known dataset is used."""
    for event in training.calls:
        name = tail(event.obj.callee)
        if name in DATASET_CLASSES and (is_torch(event.obj.callee) or "torchvision" in (qualname(event.obj.callee) or "")):
            return DATASET_CLASSES[name]
        if "cifar10" in (qualname(event.obj.callee) or "").lower() and "load_data" in name:
            return 10
    return None


def defined_class(value: Value | None) -> DefRef | None:
    if isinstance(value, Obj) and isinstance(value.callee, DefRef) and isinstance(value.callee.node, ast.ClassDef):
        return value.callee
    return None
