"""Mutants of a reference solution, one small change each, as a mutation tester makes them:
statement deletion, operator swaps (arithmetic, comparison, boolean), constants moved (which
moves dimensions too: dim=1, (0, 2, 3)), a keyword argument dropped, a method swapped for its
usual confusion (mean/sum, max/min, argmax/argmin, exp/log...), a call replaced by its argument
(relu(x) -> x), a slice turned around. Each is named by what it changed and where, so a
survivor can be listed with the reason it is equivalent."""

from __future__ import annotations

import ast
import copy
from collections.abc import Iterator
from dataclasses import dataclass

BINARY = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Pow: ast.Mult,
    ast.Mod: ast.FloorDiv,
}
COMPARE = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Is: ast.IsNot,
           ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In}  # fmt: skip
METHODS = {"mean": "sum", "sum": "mean", "max": "min", "min": "max", "argmax": "argmin", "argmin": "argmax", "amax": "amin", "exp": "log",
           "log": "exp", "mul_": "add_", "add_": "mul_", "relu": "sigmoid", "train": "eval", "eval": "train", "zeros_": "ones_",
           "kaiming_normal_": "kaiming_uniform_", "permute": "reshape", "flatnonzero": "nonzero", "values": "indices", "item": "tolist",
           "log_softmax": "softmax", "softmax": "log_softmax", "zero_grad": "step", "var": "std", "sqrt": "exp", "cos": "sin",
           "register_full_backward_hook": "register_forward_hook", "unique": "sort", "concatenate": "stack"}  # fmt: skip
STRINGS = {"sum": "mean", "mean": "sum", "fan_in": "fan_out", "relu": "leaky_relu", "features": "grads", "grads": "features"}


@dataclass(frozen=True)
class Mutant:
    name: str  # "Sub for Add: `a + b` (line 4)"
    source: str


def mutants(source: str) -> list[Mutant]:
    """Every mutant of `source`, each source different from the original and from the others."""
    tree = ast.parse(source)
    original = ast.unparse(tree)
    found: dict[str, Mutant] = {}
    for index, node in enumerate(list(ast.walk(tree))):
        for name, change in _changes(node):
            mutated = copy.deepcopy(tree)
            target = list(ast.walk(mutated))[index]
            if not change(target):
                continue
            try:
                text = ast.unparse(ast.fix_missing_locations(mutated))
                compile(text, "<mutant>", "exec")
            except (SyntaxError, ValueError, TypeError):
                continue  # not a program: not a viable mutant
            if text != original and text not in found:
                where = "" if "(line " in name else f" (line {getattr(node, 'lineno', '?')})"
                found[text] = Mutant(name + where, text)
    return list(found.values())


def _snippet(node: ast.AST) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 60 else text[:57] + "..."


def _changes(node: ast.AST) -> Iterator[tuple[str, object]]:
    """(name, change) pairs for one node; change(copy_of_node) edits it in place, False if it cannot."""
    if isinstance(node, ast.FunctionDef | ast.For | ast.While | ast.If | ast.With | ast.Try):
        for field in ("body", "orelse"):
            for position, statement in enumerate(getattr(node, field, [])):
                if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant) and isinstance(statement.value.value, str):
                    continue  # a docstring
                yield f"delete `{_snippet(statement)}` (line {statement.lineno})", _deleter(field, position)
    if isinstance(node, ast.BinOp | ast.AugAssign) and type(node.op) in BINARY:
        yield f"{BINARY[type(node.op)].__name__} for {type(node.op).__name__}: `{_snippet(node)}`", _set(op=BINARY[type(node.op)]())
    if isinstance(node, ast.Compare):
        for position, op in enumerate(node.ops):
            if type(op) in COMPARE:
                yield f"{COMPARE[type(op)].__name__} for {type(op).__name__}: `{_snippet(node)}`", _compare(position, COMPARE[type(op)]())
    if isinstance(node, ast.BoolOp):
        other = ast.Or if isinstance(node.op, ast.And) else ast.And
        yield f"{other.__name__} for {type(node.op).__name__}: `{_snippet(node)}`", _set(op=other())
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not | ast.USub):
        yield f"drop {type(node.op).__name__}: `{_snippet(node)}`", _replace_with("operand")
    if isinstance(node, ast.Constant):
        yield from _constant_changes(node)
    if isinstance(node, ast.Call):
        yield from _call_changes(node)
    if isinstance(node, ast.Slice) and (node.lower is not None) != (node.upper is not None):
        yield f"turn the slice around: `{_snippet(node)}`", _swap_slice


def _constant_changes(node: ast.Constant) -> Iterator[tuple[str, object]]:
    value = node.value
    if isinstance(value, bool):
        yield f"{not value} for {value}", _set(value=not value)
    elif isinstance(value, int):
        yield f"{value + 1} for {value}", _set(value=value + 1)
        if value != 0:
            yield f"0 for {value}", _set(value=0)
    elif isinstance(value, float):
        yield f"{value * 2:g} for {value:g}", _set(value=value * 2 if value else 1.0)
    elif isinstance(value, str) and value in STRINGS:
        yield f"'{STRINGS[value]}' for '{value}'", _set(value=STRINGS[value])


def _call_changes(node: ast.Call) -> Iterator[tuple[str, object]]:
    for position, keyword in enumerate(node.keywords):
        if keyword.arg is not None:
            yield f"drop {keyword.arg}=: `{_snippet(node)}`", _drop_keyword(position)
    if isinstance(node.func, ast.Attribute) and node.func.attr in METHODS:
        yield f".{METHODS[node.func.attr]} for .{node.func.attr}: `{_snippet(node)}`", _rename_method(METHODS[node.func.attr])
    if len(node.args) == 1 and not node.keywords and not isinstance(node.args[0], ast.Starred):
        yield f"drop the call: `{_snippet(node)}`", _unwrap_call


def _deleter(field: str, position: int):
    def change(node) -> bool:
        body = getattr(node, field)
        del body[position]
        if not body and field == "body":
            body.append(ast.Pass())
        return True

    return change


def _set(**values):
    def change(node) -> bool:
        for key, value in values.items():
            setattr(node, key, value)
        return True

    return change


def _compare(position: int, op: ast.cmpop):
    def change(node) -> bool:
        node.ops[position] = op
        return True

    return change


def _replace_with(field: str):
    """Turn the node into its `field` child: copy the child's fields onto the node itself."""

    def change(node) -> bool:
        child = getattr(node, field)
        node.__class__ = child.__class__
        node.__dict__.update(child.__dict__)
        return True

    return change


def _drop_keyword(position: int):
    def change(node) -> bool:
        del node.keywords[position]
        return True

    return change


def _rename_method(name: str):
    def change(node) -> bool:
        node.func.attr = name
        return True

    return change


def _unwrap_call(node) -> bool:
    argument = node.args[0]
    node.__class__ = argument.__class__
    for key in list(node.__dict__):
        if key not in ("lineno", "col_offset", "end_lineno", "end_col_offset"):
            delattr(node, key)
    node.__dict__.update(argument.__dict__)
    return True


def _swap_slice(node) -> bool:
    node.lower, node.upper = node.upper, node.lower
    return True
