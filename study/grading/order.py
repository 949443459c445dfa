"""Orders and fractions: two named things a key point puts in an order ("correct / total",
"train_epoch then eval_model", "ship to airplane", "from 10.5 to 49") are contradicted by a clause
that puts the same two the other way round ("class_total / class_correct", "eval_model runs, then
train_epoch", "airplane -> ship", "from 49 down to 10.5"), whatever the words around them. A bag of
words cannot see this: both names are there, in the wrong places."""

from __future__ import annotations

import re
from functools import lru_cache

from study.grading.lexicon import Lexicon, stem

# An operand: an identifier, possibly indexed (ckpt['optimizer']), or a plain number.
_OPERAND = r"[A-Za-z_][\w.]*(?:\[[^\]]*\])?|\d+(?:\.\d+)?%?"
_FORWARD = r"then|before|followed\s+by|->|\u2192|=>|/|divided\s+by"
_PAIR = re.compile(rf"(?P<a>{_OPERAND})\s*,?\s*(?:and\s+)?(?P<op>{_FORWARD}|after)\s*(?:the\s+)?(?P<b>{_OPERAND})", re.IGNORECASE)
_RANGE = re.compile(rf"\bfrom\s+(?:the\s+)?(?P<a>{_OPERAND})\s+(?:up\s+|down\s+)?to\s+(?:the\s+)?(?P<b>{_OPERAND})", re.IGNORECASE)
_DIVIDE = re.compile(rf"\bdivid\w*\s+(?:the\s+)?(?P<a>{_OPERAND})\s+by\s+(?:the\s+)?(?P<b>{_OPERAND})", re.IGNORECASE)
# A key point or clause that is nothing but "X to Y" names a direction ("ship to airplane").
_DIRECTION = re.compile(rf"^\s*(?P<a>{_OPERAND})\s+to\s+(?P<b>{_OPERAND})\s*$", re.IGNORECASE)
_GENERIC = frozenset({"the", "a", "an", "each", "every", "per", "of", "class", "num", "n", "self"})

Side = frozenset[str]


def _side(operand: str, lexicon: Lexicon) -> Side:
    """An operand as the concepts of its words ("class_correct" is {correct}); a number as its value."""
    number = re.fullmatch(r"(\d+(?:\.\d+)?)%?", operand)
    if number:
        return frozenset({f"{float(number[1]):g}"})
    words = [stem(w) for w in re.findall(r"[a-z]+", operand.lower().replace("_", " ")) if w not in _GENERIC]
    return frozenset(lexicon.concepts.get((w,), w) for w in words)


@lru_cache(maxsize=4096)
def ordered_pairs(text: str, lexicon: Lexicon) -> tuple[tuple[Side, Side, str, str], ...]:
    """(first, second, as typed, as typed) for each order the text states."""
    pairs = []
    for pattern in (_PAIR, _RANGE, _DIVIDE, _DIRECTION):
        for match in pattern.finditer(text):
            a, b = match["a"], match["b"]
            if "op" in match.groupdict() and match["op"].lower() == "after":
                a, b = b, a
            numeric = re.fullmatch(r"[\d.%]+", a) and re.fullmatch(r"[\d.%]+", b)
            if numeric and pattern is _PAIR:  # "8k / 2k / 10k" or 50000/400: numbers.py reads those
                continue
            first, second = _side(a, lexicon), _side(b, lexicon)
            if pattern is _PAIR and first | second <= lexicon.degree:  # "goes up then down" moves; "from low to high" is where it goes
                continue
            if first and second and first != second:
                pairs.append((first - second, second - first, a, b))
    return tuple(p for p in pairs if p[0] and p[1])


def reversed_order(point: str, clause: str, lexicon: Lexicon) -> tuple[str, str] | None:
    """The point's two named things, as typed in the point, where the clause orders them the other
    way round and nowhere the same way; None otherwise."""
    theirs = ordered_pairs(clause, lexicon)
    for first, second, a, b in ordered_pairs(point, lexicon):
        backwards = any(first & later and second & earlier for earlier, later, _, _ in theirs)
        forwards = any(first & earlier and second & later for earlier, later, _, _ in theirs)
        if backwards and not forwards:
            return a, b
    return None


# Arithmetic verbs and symbols with what they take: "multiplying by std and adding the mean",
# "(x - mean) / std". Each operand belongs to its operation: giving one operation the other's operand
# swaps them ("multiplying by the mean and adding the std").
_OPERATIONS = {"multipl": "multiply", "times": "multiply", "*": "multiply", "divid": "divide", "/": "divide"}
_OPERATIONS |= {"add": "add", "plus": "add", "+": "add", "subtract": "subtract", "minus": "subtract", "-": "subtract"}
_OPERATION = re.compile(
    r"(?:\b(?P<verb>multipl\w*|times|divid\w*|add(?:s|ed|ing)?|plus|subtract\w*|minus)\s+(?:back\s+)?(?:by\s+)?(?:the\s+)?"
    r"|(?<![\w-])(?P<symbol>[*/+])\s*|(?<=[\w)\s])(?P<minus>-)\s+)(?P<operand>[A-Za-z_][\w.]*)",
    re.IGNORECASE,
)


@lru_cache(maxsize=4096)
def operations(text: str, lexicon: Lexicon) -> tuple[tuple[str, Side, str], ...]:
    """(operation, operand, operand as typed) for each arithmetic step the text names."""
    found = []
    for match in _OPERATION.finditer(text):
        written = (match["verb"] or match["symbol"] or match["minus"]).lower()
        operation = next((name for prefix, name in _OPERATIONS.items() if written.startswith(prefix)), None)
        side = _side(match["operand"], lexicon)
        if operation and side:
            found.append((operation, side, match["operand"]))
    return tuple(found)


def swapped_operands(point: str, clause: str, lexicon: Lexicon) -> tuple[str, str] | None:
    """(the point's operand, the one the clause gives that operation instead) where the clause
    gives one of the point's operations another of the point's operands, and not its own."""
    ours, theirs = operations(point, lexicon), operations(clause, lexicon)
    for operation, operand, written in ours:
        given = [side for name, side, _ in theirs if name == operation]
        if not given or any(operand & side for side in given):
            continue
        other = next((typed for name, side, typed in ours if name != operation and any(side & g for g in given)), None)
        if other is not None:
            return written, other
    return None


_TUPLE = re.compile(r"[(\[]\s*(\d+(?:\.\d+)?(?:\s*,\s*\d+(?:\.\d+)?)+)\s*[)\]]")
# A call's positional arguments, names and numbers mixed ("Linear(in_features, 1)"): their places are
# roles too (in and out sizes). Only a call: a bracketed list in prose ("(convs, matmuls)") has no order.
_ENTRY = r"(?:\d+(?:\.\d+)?|[A-Za-z_][\w.]*)"
# (A clause's text may end before the closing bracket.)
_ARGUMENTS = re.compile(rf"\b[A-Za-z_]\w*\(\s*({_ENTRY}(?:\s*,\s*{_ENTRY})+)\s*(?:\)|$)")


def _entry(text: str) -> float | str:
    return float(text) if re.fullmatch(r"\d+(?:\.\d+)?", text) else text.lower()


def _tuples(text: str) -> list[tuple[float | str, ...]]:
    numeric = [tuple(float(v) for v in re.split(r"\s*,\s*", match[1])) for match in _TUPLE.finditer(text)]
    calls = [tuple(_entry(v) for v in re.split(r"\s*,\s*", match[1])) for match in _ARGUMENTS.finditer(text)]
    mixed = [c for c in calls if any(isinstance(v, str) for v in c) and any(isinstance(v, float) for v in c)]
    return numeric + mixed


def _written(value: float | str) -> str:
    return f"{value:g}" if isinstance(value, float) else value


def reordered_tuple(point: str, clause: str) -> tuple[str, str] | None:
    """A shape or tuple with its entries exchanged: "torch.randn(3, 1, 32, 32)" for "(1, 3, 32, 32)".
    Each position has its meaning (batch, channels, height, width): the same numbers in another order
    are other roles, unless the clause also writes the point's own order."""
    theirs = _tuples(clause)
    for ours in _tuples(point):
        if len(set(ours)) < 2 or ours in theirs:
            continue
        swapped = next((t for t in theirs if t != ours and sorted(map(str, t)) == sorted(map(str, ours))), None)
        if swapped is not None:
            return ", ".join(_written(v) for v in ours), ", ".join(_written(v) for v in swapped)
    return None


_NAMED_CALL = re.compile(r"\b(?P<receiver>[A-Za-z_]\w*)\.(?P<method>[A-Za-z_]\w*)")
# A clause's text may end inside the brackets of the key ("model.load_state_dict(ckpt['optimizer").
_CALL = re.compile(r"\b(?P<receiver>[A-Za-z_]\w*)\.(?P<method>\w+)\(\s*(?:\w+\[\s*['\"](?P<key>\w+))?")


def crossed_key(point: str, clause: str, answer: str = "") -> tuple[str, str] | None:
    """A call handed the entry saved for another receiver: "model.load_state_dict(ckpt['optimizer'])"
    where the point calls load_state_dict on its own receivers. The key names another receiver the
    point or the answer calls, and not its own."""
    ours = list(_NAMED_CALL.finditer(point))  # the point may name the call without brackets
    methods = {m["method"] for m in ours}
    receivers = {m["receiver"].lower() for m in [*ours, *_CALL.finditer(answer or clause)] if len(m["receiver"]) >= 3}
    for call in _CALL.finditer(clause):
        key, receiver = (call["key"] or "").lower(), call["receiver"].lower()
        if not key or call["method"] not in methods or receiver in key:
            continue
        other = next((r for r in receivers if r != receiver and r in key), None)
        if other is not None:
            return f"{receiver}.{call['method']}", f"{call['receiver']}.{call['method']}({call['key']!r})"
    return None


_EXTENSIONS = "png|jpe?g|pdf|svg|pth|pt|ckpt|npz|npy|json|csv|ya?ml|txt|onnx|keras|h5"
_FILE = re.compile(rf"\b(?P<stem>[A-Za-z_][\w-]*)\.(?P<extension>{_EXTENSIONS})\b", re.IGNORECASE)


def changed_extension(point: str, clause: str) -> tuple[str, str] | None:
    """The point's file named with another extension ("training_curves.pdf" for "training_curves.png"):
    another format, a value of its own, not the point's file."""
    ours = {m["stem"].lower(): m[0] for m in _FILE.finditer(point)}
    for match in _FILE.finditer(clause):
        own = ours.get(match["stem"].lower())
        if own is not None and own.lower() != match[0].lower():
            return own, match[0]
    return None


_OFFSET = re.compile(r"(?P<name>[A-Za-z_]\w*)['\"\]\)]*\s*(?P<sign>[+-])\s*(?P<value>\d+(?:\.\d+)?)\b")


def changed_sign(point: str, clause: str) -> tuple[str, str] | None:
    """The point's offset with the other sign ("ckpt['epoch'] - 1" for "epoch + 1"): another value."""
    ours = {(m["name"].lower(), m["value"]): m for m in _OFFSET.finditer(point)}
    for match in _OFFSET.finditer(clause):
        own = ours.get((match["name"].lower(), match["value"]))
        if own is not None and own["sign"] != match["sign"]:
            return own[0], match[0]
    return None


def other_receiver(point: str, clause: str) -> bool:
    """The clause calls the point's method only on another receiver ("optimizer.load_state_dict(...)"
    for the point "model.load_state_dict"): it says nothing of the point's own call."""
    ours = {(m["receiver"].lower(), m["method"]) for m in _NAMED_CALL.finditer(point)}
    if len(ours) != 1:
        return False
    ((receiver, method),) = ours
    calls = [(m["receiver"].lower(), m["method"]) for m in _NAMED_CALL.finditer(clause) if m["method"] == method]
    return bool(calls) and all(r != receiver for r, _ in calls)


# "C=3 for RGB and C=1 for grayscale", "lr 0.01 for the backbone and 0.1 for the head": each number is
# the value for the thing after "for".
_FOR = re.compile(r"(?P<value>\d+(?:\.\d+)?)\s+for\s+(?:the\s+|a\s+|an\s+)?(?P<name>[A-Za-z_][\w-]*)", re.IGNORECASE)


def rebound_values(point: str, clause: str, lexicon: Lexicon) -> tuple[str, str] | None:
    """Two values the point gives two things with "for", given the other way round: (the point's
    "value for thing", the clause's)."""
    ours = [(_side(m["name"], lexicon), float(m["value"]), m[0]) for m in _FOR.finditer(point)]
    if len({value for _, value, _ in ours}) < 2:
        return None
    for match in _FOR.finditer(clause):
        side, value = _side(match["name"], lexicon), float(match["value"])
        own = next((o for o in ours if o[0] & side), None)
        if own is not None and value != own[1] and any(v == value and not (s & side) for s, v, _ in ours):
            return own[2], match[0]
    return None


_CALLED = re.compile(rf"\b(?P<callee>[A-Za-z_]\w*)\(\s*(?P<arguments>{_ENTRY}(?:\s*,\s*{_ENTRY})+)\s*(?:\)|$)")


def _calls(text: str) -> list[tuple[str, tuple[float | str, ...], str]]:
    return [(m["callee"].lower(), tuple(_entry(v) for v in re.split(r"\s*,\s*", m["arguments"])), m[0]) for m in _CALLED.finditer(text)]


def _same_call(ours: tuple[float | str, ...], theirs: tuple[float | str, ...]) -> bool:
    """The same arguments by name: a number may stand for a named one ("Linear(512, 1)" for "Linear(in, 1)")."""
    return len(ours) == len(theirs) and all(
        isinstance(a, float) or isinstance(b, float) or a == b for a, b in zip(ours, theirs, strict=True)
    )


def changed_argument(point: str, clause: str) -> tuple[str, str] | None:
    """The point's call with another number where the point writes one ("Dense(10, ReLU)" for
    "Dense(256, ReLU)", "Linear(in, 10)" for "Linear(in, 1)"), unless the clause also writes the
    point's own ("replace Linear(512, 10) with Linear(512, 1)")."""
    theirs = _calls(clause)
    for callee, ours, written in _calls(point):
        same = [(args, typed) for name, args, typed in theirs if name == callee and _same_call(ours, args)]
        numbers = [i for i, a in enumerate(ours) if isinstance(a, float)]
        if not numbers or any(all(args[i] == ours[i] for i in numbers) for args, _ in same):
            continue
        other = next((typed for args, typed in same if any(isinstance(args[i], float) and args[i] != ours[i] for i in numbers)), None)
        if other is not None:
            return written, other
    return None
