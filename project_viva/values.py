"""What the static reading knows about a name: a literal, an external object (`torch.optim.SGD`),
a project definition, the result of a call, or something it cannot know and why. Values compare
by identity (eq=False): "the model the optimizer holds" means that very object."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from project_viva.modules import Module


class Value:
    """Base of every abstract value."""


@dataclass(eq=False)
class Known(Value):
    value: Any  # a Python literal: number, text, bool, None, list/tuple/dict of those, range


@dataclass(eq=False)
class Ext(Value):
    name: str  # dotted name outside the project: "torch.optim.SGD", "builtins.len"


@dataclass(eq=False)
class ModRef(Value):
    module: Module


@dataclass(eq=False)
class DefRef(Value):
    """A function, lambda or class of the project, with the scope it closes over."""

    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda
    module: Module
    closure: dict[str, Value] | None = None

    @property
    def name(self) -> str:
        return getattr(self.node, "name", "<lambda>")

    @property
    def qualname(self) -> str:
        return f"{self.module.name}.{self.name}"


@dataclass(eq=False)
class Obj(Value):
    """The result of calling something: `nn.Linear(512, 10)`, `Net()`, `model.parameters()`."""

    callee: Value
    args: list[Value]
    kwargs: dict[str, Value]
    node: ast.AST
    module: Module
    attrs: dict[str, Value] = field(default_factory=dict)  # set later: `model.fc = ...`, `self.x = ...`

    def arg(self, position: int, keyword: str) -> Value | None:
        if keyword in self.kwargs:
            return self.kwargs[keyword]
        return self.args[position] if len(self.args) > position else None


@dataclass(eq=False)
class AttrOf(Value):
    base: Value
    name: str


@dataclass(eq=False)
class Element(Value):
    """Part `index` of an unpacked or subscripted value (`train, val = random_split(...)`)."""

    base: Value
    index: Any


@dataclass(eq=False)
class Seq(Value):
    items: list[Value]
    kind: str = "list"


@dataclass(eq=False)
class Mapping(Value):
    """A dict with non-literal values, or a namespace: argparse's result, a config instance."""

    items: dict[Any, Value]
    namespace: bool = False


@dataclass(eq=False)
class Parser(Value):
    """An argparse.ArgumentParser and the options added so far."""

    options: dict[str, Value] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)  # option -> line of its add_argument


@dataclass(eq=False)
class Unknown(Value):
    reason: str
    parts: tuple[Value, ...] = ()  # what it was computed from (data provenance through arithmetic)


NOTHING = object()


def literal(value: Value | None) -> Any:
    """The Python literal a value holds, or NOTHING."""
    if isinstance(value, Known):
        return value.value
    if isinstance(value, Seq) and all(isinstance(item, Known) for item in value.items):
        items = [item.value for item in value.items]
        return tuple(items) if value.kind == "tuple" else items
    return NOTHING


def qualname(value: Value | None) -> str | None:
    """A dotted name for what a value refers to: external names as written after import
    resolution, project definitions as module.name, attributes of those."""
    if isinstance(value, Ext):
        return value.name
    if isinstance(value, DefRef):
        return value.qualname
    if isinstance(value, AttrOf):
        base = qualname(value.base)
        return f"{base}.{value.name}" if base else None
    return None


def tail(value: Value | None) -> str:
    """The last part of a callee's name ("SGD" for torch.optim.SGD), '' when it has none."""
    name = qualname(value)
    return name.rsplit(".", 1)[-1] if name else (value.name if isinstance(value, AttrOf) else "")


def callee_name(obj: Value | None) -> str:
    """The dotted name of what produced an Obj ('' otherwise)."""
    return (qualname(obj.callee) or "") if isinstance(obj, Obj) else ""


def is_call_of(obj: Value | None, *tails: str) -> bool:
    return isinstance(obj, Obj) and (tail(obj.callee) in tails)


def method_base(obj: Value | None, method: str) -> Value | None:
    """For the result of `x.method(...)`, x; otherwise None."""
    if isinstance(obj, Obj) and isinstance(obj.callee, AttrOf) and obj.callee.name == method:
        return obj.callee.base
    return None
