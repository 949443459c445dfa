"""Detectors that need the walk of a PyTorch script: which loader a metric came from, what mode the
model is in when it is evaluated, where the scheduler is stepped, what the optimizer holds."""

from __future__ import annotations

import ast
import re
from typing import Any

from project_viva.facts import (
    _grad_off,
    augmentations,
    dataset_transform,
    datasets_used,
    evaluation_loops,
    mode_at,
    mode_events,
    the_scheduler,
    transform_list,
)
from project_viva.findings import Finding, finding
from project_viva.interpreter import CallEvent, IfEvent, unwrap_iteration
from project_viva.training import (
    FUNCTIONAL_LOSSES,
    Training,
    class_count,
    dataset_role,
    defined_class,
    is_torch,
    loader_dataset,
    loader_length,
    loader_role,
    unwrap_model,
)
from project_viva.values import AttrOf, DefRef, Element, Known, Obj, Unknown, Value, literal, qualname, tail

EPOCH_SCHEDULERS = {"StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "PolynomialLR", "CosineAnnealingWarmRestarts"}
SAVING = ("save", "deepcopy", "state_dict", "save_weights", "save_checkpoint")


def where(event: CallEvent) -> Any:
    return event.ctx.module.where(event.obj.node)


# -- model selection on the test set -------------------------------------------------------------


def _selects(if_event: IfEvent) -> bool:
    """An `if metric > best...:` whose body keeps something: a checkpoint, a copy, the new best."""
    test = if_event.node.test
    # `phase == 'val' and acc > best_acc` (the transfer-learning tutorial's) compares as much as `acc > best_acc`
    parts = test.values if isinstance(test, ast.BoolOp) else [test]
    compares = [part for part in parts if isinstance(part, ast.Compare)]
    if not any(_mentions_best(compare) for compare in compares):
        return False
    body = ast.Module(body=if_event.node.body, type_ignores=[])
    keeps = any(isinstance(n, ast.Call) and ast.unparse(n.func).rsplit(".", 1)[-1] in SAVING for n in ast.walk(body))
    records = any(isinstance(n, ast.Assign) and any("best" in ast.unparse(t).lower() for t in n.targets) for n in ast.walk(body))
    return keeps or records


def _mentions_best(node: ast.AST) -> bool:
    return any("best" in ast.unparse(n).lower() for n in ast.walk(node) if isinstance(n, ast.Name | ast.Attribute))


def _records_best(node: ast.stmt) -> bool:
    """`is_best = acc > best_acc` or `best_acc = max(acc, best_acc)`: the best score is chosen here."""
    if not isinstance(node, ast.Assign) or not any("best" in ast.unparse(t).lower() for t in node.targets):
        return False
    value = node.value
    if isinstance(value, ast.Compare):
        return _mentions_best(value)
    return isinstance(value, ast.Call) and ast.unparse(value.func) in ("max", "min") and _mentions_best(value)


def _scored_on(training: Training, operands: list[Value], frame_loaders: tuple[Value, ...]) -> set[str]:
    """Roles of the data a compared score was measured on: what the call that returned it iterated,
    else what the current function iterated; the training loader never counts."""
    walker = training.walker
    loaders = [loader for value in operands for loader in walker.provenance.get(id(value), [])] or list(frame_loaders)
    train_data = loader_dataset(training.train_loader)
    kept = [loader for loader in loaders if loader is not training.train_loader and loader_dataset(loader) is not train_data]
    return {loader_role(loader, walker.names) for loader in kept}


def selection_on_test(training: Training) -> list[Finding]:
    """The best epoch (a checkpoint, a reported best) chosen on a score measured on the test set."""
    found = []
    for event in training.walker.assigns:
        if _records_best(event.node) and isinstance(event.value, Unknown):
            roles = _scored_on(training, list(event.value.parts), event.ctx.iterated)
            if "test" in roles and "val-part" not in roles:
                what = ast.unparse(event.node)[:60]
                found.append(
                    finding("selection_on_test_set", event.ctx.module.where(event.node), f"`{what}` keeps a score measured on the test set")
                )
    if found:
        return found[:1]
    for if_event in training.walker.ifs:
        if not _selects(if_event):
            continue
        operands = list(if_event.test.parts) if isinstance(if_event.test, Unknown) else []
        roles = _scored_on(training, operands, tuple(if_event.loaders))
        if "test" in roles and "val-part" not in roles:
            location = if_event.ctx.module.where(if_event.node)
            found.append(
                finding("selection_on_test_set", location, f"`{ast.unparse(if_event.node.test)}` compares a score measured on the test set")
            )
    return found[:1]


# -- train/eval mode -----------------------------------------------------------------------------


def has_mode_layers(training: Training, facts: dict) -> bool:
    """Whether eval() changes anything: only dropout and BatchNorm behave differently."""
    return bool(facts.get("uses_batchnorm")) or bool(facts.get("uses_dropout"))


def eval_mode(training: Training, facts: dict) -> list[Finding]:
    """An evaluation loop whose forward pass runs with the model in train mode (found at that call)."""
    if not has_mode_layers(training, facts):
        return []
    modes = mode_events(training)
    order = {id(e): i for i, e in enumerate(training.calls)}
    found = []
    for loop, calls in evaluation_loops(training):
        if mode_at(order[id(calls[0])], modes) != "eval":
            role = loader_role(unwrap_iteration(loop.iterable), training.walker.names) if loop.iterable else "unknown"
            what = {"test": "the test set", "val-part": "the validation set"}.get(role, "the evaluation data")
            found.append(finding("eval_without_eval_mode", where(calls[0]), f"the model runs on {what} in train mode"))
    return found


def no_grad_in_eval(training: Training) -> list[Finding]:
    """An evaluation loop whose forward pass builds a graph (no torch.no_grad or inference_mode)."""
    found = []
    for _, calls in evaluation_loops(training):
        bare = [e for e in calls if not any(_grad_off(w) for w in e.ctx.withs)]
        if bare:
            found.append(finding("no_grad_missing_in_eval", where(bare[0]), "the evaluation's forward pass runs with autograd on"))
    return found


def train_mode_restored(training: Training, facts: dict) -> list[Finding]:
    """model.eval() inside the epoch loop, and no model.train() before the next epoch's training."""
    loop = training.epoch_loop
    if loop is None or not has_mode_layers(training, facts) or not training.backward:
        return []
    order = {id(e): i for i, e in enumerate(training.calls)}
    inside = [(at, mode) for at, mode in mode_events(training) if loop in training.calls[at].ctx.loops]
    if not any(mode == "eval" for _, mode in inside):
        return []
    first_training = order[id(training.backward[0])]
    before = [mode for at, mode in inside if at < first_training]
    mode_in_second_epoch = before[-1] if before else inside[-1][1]
    if mode_in_second_epoch != "eval":
        return []
    event = training.calls[next(at for at, mode in inside if mode == "eval")]
    return [finding("eval_mode_not_reset", where(event), "model.eval() is called in the epoch loop and model.train() never follows")]


# -- schedulers ----------------------------------------------------------------------------------


def scheduler_stepping(training: Training, facts: dict) -> list[Finding]:
    event, steps = the_scheduler(training)
    if event is None or not steps:
        return []
    name = tail(event.obj.callee)
    per_batch = [s for s in steps if any(loop.batches for loop in s.ctx.loops)]
    epochs = facts.get("epochs")
    batches, _ = loader_length(training.train_loader)
    if per_batch and name in EPOCH_SCHEDULERS and _counts_epochs(event.obj, name, epochs, batches):
        step = per_batch[0]
        span = f" ({batches} per epoch)" if batches else ""
        return [finding("scheduler_stepped_per_batch", where(step), f"{name}.step() is called for every batch{span}")]
    if name == "OneCycleLR" and not per_batch and _sized_in_batches(event.obj):
        return [finding("onecycle_per_epoch", where(steps[0]), "OneCycleLR.step() is called once per epoch")]
    return []


def _counts_epochs(scheduler: Obj, name: str, epochs: int | None, batches: int | None) -> bool:
    """Whether the scheduler's period is a number of epochs (so stepping per batch is wrong),
    judged from its arguments against the epochs and batches the script runs."""
    horizon = {
        "StepLR": scheduler.arg(1, "step_size"), "CosineAnnealingLR": scheduler.arg(1, "T_max"),
        "PolynomialLR": scheduler.arg(1, "total_iters"), "CosineAnnealingWarmRestarts": scheduler.arg(1, "T_0"),
    }.get(name)  # fmt: skip
    if name == "MultiStepLR":
        milestones = literal(scheduler.arg(1, "milestones"))
        horizon_value = max(milestones) if isinstance(milestones, list | tuple) and milestones else None
    elif name == "ExponentialLR":
        gamma = literal(scheduler.arg(1, "gamma"))
        return isinstance(gamma, float) and gamma < 0.999
    else:
        horizon_value = literal(horizon)
    if not isinstance(horizon_value, int | float):
        return False
    limit = epochs if isinstance(epochs, int) else None
    if limit is None and batches:
        return horizon_value < batches  # shorter than one epoch of batches: certainly epochs
    return limit is not None and horizon_value <= limit * 2 and (batches is None or horizon_value < batches)


def _sized_in_batches(scheduler: Obj) -> bool:
    steps = scheduler.kwargs.get("steps_per_epoch")
    total = literal(scheduler.kwargs.get("total_steps", Known(None)))
    return steps is not None or (isinstance(total, int) and total > 1000)


# -- data ----------------------------------------------------------------------------------------


def test_augmented(training: Training) -> list[Finding]:
    found = []
    for event in datasets_used(training):
        if dataset_role(event.obj, training.walker.names) != "test":
            continue
        transform = dataset_transform(event.obj)
        names = augmentations(transform, training.walker)
        if names:
            first = next(t for t in transform_list(transform) if tail(t.callee) == names[0])
            location = first.module.where(first.node.lineno)  # the random transform's own line
            found.append(finding("test_set_augmented", location, f"the test set is built with {', '.join(names)}"))
    return found


def carved_from(dataset: Value | None) -> Value | None:
    """The dataset a split or Subset was taken from (None when it is not a part of another)."""
    if isinstance(dataset, Element) and isinstance(dataset.base, Obj) and tail(dataset.base.callee) == "random_split" and dataset.base.args:
        return dataset.base.args[0]
    if isinstance(dataset, Obj) and tail(dataset.callee) == "Subset" and dataset.args:
        return dataset.args[0]
    return None


def _validation_named(*names: str) -> bool:
    return any(re.search(r"(^|[^a-z])(val(?!ue)|dev)", name.lower()) for name in names if name)


def validation_overlap(training: Training) -> list[Finding]:
    """A validation set that is, or was carved from, the very dataset the model trains on."""
    walker, found = training.walker, []
    train_data = loader_dataset(training.train_loader)
    if train_data is None:
        return []
    for loop, _ in evaluation_loops(training):
        loader = unwrap_iteration(loop.iterable) if loop.iterable is not None else None
        data = loader_dataset(loader)
        names = (walker.names.get(id(loader), ""), walker.names.get(id(data), ""))
        split_part = isinstance(data, Element) and data.index == 1
        if data is train_data and _validation_named(*names):
            event = next((e for e in training.calls if e.obj is loader), None)
            found.append(
                finding(
                    "validation_overlaps_train",
                    where(event) if event else loop.module.where(loop.node),
                    "the validation loader reads the training set",
                )
            )
        elif carved_from(data) is train_data and (split_part or _validation_named(*names)):
            made = data.base if isinstance(data, Element) else data
            event = next((e for e in training.calls if e.obj is made), None)
            location = where(event) if event else loop.module.where(loop.node)
            found.append(
                finding(
                    "validation_overlaps_train",
                    location,
                    "the validation images are carved from the set the model trains on, which still holds them",
                )
            )
    return found


def unshuffled(training: Training) -> list[Finding]:
    loader = training.train_loader
    if not (isinstance(loader, Obj) and tail(loader.callee) == "DataLoader"):
        return []
    if "sampler" in loader.kwargs or "batch_sampler" in loader.kwargs:
        return []
    shuffle = loader.arg(2, "shuffle")
    if shuffle is None or literal(shuffle) is False:
        event = next((e for e in training.calls if e.obj is loader), None)
        return [finding("train_loader_not_shuffled", where(event), "the training DataLoader has no shuffle=True")] if event else []
    return []


# -- the optimizer and the model -----------------------------------------------------------------


def optimizer_replaced(training: Training) -> list[Finding]:
    """The model's name rebound to a new model after the optimizer took the old one's parameters,
    with no new optimizer for it: on the path the script runs, or on its resume path."""
    optimizer, model = training.optimizer, training.model
    if optimizer is None or model is None:
        return []
    created = next((e.order for e in training.calls if e.obj is optimizer), None)
    trained = {id(unwrap_model(e.obj.callee)) for e in training.calls if training.in_training(e) and isinstance(e.obj.callee, Obj)}
    for event in training.walker.assigns:
        if created is None or event.order < created or not isinstance(event.target, ast.Name):
            continue
        previous, value = event.previous, unwrap_model(event.value)
        if previous is None or not training.is_model(previous) or value is model or _reoptimised(training, value, event.order):
            continue
        if id(value) in trained or (event.ctx.conditional and _a_new_model(value)):
            location = event.ctx.module.where(event.node)
            return [finding("optimizer_bound_to_old_model", location, f"`{event.target.id}` is rebound after the optimizer was built")]
    return []


def _a_new_model(value: Value | None) -> bool:
    """A model built here: a project model class, a torchvision factory, or a whole model unpickled."""
    name = qualname(value.callee) if isinstance(value, Obj) else ""
    return defined_class(value) is not None or (name or "").startswith("torchvision.models") or (name or "").endswith("torch.load")


def _reoptimised(training: Training, value: Value | None, after: int) -> bool:
    from project_viva.training import optimizer_calls, owner, values_in

    for event in optimizer_calls(training.walker):
        if event.order > after:
            for part in values_in(event.obj.arg(0, "params")):
                if (
                    isinstance(part, Obj)
                    and isinstance(part.callee, AttrOf)
                    and unwrap_model(owner(training.walker, part.callee.base)) is value
                ):
                    return True
    return False


def imagenet_head(training: Training, measured_outputs: int | None) -> list[Finding]:
    model = training.model
    if not isinstance(model, Obj) or not (qualname(model.callee) or "").startswith("torchvision.models"):
        return []
    classes = class_count(training)
    if classes is None or classes == 1000 or "num_classes" in model.kwargs:
        return []
    replaced = any(
        isinstance(e.target, ast.Attribute | ast.Subscript) and training.is_model(_root(e.base)) for e in training.walker.assigns
    )
    if replaced or (measured_outputs is not None and measured_outputs != 1000):
        return []
    event = training.model_event
    return (
        [finding("imagenet_head_kept", where(event), f"{tail(model.callee)} keeps its 1000-class head for {classes} classes")]
        if event
        else []
    )


def _root(value: Value | None) -> Value | None:
    from project_viva.training import root

    return root(value) if value is not None else None


def pretrained_flag(training: Training) -> list[Finding]:
    return [
        finding("deprecated_pretrained_argument", where(e), f"{tail(e.obj.callee)}(pretrained=...) instead of weights=")
        for e in training.calls
        if (qualname(e.obj.callee) or "").startswith("torchvision.models") and "pretrained" in e.obj.kwargs
    ]


# -- the training step ---------------------------------------------------------------------------


def zero_grad(training: Training) -> list[Finding]:
    if training.train_loop is None or not training.backward:
        return []
    in_loop = [e for e in training.calls if training.in_training(e)]
    zeroes = [e for e in in_loop if isinstance(e.obj.callee, AttrOf) and e.obj.callee.name == "zero_grad"]
    manual = _zeroes_by_hand(training)
    backward = training.backward[0]
    if not zeroes and not manual:
        return [finding("missing_zero_grad", where(backward), "loss.backward() runs every batch and the gradients are never zeroed")]
    steps = [e for e in in_loop if e in training.optimizer_steps]
    for zero in zeroes:
        same_place = steps and zero.ctx.function is backward.ctx.function is steps[0].ctx.function
        if same_place and backward.obj.node.lineno < zero.obj.node.lineno < steps[0].obj.node.lineno:
            return [finding("zero_grad_misplaced", where(zero), "zero_grad() runs after backward() and before step()")]
    return []


def _zeroes_by_hand(training: Training) -> bool:
    """param.grad = None or param.grad.zero_() inside the training loop."""
    loop = training.train_loop
    text = ast.unparse(loop.node) if loop is not None else ""
    return ".grad = None" in text or ".grad.zero_()" in text or ".grad.data.zero_()" in text


def softmax_before_ce(training: Training, facts: dict) -> list[Finding]:
    if facts.get("loss") != "CrossEntropyLoss":
        return []
    found = []
    for event in training.calls:
        callee = event.obj.callee
        is_loss = (isinstance(callee, Obj) and tail(callee.callee) == "CrossEntropyLoss") or tail(callee) == "cross_entropy"
        if is_loss and event.obj.args and _is_softmax(event.obj.args[0]) and training.in_training(event):
            found.append(finding("softmax_before_cross_entropy", where(event), "the loss is given softmax probabilities"))
    return found or _softmax_in_forward(training)


def _is_softmax(value: Value) -> bool:
    return isinstance(value, Obj) and (
        tail(value.callee) == "softmax" or (isinstance(value.callee, Obj) and tail(value.callee.callee) == "Softmax")
    )


def _softmax_in_forward(training: Training) -> list[Finding]:
    model = training.model
    cls = defined_class(model)
    if isinstance(model, Obj) and tail(model.callee) == "Sequential" and model.args and _is_softmax_layer(model.args[-1]):
        return [finding("softmax_before_cross_entropy", where(training.model_event), "the model ends with nn.Softmax")]
    if cls is None:
        return []
    forward = training.walker.find_method(cls, "forward")
    if forward is None:
        return []
    softmax_attrs = _softmax_attributes(cls, training)
    node = _returned_softmax(forward.node, softmax_attrs)
    if node is None:
        return []
    return [finding("softmax_before_cross_entropy", forward.module.where(node), f"{cls.name}.forward returns softmax probabilities")]


def _is_softmax_layer(value: Value) -> bool:
    return isinstance(value, Obj) and tail(value.callee) == "Softmax"


def _softmax_attributes(cls: DefRef, training: Training) -> set[str]:
    """self.X names assigned nn.Softmax(...) in the class's __init__."""
    init = training.walker.find_method(cls, "__init__")
    names = set()
    for node in ast.walk(init.node) if init else []:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and ast.unparse(node.value.func).endswith("Softmax"):
            names |= {t.attr for t in node.targets if isinstance(t, ast.Attribute)}
    return names


def _softmax_call(node: ast.AST | None, softmax_attrs: set[str]) -> bool:
    if not isinstance(node, ast.Call):
        return False
    name = ast.unparse(node.func)
    return name.endswith((".softmax", "softmax")) and not name.endswith("log_softmax") or any(name == f"self.{a}" for a in softmax_attrs)


def _returned_softmax(function: ast.FunctionDef, softmax_attrs: set[str]) -> ast.AST | None:
    """The softmax call whose result forward() returns (directly or through its last assignment)."""
    last: dict[str, ast.AST] = {}
    for node in function.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            last[node.targets[0].id] = node.value
        if isinstance(node, ast.Return):
            value = node.value
            if isinstance(value, ast.Name):
                value = last.get(value.id)
            return value if _softmax_call(value, softmax_attrs) else None
    return None


def loss_graph_kept(training: Training) -> list[Finding]:
    losses = {id(e.obj) for e in training.calls if training.in_training(e) and _is_loss_call(e)}
    backward_names = {_base_name(e) for e in training.backward}
    found = []
    for event in training.walker.assigns:
        node = event.node
        if not isinstance(node, ast.AugAssign) or training.train_loop not in event.ctx.loops:
            continue
        name = ast.unparse(node.target)
        if name in backward_names:
            continue  # summing loss terms before one backward(): that is the point
        if any(id(v) in losses for v in _direct_parts(event.value)):
            found.append(
                finding("loss_accumulated_with_graph", event.ctx.module.where(node), f"`{ast.unparse(node)}` adds the loss tensor")
            )
    for event in training.calls:
        callee = event.obj.callee
        appended = isinstance(callee, AttrOf) and callee.name == "append" and event.obj.args and id(event.obj.args[0]) in losses
        if appended and training.in_training(event):
            found.append(finding("loss_accumulated_with_graph", where(event), "the loss tensor is appended to a list"))
    return found


def _base_name(event: CallEvent) -> str:
    node = event.obj.node
    return ast.unparse(node.func.value) if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) else ""


def _is_loss_call(event: CallEvent) -> bool:
    callee = event.obj.callee
    if isinstance(callee, Obj) and tail(callee.callee).endswith("Loss"):
        return True
    return tail(callee) in FUNCTIONAL_LOSSES and is_torch(callee)


def _direct_parts(value: Value, depth: int = 0) -> list[Value]:
    """The value and what arithmetic built it from; method calls (item, detach) end the chain."""
    if depth > 6:
        return []
    parts = [value]
    if isinstance(value, Unknown):
        for part in value.parts:
            parts += _direct_parts(part, depth + 1)
    return parts


def find_torch(training: Training, facts: dict, measured_outputs: int | None) -> list[Finding]:
    found: list[Finding] = []
    found += selection_on_test(training)
    found += eval_mode(training, facts)
    found += no_grad_in_eval(training)
    found += train_mode_restored(training, facts)
    found += scheduler_stepping(training, facts)
    found += test_augmented(training)
    found += validation_overlap(training)
    found += unshuffled(training)
    found += optimizer_replaced(training)
    found += imagenet_head(training, measured_outputs)
    found += pretrained_flag(training)
    found += zero_grad(training)
    found += softmax_before_ce(training, facts)
    found += loss_graph_kept(training)
    return found
