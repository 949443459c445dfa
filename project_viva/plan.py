"""What the contained runner is asked to do, written as source text: the project's modules cut
down to their definitions (imports, functions, classes, constant settings: never the training
loop or anything else the script does at its top level), the expression that builds the model as
the script does (its arguments resolved), the statements that change it afterwards (a new head,
frozen layers), and the optimizer and scheduler calls to step on a dummy parameter."""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field
from typing import Any

from project_viva.interpreter import Loop, Walker
from project_viva.modules import Module
from project_viva.training import Training, loader_length, root, unwrap_model
from project_viva.values import AttrOf, DefRef, Element, Ext, Known, Mapping, ModRef, Obj, Seq, Unknown, Value, literal, tail

# Calls allowed in a kept top-level assignment: they build settings, never do work.
SAFE_CALLS = {"dict", "list", "tuple", "set", "range", "len", "int", "float", "str", "OrderedDict", "partial", "device", "is_available",
              "namedtuple", "Path", "join"}  # fmt: skip
SAFE_CALL_PREFIXES = ("nn.", "torch.nn.", "math.", "collections.", "functools.")
DATA_BUILDERS = {"DataLoader", "CIFAR10", "CIFAR100", "MNIST", "FashionMNIST", "SVHN", "ImageFolder", "random_split", "Subset", "load_data"}
MAX_EPOCHS_SIMULATED = 2000
MAX_STEPS_SIMULATED = 400_000  # scheduler steps in all (epochs x batches)


class CannotRender(Exception):
    """A value the runner cannot rebuild; the message says why (for `unmeasured`)."""


# -- the definitions-only modules ----------------------------------------------------------------


def _safe_call(node: ast.Call) -> bool:
    name = ast.unparse(node.func)
    return name.rsplit(".", 1)[-1] in SAFE_CALLS or name.startswith(SAFE_CALL_PREFIXES)


def _kept(statement: ast.stmt) -> bool:
    """Definitions and settings: what importing the model's module needs, and nothing that acts."""
    if isinstance(statement, ast.Import | ast.ImportFrom | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return True
    if isinstance(statement, ast.Assign | ast.AnnAssign) and getattr(statement, "value", None) is not None:
        return all(_safe_call(call) for call in ast.walk(statement.value) if isinstance(call, ast.Call))
    if isinstance(statement, ast.Try):
        return all(_kept(s) for s in statement.body)
    return False


def definitions_only(module: Module) -> str:
    """The module's text with every top-level statement that is not a definition blanked out,
    line numbers unchanged (so a traceback or a blocked call points at the learner's line)."""
    lines = module.source.code.splitlines()
    keep = [False] * len(lines)
    for statement in module.tree.body:
        if _kept(statement):
            start = min([statement.lineno - 1] + [d.lineno - 1 for d in getattr(statement, "decorator_list", [])])
            for number in range(start, min(statement.end_lineno or statement.lineno, len(lines))):
                keep[number] = True
    return "\n".join(line if kept else "" for line, kept in zip(lines, keep, strict=True)) + "\n"


# -- rendering values as source --------------------------------------------------------------------


@dataclass
class Renderer:
    """Turns abstract values back into Python source for the runner. `bound` names objects the
    runner holds in variables (the model, the optimizer, the loop counter)."""

    walker: Walker
    training: Training
    bound: dict[int, str] = field(default_factory=dict)
    module_files: dict[str, str] = field(default_factory=dict)  # project module name -> runner module name

    def render(self, value: Value | None, depth: int = 0) -> str:
        if value is None:
            return "None"
        if depth > 30:
            raise CannotRender("an expression nested too deeply")
        if id(value) in self.bound:
            return self.bound[id(value)]
        method = getattr(self, f"render_{type(value).__name__}", None)
        if method is None:
            raise CannotRender(f"a {type(value).__name__} value")
        return method(value, depth)

    def render_Known(self, value: Known, depth: int) -> str:
        return _literal_source(value.value)

    def render_Ext(self, value: Ext, depth: int) -> str:
        if value.name.split(".")[0] in ("tensorflow", "keras", "tf"):
            raise CannotRender("TensorFlow is not installed here")
        return f"_ext({value.name!r})"

    def render_ModRef(self, value: ModRef, depth: int) -> str:
        return f"_module({self.runner_module(value.module)!r})"

    def render_DefRef(self, value: DefRef, depth: int) -> str:
        if isinstance(value.node, ast.Lambda):
            return self.render_lambda(value, depth)
        if value.node not in value.module.tree.body:
            raise CannotRender(f"{value.name} is defined inside a function, where the runner cannot import it")
        return f"_project({self.runner_module(value.module)!r}, {value.name!r})"

    def render_lambda(self, value: DefRef, depth: int) -> str:
        node = value.node
        params = {a.arg for a in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]}
        free = sorted({n.id for n in ast.walk(node.body) if isinstance(n, ast.Name) and n.id not in params and n.id not in _BUILTIN_NAMES})
        scope = {**self.walker.namespaces.get(value.module.name, {}), **(value.closure or {})}
        bindings = []
        for name in free:
            if name not in scope:
                raise CannotRender(f"the lambda's {name} is not known")
            bindings.append(f"{name}={self.render(scope[name], depth + 1)}")
        header = "lambda " + ", ".join(free) + ": " if free else "lambda: "
        return f"({header}{ast.unparse(node)})({', '.join(bindings)})"

    def render_Obj(self, value: Obj, depth: int) -> str:
        callee = value.callee
        name = tail(callee)
        if name in DATA_BUILDERS:
            raise CannotRender(f"the data ({name}(...)), which only exists when the script runs")
        if name == "len" and value.args and isinstance(value.args[0], Obj) and tail(value.args[0].callee) == "DataLoader":
            batches, why = loader_length(value.args[0])  # len(train_loader): batches per epoch
            if batches is None:
                raise CannotRender(why)
            return str(batches)
        if name in ("DataParallel", "DistributedDataParallel") and value.args:
            return self.render(value.args[0], depth + 1)
        args = [self.render(a, depth + 1) for a in value.args]
        kwargs = {k: self.render(v, depth + 1) for k, v in value.kwargs.items()}
        if "torchvision.models" in (self.render(callee, depth + 1)) or name in ("create_model",):
            kwargs = _no_download(kwargs)
        parts = args + [f"{k}={v}" for k, v in kwargs.items()]
        return f"{self.render(callee, depth + 1)}({', '.join(parts)})"

    def render_AttrOf(self, value: AttrOf, depth: int) -> str:
        base = value.base
        if value.name == "module" and isinstance(base, Obj) and tail(base.callee) in ("DataParallel", "DistributedDataParallel"):
            return self.render(base, depth + 1)
        return f"{self.render(base, depth + 1)}.{value.name}"

    def render_Element(self, value: Element, depth: int) -> str:
        if value.index in ("each", "?"):
            counter = self.walker.counters.get(id(value))
            raise CannotRender("a value taken inside a loop" if counter is None else "the loop's variable")
        return f"{self.render(value.base, depth + 1)}[{value.index!r}]"

    def render_Seq(self, value: Seq, depth: int) -> str:
        items = ", ".join(self.render(item, depth + 1) for item in value.items)
        return f"({items}{',' if len(value.items) == 1 else ''})" if value.kind == "tuple" else f"[{items}]"

    def render_Mapping(self, value: Mapping, depth: int) -> str:
        rendered = {}
        for key, item in value.items.items():
            try:
                rendered[key] = self.render(item, depth + 1)
            except CannotRender:
                if not value.namespace:
                    raise
        if value.namespace:  # an argparse result or config: the fields that are known
            return "_ns(" + ", ".join(f"{k}={v}" for k, v in rendered.items() if str(k).isidentifier()) + ")"
        return "{" + ", ".join(f"{_literal_source(k)}: {v}" for k, v in rendered.items()) + "}"

    def render_Unknown(self, value: Unknown, depth: int) -> str:
        loop = self.walker.counters.get(id(value))
        if loop is not None and self.training.epoch_loop is loop:
            return "epoch"
        call = self.walker.call_of.get(id(value))
        if call is not None:  # the value a project function computes: call it again in the runner
            return self.render(call, depth + 1)
        raise CannotRender(value.reason)

    def render_Parser(self, value: Value, depth: int) -> str:
        raise CannotRender("an argument parser")

    def runner_module(self, module: Module) -> str:
        if module.name not in self.module_files:
            raise CannotRender(f"{module.path} is not importable")
        return self.module_files[module.name]


_BUILTIN_NAMES = set(dir(__builtins__) if isinstance(__builtins__, dict) is False else __builtins__) | {
    "math", "max", "min", "abs", "int", "float", "round", "len", "range", "pow", "sum"
}  # fmt: skip


def _literal_source(value: Any) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"
    if isinstance(value, range | slice):
        return repr(value)
    text = repr(value)
    try:
        ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise CannotRender(f"a value written as {text[:40]}") from None
    return text


def _no_download(kwargs: dict[str, str]) -> dict[str, str]:
    """Pretrained weights are never downloaded: the same architecture, randomly initialised,
    has the same shapes and parameter counts."""
    out = dict(kwargs)
    if "pretrained" in out:
        out["pretrained"] = "False"
    if "weights" in out:
        out["weights"] = "None"
    return out


# -- the plan ------------------------------------------------------------------------------------


@dataclass
class Plan:
    modules: dict[str, str]  # runner module name -> definitions-only source
    packages: list[str]  # runner module names that are packages
    paths: dict[str, str]  # runner module name -> the learner's file, for messages
    model: str | None = None
    post: list[list[Any]] = field(default_factory=list)  # [source, file, line] run after building the model
    input_shape: list[int] = field(default_factory=lambda: [1, 3, 32, 32])
    optimizer: str | None = None
    scheduler: str | None = None
    step_args: str = ""
    stepped: str | None = None  # per_epoch | per_batch
    step_first: bool = False  # scheduler.step() comes before the training in each epoch
    hooks: list[str] = field(default_factory=list)  # per-epoch calls that set the LR (adjust_learning_rate)
    rebuild_optimizer: bool = False  # the script builds a new optimizer every epoch (its lr computed from the epoch)
    lr_set_inline: bool = False  # the epoch loop assigns param_groups' lr itself: no curve is drawn rather than a wrong one
    epochs: list[int] | None = None  # range(start, stop, step) of the epoch loop
    steps_per_epoch: int | None = None
    unmeasured: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def runner_names(walker: Walker) -> tuple[dict[str, str], dict[str, str], list[str], dict[str, str]]:
    """Runner module names for the project's modules (notebooks get importable names)."""
    files, sources, packages, paths = {}, {}, [], {}
    for number, (name, module) in enumerate(sorted(walker.index.modules.items())):
        runner = name if all(part.isidentifier() for part in name.split(".")) and not module.source.is_notebook else f"_learner_{number}"
        files[name] = runner
        sources[runner] = definitions_only(module)
        paths[runner] = module.path
        if module.is_package:
            packages.append(runner)
    for runner in list(sources):  # folders without __init__.py are namespace packages to Python
        parts = runner.split(".")
        for cut in range(1, len(parts)):
            parent = ".".join(parts[:cut])
            if parent not in sources:
                sources[parent] = ""
                packages.append(parent)
                paths[parent] = parent.replace(".", "/") + "/"
    return files, sources, packages, paths


def build_plan(training: Training, epochs_range: range | None, batches: int | None) -> Plan:
    walker = training.walker
    files, sources, packages, paths = runner_names(walker)
    plan = Plan(sources, packages, paths)
    renderer = Renderer(walker, training, module_files=files)
    model = unwrap_model(training.model)
    if model is None:
        plan.unmeasured.append("model: not measured, no model was found in the code")
    else:
        try:
            plan.model = renderer.render(model)
            renderer.bound[id(model)] = renderer.bound[id(training.model)] = "model"
            plan.post = model_changes(training, renderer, plan)
        except CannotRender as why:
            event = training.model_event
            call = "the model"
            if event is not None:
                call = f"`{event.ctx.module.segment(event.obj.node)[:80]}` at {event.ctx.module.where(event.obj.node)}"
            detail = "" if str(why) == "computed at run time" else f" ({why})"
            plan.unmeasured.append(f"model: not measured, {call} needs a value the script computes at run time{detail}")
    _schedule(training, renderer, plan, epochs_range, batches)
    return plan


def _first_training_order(training: Training) -> int:
    return min((e.order for e in training.backward), default=10**12)


def model_changes(training: Training, renderer: Renderer, plan: Plan) -> list[list[Any]]:
    """Statements the script runs on the model after building it and before training: a new head
    (`model.fc = nn.Linear(512, 10)`), frozen parameters, requires_grad_(False)."""
    walker, model = training.walker, unwrap_model(training.model)
    limit = _first_training_order(training)
    changes: list[tuple[int, str, Module, ast.AST]] = []
    for event in walker.assigns:
        target = event.target
        if event.order > limit or not isinstance(target, ast.Attribute | ast.Subscript) or not _is(training, root(event.base), model):
            continue
        if isinstance(target, ast.Attribute) and target.attr == "requires_grad" and isinstance(event.base, Element):
            continue  # a loop's parameter: the loop is replayed whole below
        try:
            path = _target_path(target, event.base, renderer)
            changes.append((event.order, f"{path} = {renderer.render(event.value)}", event.ctx.module, event.node))
        except CannotRender as why:
            plan.unmeasured.append(f"{event.ctx.module.where(event.node)}: a change to the model not replayed ({why})")
    for node, module, scope, iterable, order in walker.param_loops:
        if order > limit or not _is(training, root(iterable), model) or not _sets_requires_grad(node):
            continue
        try:
            changes.append((order, render_statement(node, scope, renderer), module, node))
        except CannotRender as why:
            plan.unmeasured.append(f"{module.where(node)}: freezing loop not replayed ({why}); the trainable count may be off")
    for event in training.method_calls(None, "requires_grad_"):
        if event.order < limit and _is(training, root(event.obj.callee.base), model):
            try:
                changes.append((event.order, renderer.render(event.obj), event.ctx.module, event.obj.node))
            except CannotRender as why:
                plan.unmeasured.append(f"{event.ctx.module.where(event.obj.node)}: not replayed ({why})")
    return [[text, str(module.where(node))] for _, text, module, node in sorted(changes, key=lambda c: c[0])]


def _is(training: Training, value: Value | None, model: Value | None) -> bool:
    return value is not None and (value is model or unwrap_model(value) is model or value is training.model)


def _target_path(target: ast.Attribute | ast.Subscript, base: Value | None, renderer: Renderer) -> str:
    owner = renderer.render(base)
    if isinstance(target, ast.Attribute):
        return f"{owner}.{target.attr}"
    text = ast.unparse(target.slice)
    try:
        index = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise CannotRender(f"the index {text} is computed") from None
    return f"{owner}[{index!r}]"


def _sets_requires_grad(node: ast.For) -> bool:
    return any(isinstance(n, ast.Attribute) and n.attr == "requires_grad" and isinstance(n.ctx, ast.Store) for n in ast.walk(node))


class _Substitute(ast.NodeTransformer):
    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if isinstance(node.ctx, ast.Load) and node.id in self.names:
            return ast.parse(self.names[node.id], mode="eval").body
        return node


def render_statement(node: ast.stmt, scope: dict[str, Value], renderer: Renderer) -> str:
    """A statement of the script with its free names replaced by what they held."""
    stored = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    free = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} - stored - _BUILTIN_NAMES
    names = {}
    for name in sorted(free):
        if name not in scope:
            raise CannotRender(f"{name} is not known")
        names[name] = renderer.render(scope[name])
    return ast.unparse(_Substitute(names).visit(ast.parse(ast.unparse(node))))


def _schedule(training: Training, renderer: Renderer, plan: Plan, epochs_range: range | None, batches: int | None) -> None:
    """The optimizer on a dummy parameter, the scheduler on that optimizer, and how to step them."""
    from project_viva.facts import the_scheduler

    optimizer = training.optimizer
    if optimizer is None:
        plan.unmeasured.append("learning rate by epoch: no optimizer found")
        return
    if epochs_range is None:
        plan.unmeasured.append("learning rate by epoch: the number of epochs is not known")
        return
    inline = _lr_set_inline(training)
    if inline:
        plan.unmeasured.append(f"learning rate by epoch: set at {inline} inside the epoch loop, which is not replayed")
        plan.lr_set_inline = True
        return
    plan.epochs = [epochs_range.start, epochs_range.stop, epochs_range.step]
    created = next((e for e in training.calls if e.obj is optimizer), None)
    plan.rebuild_optimizer = created is not None and training.epoch_loop is not None and training.epoch_loop in created.ctx.loops
    renderer.bound[id(optimizer)] = "optimizer"
    try:
        args = ["_params(" + renderer.render(optimizer.arg(0, "params")) + ")" if _groups(optimizer) else "[_p]"]
        args += [renderer.render(a) for a in optimizer.args[1:]]
        kwargs = [f"{k}={renderer.render(v)}" for k, v in optimizer.kwargs.items() if k != "params"]
        plan.optimizer = f"{renderer.render(optimizer.callee)}({', '.join(args + kwargs)})"
    except CannotRender as why:
        plan.unmeasured.append(f"learning rate by epoch: the optimizer's arguments are not known before the script runs ({why})")
        return
    event, steps = the_scheduler(training)
    plan.hooks = _hooks(training, renderer, plan)
    if event is None:
        return
    try:
        plan.scheduler = renderer.render(event.obj)
        plan.stepped = "per_batch" if any(any(loop.batches for loop in s.ctx.loops) for s in steps) else "per_epoch"
        if steps and steps[0].obj.args:
            plan.step_args = ", ".join(renderer.render(a) for a in steps[0].obj.args)
    except CannotRender as why:
        plan.scheduler = None
        plan.unmeasured.append(f"learning rate by epoch: the scheduler's arguments are not known before the script runs ({why})")
        return
    if not steps:
        plan.stepped = None
    plan.step_first = bool(steps) and _before_training(training, steps[0])
    if plan.stepped == "per_batch":
        plan.steps_per_epoch = batches
        if batches is None:
            plan.unmeasured.append("learning rate by batch: batches per epoch not known")
        elif batches * len(epochs_range) > MAX_STEPS_SIMULATED:
            plan.epochs = [epochs_range.start, epochs_range.start + max(1, MAX_STEPS_SIMULATED // batches), epochs_range.step]
            plan.unmeasured.append(f"learning rate by epoch: only the first {plan.epochs[1] - plan.epochs[0]} epochs simulated")


def _lr_set_inline(training: Training) -> str:
    """Where the script assigns param_groups' lr in the epoch loop itself (not in a function the
    simulation can call): '' when it does not."""
    loop = training.epoch_loop
    if loop is None:
        return ""
    home = loop_function(training)
    for event in training.walker.assigns:
        target = event.target
        sets_lr = isinstance(target, ast.Subscript) and literal_slice(target) == "lr"
        if sets_lr and loop in event.ctx.loops and event.ctx.function is home:
            return str(event.ctx.module.where(event.node))
    return ""


def loop_function(training: Training) -> ast.AST | None:
    """The function the epoch loop is written in (None at module level)."""
    loop = training.epoch_loop
    return next((ctx.function for recorded, ctx in training.walker.loops if recorded is loop), None)


def _groups(optimizer: Obj) -> bool:
    params = optimizer.arg(0, "params")
    return isinstance(params, Seq) and all(isinstance(i, Mapping) or isinstance(literal(i), dict) for i in params.items) and params.items


def _anchor(training: Training, ctx_sites: tuple, line: int, module_name: str) -> tuple[int, int]:
    """Where an event sits in the epoch loop's body: the line of the call that leads to it."""
    loop = training.epoch_loop
    if loop is None:
        return (0, line)
    start, end = loop.node.lineno, loop.node.end_lineno or loop.node.lineno
    for site_module, site_line in ctx_sites:
        if site_module == loop.module.name and start <= site_line <= end:
            return (0, site_line)
    return (0, line) if module_name == loop.module.name else (1, line)


def _before_training(training: Training, step) -> bool:
    if not training.backward:
        return False
    first = training.backward[0]
    step_at = _anchor(training, step.ctx.sites, step.obj.node.lineno, step.ctx.module.name)
    train_at = _anchor(training, first.ctx.sites, first.obj.node.lineno, first.ctx.module.name)
    return step_at < train_at


def _hooks(training: Training, renderer: Renderer, plan: Plan) -> list[str]:
    """Per-epoch calls of project functions that set param_groups' lr (adjust_learning_rate)."""
    hooks = []
    loop: Loop | None = training.epoch_loop
    for event in training.calls:
        callee = event.obj.callee
        if loop is None or loop not in event.ctx.loops or training.in_training(event) or not isinstance(callee, DefRef):
            continue
        text = ast.unparse(callee.node)
        if not _sets_lr(callee.node) or ".backward(" in text or "loader" in text:
            continue  # only a function that sets the rate, never one that trains
        try:
            hooks.append(renderer.render(event.obj))
        except CannotRender as why:
            plan.unmeasured.append(f"{event.ctx.module.where(event.obj.node)}: {callee.name}() not replayed ({why})")
    return hooks


def _sets_lr(node: ast.AST) -> bool:
    return any(isinstance(sub, ast.Subscript) and isinstance(sub.ctx, ast.Store) and literal_slice(sub) == "lr" for sub in ast.walk(node))


def literal_slice(node: ast.Subscript) -> Any:
    return node.slice.value if isinstance(node.slice, ast.Constant) else None
