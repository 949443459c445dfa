"""A static walk of the training script as Python would run it, without running anything: the
entry's top level, then `main()` under the `__main__` guard, into the project's own functions and
methods with their arguments bound. Names hold abstract values (values.py); argparse defaults,
constants, config files and dataclass configs are resolved, so an `if args.model == 'resnet'`
picks the live branch. Every call, assignment, loop and comparison is recorded with its context
(the loops and `with` blocks around it, dynamically: a batch loop inside `train()` called from the
epoch loop sits inside both), and the facts and detectors read those records."""

from __future__ import annotations

import ast
import copy
import itertools
import math
import operator
import os
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from project_viva.modules import Module, ProjectIndex
from project_viva.values import (
    NOTHING,
    AttrOf,
    DefRef,
    Element,
    Ext,
    Known,
    Mapping,
    ModRef,
    Obj,
    Parser,
    Seq,
    Unknown,
    Value,
    literal,
    qualname,
    tail,
)

MAX_STATEMENTS = 40_000  # walked in all: a project with many calls to its own functions stops here
MAX_DEPTH = 12  # nested calls into the project's functions
MAX_WALKS_PER_DEF = 40  # the same function walked again: train/val/test, or a block built in a loop (Keras ResNets)
MAX_UNROLLED = 64  # a loop over known values that builds something (layers) is walked once per value up to this
MAX_TEXT = 10_000  # longest string or sequence built by constant folding

_PURE_BUILTINS: dict[str, Any] = {
    "len": len, "int": int, "float": float, "str": str, "bool": bool, "round": round, "abs": abs, "min": min, "max": max,
    "sum": sum, "list": list, "tuple": tuple, "sorted": sorted, "range": range, "dict": dict, "pow": pow, "divmod": divmod,
}  # fmt: skip
_PURE_MATH = {"ceil": math.ceil, "floor": math.floor, "sqrt": math.sqrt, "log": math.log, "exp": math.exp, "cos": math.cos, "pow": pow}
_BINOPS = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod, ast.Pow: operator.pow,
}  # fmt: skip
_COMPARE = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b, ast.Is: operator.is_, ast.IsNot: operator.is_not,
}  # fmt: skip
# Methods that return the module or tensor they are called on.
SELF_RETURNING = {"to", "cuda", "cpu", "train", "eval", "float", "half", "double", "bfloat16", "requires_grad_", "share_memory"}
PARAMETER_ITERATORS = {"parameters", "named_parameters", "children", "named_children", "modules", "named_modules"}
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
DATASET_CLASS_NAMES = {
    "CIFAR10": CIFAR10_CLASSES,
    "MNIST": tuple(str(d) for d in range(10)),
    "CIFAR100": tuple(f"class {i}" for i in range(100)),  # only their number matters here
}
CONFIG_LOADERS = {"json.load", "yaml.safe_load", "yaml.load", "yaml.full_load", "yaml.unsafe_load", "toml.load", "tomllib.load"}


@dataclass(frozen=True, eq=False)
class Loop:
    node: ast.For | ast.While | ast.AsyncFor
    module: Module
    iterable: Value | None  # None for a while loop
    batches: bool = False  # a loop over batches of data (a DataLoader, or something named a loader)


@dataclass(frozen=True)
class Context:
    module: Module
    function: ast.AST | None  # the def being walked; None at module level
    loops: tuple[Loop, ...]
    withs: tuple[Value, ...]
    conditional: bool  # inside a branch whose condition could not be decided
    sites: tuple[tuple[str, int], ...] = ()  # (module, line) of each call into the project being walked, outermost first
    iterated: tuple[Value, ...] = ()  # loaders this call (and the calls it made) looped over so far


@dataclass
class CallEvent:
    obj: Obj
    ctx: Context
    result: Value | None = None  # what the call returned, where it is not `obj` itself (a project function)
    order: int = 0  # walk order, shared with assignments


@dataclass
class AssignEvent:
    target: ast.expr
    value: Value
    node: ast.stmt
    ctx: Context
    previous: Value | None = None  # what a plain name held before
    base: Value | None = None  # for `x.attr = ...` or `x[i] = ...`: what x was
    order: int = 0


@dataclass
class IfEvent:
    node: ast.If
    ctx: Context
    loaders: list[Value]  # the data iterated to compute the compared values (the metric's provenance)
    test: Value | None = None  # the condition as evaluated (its parts: the compared values)


@dataclass
class Frame:
    module: Module
    function: ast.AST | None
    locals: dict[str, Value]
    closure: dict[str, Value] | None = None
    iterated: list[Value] = field(default_factory=list)  # loaders looped over in this call and its callees
    global_names: set[str] = field(default_factory=set)


class _Return(Exception):
    def __init__(self, value: Value) -> None:
        self.value = value


class _Budget(Exception):
    pass


class Walker:
    """Walk the entry module; read the records (calls, assigns, ifs, loops) afterwards."""

    def __init__(self, index: ProjectIndex) -> None:
        self.index = index
        self.namespaces: dict[str, dict[str, Value]] = {}
        self.calls: list[CallEvent] = []
        self.assigns: list[AssignEvent] = []
        self.ifs: list[IfEvent] = []
        self.loops: list[tuple[Loop, Context]] = []
        self.names: dict[int, str] = {}  # id(value) -> the first name it was bound to
        self.provenance: dict[int, list[Value]] = {}  # id(value returned by a call) -> loaders that call iterated
        self.walked: dict[ast.AST, int] = {}
        self.problems: list[str] = []
        self.frames: list[Frame] = []
        self.loop_stack: list[Loop] = []
        self.with_stack: list[Value] = []
        self.sites: list[tuple[str, int]] = []
        self.call_of: dict[int, Obj] = {}  # id(a project function's unknown result) -> the call that returned it
        self.owners: dict[int, Value] = {}  # id(value) -> the object it was set on (model.fc = Linear: the model)
        self.counters: dict[int, Loop] = {}  # id(loop variable value) -> its loop (`epoch` in range(...))
        self.param_loops: list[tuple[ast.For, Module, dict[str, Value], Value, int]] = []  # loops over model.parameters(): freezing
        self.loop_scopes: dict[Loop, dict[str, Value]] = {}  # the names in scope when each loop started
        self.clock = itertools.count()
        self.branch_depth = 0
        self.speculating = 0  # inside a branch a fresh run skips: record, but change no object
        self.statements = 0
        self.budget_hit = False

    # -- entry points -------------------------------------------------------------------------

    def run(self, entry: Module) -> None:
        try:
            self.namespace(entry, as_main=True)
        except _Budget:
            self.budget_hit = True

    def namespace(self, module: Module, as_main: bool = False) -> dict[str, Value]:
        """The module's globals after its top level has been walked (once)."""
        if module.name in self.namespaces:
            return self.namespaces[module.name]
        names: dict[str, Value] = {"__name__": Known("__main__" if as_main else module.name), "__file__": Known(module.path)}
        self.namespaces[module.name] = names
        self.frames.append(Frame(module, None, names))
        try:
            self.walk_body(module.tree.body)
        finally:
            self.frames.pop()
        return names

    @property
    def frame(self) -> Frame:
        return self.frames[-1]

    def context(self) -> Context:
        return Context(
            self.frame.module,
            self.frame.function,
            tuple(self.loop_stack),
            tuple(self.with_stack),
            self.branch_depth > 0,
            tuple(self.sites),
            tuple(self.frame.iterated),
        )

    # -- statements ---------------------------------------------------------------------------

    def walk_body(self, body: list[ast.stmt]) -> None:
        for statement in body:
            self.statements += 1
            if self.statements > MAX_STATEMENTS:
                raise _Budget
            try:
                self.walk(statement)
            except (_Return, _Budget):
                raise
            except RecursionError:
                raise _Budget from None
            except Exception as error:  # a construct this reader does not model: note it, go on
                where = self.frame.module.where(statement)
                self.problems.append(f"{where}: not followed ({type(error).__name__}: {error})")

    def walk(self, node: ast.stmt) -> None:
        method = getattr(self, f"walk_{type(node).__name__}", None)
        if method is not None:
            method(node)

    def walk_Expr(self, node: ast.Expr) -> None:
        self.eval(node.value)

    def walk_Assign(self, node: ast.Assign) -> None:
        value = self.eval(node.value)
        for target in node.targets:
            self.bind(target, value, node)

    def walk_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.bind(node.target, self.eval(node.value), node)

    def walk_AugAssign(self, node: ast.AugAssign) -> None:
        current = self.eval(node.target)
        value = self.binop(node.op, current, self.eval(node.value))
        self.bind(node.target, value, node)

    def walk_If(self, node: ast.If) -> None:
        test = self.eval(node.test)
        self.ifs.append(IfEvent(node, self.context(), list(self.frame.iterated), test))
        decided = literal(test)
        if decided is not NOTHING:
            self.walk_body(node.body if decided else node.orelse)
            if _about_a_later_run(node.test):
                self.walk_speculative(node.orelse if decided else node.body)
            return
        self.walk_both(node.body, node.orelse)

    def walk_speculative(self, body: list[ast.stmt]) -> None:
        """Walk a branch a fresh run skips (resuming from a checkpoint): its calls and assignments
        are recorded as conditional, for the detectors, and every name it binds is forgotten."""
        scope = self.frame.locals
        before = dict(scope)
        self.branch_depth += 1
        self.speculating += 1
        try:
            self.walk_body(body)
        except _Return:
            pass
        finally:
            scope.clear()
            scope.update(before)
            self.branch_depth -= 1
            self.speculating -= 1

    def walk_both(self, body: list[ast.stmt], orelse: list[ast.stmt]) -> None:
        """An undecided branch: both are walked; where both bind a name, the first branch wins."""
        scope = self.frame.locals
        before = dict(scope)
        self.branch_depth += 1
        try:
            self.walk_body(body)
            first = {k: v for k, v in scope.items() if before.get(k) is not v}
            scope.clear()
            scope.update(before)
            self.walk_body(orelse)
            scope.update(first)
        finally:
            self.branch_depth -= 1

    def walk_For(self, node: ast.For) -> None:
        iterable = self.eval(node.iter)
        batches = is_loader(iterable) or "loader" in ast.unparse(node.iter).lower()
        loop = Loop(node, self.frame.module, iterable, batches)
        self.loops.append((loop, self.context()))
        self.loop_scopes[loop] = self.scope()
        if batches:
            self.frame.iterated.append(unwrap_iteration(iterable))
        if self.unrollable(node, iterable):
            self.unroll(node, loop, literal(iterable))
            return
        element = self.first_element(iterable)
        self.counters[id(element)] = loop
        self.bind(node.target, element, node)
        inner = unwrap_iteration(iterable)
        if isinstance(inner, Obj) and isinstance(inner.callee, AttrOf) and inner.callee.name in PARAMETER_ITERATORS:
            scope = self.scope()
            self.param_loops.append((node, self.frame.module, scope, inner, next(self.clock)))
        self.loop_stack.append(loop)
        try:
            self.walk_body(node.body)
        finally:
            self.loop_stack.pop()
        self.walk_body(node.orelse)

    walk_AsyncFor = walk_For

    def unrollable(self, node: ast.For, iterable: Value) -> bool:
        """A short loop over known values that trains nothing (it builds layers or lists): walked once
        per value, so a model stacked in a loop has every block. Training loops are walked once."""
        held = literal(iterable)
        if not isinstance(held, list | tuple | range) or not 1 < len(held) <= MAX_UNROLLED:
            return False
        if is_phase_list(held):  # `for phase in ['train', 'val']`: each phase is its own pass over its own data
            return True
        text = ast.unparse(node)
        return not any(word in text for word in (".backward(", ".fit(", ".step(", "train", "loader", "evaluate", "test("))

    def unroll(self, node: ast.For, loop: Loop, values) -> None:
        self.loop_stack.append(loop)
        try:
            for value in values:
                self.bind(node.target, Known(value), node)
                self.walk_body(node.body)
        finally:
            self.loop_stack.pop()
        self.walk_body(node.orelse)

    def walk_While(self, node: ast.While) -> None:
        self.eval(node.test)
        loop = Loop(node, self.frame.module, None)
        self.loops.append((loop, self.context()))
        self.loop_stack.append(loop)
        try:
            self.walk_body(node.body)
        finally:
            self.loop_stack.pop()

    def walk_With(self, node: ast.With) -> None:
        pushed = 0
        try:
            for item in node.items:
                value = self.eval(item.context_expr)
                self.with_stack.append(value)
                pushed += 1
                if item.optional_vars is not None:
                    self.bind(item.optional_vars, value, node)
            self.walk_body(node.body)
        finally:
            del self.with_stack[len(self.with_stack) - pushed :]

    walk_AsyncWith = walk_With

    def walk_Try(self, node: ast.Try) -> None:
        self.walk_body(node.body)
        self.walk_body(node.orelse)
        self.walk_body(node.finalbody)

    walk_TryStar = walk_Try

    def walk_FunctionDef(self, node: ast.FunctionDef) -> None:
        closure = self.frame.locals if self.frame.function is not None else None
        self.set_name(node.name, DefRef(node, self.frame.module, closure))

    walk_AsyncFunctionDef = walk_FunctionDef

    def walk_ClassDef(self, node: ast.ClassDef) -> None:
        self.set_name(node.name, DefRef(node, self.frame.module))

    def walk_Return(self, node: ast.Return) -> None:
        raise _Return(self.eval(node.value) if node.value is not None else Known(None))

    def walk_Global(self, node: ast.Global) -> None:
        self.frame.global_names.update(node.names)

    walk_Nonlocal = walk_Global

    def walk_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            found = self.index.resolve(alias.name, self.frame.module)
            if found is not None:
                self.namespace(found)  # importing runs the module's top level (here: walks it)
            if alias.asname:
                value = ModRef(found) if found else Ext(alias.name)
                self.set_name(alias.asname, value)
            else:
                top = alias.name.split(".")[0]
                top_module = self.index.resolve(top, self.frame.module)
                self.set_name(top, ModRef(top_module) if top_module else Ext(top))

    def walk_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = self.index.resolve(node.module or "", self.frame.module, node.level) if (node.module or node.level) else None
        for alias in node.names:
            if module is None:
                if node.level:
                    continue  # a relative import of something not in the upload
                if alias.name != "*":
                    self.set_name(alias.asname or alias.name, Ext(f"{node.module}.{alias.name}"))
                continue
            if alias.name == "*":
                for name, value in self.star_names(module).items():
                    self.set_name(name, value)
                continue
            self.set_name(alias.asname or alias.name, self.module_attr(module, alias.name))

    def star_names(self, module: Module) -> dict[str, Value]:
        names = self.namespace(module) if module.name not in self.namespaces else self.namespaces[module.name]
        exported = literal(names.get("__all__"))
        if isinstance(exported, list | tuple):
            return {n: names[n] for n in exported if isinstance(n, str) and n in names}
        return {n: v for n, v in names.items() if not n.startswith("_")}

    def module_attr(self, module: Module, name: str) -> Value:
        sub = self.index.modules.get(f"{module.name}.{name}")
        names = self.namespace(module)
        if name in names:
            return names[name]
        if sub is not None:
            return ModRef(sub)
        return Unknown(f"{module.path} defines no {name}")

    # -- binding ------------------------------------------------------------------------------

    def set_name(self, name: str, value: Value) -> None:
        frame = self.frame
        scope = self.namespaces[frame.module.name] if name in frame.global_names else frame.locals
        scope[name] = value
        if not isinstance(value, Known) and id(value) not in self.names:
            self.names[id(value)] = name

    def bind(self, target: ast.expr, value: Value, node: ast.stmt) -> None:
        previous = self.lookup(target.id) if isinstance(target, ast.Name) else None
        base = self.eval(target.value) if isinstance(target, ast.Attribute | ast.Subscript) else None
        self.assigns.append(AssignEvent(target, value, node, self.context(), previous, base, next(self.clock)))
        if isinstance(target, ast.Name):
            self.set_name(target.id, value)
        elif self.speculating:
            return  # `args.start_epoch = checkpoint['epoch']` on the resume path must not change the fresh run
        elif isinstance(target, ast.Tuple | ast.List):
            for position, element in enumerate(target.elts):
                if isinstance(element, ast.Starred):
                    continue
                self.bind(element, self.item(value, position), node)
        elif isinstance(target, ast.Attribute):
            if isinstance(base, Obj):
                base.attrs[target.attr] = value
                self.owners[id(value)] = base
            elif isinstance(base, Mapping):
                base.items[target.attr] = value
            elif isinstance(base, Known) and isinstance(base.value, dict):
                base.value[target.attr] = literal(value) if literal(value) is not NOTHING else None
        elif isinstance(target, ast.Subscript):
            key = literal(self.eval(target.slice))
            if isinstance(base, Known) and isinstance(base.value, dict) and key is not NOTHING and literal(value) is not NOTHING:
                base.value[key] = literal(value)
            elif isinstance(base, Mapping) and key is not NOTHING:
                base.items[key] = value

    def item(self, value: Value, position: int) -> Value:
        held = literal(value)
        if isinstance(held, list | tuple) and position < len(held):
            return Known(held[position])
        if isinstance(value, Seq) and position < len(value.items):
            return value.items[position]
        element = Element(value, position)
        if id(value) in self.provenance:
            self.provenance[id(element)] = self.provenance[id(value)]
        return element

    def first_element(self, iterable: Value) -> Value:
        held = literal(iterable)
        if isinstance(held, list | tuple | range) and len(held) > 0:
            return Known(held[0]) if not isinstance(held, range) else Unknown("the loop counter", ())
        if isinstance(iterable, Seq) and iterable.items:
            return iterable.items[0]
        return Element(iterable, "each")

    def scope(self) -> dict[str, Value]:
        """Every name visible here, as a snapshot (module globals, closure, locals)."""
        return {**self.namespaces.get(self.frame.module.name, {}), **(self.frame.closure or {}), **self.frame.locals}

    # -- expressions --------------------------------------------------------------------------

    def lookup(self, name: str) -> Value:
        frame = self.frame
        if name in frame.locals and name not in frame.global_names:
            return frame.locals[name]
        if frame.closure is not None and name in frame.closure:
            return frame.closure[name]
        module_names = self.namespaces.get(frame.module.name, {})
        if name in module_names:
            return module_names[name]
        if name in _PURE_BUILTINS or name in ("open", "print", "enumerate", "zip", "iter", "next", "isinstance", "filter", "map", "vars"):
            return Ext(f"builtins.{name}")
        return Unknown(f"{name} is not defined where it is used")

    def eval(self, node: ast.expr | None) -> Value:
        if node is None:
            return Known(None)
        method = getattr(self, f"eval_{type(node).__name__}", None)
        return method(node) if method is not None else Unknown(f"{type(node).__name__} not evaluated")

    def eval_Constant(self, node: ast.Constant) -> Value:
        return Known(node.value)

    def eval_Name(self, node: ast.Name) -> Value:
        return self.lookup(node.id)

    def eval_JoinedStr(self, node: ast.JoinedStr) -> Value:
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
                continue
            held = literal(self.eval(value.value)) if isinstance(value, ast.FormattedValue) else NOTHING
            if held is NOTHING:
                return Unknown("text built at run time")
            spec = literal(self.eval(value.format_spec)) if value.format_spec else ""
            try:
                parts.append(format(held, spec if isinstance(spec, str) else ""))
            except (TypeError, ValueError):
                parts.append(str(held))
        return Known("".join(parts))

    def eval_Attribute(self, node: ast.Attribute) -> Value:
        return self.get_attr(self.eval(node.value), node.attr)

    def get_attr(self, base: Value, name: str) -> Value:
        if isinstance(base, Ext):
            if base.name == "math" and name in ("pi", "e", "inf"):
                return Known(getattr(math, name))
            if base.name == "sys" and name == "argv":
                return Known([self.frame.module.path])  # run with no command-line arguments: the defaults

            return Ext(f"{base.name}.{name}")
        if isinstance(base, ModRef):
            if name == "__dict__":  # resnet.__dict__[args.arch]: the module's names by string
                return Mapping(dict(self.namespace(base.module)))
            return self.module_attr(base.module, name)
        if isinstance(base, Mapping) and name in base.items:
            return base.items[name]
        if isinstance(base, Known) and isinstance(base.value, dict) and name in base.value:
            return Known(base.value[name])
        if isinstance(base, Obj) and name in base.attrs:
            return base.attrs[name]
        if isinstance(base, Obj) and name == "classes" and tail(base.callee) in DATASET_CLASS_NAMES:
            return Known(list(DATASET_CLASS_NAMES[tail(base.callee)]))
        if isinstance(base, DefRef) and isinstance(base.node, ast.ClassDef):
            return self.class_attr(base, name)
        return AttrOf(base, name)

    def class_attr(self, cls: DefRef, name: str) -> Value:
        for statement in cls.node.body:
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef) and statement.name == name:
                return DefRef(statement, cls.module)
            targets = statement.targets if isinstance(statement, ast.Assign) else [getattr(statement, "target", None)]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets) and getattr(statement, "value", None) is not None:
                return self.eval(statement.value)
        return AttrOf(cls, name)

    def eval_Subscript(self, node: ast.Subscript) -> Value:
        base, index = self.eval(node.value), self.eval(node.slice)
        key = literal(index)
        held = literal(base)
        if held is not NOTHING and key is not NOTHING:
            try:
                return Known(held[key])
            except (KeyError, IndexError, TypeError):
                return Unknown("an index the data does not have")
        if isinstance(base, Seq) and isinstance(key, int) and -len(base.items) <= key < len(base.items):
            return base.items[key]
        if isinstance(base, Mapping) and key is not NOTHING and key in base.items:
            return base.items[key]
        return Element(base, key if key is not NOTHING else "?")

    def eval_Slice(self, node: ast.Slice) -> Value:
        parts = [literal(self.eval(p)) if p is not None else None for p in (node.lower, node.upper, node.step)]
        return Known(slice(*parts)) if NOTHING not in parts else Unknown("a slice computed at run time")

    def eval_List(self, node: ast.List | ast.Tuple) -> Value:
        kind = "tuple" if isinstance(node, ast.Tuple) else "list"
        items = []
        for element in node.elts:
            if isinstance(element, ast.Starred):
                held = literal(self.eval(element.value))
                if isinstance(held, list | tuple):
                    items += [Known(v) for v in held]
                    continue
                items.append(Unknown("a starred element"))
                continue
            items.append(self.eval(element))
        if kind == "list":
            return Seq(items, kind)  # a list can grow (append, +=): it stays a Seq, whose literal() still folds
        return Seq(items, kind) if literal(Seq(items, kind)) is NOTHING else Known(literal(Seq(items, kind)))

    eval_Tuple = eval_List

    def eval_Dict(self, node: ast.Dict) -> Value:
        items: dict[Any, Value] = {}
        for key_node, value_node in zip(node.keys, node.values, strict=True):
            if key_node is None:
                spread = self.eval(value_node)
                held = literal(spread)
                if isinstance(held, dict):
                    items.update({k: Known(v) for k, v in held.items()})
                elif isinstance(spread, Mapping):
                    items.update(spread.items)
                continue
            key = literal(self.eval(key_node))
            items[key if key is not NOTHING else f"?{len(items)}"] = self.eval(value_node)
        if all(isinstance(v, Known) for v in items.values()):
            return Known({k: v.value for k, v in items.items()})
        return Mapping(items)

    def eval_Set(self, node: ast.Set) -> Value:
        values = [literal(self.eval(e)) for e in node.elts]
        try:
            return Known(set(values)) if NOTHING not in values else Unknown("a set of run-time values")
        except TypeError:
            return Unknown("a set of unhashable values")

    def eval_Lambda(self, node: ast.Lambda) -> Value:
        return DefRef(node, self.frame.module, dict(self.frame.locals) if self.frame.function is not None else None)

    def eval_NamedExpr(self, node: ast.NamedExpr) -> Value:
        value = self.eval(node.value)
        self.set_name(node.target.id, value)
        return value

    def eval_IfExp(self, node: ast.IfExp) -> Value:
        decided = literal(self.eval(node.test))
        if decided is NOTHING:
            return self.eval(node.body)  # undecided: the first branch, as for if statements
        return self.eval(node.body if decided else node.orelse)

    def eval_BinOp(self, node: ast.BinOp) -> Value:
        return self.binop(node.op, self.eval(node.left), self.eval(node.right))

    def binop(self, op: ast.operator, left: Value, right: Value) -> Value:
        if isinstance(op, ast.Add) and isinstance(left, Seq) and (isinstance(right, Seq) or isinstance(literal(right), list)):
            extra = right.items if isinstance(right, Seq) else [Known(v) for v in literal(right)]
            return Seq([*left.items, *extra], left.kind)
        a, b = literal(left), literal(right)
        function = _BINOPS.get(type(op))
        if function is None or a is NOTHING or b is NOTHING:
            return Unknown("computed at run time", (left, right))
        if isinstance(op, ast.Pow) and isinstance(b, int | float) and abs(b) > 512:
            return Unknown("too large to fold")
        if isinstance(op, ast.Mult) and any(isinstance(x, str | list | tuple) for x in (a, b)):
            size = (len(a) if hasattr(a, "__len__") else a) * (len(b) if hasattr(b, "__len__") else b)
            if not isinstance(size, int) or size > MAX_TEXT:
                return Unknown("too large to fold")
        try:
            return Known(function(a, b))
        except Exception:  # noqa: BLE001 - any failure of folding means "not known"
            return Unknown("computed at run time", (left, right))

    def eval_UnaryOp(self, node: ast.UnaryOp) -> Value:
        operand = self.eval(node.operand)
        held = literal(operand)
        if held is NOTHING:
            return Unknown("computed at run time", (operand,))
        try:
            value = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: operator.not_, ast.Invert: operator.invert}[type(node.op)](
                held
            )
            return Known(value)
        except Exception:  # noqa: BLE001
            return Unknown("computed at run time")

    def eval_BoolOp(self, node: ast.BoolOp) -> Value:
        values = [self.eval(v) for v in node.values]
        held = [literal(v) for v in values]
        if isinstance(node.op, ast.And):
            for value, h in zip(values, held, strict=True):
                if h is NOTHING:
                    return Unknown("decided at run time", tuple(values))
                if not h:
                    return value
            return values[-1]
        for value, h in zip(values, held, strict=True):
            if h is NOTHING:
                return Unknown("decided at run time", tuple(values))
            if h:
                return value
        return values[-1]

    def eval_Compare(self, node: ast.Compare) -> Value:
        left = self.eval(node.left)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = self.eval(right_node)
            a, b = literal(left), literal(right)
            if a is NOTHING or b is NOTHING:
                return Unknown("decided at run time", (left, right))
            try:
                if not _COMPARE[type(op)](a, b):
                    return Known(False)
            except Exception:  # noqa: BLE001
                return Unknown("decided at run time")
            left = right
        return Known(True)

    def eval_ListComp(self, node: ast.ListComp | ast.GeneratorExp | ast.SetComp | ast.DictComp) -> Value:
        """A comprehension over known values is folded (`[w * 2 ** i for i in range(3)]`); over
        anything else its iterables are still evaluated, so the calls inside are recorded."""
        scope = self.frame.locals
        saved = dict(scope)
        try:
            items = self._comprehend(node, node.generators)
        finally:
            scope.clear()
            scope.update(saved)
        if items is None:
            return Unknown("built by a comprehension")
        if isinstance(node, ast.DictComp):
            return _dict_of(items)
        return Seq(items) if literal(Seq(items)) is NOTHING else Known(literal(Seq(items)))

    def _comprehend(self, node, generators: list[ast.comprehension]) -> list[Value] | None:
        first, rest = generators[0], generators[1:]
        held = literal(self.eval(first.iter))
        if not isinstance(held, list | tuple | range | str | dict) or len(held) > 1000:
            return None
        items: list[Value] = []
        for element in held:
            self.bind(first.target, Known(element), ast.Pass())
            conditions = [literal(self.eval(test)) for test in first.ifs]
            if NOTHING in conditions:
                return None
            if not all(conditions):
                continue
            if rest:
                inner = self._comprehend(node, rest)
                if inner is None:
                    return None
                items += inner
            elif isinstance(node, ast.DictComp):
                items.append(Seq([self.eval(node.key), self.eval(node.value)], "tuple"))
            else:
                items.append(self.eval(node.elt))
        return items

    eval_GeneratorExp = eval_SetComp = eval_DictComp = eval_ListComp

    def eval_Starred(self, node: ast.Starred) -> Value:
        return self.eval(node.value)

    def eval_Await(self, node: ast.Await) -> Value:
        return self.eval(node.value)

    # -- calls --------------------------------------------------------------------------------

    def eval_Call(self, node: ast.Call) -> Value:
        function = self.eval(node.func)
        args: list[Value] = []
        for argument in node.args:
            value = self.eval(argument.value if isinstance(argument, ast.Starred) else argument)
            held = literal(value)
            if isinstance(argument, ast.Starred) and isinstance(held, list | tuple):
                args += [Known(v) for v in held]
            elif isinstance(argument, ast.Starred) and isinstance(value, Seq):
                args += value.items
            else:
                args.append(value)
        kwargs: dict[str, Value] = {}
        for keyword in node.keywords:
            value = self.eval(keyword.value)
            if keyword.arg is not None:
                kwargs[keyword.arg] = value
            elif isinstance(literal(value), dict):
                kwargs.update({str(k): Known(v) for k, v in literal(value).items()})
            elif isinstance(value, Mapping):
                kwargs.update({str(k): v for k, v in value.items.items()})
        return self.call(function, args, kwargs, node)

    def record(self, obj: Obj, result: Value | None = None) -> Obj:
        self.calls.append(CallEvent(obj, self.context(), result, next(self.clock)))
        return obj

    def call(self, function: Value, args: list[Value], kwargs: dict[str, Value], node: ast.AST) -> Value:
        obj = Obj(function, args, kwargs, node, self.frame.module)
        if isinstance(function, DefRef):
            self.sites.append((self.frame.module.name, getattr(node, "lineno", 0)))
            try:
                if isinstance(function.node, ast.ClassDef):
                    return self.instantiate(function, obj)
                result = self.inline(function, args, kwargs)
            finally:
                self.sites.pop()
            self.record(obj, result)
            if not isinstance(result, Known):
                self.call_of[id(result)] = obj  # `learning_rate(0.1, epoch)`: the runner can call it again
            return result
        if isinstance(function, AttrOf):
            result = self.method_call(function, obj)
            if result is not None:
                return result
        if isinstance(function, Ext):
            result = self.external_call(function.name, obj)
            if result is not None:
                self.record(obj, result)
                return result
        return self.record(obj)

    def external_call(self, name: str, obj: Obj) -> Value | None:
        args, kwargs = obj.args, obj.kwargs
        held = [literal(a) for a in args]
        short = name.removeprefix("builtins.")
        if (
            name.startswith("builtins.")
            and short in _PURE_BUILTINS
            and NOTHING not in held
            and all(literal(v) is not NOTHING for v in kwargs.values())
        ):
            return self.fold(_PURE_BUILTINS[short], held, {k: literal(v) for k, v in kwargs.items()})
        if name == "builtins.len" and args and isinstance(args[0], Seq):
            return Known(len(args[0].items))
        if name == "builtins.len" and args and isinstance(args[0], Obj | Element):
            from project_viva.training import data_length  # training reads the walk; imported late to avoid a cycle

            size = data_length(args[0])
            return Known(size) if size is not None else None
        if name.startswith("math.") and name[5:] in _PURE_MATH and NOTHING not in held:
            return self.fold(_PURE_MATH[name[5:]], held, {})
        if name == "argparse.ArgumentParser":
            return Parser()
        if name in CONFIG_LOADERS or name in ("omegaconf.OmegaConf.load", "json.loads"):
            return self.config_from(args[0] if args else None)
        if name in ("easydict.EasyDict", "types.SimpleNamespace", "argparse.Namespace", "munch.Munch", "addict.Dict"):
            source = args[0] if args else Known({k: literal(v) for k, v in kwargs.items() if literal(v) is not NOTHING})
            return Mapping({k: Known(v) for k, v in literal(source).items()}, True) if isinstance(literal(source), dict) else None
        path_function = name in ("os.path.join", "os.path.expanduser", "os.path.abspath", "os.path.basename", "os.path.dirname")
        if path_function and held and all(isinstance(h, str) for h in held):
            return Known(getattr(os.path, name.rsplit(".", 1)[1])(*held))
        if name in ("builtins.max", "builtins.min") and len(args) > 1 and NOTHING in held:
            return Unknown("decided at run time", tuple(args))
        if name in ("os.path.exists", "os.path.isfile", "os.path.isdir") and held and isinstance(held[0], str):
            return Known(self.in_upload(held[0]))  # a fresh run: a checkpoint the script writes later is not there yet
        if name in ("os.environ.get", "os.getenv"):
            return args[1] if len(args) > 1 else Unknown("an environment variable")
        return None

    @staticmethod
    def fold(function, held: list[Any], kwargs: dict[str, Any]) -> Value:
        try:
            value = function(*held, **kwargs)
        except Exception:  # noqa: BLE001
            return Unknown("computed at run time")
        if isinstance(value, str | list | tuple) and len(value) > MAX_TEXT:
            return Unknown("too large to fold")
        return Known(value)

    def in_upload(self, path: str) -> bool:
        wanted = os.path.normpath(path.replace("\\", "/")).lstrip("./")
        files = [*self.index.project.sources, *self.index.project.configs]
        return any(f == wanted or f.startswith(wanted.rstrip("/") + "/") for f in files)

    def config_from(self, source: Value | None) -> Value:
        """The parsed contents of a config file the script opens, found among the upload's files."""
        path = literal(source)
        if isinstance(source, Obj) and tail(source.callee) in ("open", "read"):
            opened = source.callee.base if isinstance(source.callee, AttrOf) else source
            path = literal(opened.args[0]) if isinstance(opened, Obj) and opened.args else NOTHING
        if not isinstance(path, str):
            return Unknown("a config file named at run time")
        configs = self.index.project.configs
        wanted = PurePosixPath(os.path.normpath(path.replace("\\", "/")))
        here = PurePosixPath(self.frame.module.path).parent
        for candidate in (str(wanted), str(here / wanted)):
            if candidate in configs:
                return Known(copy.deepcopy(configs[candidate]))
        same_name = [p for p in configs if PurePosixPath(p).name == wanted.name]
        if len(same_name) == 1:
            return Known(copy.deepcopy(configs[same_name[0]]))
        return Unknown(f"the config file {path} is not in the upload")

    def method_call(self, function: AttrOf, obj: Obj) -> Value | None:
        base, name, args, kwargs = function.base, function.name, obj.args, obj.kwargs
        if isinstance(base, Parser):
            return self.parser_call(base, name, obj)
        if isinstance(base, Seq) and base.kind == "list" and name in ("append", "extend", "insert") and args:
            self.record(obj)
            if self.speculating:
                return Known(None)
            added = args[-1]
            if name == "extend":
                base.items.extend(added.items if isinstance(added, Seq) else [Known(v) for v in literal(added) or []])
            elif name == "insert" and isinstance(literal(args[0]), int):
                base.items.insert(literal(args[0]), added)
            else:
                base.items.append(added)
            return Known(None)
        held = literal(base)
        if isinstance(held, dict | str | list | tuple) and held is not NOTHING:
            folded = self.known_method(held, name, args)
            if folded is not None:
                return folded
        if isinstance(base, Mapping) and name == "get" and args:
            key = literal(args[0])
            return base.items.get(key, args[1] if len(args) > 1 else Known(None))
        if isinstance(base, Obj) and isinstance(base.callee, DefRef) and isinstance(base.callee.node, ast.ClassDef):
            method = self.find_method(base.callee, name)
            if method is not None and not is_module_class(base.callee, self):
                self.sites.append((self.frame.module.name, getattr(obj.node, "lineno", 0)))
                try:
                    result = self.inline(method, [base, *args], kwargs)
                finally:
                    self.sites.pop()
                self.record(obj, result)
                return result
        if name in SELF_RETURNING and not isinstance(base, Known | Ext | ModRef):
            self.record(obj)
            return base
        return None

    def known_method(self, held: Any, name: str, args: list[Value]) -> Value | None:
        values = [literal(a) for a in args]
        if NOTHING in values:
            return None
        allowed = {
            dict: ("get", "keys", "values", "items", "copy"),
            str: ("format", "lower", "upper", "split", "strip", "replace", "join", "startswith", "endswith"),
            list: ("index", "count", "copy"),
            tuple: ("index", "count"),
        }.get(type(held), ())
        if name not in allowed:
            return None
        result = self.fold(getattr(held, name), values, {})
        held_result = literal(result)
        if isinstance(held_result, type({}.keys()) | type({}.values()) | type({}.items())):
            return Known(list(held_result))
        return result

    def parser_call(self, parser: Parser, name: str, obj: Obj) -> Value:
        args, kwargs = obj.args, obj.kwargs
        if name in ("add_argument_group", "add_mutually_exclusive_group"):
            return parser
        if name == "add_argument":
            self.record(obj)
            flags = [literal(a) for a in args if isinstance(literal(a), str)]
            dest = literal(kwargs.get("dest", Known(None)))
            if not isinstance(dest, str):
                longs = [f for f in flags if f.startswith("--")] or flags
                dest = longs[0].lstrip("-").replace("-", "_") if longs else None
            if dest:
                parser.options[dest] = option_default(kwargs)
                parser.lines[dest] = getattr(obj.node, "lineno", 0)
            return Known(None)
        if name == "set_defaults":
            parser.options.update(kwargs)
            return Known(None)
        if name in ("parse_args", "parse_known_args"):
            namespace = Mapping(dict(parser.options), namespace=True)
            return Seq([namespace, Known([])], "tuple") if name == "parse_known_args" else namespace
        return Known(None)

    def find_method(self, cls: DefRef, name: str, seen: int = 0) -> DefRef | None:
        for statement in cls.node.body:
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef) and statement.name == name:
                return DefRef(statement, cls.module)
        for base in cls.node.bases if seen < 5 else []:
            parent = self.eval_in(base, cls.module)
            if isinstance(parent, DefRef) and isinstance(parent.node, ast.ClassDef):
                found = self.find_method(parent, name, seen + 1)
                if found is not None:
                    return found
        return None

    def eval_in(self, node: ast.expr, module: Module) -> Value:
        self.frames.append(Frame(module, None, self.namespace(module)))
        try:
            return self.eval(node)
        finally:
            self.frames.pop()

    def instantiate(self, cls: DefRef, obj: Obj) -> Value:
        fields = config_fields(cls.node)
        if fields is not None:
            values = {name: self.eval_in(default, cls.module) if default is not None else Known(None) for name, default in fields}
            for (name, _), arg in zip(fields, obj.args, strict=False):
                values[name] = arg
            values.update(obj.kwargs)
            return Mapping(values, namespace=True)
        self.record(obj)
        if not is_module_class(cls, self):
            init = self.find_method(cls, "__init__")
            if init is not None:
                self.inline(init, [obj, *obj.args], obj.kwargs)
        return obj

    def inline(self, function: DefRef, args: list[Value], kwargs: dict[str, Value]) -> Value:
        """Walk a project function with its parameters bound; its return value, or Unknown when it
        is too deep or walked too often."""
        node = function.node
        if len(self.frames) > MAX_DEPTH or self.walked.get(node, 0) >= MAX_WALKS_PER_DEF:
            return Unknown(f"{function.name}() was not followed further")
        self.walked[node] = self.walked.get(node, 0) + 1
        frame = Frame(function.module, node, self.bind_parameters(function, args, kwargs), function.closure)
        self.namespace(function.module)
        self.frames.append(frame)
        pushed = self.decorator_contexts(node)
        try:
            if isinstance(node, ast.Lambda):
                result = self.eval(node.body)
            else:
                self.walk_body(node.body)
                result = Known(None)
        except _Return as returned:
            result = returned.value
        finally:
            del self.with_stack[len(self.with_stack) - pushed :]
            self.frames.pop()
        if frame.iterated:
            self.frame.iterated.extend(frame.iterated)
            for value in [result, *(result.items if isinstance(result, Seq) else [])]:
                self.provenance[id(value)] = list(frame.iterated)
        return result

    def decorator_contexts(self, node: ast.AST) -> int:
        """@torch.no_grad() and @torch.inference_mode() act like a `with` around the body."""
        pushed = 0
        for decorator in getattr(node, "decorator_list", []):
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            value = self.eval(target)
            if tail(value) in ("no_grad", "inference_mode"):
                self.with_stack.append(Obj(value, [], {}, decorator, self.frame.module))
                pushed += 1
        return pushed

    def bind_parameters(self, function: DefRef, args: list[Value], kwargs: dict[str, Value]) -> dict[str, Value]:
        spec = function.node.args
        positional = [*spec.posonlyargs, *spec.args]
        defaults = [None] * (len(positional) - len(spec.defaults)) + list(spec.defaults)
        scope: dict[str, Value] = {}
        for position, (parameter, default) in enumerate(zip(positional, defaults, strict=True)):
            if position < len(args):
                scope[parameter.arg] = args[position]
            elif parameter.arg in kwargs:
                scope[parameter.arg] = kwargs[parameter.arg]
            elif default is not None:
                scope[parameter.arg] = self.eval_in(default, function.module)
            else:
                scope[parameter.arg] = Unknown(f"argument {parameter.arg} of {function.name}() not given")
        for parameter, default in zip(spec.kwonlyargs, spec.kw_defaults, strict=True):
            given = kwargs.get(parameter.arg)
            scope[parameter.arg] = given or (self.eval_in(default, function.module) if default is not None else Unknown("not given"))
        if spec.vararg:
            scope[spec.vararg.arg] = Seq(list(args[len(positional) :]), "tuple")
        if spec.kwarg:
            named = {p.arg for p in positional} | {p.arg for p in spec.kwonlyargs}
            scope[spec.kwarg.arg] = Mapping({k: v for k, v in kwargs.items() if k not in named})
        return scope


# -- helpers the facts and detectors share ------------------------------------------------------


def _about_a_later_run(test: ast.expr) -> bool:
    """An `if` that only a later run takes: resuming from a checkpoint or a file the script writes."""
    text = ast.unparse(test).lower()
    return any(word in text for word in ("resume", "checkpoint", "ckpt", "exists(", "isfile(", "pretrained_path", "load_path"))


def option_default(kwargs: dict[str, Value]) -> Value:
    """An argparse option's value when the command line does not give it."""
    action = literal(kwargs.get("action", Known(None)))
    if "default" not in kwargs:
        if action == "store_true":
            return Known(False)
        if action == "store_false":
            return Known(True)
        required = literal(kwargs.get("required", Known(False)))
        return Unknown("required on the command line" if required is True else "no default on the command line")
    default = kwargs["default"]
    held, kind = literal(default), tail(kwargs.get("type"))
    if isinstance(held, str) and kind in ("int", "float"):
        try:
            return Known(int(held) if kind == "int" else float(held))
        except ValueError:
            return default
    return default


def config_fields(node: ast.ClassDef) -> list[tuple[str, ast.expr | None]] | None:
    """The fields of a configuration class (a dataclass, or a plain class holding only settings),
    in order with their defaults; None for any other class."""
    decorated = any("dataclass" in ast.unparse(d) for d in node.decorator_list)
    plain = not node.bases and all(isinstance(s, ast.Assign | ast.AnnAssign | ast.Expr | ast.Pass) for s in node.body)
    if not (decorated or plain) or any(ast.unparse(b).endswith("Module") for b in node.bases):
        return None
    fields = []
    for statement in node.body:
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            fields.append((statement.target.id, statement.value))
        elif isinstance(statement, ast.Assign):
            fields += [(t.id, statement.value) for t in statement.targets if isinstance(t, ast.Name)]
    return fields


def is_module_class(cls: DefRef, walker: Walker, depth: int = 0) -> bool:
    """A project class deriving from nn.Module (directly or through project classes)."""
    if depth > 6:
        return False
    for base in cls.node.bases:
        value = walker.eval_in(base, cls.module)
        name = qualname(value) or ast.unparse(base)
        if (
            name.endswith(("nn.Module", "nn.modules.module.Module"))
            or name in ("Module", "torch.nn.Module")
            or tail(value) in ("Sequential",)
        ):
            return True
        if isinstance(value, DefRef) and isinstance(value.node, ast.ClassDef) and is_module_class(value, walker, depth + 1):
            return True
    return False


PHASES = {"train", "training", "val", "valid", "validation", "test", "eval"}


def is_phase_list(held: object) -> bool:
    """The phases of the transfer-learning tutorial's loop (`for phase in ['train', 'val']`)."""
    return isinstance(held, list | tuple) and 1 < len(held) <= len(PHASES) and all(isinstance(p, str) and p.lower() in PHASES for p in held)


def _dict_of(pairs: list[Value]) -> Value:
    """A folded dict comprehension: a literal when every pair is; a Mapping when only the keys are
    (`{x: DataLoader(sets[x], ...) for x in ['train', 'val']}`, the transfer-learning tutorial's)."""
    held = literal(Seq(pairs))
    if held is not NOTHING:
        return Known(dict(held))
    keys = [literal(pair.items[0]) if isinstance(pair, Seq) else NOTHING for pair in pairs]
    if NOTHING in keys or not all(isinstance(k, str | int | float | bool | tuple) for k in keys):
        return Unknown("a dict of run-time values")
    return Mapping({key: pair.items[1] for key, pair in zip(keys, pairs, strict=True)})


def unwrap_iteration(value: Value) -> Value:
    """The loader under enumerate(...), tqdm(...), iter(...) or zip(...)'s first argument."""
    for _ in range(4):
        if isinstance(value, Obj) and tail(value.callee) in ("enumerate", "tqdm", "iter", "zip", "trange", "progress_bar") and value.args:
            value = value.args[0]
        else:
            break
    return value


def is_loader(value: Value) -> bool:
    """Whether a loop over `value` is a loop over batches of data."""
    inner = unwrap_iteration(value)
    if isinstance(inner, Obj) and tail(inner.callee) in ("DataLoader", "flow", "flow_from_directory"):
        return True
    return isinstance(inner, Obj | Element | AttrOf | Unknown) and "loader" in loader_name_hint(inner)


def loader_name_hint(value: Value) -> str:
    """Lower-case text naming what a value came from, for loaders passed around without a DataLoader
    call in sight (a parameter named train_loader)."""
    if isinstance(value, AttrOf):
        return value.name.lower()
    if isinstance(value, Unknown):
        return value.reason.lower()
    return ""
