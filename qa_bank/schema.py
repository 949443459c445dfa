"""The typed shape of a bank item and the field-by-field validation of raw YAML."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

# The source documents' own type words, plus two for the unlabelled documents.
TYPE_WORDS = ("short", "derivation", "coding", "practical", "technical", "context", "conceptual", "design")
ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CODE_REF_PATTERN = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
MAX_TOPICS = 3
KEY_POINTS_RANGE = (2, 6)
DIFFICULTY_RANGE = (1, 3)
MISCONCEPTIONS_RANGE = (1, 10)
MISCONCEPTION_KEYS = ("belief", "correction")
# The true statement "Which is right?" sets beside the belief; check_only: asked there, never read by the grader;
# point: the key point a check-only pair says backwards (round 18).
MISCONCEPTION_OPTIONAL_KEYS = ("truth", "check_only", "point")
TRUTH_WORDS = 20
TRUTH_LONGER_BY = (2, 1.2, 5)  # at most the belief's words + 2, and its characters * 1.2 + 5
# Why an item has no demo. Every item has a demo or exactly one of these (lint enforces it).
UNPROVED_REASONS = {
    "opinion": "a trade-off or a judgement with no single right answer",
    "seed-run history": "times, accuracies or hardware of the source notebook's own run",
    "outside the stack": "a TensorFlow or tooling fact with no honest PyTorch analogue here",
    "procedure": "steps to follow or a place in the code, nothing to compute",
    "pretrained weights": "needs ImageNet weights, which the project never downloads",
    "long run": "an effect of full-length training that no two-second CPU run shows reliably",
    "dataset": "a property of the real CIFAR-10 images, which demos never read (tests check it where the data is present)",
    "demo pending": "code can check it; the demo is not written yet",
}
UNPROVED_KEYS = ("reason", "note")
CLAIM_KEYS = ("point", "subject", "relation", "object", "value", "contrary", "wordings", "tolerance")
ROLE_KEYS = ("subject", "does")
ROLES_RANGE = (2, 4)
ROLE_WORDS = (2, 8)  # a role's `does` is a short phrase: "scales the normalised activations"


@dataclass(frozen=True)
class Source:
    """Where an item comes from: document title, section (sectioned documents) and number."""

    document: str
    number: int
    section: str | None = None
    title: str | None = None
    file: str | None = None

    def label(self) -> str:
        parts = [self.document]
        if self.section:
            parts.append(self.section)
        parts.append(f"#{self.number}")
        return " · ".join(parts)


@dataclass(frozen=True)
class Misconception:
    """A wrong belief learners and examiners know, and the correction the learner is shown."""

    belief: str  # written as a learner would state it: "model.eval() turns off gradient computation"
    correction: str
    # The true statement of the same shape, set beside the belief in the Quiz's "Which is right?"
    # ("model.eval() changes only dropout and BatchNorm behaviour"); empty: not asked.
    truth: str = ""
    # Asked in "Which is right?" only: a value bound to the wrong name ("train=False loads the training split")
    # differs from its truth by one value, which the typed-answer grader's word reading would also find in right
    # answers, so the grader does not read it (docs/grading.md, "Values as pairs").
    check_only: bool = False
    # The key point this check-only pair states backwards ("a smaller batch needs less GPU memory"): a fluent
    # answer that reverses the point is caught by the pick, wherever the grader's reading misses it (round 18).
    point: str = ""


@dataclass(frozen=True)
class Claim:
    """A key point's explicit form, where its free text is ambiguous: what it says about what, what
    saying the opposite sounds like, and other ways to say it. The grader reads it (docs/grading.md)."""

    point: str  # the key point, verbatim
    subject: str = ""  # "learning rate"
    relation: str = ""  # "ramps up from small": a clause must state it to state the point
    object: str = ""  # "the target"
    contrary: tuple[str, ...] = ()  # stating one of these contradicts the point ("start large and lower it")
    wordings: tuple[str, ...] = ()  # other ways to state it ("grab the whole card")
    tolerance: float | None = None  # absolute tolerance on the point's numbers ("2.30" for ln 10 = 2.303), and on value
    # The value the subject takes where the point does not write it ("weight_decay argument of the
    # optimizer": 1e-4): a number or True/False bound to the subject with another value reverses the point.
    value: float | bool | None = None

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Claim:
        lists = {key: tuple(raw.get(key) or ()) for key in ("contrary", "wordings")}
        texts = {key: raw.get(key) or "" for key in ("subject", "relation", "object")}
        return cls(point=raw["point"], tolerance=raw.get("tolerance"), value=raw.get("value"), **texts, **lists)


@dataclass(frozen=True)
class Role:
    """One of the things an item tells apart and what only it does ("gamma": "scales the normalised
    activations"): the Quiz asks which does what, because a swap inside a fluent sentence is the mistake
    the typed-answer grader misses most (docs/grading.md)."""

    subject: str
    does: str


@dataclass(frozen=True)
class Unproved:
    """Why an item has no demo: one reason from UNPROVED_REASONS and a one-line specific note."""

    reason: str
    note: str


@dataclass(frozen=True)
class QAItem:
    """One question of the bank with everything the app needs to drill, grade and prove it."""

    id: str
    question: str
    answer: str
    type: tuple[str, ...]
    topics: tuple[str, ...]
    difficulty: int
    source: Source
    key_points: tuple[str, ...]
    claims: tuple[Claim, ...] = ()
    notes: str = ""
    code_refs: tuple[str, ...] = ()
    demo: str | None = None
    claim_check: str | None = None  # the demo's check whose failure would refute this item's claim
    misconceptions: tuple[Misconception, ...] = ()
    roles: tuple[Role, ...] = ()
    unproved: Unproved | None = None

    def to_dict(self) -> dict[str, Any]:
        raw = asdict(self)
        for name in ("type", "topics", "key_points", "code_refs"):
            raw[name] = list(raw[name])
        raw["misconceptions"] = [{k: v for k, v in m.items() if v} for m in raw["misconceptions"]]  # no empty truth
        raw["claims"] = [
            {k: list(v) if isinstance(v, tuple) else v for k, v in claim.items() if v not in ("", (), None)} for claim in raw["claims"]
        ]
        if not raw["claims"]:
            del raw["claims"]
        raw["roles"] = list(raw["roles"])
        if not raw["roles"]:
            del raw["roles"]
        raw["source"] = {k: v for k, v in raw["source"].items() if v is not None}
        for optional in ("unproved", "claim_check"):
            if raw[optional] is None:
                del raw[optional]
        return raw

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> QAItem:
        """Build from a dict that `validate_item` accepted."""
        source = raw["source"]
        return cls(
            id=raw["id"],
            question=raw["question"],
            answer=raw["answer"],
            type=tuple(raw["type"]),
            topics=tuple(raw["topics"]),
            difficulty=raw["difficulty"],
            source=Source(
                document=source["document"],
                number=source["number"],
                section=source.get("section"),
                title=source.get("title"),
                file=source.get("file"),
            ),
            key_points=tuple(raw["key_points"]),
            claims=tuple(Claim.from_dict(claim) for claim in raw.get("claims") or ()),
            notes=raw.get("notes") or "",
            code_refs=tuple(raw.get("code_refs") or ()),
            demo=raw.get("demo"),
            claim_check=raw.get("claim_check"),
            misconceptions=tuple(_misconception(m) for m in raw.get("misconceptions") or ()),
            roles=tuple(Role(r["subject"], r["does"]) for r in raw.get("roles") or ()),
            unproved=Unproved(raw["unproved"]["reason"], raw["unproved"]["note"]) if raw.get("unproved") else None,
        )


@dataclass(frozen=True)
class FieldProblem:
    """A schema problem inside one item: the field path below the item, and what is wrong."""

    field: tuple[str | int, ...]
    message: str


@dataclass(frozen=True)
class _FieldSpec:
    name: str
    required: bool
    check: Any  # Callable[[Any], str | None]: None when valid, else the problem


def _misconception(raw: dict[str, Any]) -> Misconception:
    return Misconception(raw["belief"], raw["correction"], raw.get("truth", ""), raw.get("check_only", False), raw.get("point", ""))


def _is_text(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"must be text, not {type(value).__name__}"
    if not value.strip():
        return "must not be empty"
    return None


def _is_id(value: Any) -> str | None:
    problem = _is_text(value)
    if problem:
        return problem
    if not ID_PATTERN.match(value):
        return f"{value!r} is not a lowercase slug (letters, digits and single hyphens)"
    return None


def _is_text_list(value: Any, low: int, high: int) -> str | None:
    if not isinstance(value, list):
        return f"must be a list, not {type(value).__name__}"
    if not low <= len(value) <= high:
        return f"must have {low} to {high} entries, has {len(value)}"
    for position, entry in enumerate(value):
        if not isinstance(entry, str) or not entry.strip():
            return f"entry {position + 1} must be non-empty text"
    return None


def _is_key_points(value: Any) -> str | None:
    """A point said twice would be credited twice by one clause, and a claim or pair names its point by text."""
    if problem := _is_text_list(value, *KEY_POINTS_RANGE):
        return problem
    repeated = sorted({point for point in value if value.count(point) > 1})
    return f"{repeated[0]!r} is listed twice" if repeated else None


def _is_difficulty(value: Any) -> str | None:
    low, high = DIFFICULTY_RANGE
    if isinstance(value, bool) or not isinstance(value, int):
        return f"must be an integer {low}-{high}, not {type(value).__name__}"
    if not low <= value <= high:
        return f"must be {low}-{high}, is {value}"
    return None


def _is_type_list(value: Any) -> str | None:
    problem = _is_text_list(value, 1, 3)
    if problem:
        return problem
    unknown = [word for word in value if word not in TYPE_WORDS]
    if unknown:
        return f"unknown type word(s) {', '.join(unknown)}; allowed: {', '.join(TYPE_WORDS)}"
    return None


def _is_source(value: Any) -> str | None:
    if not isinstance(value, dict):
        return f"must be a mapping with document and number, not {type(value).__name__}"
    missing = [key for key in ("document", "number") if key not in value]
    if missing:
        return f"missing {', '.join(missing)}"
    if _is_text(value["document"]):
        return "document must be non-empty text"
    number = value["number"]
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        return "number must be a positive integer"
    for key in ("section", "title", "file"):
        if value.get(key) is not None and not isinstance(value[key], str):
            return f"{key} must be text"
    unknown = sorted(set(value) - {"document", "number", "section", "title", "file"})
    if unknown:
        return f"unknown key(s) {', '.join(unknown)}"
    return None


def _is_optional_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return None
    return f"must be text, not {type(value).__name__}"


def _is_code_refs(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, list):
        return f"must be a list, not {type(value).__name__}"
    for entry in value:
        if not isinstance(entry, str) or not CODE_REF_PATTERN.match(entry):
            return f"{entry!r} is not of the form package.module:name"
    return None


def _list_problem(value: Any, keys: tuple[str, ...], entries: tuple[int, int], why: str = "") -> str | None:
    """A list of `{keys}` mappings with a number of entries in range, or what is wrong with it."""
    if not isinstance(value, list):
        return f"must be a list of {{{', '.join(keys)}}} mappings, not {type(value).__name__}"
    low, high = entries
    if not low <= len(value) <= high:
        return f"must have {low} to {high} entries{why}, has {len(value)}"
    return None


def _is_misconceptions(value: Any) -> str | None:
    if problem := _list_problem(value, MISCONCEPTION_KEYS, MISCONCEPTIONS_RANGE):
        return problem
    for position, entry in enumerate(value, start=1):
        if not isinstance(entry, dict):
            return f"entry {position} must be a mapping with belief and correction, not {type(entry).__name__}"
        missing = [key for key in MISCONCEPTION_KEYS if key not in entry]
        unknown = sorted(set(entry) - set(MISCONCEPTION_KEYS) - set(MISCONCEPTION_OPTIONAL_KEYS), key=str)
        if missing or unknown:
            parts = [f"missing {', '.join(missing)}"] if missing else []
            parts += [f"unknown key(s) {', '.join(map(str, unknown))}"] if unknown else []
            return f"entry {position}: {'; '.join(parts)}"
        for key in (*MISCONCEPTION_KEYS, *(("truth",) if "truth" in entry else ())):
            if _is_text(entry[key]):
                return f"entry {position}: {key} must be non-empty text"
        if "check_only" in entry and (entry["check_only"] is not True or "truth" not in entry):
            return f"entry {position}: check_only must be true, on a belief with a truth (it is only asked, never graded)"
        if "point" in entry and (_is_text(entry["point"]) or "check_only" not in entry):
            return f"entry {position}: point must be a key point's text, on a check_only pair"
        if problem := _truth_problem(entry):
            return f"entry {position}: {problem}"
    return None


def _truth_problem(entry: dict) -> str | None:
    """A truth is asked beside its belief, so it must be short and must not be the belief itself."""
    if "truth" not in entry:
        return None
    words = len(entry["truth"].split())
    if words > TRUTH_WORDS:
        return f"truth must be at most {TRUTH_WORDS} words, has {words}"
    if entry["truth"].strip().lower() == entry["belief"].strip().lower():
        return "truth must differ from belief"
    # A learner who knows nothing picks the longer statement; the truth must not be the longer by much.
    extra_words, char_ratio, extra_chars = TRUTH_LONGER_BY
    most_words, most_chars = len(entry["belief"].split()) + extra_words, int(len(entry["belief"]) * char_ratio + extra_chars)
    if words > most_words or len(entry["truth"]) > most_chars:
        return f"truth must be about as long as belief: at most {most_words} words and {most_chars} characters"
    return None


def _named_in(name: str, text: str) -> bool:
    """`name` as a whole word of `text`, case aside ("He" is not in "the")."""
    return re.search(rf"(?<![\w.]){re.escape(name.lower())}(?![\w])", text.lower()) is not None


def _is_roles(value: Any) -> str | None:
    if problem := _list_problem(value, ROLE_KEYS, ROLES_RANGE, " (a role is asked against another)"):
        return problem
    for position, entry in enumerate(value, start=1):
        if not isinstance(entry, dict) or sorted(entry) != sorted(ROLE_KEYS):
            return f"entry {position} must be a mapping with exactly subject and does"
        if any(_is_text(entry[key]) for key in ROLE_KEYS):
            return f"entry {position}: subject and does must be non-empty text"
        words = len(entry["does"].split())
        if not ROLE_WORDS[0] <= words <= ROLE_WORDS[1]:
            return f"entry {position}: does must be {ROLE_WORDS[0]} to {ROLE_WORDS[1]} words, has {words}"
    subjects = [entry["subject"] for entry in value]
    if len({s.lower() for s in subjects}) != len(subjects):
        return "subjects must differ"
    for position, entry in enumerate(value, start=1):
        # Naming another role inside a role's text would give the answer away.
        named = next((s for s in subjects if s != entry["subject"] and _named_in(s, entry["does"])), None)
        if named:
            return f"entry {position}: does names another role ({named!r})"
    return None


def _claim_problem(position: int, entry: Any) -> str | None:
    if not isinstance(entry, dict):
        return f"entry {position} must be a mapping with point and relation, not {type(entry).__name__}"
    unknown = sorted(set(entry) - set(CLAIM_KEYS), key=str)
    if unknown:
        return f"entry {position}: unknown key(s) {', '.join(map(str, unknown))}; allowed: {', '.join(CLAIM_KEYS)}"
    if _is_text(entry.get("point")):
        return f"entry {position}: point must be one key point, verbatim"
    for key in ("subject", "relation", "object"):
        if key in entry and _is_text(entry[key]):
            return f"entry {position}: {key} must be non-empty text"
    for key in ("contrary", "wordings"):
        if key in entry and (not isinstance(entry[key], list) or any(_is_text(v) for v in entry[key]) or not entry[key]):
            return f"entry {position}: {key} must be a list of non-empty texts"
    value = entry.get("value")
    if "value" in entry and (not isinstance(value, int | float) or not entry.get("subject")):
        return f"entry {position}: value must be a number or true/false, with the subject that takes it"
    tolerance = entry.get("tolerance")
    if tolerance is not None and (isinstance(tolerance, bool) or not isinstance(tolerance, int | float) or tolerance <= 0):
        return f"entry {position}: tolerance must be a positive number"
    # A subject with an object gives the point's roles: the item's other claims' subjects must not take them.
    roles = "subject" in entry and "object" in entry
    if not roles and not any(key in entry for key in ("relation", "value", "contrary", "wordings", "tolerance")):
        give = "subject and object, relation, value, contrary, wordings or tolerance"
        return f"entry {position}: says nothing the key point does not; give {give}"
    return None


def _is_claims(value: Any) -> str | None:
    if not isinstance(value, list) or not value:
        return f"must be a non-empty list of claims, not {type(value).__name__}"
    return next((problem for n, entry in enumerate(value, start=1) if (problem := _claim_problem(n, entry))), None)


def _claims_match_points(raw: dict) -> list[FieldProblem]:
    """Each claim names one of the item's key points, at most once."""
    claims, points = raw.get("claims"), raw.get("key_points")
    if not isinstance(claims, list) or not isinstance(points, list) or _is_claims(claims):
        return []
    problems, seen = [], set()
    for position, claim in enumerate(claims):
        point = claim["point"]
        if point not in points:
            problems.append(FieldProblem(("claims", position), f"claims: entry {position + 1}: {point!r} is not one of the key points"))
        elif point in seen:
            problems.append(FieldProblem(("claims", position), f"claims: entry {position + 1}: {point!r} has a claim already"))
        seen.add(point)
    return problems


def _pairs_match_points(raw: dict) -> list[FieldProblem]:
    """A pair written for a key point names one of the item's key points."""
    pairs, points = raw.get("misconceptions"), raw.get("key_points")
    if not isinstance(pairs, list) or not isinstance(points, list) or _is_misconceptions(pairs):
        return []
    return [
        FieldProblem(("misconceptions", n), f"misconceptions: entry {n + 1}: point {pair['point']!r} is not one of the key points")
        for n, pair in enumerate(pairs)
        if "point" in pair and pair["point"] not in points
    ]


def _is_optional_id(value: Any) -> str | None:
    return None if value is None else _is_id(value)


def _is_one_line(value: Any) -> str | None:
    problem = _is_text(value)
    if problem:
        return problem
    return "must be one line" if "\n" in value.strip() else None


def _is_unproved(value: Any) -> str | None:
    if not isinstance(value, dict):
        return f"must be a mapping with reason and note, not {type(value).__name__}"
    missing = [key for key in UNPROVED_KEYS if key not in value]
    unknown = sorted(set(value) - set(UNPROVED_KEYS), key=str)
    if missing:
        return f"missing {', '.join(missing)}"
    if unknown:
        return f"unknown key(s) {', '.join(map(str, unknown))}"
    if value["reason"] not in UNPROVED_REASONS:
        return f"unknown reason {value['reason']!r}; allowed: {', '.join(UNPROVED_REASONS)}"
    note = value["note"]
    if _is_text(note) or "\n" in note.strip():
        return "note must be one non-empty line"
    return None


FIELDS: tuple[_FieldSpec, ...] = (
    _FieldSpec("id", True, _is_id),
    _FieldSpec("question", True, _is_text),
    _FieldSpec("answer", True, _is_text),
    _FieldSpec("type", True, _is_type_list),
    _FieldSpec("topics", True, lambda v: _is_text_list(v, 1, MAX_TOPICS)),
    _FieldSpec("difficulty", True, _is_difficulty),
    _FieldSpec("source", True, _is_source),
    _FieldSpec("key_points", True, _is_key_points),
    _FieldSpec("claims", False, _is_claims),
    _FieldSpec("notes", False, _is_optional_text),
    _FieldSpec("code_refs", False, _is_code_refs),
    _FieldSpec("demo", False, _is_optional_id),
    _FieldSpec("claim_check", False, _is_one_line),
    _FieldSpec("misconceptions", False, _is_misconceptions),
    _FieldSpec("roles", False, _is_roles),
    _FieldSpec("unproved", False, _is_unproved),
)
FIELD_NAMES = tuple(spec.name for spec in FIELDS)


def validate_item(raw: Any, known_topics: set[str], require_proof: bool = True) -> list[FieldProblem]:
    """Every schema problem of one raw item, all at once (empty when valid).

    require_proof: a bank item needs a demo or a stated reason for having none; a learner's own
    card does not."""
    if not isinstance(raw, dict):
        return [FieldProblem((), f"item must be a mapping, not {type(raw).__name__}")]
    problems: list[FieldProblem] = []
    for spec in FIELDS:
        if spec.name not in raw:
            if spec.required:
                problems.append(FieldProblem((), f"missing required field '{spec.name}'"))
            continue
        message = spec.check(raw[spec.name])
        if message:
            problems.append(FieldProblem((spec.name,), f"{spec.name}: {message}"))
    for name in sorted(set(raw) - set(FIELD_NAMES), key=str):
        problems.append(FieldProblem((name,), f"unknown field '{name}'"))
    has_demo, has_unproved = raw.get("demo") is not None, raw.get("unproved") is not None
    if has_demo == has_unproved and (require_proof or has_demo):
        message = (
            "has both demo and unproved: keep one" if has_demo else "has neither demo nor unproved: add a demo, or unproved with a reason"
        )
        problems.append(FieldProblem(("unproved",) if has_unproved else (), message))
    problems.extend(_claim_check_problems(raw, require_proof))
    problems += _claims_match_points(raw) + _pairs_match_points(raw)
    topics = raw.get("topics")
    if isinstance(topics, list):
        for position, topic in enumerate(topics):
            if isinstance(topic, str) and topic not in known_topics:
                problems.append(FieldProblem(("topics", position), f"unknown topic '{topic}' (not in topics.yaml)"))
    return problems


def _claim_check_problems(raw: dict[str, Any], require_proof: bool) -> list[FieldProblem]:
    """A demo proves an item only through one named check: the one whose failure refutes the claim.

    A learner's own card may link a demo without naming one (the app then shows the whole demo)."""
    has_demo, has_check = raw.get("demo") is not None, raw.get("claim_check") is not None
    if has_check and not has_demo:
        return [FieldProblem(("claim_check",), "claim_check without a demo: remove it, or add the demo it belongs to")]
    if has_demo and not has_check and require_proof:
        message = "demo without claim_check: name the check of the demo whose failure would refute this item's claim"
        return [FieldProblem(("demo",), message)]
    return []


@dataclass(frozen=True)
class Topic:
    id: str
    name: str
    description: str = ""


@dataclass
class Bank:
    """All items and the topic vocabulary, in file order."""

    items: list[QAItem] = field(default_factory=list)
    topics: dict[str, Topic] = field(default_factory=dict)

    def by_id(self) -> dict[str, QAItem]:
        return {item.id: item for item in self.items}

    def find(self, ref: str) -> QAItem | None:
        """An item by its id or by the short form notes cite it by ("keras-s6-q7" for
        "keras-s6-q7-long-phase-1-training-take"): the first words of exactly one id."""
        exact = self.by_id().get(ref)
        if exact is not None:
            return exact
        matches = [item for item in self.items if item.id.startswith(ref + "-")]
        return matches[0] if len(matches) == 1 else None
