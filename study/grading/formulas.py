"""Formulas with names in them ("p - y", "(x - mean) / std", "2/fan_in", "-log(1/num_classes)"),
compared by value: each name is given the same made-up value on both sides and the two sides are
evaluated. Equal values are one formula written two ways ("log(num_classes)" is
"-log(1/num_classes)"); different values over the same names are a different formula ("y - p",
"(mean - x) / std", "1/(2*fan_in)"), which a bag of words cannot see, since it holds the same names.

Only formulas over exactly the same names are compared: "mean/std" in prose says nothing against
"(x - mean) / std", and "K" is not "num_classes"."""

from __future__ import annotations

import math
import re
import zlib
from dataclasses import dataclass
from functools import lru_cache

# A name: an identifier, a call of one on plain names ("F(x)", "BN(Wx)"), or a subscript
# ("checkpoint['epoch']"); a prime stays on its name ("x'").
_NAME = r"[A-Za-z_\u03b5][A-Za-z0-9_]*(?:\([A-Za-z0-9_ ,]*\)|\[[^\]\s]*\])?'?"
_LEXEME = re.compile(
    r"(?P<func>\b(?:log|ln|exp|sqrt)\b(?=\s*\())"
    r"|(?P<op>[-+*/^\u00d7\u00b7\u22c5\u2212]|\b(?:minus|plus|times|divided\s+by)\b)"
    rf"|(?P<name>{_NAME})"
    r"|(?P<number>\d+(?:\.\d+)?)"
    r"|(?P<paren>[()])"
    r"|(?P<space>\s+)"
    r"|(?P<other>.)",
    re.IGNORECASE,
)
_OPERATORS = {"minus": "-", "plus": "+", "times": "*", "divided by": "/", "\u00d7": "*", "\u00b7": "*", "\u22c5": "*", "\u2212": "-"}
ALIASES = {"\u03b5": "eps", "epsilon": "eps"}
PERCENT = 100.0  # "correct / total" and "100 * correct / total" are one accuracy, as a fraction and in percent
# A hyphen typed without spaces joins a word ("fan-in", "1000-class", "top-1"), except between a
# one-letter name and another value ("x-mean", "p-y", "F(x)-x").
_JOINED = re.compile(r"(?<=[A-Za-z0-9]{2})-(?=[A-Za-z]{2})|(?<=[A-Za-z]{2})-(?=\d)")
ASSIGNMENTS = 2  # two sets of made-up values: a coincidence in one is not in both


@dataclass(frozen=True)
class Formula:
    text: str  # as typed
    names: frozenset[str]
    values: tuple[float, ...]  # one per assignment of made-up values to the names

    def same(self, other: Formula) -> bool:
        """One formula written two ways; a fraction and its percent count as one."""
        if self.names != other.names:
            return False
        pairs = list(zip(self.values, other.values, strict=True))
        return any(all(_close(a * factor, b) for a, b in pairs) for factor in (1.0, PERCENT, 1 / PERCENT))


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1.0)


def _name_key(text: str) -> str:
    key = re.sub(r"\s+", "", text).lower()
    return ALIASES.get(key, key)


def _made_up(name: str, assignment: int) -> float:
    """A value for a name, the same for every text: positive and away from 0 and 1, so logs,
    quotients and square roots are defined and no two names are likely to coincide."""
    return 1.5 + (zlib.crc32(f"{assignment}:{name}".encode()) % 100_000) / 25_000


def _lexemes(text: str) -> list[tuple[str, str, int]]:
    out = []
    for match in _LEXEME.finditer(text):
        kind = match.lastgroup
        if kind == "space":
            continue
        value = match[kind]
        if kind == "op":
            value = _OPERATORS.get(re.sub(r"\s+", " ", value.lower()), value)
        out.append((kind, value, match.start()))
    return out


class _Evaluator:
    """expr := term (('+'|'-') term)*; term := factor (('*'|'/') factor)*; factor := unary ('^' factor)?;
    unary := '-' unary | func '(' expr ')' | '(' expr ')' | name | number."""

    def __init__(self, lexemes: list[tuple[str, str, int]], assignment: int):
        self.lexemes, self.position, self.assignment = lexemes, 0, assignment
        self.names: set[str] = set()

    def _peek(self, *values: str) -> bool:
        return self.position < len(self.lexemes) and self.lexemes[self.position][1] in values

    def expr(self) -> float:
        value = self.term()
        while self._peek("+", "-"):
            sign = self.lexemes[self.position][1]
            self.position += 1
            value = value + self.term() if sign == "+" else value - self.term()
        return value

    def term(self) -> float:
        value = self.factor()
        while self._peek("*", "/"):
            operator = self.lexemes[self.position][1]
            self.position += 1
            right = self.factor()
            value = value * right if operator == "*" else value / right
        return value

    def factor(self) -> float:
        value = self.unary()
        if self._peek("^"):
            self.position += 1
            exponent = self.factor()
            if abs(exponent) > 16:
                raise ValueError("power out of range")
            value = value**exponent
        return value

    def unary(self) -> float:
        if self.position >= len(self.lexemes):
            raise ValueError("formula ends early")
        kind, value, _ = self.lexemes[self.position]
        self.position += 1
        if kind == "op" and value == "-":
            return -self.unary()
        if kind == "func":
            argument = self.unary()
            return _apply(value.lower(), argument)
        if kind == "paren" and value == "(":
            inner = self.expr()
            if not self._peek(")"):
                raise ValueError("unclosed parenthesis")
            self.position += 1
            return inner
        if kind == "name":
            key = _name_key(value)
            self.names.add(key)
            return _made_up(key, self.assignment)
        if kind == "number":
            return float(value)
        raise ValueError(f"not a value: {value!r}")


def _apply(func: str, argument: float) -> float:
    if func in ("log", "ln"):
        return math.log(argument)
    if func == "exp":
        return math.exp(min(argument, 50.0))
    return math.sqrt(argument)


def _evaluate(run: list[tuple[str, str, int]]) -> tuple[frozenset[str], tuple[float, ...]] | None:
    values, names = [], set()
    for assignment in range(ASSIGNMENTS):
        evaluator = _Evaluator(run, assignment)
        try:
            value = evaluator.expr()
        except (ValueError, ZeroDivisionError, OverflowError):
            return None
        if evaluator.position != len(run) or math.isnan(value) or math.isinf(value):
            return None
        values.append(value)
        names = evaluator.names
    return frozenset(names), tuple(values)


def _runs(lexemes: list[tuple[str, str, int]], text: str) -> list[list[tuple[str, str, int]]]:
    """Stretches of names, numbers, operators and brackets: anything else ("=", "is", a comma) ends one."""
    runs: list[list[tuple[str, str, int]]] = [[]]
    for lexeme in lexemes:
        if lexeme[0] not in ("name", "number", "op", "paren", "func"):
            runs.append([])
            continue
        # Two values side by side are two words ("the loss wrt the logits"), not one formula.
        # "should be -log(...)": a minus glued to what follows is the value's sign, not a subtraction.
        previous = runs[-1][-1] if runs[-1] else None
        side_by_side = lexeme[0] in ("name", "number", "func") and (
            previous is not None and (previous[0] in ("name", "number") or previous[1] == ")")
        )
        if previous and (side_by_side or _sign(lexeme, text)):
            runs.append([])
        runs[-1].append(lexeme)
    return [run for run in runs if run]


def _sign(lexeme: tuple[str, str, int], text: str) -> bool:
    """A minus with a space before it and none after is a sign, not a subtraction."""
    start = lexeme[2]
    return text[start] == "-" and 0 < start < len(text) - 1 and text[start - 1].isspace() and not text[start + 1].isspace()


def _longest_formula(run: list, text: str) -> tuple[Formula | None, int]:
    """The longest stretch from the run's start that is one formula over at least one name, with an operator."""
    for end in range(len(run), 1, -1):
        window = run[:end]
        if not any(kind in ("op", "func") for kind, _, _ in window) or not any(kind == "name" for kind, _, _ in window):
            continue
        read = _evaluate(window)
        if read is None:
            continue
        names, values = read
        start, stop = window[0][2], window[-1][2] + len(window[-1][1])
        return Formula(text[start:stop], names, values), end
    return None, 1


@lru_cache(maxsize=8192)
def formulas(text: str) -> tuple[Formula, ...]:
    """Every formula in the text, longest first from each place. Words between names end a formula,
    so "mean/std" in prose is a formula of its own, compared only with one over the same names."""
    # "fan-in", "fine-tuning": a hyphen inside a word joins it; "x-mean" and "p-y" are minus.
    text = _JOINED.sub("_", text)
    found = []
    for run in _runs(_lexemes(text), text):
        index = 0
        while index < len(run):
            if run[index][0] == "op" and run[index][1] != "-":
                index += 1
                continue
            formula, used = _longest_formula(run[index:], text)
            if formula is not None:
                found.append(formula)
            index += used
    return tuple(found)
