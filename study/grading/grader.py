"""Grade a typed answer clause by clause: each key point matched, missed or contradicted by the
learner's own words, known misconceptions caught, and a suggested FSRS rating."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from functools import cache

from fsrs import Rating

from qa_bank.schema import Claim, QAItem
from study.grading.align import NUMBERLESS, Alignment, align, lined_up, same_word, states
from study.grading.calibration import features, load_calibration
from study.grading.formulas import Formula, formulas
from study.grading.lexicon import Lexicon, load_lexicon
from study.grading.numbers import same_value, unit_scale
from study.grading.order import (
    changed_argument,
    changed_extension,
    changed_sign,
    crossed_key,
    other_receiver,
    rebound_values,
    reordered_tuple,
    reversed_order,
    swapped_operands,
)
from study.grading.text import LINKS, Clause, Term, clauses, key_point_clause, merge

# An answer is on topic by the share of its words found in the item's own text (question, model
# answer, key points): a weak answer counts as Hard only when it is on topic (an off-topic answer
# that shares a few words is Again), and an on-topic fragment of a point counts as Hard.
RELEVANT = 0.4
ON_TOPIC = 0.6
# ... or, short of ON_TOPIC, when it is relevant and most of it is about the points: a short answer
# all about the question ("it runs on the cpu") is a weak recall, a fluent answer to another
# question that brushes a point in one clause of several is not.
FOCUSED = 0.5  # share of the answer's clauses that state a fragment of some point
FRAGMENT = 0.2  # coverage of some point that makes an on-topic answer a fragment, not nothing
LISTED_SHARE = 0.5  # an answer whose clauses are at least this share list items is a term list
LISTED_MIN = 3  # ... and has at least this many of them

POINT_MATCHED = 0.6  # share of a key point's terms one clause must state
# A wrong belief must be stated whole (all but one term of a long one), and compactly: its terms
# gathered within a few words, not scattered over a long list, before the learner is told so.
MISCONCEPTION_SLACK = 3  # extra words allowed between the belief's terms
# Suggested rating from the score (mean credit over key points): an answer that states one point
# of several, or most of two, is a weak recall (Hard), not a failure; scattered words stay under
# Again's bar (0.1 is one term in three of each of three points).
RATING_FLOORS = ((0.85, Rating.Easy), (0.55, Rating.Good), (0.1, Rating.Hard))


class PointStatus(StrEnum):
    MATCHED = "matched"
    PARTIAL = "partial"  # some of its terms, not enough to count
    MISSED = "missed"
    CONTRADICTED = "contradicted"  # stated with its meaning reversed


@dataclass(frozen=True)
class PointResult:
    point: str
    status: PointStatus
    coverage: float  # 0-1: share of the point's terms one clause states
    clause: str | None  # the learner's words that matched or contradicted it
    why: str | None = None  # for a contradiction: value, number, roles, antonym or negation
    swapped: tuple[str, str] | None = None  # (the point's word, the learner's word in its place)

    def explain(self) -> str:
        """One line saying what reversed the point, in the learner's terms."""
        if self.status is not PointStatus.CONTRADICTED:
            return ""
        if self.swapped and self.why == "roles":
            return f"you swapped {self.swapped[0]} and {self.swapped[1]}: you put {self.swapped[1]} where the point has {self.swapped[0]}"
        if self.swapped and self.why in ("value", "number"):
            return f"you gave {self.swapped[1]} where the point has {self.swapped[0]}"
        if self.swapped:
            return f"you said {self.swapped[1]} where the point says {self.swapped[0]}"
        return "your negation reverses it"


@dataclass(frozen=True)
class MisconceptionHit:
    belief: str
    correction: str
    clause: str  # the learner's words that state the belief


@dataclass(frozen=True)
class GradeResult:
    score: float  # 0-1: mean credit over key points, 0 for a contradicted one
    suggested_rating: str  # Again, Hard, Good or Easy; the learner may override it
    points: list[PointResult] = field(default_factory=list)
    misconceptions: list[MisconceptionHit] = field(default_factory=list)
    listed_terms: bool = False  # the answer is mostly a list of terms with no claim relating them
    on_topic: float = 0.0  # 0-1: share of the answer's words found in the item's own text
    hint: str = ""  # what to say next: for a term list, "say what X does to Y"
    features: tuple[float, ...] = ()  # the calibration's inputs (calibration.FEATURES)
    raised: bool = False  # the calibration raised the rules' Hard to Good

    @property
    def matched(self) -> list[str]:
        return [p.point for p in self.points if p.status is PointStatus.MATCHED]

    @property
    def missed(self) -> list[str]:
        return [p.point for p in self.points if p.status in (PointStatus.MISSED, PointStatus.PARTIAL)]

    @property
    def contradicted(self) -> list[str]:
        return [p.point for p in self.points if p.status is PointStatus.CONTRADICTED]

    def to_dict(self) -> dict[str, object]:
        reversed_points = [p for p in self.points if p.status is PointStatus.CONTRADICTED]
        return {
            "score": self.score,
            "matched": self.matched,
            "missed": self.missed,
            "contradicted": [
                {"point": p.point, "why": p.why, "clause": p.clause, "swapped": p.swapped and list(p.swapped), "explain": p.explain()}
                for p in reversed_points
            ],
            "misconceptions": [asdict(hit) for hit in self.misconceptions],
            "points": [{**asdict(p), "status": p.status.value} for p in self.points],
            "listed_terms": self.listed_terms,
            "on_topic": self.on_topic,
            "hint": self.hint,
            "suggested_rating": self.suggested_rating,
        }


def _credit(coverage: float) -> float:
    """Full credit at POINT_MATCHED; below it, quadratic fall-off so scattered words earn little."""
    return 1.0 if coverage >= POINT_MATCHED else 0.5 * (coverage / POINT_MATCHED) ** 2


def _cleared_by_sibling(point: Clause, clause: Clause, alignment: Alignment, answer: list[Clause], lexicon: Lexicon) -> bool:
    """A clause that seems to reverse the point is cleared when another clause of its sentence
    states the reversed term itself, consistently ("statistics are updated during training and used
    at inference"): the reversed term was a contrast, not the claim."""
    for sibling in answer:
        if sibling is clause or sibling.sentence != clause.sentence:
            continue
        # The sibling must talk about the point itself, as fully as the reversing clause does, not
        # merely name the reversed word ("split the test set ..., and use the training loader";
        # "raw pixels are float32 0-1 and are converted to uint8 0-255").
        reading = align(point, sibling, lexicon)
        if reading.reversed or reading.aligned < 2 or reading.aligned <= alignment.aligned:
            continue
        if any(states(sibling, key, lexicon) for key in alignment.opposed_terms):
            return True
    return False


def _windows(answer: list[Clause]) -> list[list[int]]:
    """Every run of neighbouring clauses within one sentence."""
    runs = []
    for start, clause in enumerate(answer):
        for end in range(start, len(answer)):
            if answer[end].sentence != clause.sentence:
                break
            runs.append(list(range(start, end + 1)))
    return runs


def _anchored(run: list[int], answer: list[Clause], talks: list[bool]) -> bool:
    """Several clauses state a point together only through one that is a statement, not a list
    item, and talks about the point (`talks`, per clause): "writes the epoch, model state_dict,
    best_acc" is a claim with a list; "BatchNorm, stabilises, training" is three list items and claims nothing."""
    return len(run) == 1 or any(not answer[i].listed and talks[i] for i in run)


@dataclass(frozen=True)
class Reversal:
    """A clause that reverses a point: how much of the point it lines up, and why."""

    share: float
    clause: str
    why: str | None
    swapped: tuple[str, str] | None


def _another_points_number(alignment: Alignment, clause: Clause, others: list[Clause], lexicon: Lexicon) -> bool:
    """A number that reverses the point only because it is another key point's own number, in a
    clause that states that point: "so we can attach a new 10-class head" states "add our own
    10-class head", it is no wrong size for "removes the 1000-class ImageNet head"."""
    said = [theirs for _, theirs, how in alignment.swaps]
    if not said or any(t.value is None or t.boolean or t.claimed is not None for t in said):
        return False
    for other in others:
        numbers = [t for t in other.terms if t.value is not None]
        # ... the same value bound to the same word there ("10-class" and "10-class", not "10 degrees" and "10 percent")
        if not all(any(same_value(t.value, t.tolerance, n.value, n.tolerance) and t.bound_to == n.bound_to for n in numbers) for t in said):
            continue
        reading = align(other, clause, lexicon)
        if not reading.reversed and reading.coverage >= max(POINT_MATCHED, alignment.aligned / alignment.total):
            return True
    return False


def _another_points_words(target: Clause, alignment: Alignment, clause: Clause, others: list[Clause], lexicon: Lexicon) -> bool:
    """An opposite that reverses the point only because the clause states another key point, whose
    own word it is, and says nothing of this point's own: "the 23.6M resnet50 weights are frozen"
    states "23.6M ResNet50 parameters frozen", it does not deny "527,114 trainable parameters"
    ("raw pixels are float32 0-1" still swaps "raw pixels are uint8 0-255": raw pixels are this point's)."""
    said = [theirs for _, theirs, how in alignment.swaps if how in ("antonym", "roles")]
    if not said or alignment.negation_flip:
        return False
    for other in others:
        if not all(any(same_word(t.key, o.key, lexicon) for o in other.terms) for t in said):
            continue
        own = [t for t in target.terms if t.value is None and not any(same_word(t.key, o.key, lexicon) for o in other.terms)]
        if any(same_word(t.key, c.key, lexicon) for t in own for c in clause.terms):
            continue
        reading = align(other, clause, lexicon)
        if not reading.reversed and reading.coverage >= POINT_MATCHED:
            return True
    return False


def _contradictions(
    target: Clause, answer: list[Clause], lexicon: Lexicon, others: list[Clause] = (), point_terms: Clause | None = None
) -> tuple[set[int], list[Reversal]]:
    """The clauses that reverse the point (blocked from crediting it), and how. A bank wording
    (`point_terms` is then the point itself) reverses the point only through a word the point has:
    "raise it exponentially for one epoch" words "over a short run", and "every batch" contradicts
    the wording's detail, not the point."""
    blocked: set[int] = set()
    found = []
    for index, clause in enumerate(answer):
        alignment = align(target, clause, lexicon)
        if not alignment.contradicts or _another_points_number(alignment, clause, others, lexicon):
            continue
        if point_terms is not None and not _reverses_point_word(alignment, point_terms, lexicon):
            continue
        if _another_points_words(target, alignment, clause, others, lexicon):
            continue
        if not _cleared_by_sibling(target, clause, alignment, answer, lexicon):
            blocked.add(index)
            found.append(Reversal(alignment.aligned / alignment.total, clause.text, alignment.why, _swapped_words(alignment)))
    return blocked, found


def _reverses_point_word(alignment: Alignment, point: Clause, lexicon: Lexicon) -> bool:
    """Whether what reversed a wording is a word of the point itself (a negation always is)."""
    reversed_words = [ours.key for ours, _, _ in alignment.swaps] + list(alignment.opposed_terms)
    if not reversed_words:
        return True
    return any(same_word(word, term.key, lexicon) for word in reversed_words for term in point.terms)


def _states_point_too(point_own: Clause, contrary_own: Clause, clause: Clause, lexicon: Lexicon) -> bool:
    """The clause also says, unreversed and in a predicate of its own, the words that set the point
    apart from its contrary ("whatever constant it adds is removed when bn subtracts the mean" has the
    contrary's "adds" and the point's "subtracts"): two directions said of two things are no reversal
    of the point. Joined as one list ("balances false positives and false negatives") they are: the
    learner claims both."""
    if not point_own.terms or not contrary_own.terms:
        return False
    alignment = align(point_own, clause, lexicon)
    if alignment.supported < len(point_own.terms) or alignment.reversed:
        return False
    ours = [t.index for t in clause.terms if any(same_word(t.key, p.key, lexicon) for p in point_own.terms)]
    theirs = [t.index for t in clause.terms if any(same_word(t.key, c.key, lexicon) for c in contrary_own.terms)]
    return all(abs(i - j) > 2 for i in ours for j in theirs)


def _contraries(claim: Claim, point: Clause, answer: list[Clause], lexicon: Lexicon) -> tuple[set[int], list[Reversal]]:
    """Clauses that state what the bank says is the point's contrary ("start large and lower it"),
    including a word of it the point lacks: "ReLU non-linearity" does not state "ReLU removes the
    non-linearity"."""
    blocked: set[int] = set()
    found = []
    for contrary in claim.contrary:
        target = key_point_clause(contrary, lexicon)
        own = replace(target, terms=tuple(t for t in target.terms if not any(same_word(t.key, p.key, lexicon) for p in point.terms)))
        point_own = replace(point, terms=tuple(t for t in point.terms if not any(same_word(t.key, c.key, lexicon) for c in target.terms)))
        for index, clause in enumerate(answer):
            alignment = align(target, clause, lexicon)
            distinct = not own.terms or align(own, clause, lexicon).aligned > 0
            if _states_point_too(point_own, own, clause, lexicon):
                continue
            if not clause.hypothetical and distinct and alignment.aligned >= 2 and alignment.coverage >= POINT_MATCHED:
                blocked.add(index)
                found.append(Reversal(alignment.coverage, clause.text, "antonym", (claim.relation or claim.point, contrary)))
    return blocked, found


def _reordered(point: str, target: Clause, answer: list[Clause], lexicon: Lexicon) -> tuple[set[int], list[Reversal]]:
    """Clauses that put the point's two ordered things the other way round (order.py): a fraction
    turned over, "B then A", "A after B" read against "A then B", an operand given another
    operation, a tuple reordered, a call handed another receiver's entry, values given "for" two
    things the other way round; and the point's call with another number (a value). A clause that negates or
    supposes the order says nothing against it ("don't step before backward")."""
    blocked: set[int] = set()
    found = []
    whole = "\n".join(clause.text for clause in answer)
    for index, clause in enumerate(answer):
        if clause.hypothetical or any(t.negated for t in clause.terms):
            continue
        swapped = (
            reversed_order(point, clause.text, lexicon)
            or swapped_operands(point, clause.text, lexicon)
            or reordered_tuple(point, clause.text)
            or crossed_key(point, clause.text, whole)
            or rebound_values(point, clause.text, lexicon)
        )
        why = "roles"
        changed = changed_argument(point, clause.text) or changed_extension(point, clause.text) or changed_sign(point, clause.text)
        if swapped is None and (swapped := changed) is not None:
            why = "value"  # the point's call with another number, its file in another format, its offset with another sign
        if swapped is not None:
            blocked.add(index)
            found.append(Reversal(max(align(target, clause, lexicon).coverage, POINT_MATCHED), clause.text, why, swapped))
    return blocked, found


# A point that itself puts one thing in another's place names both ("replace model.fc with ..."):
# the learner may name the old one as what was replaced.
_SUBSTITUTION = re.compile(r"\b(?:instead of|rather than|in place of|as opposed to)\b", re.IGNORECASE)
_REPLACING = re.compile(r"\b(?:replac|swap|substitut|chang|convert|becom|turn)", re.IGNORECASE)


def _same_term(ours: Term, theirs: Term, lexicon: Lexicon) -> bool:
    """The same word, or the same number ("two" for 2)."""
    if ours.value is not None or theirs.value is not None:
        return (
            ours.value is not None and theirs.value is not None and same_value(ours.value, ours.tolerance, theirs.value, theirs.tolerance)
        )
    return same_word(ours.key, theirs.key, lexicon)


def _passed_over(point: str, target: Clause, answer: list[Clause], lexicon: Lexicon) -> tuple[set[int], list[Reversal]]:
    """A clause that states the point but names one of its things only as what it chose against
    ("batchnorm uses the batch mean instead of the running mean" for "uses running mean and
    variance"; "model.get_layer() rather than base_model.get_layer()" for the reverse) puts another
    thing in its place: the roles are swapped. A word the clause also says plainly is not passed over."""
    blocked: set[int] = set()
    found = []
    if _REPLACING.search(point):
        return blocked, found
    own = [t for t in target.terms if not t.negated and not t.contrasted and not t.boolean]
    for index, clause in enumerate(answer):
        if clause.hypothetical:
            continue
        plain = [t for t in own if any(_same_term(t, c, lexicon) and not c.contrasted for c in clause.terms)]
        against = [t for t in own if t not in plain and any(_same_term(t, c, lexicon) and c.passed_over for c in clause.terms)]
        # "18 instead of 25 weights per pair": a number passed over shares its noun; only the numbers are exchanged.
        if any(c.passed_over and c.value is not None for c in clause.terms):
            against = [t for t in against if t.value is not None]
        if not against or not plain or len(plain) < POINT_MATCHED * (len(own) - len(against)):
            continue
        # What it chose instead: the words right before the substitution ("the current batch mean/var").
        before = _SUBSTITUTION.split(clause.text, maxsplit=1)[0].split()[-3:]
        blocked.add(index)
        found.append(Reversal(max(len(plain) / len(own), POINT_MATCHED), clause.text, "roles", (against[0].surface, " ".join(before))))
    return blocked, found


def _positions(clause: Clause, role: Clause, lexicon: Lexicon) -> list[int]:
    """Where the clause names the role (all of its words; the position of its first)."""
    hits = [[t.index for t in clause.terms if same_word(r.key, t.key, lexicon)] for r in role.terms]
    return hits[0] if role.terms and all(hits) else []


def _squashed(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _holder(clause: Clause, predicate: Clause, subject: Clause, others: list[Clause], lexicon: Lexicon) -> Clause | None:
    """The role a clause says the predicate of: the one named nearest before the middle of the
    predicate's words (else right after). None where the point's subject is typed in a way the
    terms do not show ("model checkpoint" for ModelCheckpoint): it cannot be placed, so nothing is swapped."""
    # Each predicate word where it is last said: "call eval() before inference so ... batchnorm uses
    # its running statistics in eval" says the predicate after batchnorm, not before dropout.
    last = {p.key: t.index for t in clause.terms for p in predicate.terms if same_word(p.key, t.key, lexicon)}
    where = sorted(last.values())
    named = [(i, role) for role in [subject, *others] for i in _positions(clause, role, lexicon)]
    # A role inside a longer one (DataParallel in DistributedDataParallel) is the longer one.
    keys = {id(role): {t.key for t in role.terms} for _, role in named}
    named = [(i, r) for i, r in named if not any(keys[id(r)] < keys[id(o)] for _, o in named)]
    if not where or not named:
        return None
    if not any(role is subject for _, role in named) and _squashed(subject.text) in _squashed(clause.text):
        return None
    middle = where[(len(where) - 1) // 2]
    before = [(i, role) for i, role in named if i < middle]
    if not before:
        return min(named, key=lambda hit: hit[0])[1]
    at, holder = max(before, key=lambda hit: hit[0])
    # Subjects joined by "and" share the predicate ("dropout and batchnorm behave differently").
    own = [i for i, role in before if role is subject]
    return subject if own and at - max(own) <= len(key_point_clause(holder.text, lexicon).terms) else holder


def _substituted(
    claim: Claim, target: Clause, answer: list[Clause], roles: tuple[str, ...], lexicon: Lexicon
) -> tuple[set[int], list[Reversal]]:
    """A bank claim's roles: what the point says of its subject (the claim's relation and object),
    said of another subject the item's claims name, swaps the two: "conv adds the non-linearity"
    where ReLU does, "the crop gives left-right invariance and the flip simulates translations".
    The predicate is said of the role named nearest before it (else right after it)."""
    subject = key_point_clause(claim.subject, lexicon)
    said = f"{claim.relation} {claim.object}".strip()
    predicate = key_point_clause(said, lexicon) if said else target
    others = [key_point_clause(role, lexicon) for role in roles]
    # Role names are never the predicate ("F1 balances precision and recall" says "balances ... recall" of F1).
    names = [r for role in [subject, *others] for r in role.terms]
    predicate = replace(predicate, terms=tuple(t for t in predicate.terms if not any(same_word(t.key, n.key, lexicon) for n in names)))
    blocked: set[int] = set()
    found = []
    if not subject.terms or not predicate.terms:
        return blocked, found
    for index, clause in enumerate(answer):
        reading = align(predicate, clause, lexicon)
        if clause.hypothetical or reading.reversed or reading.coverage < POINT_MATCHED:
            continue
        holder = _holder(clause, predicate, subject, others, lexicon)
        if holder is not None and holder is not subject:
            blocked.add(index)
            found.append(Reversal(reading.coverage, clause.text, "roles", (claim.subject, holder.text)))
    return blocked, found


# What a clause denies of a thing when it says it is absent: "the optimizer state isn't saved".
PRESENCE = frozenset({"includ", "store", "print", "log", "kept", "return", "record", "track", "report", "shown", "written", "contain"})
_MEMBER_JOINTS = re.compile(r",\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+")


def _denied_members(point: str, answer: list[Clause], lexicon: Lexicon) -> tuple[set[int], list[Reversal]]:
    """A clause that names one member of the point's list, or the whole of a bare noun-phrase point, and
    says only that it is absent ("the optimizer state isn't saved" for "state holds epoch, state_dict,
    best_acc and optimizer state"; "the validation loss and accuracy aren't included" for "validation
    loss and accuracy") denies it: the point says it is there."""
    whole = key_point_clause(point, lexicon)
    members = [key_point_clause(part, lexicon) for part in _MEMBER_JOINTS.split(point) if part.strip()] + [whole]
    blocked: set[int] = set()
    found = []
    for index, clause in enumerate(answer):
        if clause.hypothetical or clause.counterfactual:
            continue
        named = [t for t in clause.terms if not t.negated and any(same_word(t.key, w.key, lexicon) for w in whole.terms)]
        denial = [t for t in clause.terms if t.negated and t.key in PRESENCE]
        rest = [t for t in clause.terms if t not in named and t not in denial]
        if not named or not denial or rest or any(t.index < n.index for t in denial for n in named):
            continue
        for member in members:
            if len(member.terms) >= 2 and all(any(same_word(m.key, n.key, lexicon) for n in named) for m in member.terms):
                blocked.add(index)
                found.append(Reversal(1.0, clause.text, "negation", None))
                break
    return blocked, found


def _values_bound_to(name: str, boolean: bool, answer: list[Clause], lexicon: Lexicon) -> list[tuple[int, Term]]:
    """(clause index, term) for each number, or each True/False, the answer binds to `name` outside a supposition,
    the alternatives it names ("rather than 0.5") included: what the learner gave that name."""
    return [
        (index, term)
        for index, clause in enumerate(answer)
        if not clause.hypothetical
        for term in clause.terms
        if term.value is not None and term.boolean == boolean and term.bound_to and same_word(term.bound_to, name, lexicon)
    ]


def _wrong_values(claim: Claim, answer: list[Clause], lexicon: Lexicon) -> tuple[set[int], list[Reversal]]:
    """A bank claim's value: a number or True/False bound to the claim's subject with another value
    (beyond the claim's tolerance) reverses the point: "weight_decay=1e4" where the value is 1e-4."""
    subject = key_point_clause(claim.subject, lexicon).terms
    if not subject:
        return set(), []
    blocked: set[int] = set()
    found = []
    for index, term in _values_bound_to(subject[-1].key, isinstance(claim.value, bool), answer, lexicon):
        if index in blocked or term.contrasted:
            continue
        if not same_value(term.value, term.tolerance, float(claim.value), claim.tolerance or 0.0):
            blocked.add(index)
            found.append(Reversal(1.0, answer[index].text, "value", (f"{claim.subject} = {claim.value}", term.surface)))
    return blocked, found


_ASSIGNED = re.compile(r"[A-Za-z_][\w.]*\s*=\s*(\S+)")


def _assigned_values(point: str, lexicon: Lexicon) -> list[Term]:
    """The point's values written as assignments ("gamma=0.1", "weights_only=True"), with their names."""
    assigned = {match.group(1).rstrip(",.;)").lower() for match in _ASSIGNED.finditer(point)}
    return [
        term
        for term in key_point_clause(point, lexicon).terms
        if term.value is not None and term.bound_to and term.surface.lower() in assigned
    ]


def _rebound_values(point: str, answer: list[Clause], lexicon: Lexicon) -> tuple[set[int], list[Reversal]]:
    """A value the point assigns to a name ("gamma=0.1"), given that name with another value in the
    answer ("gamma=0.5") and never its own, reverses the point: the learner set the parameter wrong."""
    blocked: set[int] = set()
    found = []
    assigned = _assigned_values(point, lexicon)
    for ours in assigned:
        if sum(same_word(other.bound_to, ours.bound_to, lexicon) for other in assigned) > 1:
            continue  # "C=3 for RGB and C=1 for grayscale": the name takes a value per case
        given = _values_bound_to(ours.bound_to, ours.boolean, answer, lexicon)
        if any(same_value(term.value, term.tolerance, ours.value, ours.tolerance) for _, term in given):
            continue
        for index, term in given:
            if term.contrasted:
                continue  # named as the alternative ("gamma=0.5 rather than 0.1"), not asserted
            blocked.add(index)
            found.append(Reversal(1.0, answer[index].text, "value", (ours.surface, term.surface)))
    return blocked, found


def _other_formulas(point: str, answer: list[Clause]) -> tuple[set[int], list[Reversal]]:
    """A formula over the point's own names with another value ("y - p" for "p - y", "1/(2*fan_in)"
    for "2/fan_in") reverses the point, unless the answer also writes the point's formula. Where
    the point says what the formula is of ("initial loss should be ..."), the clause must say it
    too: "each class gets 1/num_classes" is a step on the way, not the loss."""
    ours, subject = _point_formulas(point)
    if not ours:
        return set(), []
    said = [(index, f) for index, clause in enumerate(answer) if not clause.hypothetical for f in formulas(_closed(clause.text))]
    blocked: set[int] = set()
    found = []
    for mine in ours:
        if any(mine.same(theirs) for _, theirs in said):
            continue
        for index, theirs in said:
            if theirs.names != mine.names or (subject and not subject & _sentence_words(answer, index)):
                continue
            blocked.add(index)
            found.append(Reversal(1.0, answer[index].text, "number", (mine.text, theirs.text)))
    return blocked, found


def _formula_written(point: str, answer: list[Clause], blocked: set[int]) -> str | None:
    """The clause that writes every formula of the point, in any form of the same value ("ln(num_classes)"
    for "-log(1/num_classes)"), where its sentence names what the formula is of: the point is stated."""
    ours, subject = _point_formulas(point)
    if not ours:
        return None
    for index, clause in enumerate(answer):
        # A check states what to expect ("check the initial loss is ln(num_classes)"): it counts here.
        if index in blocked or (subject and not subject & _sentence_words(answer, index)):
            continue
        theirs = formulas(_closed(clause.text))
        if all(any(mine.same(f) for f in theirs) for mine in ours):
            return clause.text
    return None


def _closed(text: str) -> str:
    """A clause as shown ends at its last word: "ln(num_classes" gets back the brackets it opened."""
    return text + ")" * max(0, text.count("(") - text.count(")"))


def _sentence_words(answer: list[Clause], index: int) -> set[str]:
    """The words of the clause's sentence up to it: "check the initial loss, it should be 1/num_classes"
    says the formula of the loss."""
    sentence = answer[index].sentence
    return {w for clause in answer[: index + 1] if clause.sentence == sentence for w in re.findall(r"[a-z]+", clause.text.lower())}


def _operators(text: str) -> int:
    return len(re.findall(r"[-+*/^]|\b(?:log|ln|exp|sqrt)\b", text))


@cache
def _point_formulas(point: str) -> tuple[tuple[Formula, ...], frozenset[str]]:
    """A key point's formulas (a name and an operator at least: "2/fan_in", not "x") and the words outside
    them that name what they are of ("loss"), if any."""
    ours = tuple(f for f in formulas(point) if len(f.names) + _operators(f.text) >= 2)
    return ours, frozenset(_formula_subject(point, ours))


def _formula_subject(point: str, ours: tuple[Formula, ...]) -> set[str]:
    rest = point
    for formula in ours:
        rest = rest.replace(formula.text, " ")
    words = set(re.findall(r"[a-z]+", rest.lower())) - LINKS - {"the", "of", "with", "per", "equals", "gives"}
    names = {name for formula in ours for name in formula.names}
    return {w for w in words if w not in names and len(w) > 2}


def _best_coverage(
    target: Clause, answer: list[Clause], blocked: set[int], lexicon: Lexicon, relation: Clause | None = None
) -> tuple[float, str | None]:
    """The best share of the point stated by an anchored run of clauses; where the bank gives the
    point's relation, only runs that state it count ("BatchNorm ... training" without "stabilises")."""
    best: tuple[float, str | None] = (0.0, None)
    readings = [align(target, clause, lexicon) for clause in answer]
    talks = [reading.aligned > 0 for reading in readings]
    # A clause that reverses the point on its own ("they don't get the same gradient") is not turned round by
    # a reversal in its neighbour ("so only some of them learn"): flips cancel within a clause, not across.
    turned = {i for i, reading in enumerate(readings) if reading.reversed and reading.negation_flip and reading.aligned >= 2}
    for run in _windows(answer):
        if blocked.intersection(run) or not _anchored(run, answer, talks) or (len(run) > 1 and turned.intersection(run)):
            continue
        parts = [answer[i] for i in run]
        text = parts[0].text if len(parts) == 1 else f"{parts[0].text} … {parts[-1].text}"
        merged = merge(parts, text)
        # The relation must be said, in either polarity: whether it is reversed is the whole point's reading
        # ("without batchnorm training would be unstable" says "stabilises" through its opposite).
        if relation is not None and not align(relation, merged, lexicon).aligned:
            continue
        coverage = align(target, merged, lexicon).coverage
        if coverage > best[0] or (coverage == best[0] and best[1] is not None and len(text) < len(best[1])):
            best = (coverage, text)
    return best


def _swapped_words(alignment: Alignment) -> tuple[str, str] | None:
    """The point's word and the learner's word in its place, as typed ("128*4*4 = 512" for a wrong result)."""
    if not alignment.swaps:
        return None
    ours, theirs, _ = alignment.swaps[0]
    said = f"{theirs.surface} = {theirs.claimed:g}" if theirs.claimed is not None else theirs.surface or theirs.key
    return ours.surface or ours.key, said


def _targets(point: str, claim: Claim | None, lexicon: Lexicon) -> list[Clause]:
    """The point read as a clause (its numbers within the claim's tolerance), then its other wordings."""
    target = key_point_clause(point, lexicon)
    if claim is None:
        return [target]
    if claim.tolerance:
        loose = [replace(t, tolerance=max(t.tolerance, claim.tolerance)) if t.value is not None else t for t in target.terms]
        target = replace(target, terms=tuple(loose))
    return [target, *(key_point_clause(wording, lexicon) for wording in claim.wordings)]


def _mirrored(target: Clause, where: str | None, answer: list[Clause], strongest: Reversal, lexicon: Lexicon) -> bool:
    """The point is met only through its mirror image ("train() enables dropout" for "eval() disables
    dropout") while another clause reverses it as fully with its own subject ("eval() enables dropout
    as well"): the direct statement is what the learner said of the point's subject."""
    matched = next((clause for clause in answer if clause.text == where), None)
    direct = next((clause for clause in answer if clause.text == strongest.clause), None)
    if matched is None or direct is None or strongest.share < 1.0:
        return False
    return align(target, matched, lexicon).subject_mirrored and not align(target, direct, lexicon).subject_mirrored


def _other_half(target: Clause, where: str | None, strongest: Reversal, answer: list[Clause], lexicon: Lexicon) -> bool:
    """The credit and the reversal answer different halves of the point ("model.train() enables dropout,
    but BatchNorm doesn't use batch statistics in training" for "model.train() enables dropout and
    BatchNorm batch statistics"): the half the credit leaves unsaid is reversed, so the point is."""
    credited = next((c for c in answer if c.text == where), None)
    reversing = next((c for c in answer if c.text == strongest.clause), None)
    if credited is None or reversing is None or credited is reversing or strongest.share < POINT_MATCHED:
        return False
    said, turned = lined_up(target, credited, lexicon), lined_up(target, reversing, lexicon)
    return 2 * len(turned - said) > len(turned)


def grade_point(
    point: str, answer: list[Clause], lexicon: Lexicon, claim: Claim | None = None, others: list[Clause] = (), roles: tuple[str, ...] = ()
) -> PointResult:
    """Contradiction is read clause by clause; coverage over anchored runs of clauses that contain
    no contradicting clause, so a claim is credited where the learner stated it, and only there.
    A bank claim adds wordings that state the point, contraries that reverse it, a relation that
    must be stated, and a tolerance on its numbers."""
    targets = [t for t in _targets(point, claim, lexicon) if t.terms]
    if not targets:
        return PointResult(point, PointStatus.MISSED, 0.0, None)
    blocked: set[int] = set()
    reversals: list[Reversal] = []
    for target in targets:
        more_blocked, found = _contradictions(target, answer, lexicon, others, point_terms=None if target is targets[0] else targets[0])
        blocked |= more_blocked
        reversals += found
    more_blocked, found = _reordered(point, targets[0], answer, lexicon)
    blocked |= more_blocked | {index for index, clause in enumerate(answer) if other_receiver(point, clause.text)}
    reversals += found
    more_blocked, found = _denied_members(point, answer, lexicon)
    blocked |= more_blocked
    reversals += found
    more_blocked, found = _passed_over(point, targets[0], answer, lexicon)
    blocked |= more_blocked
    reversals += found
    if claim is not None and claim.subject and roles:
        more_blocked, found = _substituted(claim, targets[0], answer, roles, lexicon)
        blocked |= more_blocked
        reversals += found
    if claim is not None and claim.value is not None:
        more_blocked, found = _wrong_values(claim, answer, lexicon)
        blocked |= more_blocked
        reversals += found
    if claim is not None and claim.contrary:
        more_blocked, found = _contraries(claim, targets[0], answer, lexicon)
        blocked |= more_blocked
        reversals += found
    more_blocked, found = _other_formulas(point, answer)
    blocked |= more_blocked
    reversals += found
    if not any(reversal.share >= 1.0 for reversal in reversals):  # a full reversal already names the conflict
        more_blocked, found = _rebound_values(point, answer, lexicon)
        blocked |= more_blocked
        reversals += found
    relation = key_point_clause(claim.relation, lexicon) if claim is not None and claim.relation else None
    coverage, where = max((_best_coverage(target, answer, blocked, lexicon, relation) for target in targets), key=lambda best: best[0])
    written = _formula_written(point, answer, blocked)
    if written is not None and coverage < POINT_MATCHED:
        coverage, where = POINT_MATCHED, written
    strongest = max(reversals, key=lambda r: r.share, default=None)
    if strongest and (
        coverage < POINT_MATCHED
        or strongest.share > coverage
        or _mirrored(targets[0], where, answer, strongest, lexicon)
        or _other_half(targets[0], where, strongest, answer, lexicon)
    ):
        return PointResult(point, PointStatus.CONTRADICTED, 0.0, strongest.clause, strongest.why, strongest.swapped)
    if coverage >= POINT_MATCHED:
        return PointResult(point, PointStatus.MATCHED, round(coverage, 3), where)
    status = PointStatus.PARTIAL if coverage > 0 else PointStatus.MISSED
    return PointResult(point, status, round(coverage, 3), where if coverage > 0 else None)


def find_misconceptions(item: QAItem, answer: list[Clause], lexicon: Lexicon) -> list[MisconceptionHit]:
    hits = []
    for misconception in (m for m in item.misconceptions if not m.check_only):
        belief = key_point_clause(misconception.belief, lexicon)
        needed = len(belief.terms) - (len(belief.terms) > 5)
        for clause in answer:
            alignment = align(belief, clause, lexicon)
            span = alignment.span or 0
            if not alignment.reversed and alignment.aligned >= max(2, needed) and span <= needed + MISCONCEPTION_SLACK:
                hits.append(MisconceptionHit(misconception.belief, misconception.correction, clause.text))
                break
    return hits


def suggest_rating(
    score: float,
    points: list[PointResult],
    misconceptions: list[MisconceptionHit],
    listed: bool = False,
    on_topic: float = 1.0,
    focus: float = 0.0,
) -> Rating:
    """From the score, weak answers sorted by topic (see RELEVANT), capped at Hard by a
    contradiction, a misconception or a list of terms, and Again when the answer reverses at least
    as many points as it gets right."""
    rating = next((r for floor, r in RATING_FLOORS if score >= floor), Rating.Again)
    # A key point stated in full (every term) by an answer mostly about the points is a weak recall, however many of
    # its words the item lacks ("id increase num_workers in teh DataLoader so loading happens in several
    # processes"); a fluent answer to another question that states one point in passing is not.
    stated = focus >= FOCUSED and any(p.status is PointStatus.MATCHED and p.coverage == 1.0 for p in points)
    if rating is Rating.Hard and on_topic < RELEVANT and not stated:
        rating = Rating.Again
    fragment = any(p.coverage >= FRAGMENT and p.status is not PointStatus.CONTRADICTED for p in points)
    relevant = on_topic >= ON_TOPIC or (on_topic >= RELEVANT and focus >= FOCUSED)
    if rating is Rating.Again and relevant and fragment:
        rating = Rating.Hard
    matched = sum(p.status is PointStatus.MATCHED for p in points)
    contradicted = sum(p.status is PointStatus.CONTRADICTED for p in points)
    if contradicted or misconceptions or listed:
        rating = min(rating, Rating.Hard)
    if contradicted >= max(1, matched) or (misconceptions and not matched):
        rating = Rating.Again
    return rating


@cache
def _item_terms(item: QAItem, lexicon: Lexicon) -> tuple[frozenset[str], tuple[Term, ...]]:
    """The words and the numbers of the item's own text."""
    claimed = [text for claim in item.claims for text in (*claim.wordings, claim.subject, claim.relation, claim.object) if text]
    text = "\n".join([item.question, item.answer, *item.key_points, *claimed])
    terms = [t for clause in clauses(text, lexicon) for t in clause.terms]
    return frozenset(t.key for t in terms if t.value is None), tuple(t for t in terms if t.value is not None)


def on_topic(item: QAItem, answer: list[Clause], lexicon: Lexicon) -> float:
    """Share of the answer's terms that the item's own text uses too ("around 2.3" is on topic
    for an item whose text says ln(10) = 2.303)."""
    words, numbers = _item_terms(item, lexicon)
    terms = [t for clause in answer for t in clause.terms]

    def known(term: Term) -> bool:
        if term.value is None:
            return any(same_word(term.key, k, lexicon) for k in words)
        return any(same_value(term.value, term.tolerance, n.value, n.tolerance) for n in numbers)

    return sum(map(known, terms)) / len(terms) if terms else 0.0


def _fragment(alignment: Alignment) -> bool:
    """Two of a point's terms related in one clause, not one shared word ("during training")."""
    return alignment.coverage >= FRAGMENT and alignment.aligned >= 2 and not alignment.reversed


def focus(item: QAItem, answer: list[Clause], lexicon: Lexicon) -> float:
    """Share of the answer's clauses that state a fragment of some key point."""
    points = [key_point_clause(point, lexicon) for point in item.key_points]
    about = [any(_fragment(align(point, clause, lexicon)) for point in points) for clause in answer]
    return sum(about) / len(about) if about else 0.0


def listed_terms(answer: list[Clause]) -> bool:
    """Mostly a list of terms: the learner named things without saying how they relate (counted in
    terms, so "StepLR, step_size=10, gamma=0.1: every ten epochs the rate ..." is a claim)."""
    items = sum(clause.listed for clause in answer)
    listed = sum(len(clause.terms) for clause in answer if clause.listed)
    return items >= LISTED_MIN and listed >= LISTED_SHARE * sum(len(clause.terms) for clause in answer)


def _number_only(result: PointResult, answer: list[Clause], lexicon: Lexicon) -> bool:
    """The point's number said by a list item without any of the words that name what it counts, in
    the list item or in a label right before it in its sentence ("Train: 93.8 MB" names it)."""
    at = next((i for i, c in enumerate(answer) if c.text == result.clause), None)
    if at is None or not answer[at].listed:
        return False
    label = [answer[at - 1]] if at > 0 and answer[at - 1].sentence == answer[at].sentence else []
    terms = key_point_clause(result.point, lexicon).terms
    names = [t for t in terms if t.value is None and unit_scale(t.key) is None]
    numbered = any(t.value is not None for t in terms)
    return numbered and bool(names) and not any(states(c, t.key, lexicon) for c in [answer[at], *label] for t in names)


def _named_before_number(terms: tuple[Term, ...]) -> list[str]:
    """The words a point writes before its first number: what that number is ("expected loss ln(10)")."""
    first_number = next((t.index for t in terms if t.value is not None), 0)
    return [t.surface for t in terms[:first_number] if t.surface]


def bare_numbers_hint(bare: PointResult, lexicon: Lexicon) -> str:
    """ "You listed the numbers; say which is which": naming what the first bare number counts."""
    terms = key_point_clause(bare.point, lexicon).terms
    names = _named_before_number(terms) or [t.surface for t in terms if t.surface and t.value is None]
    which = f": which one is the {' '.join(names)}?" if names else "."
    return f"You listed the numbers; say which is which{which}"


def term_list_hint(item: QAItem, points: list[PointResult], lexicon: Lexicon) -> str:
    """ "You listed the terms; say how they relate": with the first point not stated, its first
    and last named things as X and Y."""
    unstated = next((p for p in points if p.status is not PointStatus.MATCHED), points[0])
    claim = next((c for c in item.claims if c.point == unstated.point and c.subject and c.object), None)
    if claim is not None:
        return f"You listed the terms; say how they relate: what does {claim.subject} do to {claim.object}?"
    terms = key_point_clause(unstated.point, lexicon).terms
    named = _named_before_number(terms)
    if named:  # "expected loss ln(10) = 2.303": say what the expected loss is
        return f"You listed the terms; say how they relate: what is the {' '.join(named)}?"
    words = [t.surface for t in terms if t.surface and t.value is None]
    relation = f": what does {words[0]} do to {words[-1]}?" if len(words) >= 2 else "."
    return f"You listed the terms; say how they relate{relation}"


def grade(item: QAItem, answer: str, lexicon: Lexicon | None = None, calibrate: bool = True) -> GradeResult:
    """Grade `answer` against the item's key points and misconceptions (see the module doc);
    `calibrate=False` gives the rules' rating alone (what the calibration is fitted on)."""
    lexicon = lexicon or load_lexicon()
    answer_clauses = clauses(answer, lexicon)
    claims = {claim.point: claim for claim in item.claims}
    read = {point: key_point_clause(point, lexicon) for point in item.key_points}
    others = {point: [clause for other, clause in read.items() if other != point] for point in read}
    # The subjects of the item's claims are its roles: each claim's predicate said of another one swaps them.
    roles = {point: tuple(c.subject for c in item.claims if c.subject and c.point != point) for point in read}
    points = [grade_point(point, answer_clauses, lexicon, claims.get(point), others[point], roles[point]) for point in item.key_points]
    hits = find_misconceptions(item, answer_clauses, lexicon)
    # A list that names every point answered a question that asks for names ("which augmentations?"),
    # unless a point is met only by its number: "93.8 MB, 23.5 MB, 117.2 MB" does not say which is train,
    # so such a point is only partly stated (half, as its words without its number are: NUMBERLESS).
    met = all(p.status is PointStatus.MATCHED for p in points)
    bare = [p for p in points if p.status is PointStatus.MATCHED and _number_only(p, answer_clauses, lexicon)]
    listed = listed_terms(answer_clauses) and not (met and not bare)
    if not listed:
        hint = ""
    else:
        hint = bare_numbers_hint(bare[0], lexicon) if met else term_list_hint(item, points, lexicon)
        points = [replace(p, status=PointStatus.PARTIAL, coverage=min(p.coverage, NUMBERLESS)) if p in bare else p for p in points]
    score = sum(0.0 if p.status is PointStatus.CONTRADICTED else _credit(p.coverage) for p in points) / len(points)
    topic = round(on_topic(item, answer_clauses, lexicon), 3)
    about = focus(item, answer_clauses, lexicon)
    rating = suggest_rating(score, points, hits, listed, topic, about)
    statuses = [p.status.value for p in points]
    coverages = [p.coverage for p in points if p.status is not PointStatus.CONTRADICTED]
    shape = features(score, statuses, coverages, bool(hits), listed, topic, about, len(answer_clauses))
    raised = calibrate and _raised(rating, points, hits, listed, shape)
    rating = Rating.Good if raised else rating
    return GradeResult(round(score, 3), rating.name, points, hits, listed, topic, hint, shape, raised)


def _raised(rating: Rating, points: list[PointResult], hits: list[MisconceptionHit], listed: bool, shape: tuple[float, ...]) -> bool:
    """The learned calibration (calibration.py) raises a Hard with nothing against it to Good: never
    an answer with a contradicted point, a stated misconception or a term list."""
    if rating is not Rating.Hard or hits or listed or any(p.status is PointStatus.CONTRADICTED for p in points):
        return False
    calibration = load_calibration()
    return calibration.probability(shape) >= calibration.threshold
