"""Line up one key point with one clause of the answer: which of the point's terms the clause
says the same way, which it says reversed (an opposite, a negation, a number bound to the wrong
name), and whether the clause as a whole contradicts the point."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz

from study.grading.lexicon import Lexicon
from study.grading.numbers import same_value, unit_scale
from study.grading.text import Clause, Term

TYPO_MATCH = 85  # rapidfuzz ratio above which two plain stems are one word mistyped
TYPO_MIN_LENGTH = 5  # shorter stems must match exactly: "mean" is not "man"
CONTRADICTION_SHARE = 0.6  # share of the point's terms a clause must line up to contradict it
WHY_ORDER = ("value", "number", "roles", "antonym")
LINKING_VERBS = frozenset({"becom", "stay", "remain", "get", "turn", "seem"})  # stems: "weights become larger"
NUMBERLESS = 0.5  # the most of a numeric point its words can state without its number


@dataclass(frozen=True)
class Alignment:
    """How one clause reads against one key point."""

    total: int  # the key point's terms
    supported: int  # said the same way
    opposed: int  # lined up through an opposite or a counterpart, or a number bound to the wrong name
    flips: int  # reversals: opposites not cancelled by a negation, plus 1 when the negations disagree
    subject_mirrored: bool  # the point's first swappable term was swapped ("train" for "eval")
    opposed_terms: tuple[str, ...] = ()  # the point's terms the clause reversed through an opposite
    can_contradict: bool = True  # False for a supposition, or when the point's numbers are absent
    span: int | None = None  # clause words from the first to the last lined-up term
    # (the point's term, the clause's term standing in its place, how: value, number, roles or antonym)
    swaps: tuple[tuple[Term, Term, str], ...] = ()
    negation_flip: bool = False  # the clause negates what the point asserts, or the reverse

    @property
    def why(self) -> str | None:
        """What reversed the point, strongest evidence first: a value (True/False, on/off) or a
        number bound to the wrong name, two named things exchanged (roles), an opposite word
        (antonym), or a negation."""
        if not self.reversed:
            return None
        kinds = {how for _, _, how in self.swaps}
        return next((kind for kind in WHY_ORDER if kind in kinds), "negation")

    @property
    def aligned(self) -> int:
        return self.supported + self.opposed

    @property
    def reversed(self) -> bool:
        """Any flip reverses the meaning, except an even number that includes the subject: a mirror
        image ("train() enables dropout" for "eval() disables dropout"). Two flips without the
        subject are two mistakes ("train() disables dropout and uses running statistics")."""
        return self.flips > 0 and not (self.flips % 2 == 0 and (self.subject_mirrored or self.negated_role)) and not self.mirrored_whole

    @property
    def mirrored_whole(self) -> bool:
        """The subject swapped and every other part of the predicate turned over with it, each on its
        own: "model.eval() disables dropout and uses running stats" for "model.train() enables dropout
        and BatchNorm batch statistics" (eval for train, disables for enables, running for batch). A
        conjunction flips each of its parts, so parity does not apply; only named things swapped
        (roles) and one negation count, never an antonym or a number."""
        roles = [how for _, _, how in self.swaps]
        return self.subject_mirrored and self.negation_flip and self.flips >= 3 and all(how == "roles" for how in roles)

    @property
    def negated_role(self) -> bool:
        """One role swapped inside the reach of a negation that the point does not have: the mirror
        image said through its counterpart ("dropout is off at val time" for "dropout active only in
        training"). A negation elsewhere in the clause is a second mistake ("train() disables dropout
        and BatchNorm uses running statistics")."""
        if not self.negation_flip or len(self.swaps) != 1:
            return False
        point_term, clause_term, how = self.swaps[0]
        return how == "roles" and clause_term.negated and not point_term.negated

    @property
    def contradicts(self) -> bool:
        """Reversed, on enough of the point; a value bound to the point's own name with another
        value ("deterministic to False") is enough on its own."""
        if any(c.claimed is not None for _, c, _ in self.swaps):  # "128*4*4 = 512": a wrong result is wrong anywhere
            return self.can_contradict
        values = any(how == "value" or (how == "number" and p.bound_to and not unit_scale(p.bound_to)) for p, _, how in self.swaps)
        lined_up = self.aligned >= 2 and (values or self.aligned >= CONTRADICTION_SHARE * self.total)
        return self.can_contradict and self.reversed and lined_up

    numbers: int = 0  # the point's numbers
    numbers_aligned: int = 0  # ... that the clause states

    @property
    def coverage(self) -> float:
        """Share of the point the clause states, a number counting twice a word (a numeric point
        claims its numbers: "the cross-entropy is minus the log of 0.1, about 2.30" states
        "expected loss ln(10) = 2.303"); a reversed clause states none of it."""
        if self.reversed or not self.total:
            return 0.0
        words = self.total - self.numbers
        share = (self.aligned - self.numbers_aligned + 2 * self.numbers_aligned) / (words + 2 * self.numbers)
        # A point that states a number claims it: its words alone are never the whole point.
        return min(share, NUMBERLESS) if self.numbers and not self.numbers_aligned else share


def same_word(a: str, b: str, lexicon: Lexicon) -> bool:
    """Equal, or one plain word mistyped; a lexicon name only ever matches itself."""
    if a == b:
        return True
    if a in lexicon.names or b in lexicon.names or min(len(a), len(b)) < TYPO_MIN_LENGTH:
        return False
    return fuzz.ratio(a, b) >= TYPO_MATCH


def _same_number(a: Term, b: Term) -> bool:
    """Equal within the written precision ("2.30" is ln 10); "10%" and "0.1" are one number, "10" and "0.1" are not."""
    if a.boolean != b.boolean:
        return False
    if same_value(a.value, a.tolerance, b.value, b.tolerance):
        return True
    if a.percent and same_value(a.value / 100, a.tolerance / 100, b.value, b.tolerance):
        return True
    return b.percent and same_value(a.value, a.tolerance, b.value / 100, b.tolerance / 100)


def _number_occurrences(term: Term, point: Clause, clause: Clause) -> tuple[list[Term], list[Term]]:
    """Exact: the same number, bound to the point's name or another word of the point ("10k images
    of the test set" for "10,000 test images"). Opposed: the point's name carries another number of
    the same kind ("momentum 5e-4" where the point says "momentum 0.9"). Else exact: the same number
    anywhere, unless bound to a name the point gives another number ("gamma=10" for "gamma=0.1").
    Numbers that moved with a swapped name ("the std is (0.4914, ...)") line up, so the clause is
    read as the swap it is."""
    # A call's argument ("MaxPool2d(2)") is not answered by a count of what it names ("two maxpools").
    numbers = [t for t in clause.terms if t.value is not None and t.boolean == term.boolean and t.percent == term.percent]
    numbers = [t for t in numbers if term.boolean or t.bound_to != term.bound_to or not (term.attached and _count(t, clause))]
    # A percent and its fraction are one number ("0.489" for "48.9 percent"); only the same kind can conflict.
    fractions = [t for t in clause.terms if t.value is not None and t.boolean == term.boolean and t.percent != term.percent]
    same = [t for t in numbers + fractions if _same_number(term, t) and _fraction_of(term, t)] + _sizes(term, clause)
    miscalculated = [t for t in same if t.claimed is not None]  # "128*4*4 = 512" says the size is 512
    if miscalculated:
        return [], miscalculated
    conflicting = {t.bound_to for t in point.terms if t.value is not None and not _same_number(t, term)}
    words = {t.key for t in point.terms} - conflicting
    # A number named as the alternative ("18 instead of 25 weights") is not a value given for the name.
    named = [
        t
        for t in numbers
        if (t.bound_to == term.bound_to or _same_phrase(term, point, t, clause)) and not _same_number(term, t) and not t.contrasted
    ]
    own = [t for t in same if t.bound_to == term.bound_to]
    # The point's name carrying another value outweighs the point's number found on another of its
    # words: "1 conv layer plus 8 linear layers" gives conv 1 where the point has "8 conv layers".
    # Not in a derivation ("60k images / 10 classes = 6k per class"): there the other value is a step.
    derived = re.search(r"[=/]", clause.text) is not None
    if named and not own and term.bound_to is not None and not derived:
        return [], named
    named_same = own or [t for t in same if t.bound_to in words]
    if named_same or term.bound_to is None:
        return named_same or same, []
    if named:
        return [], named
    return [t for t in same if t.bound_to not in conflicting], []


def _count(number: Term, clause: Clause) -> bool:
    """A number right before the name it counts ("two maxpools")."""
    following = clause.terms[number.index + 1 : number.index + 2]
    return not number.attached and bool(following) and following[0].key == number.bound_to and following[0].position == number.position + 1


def _phrase(number: Term, clause: Clause) -> set[str]:
    """The names right around a number: the word before it and the two after ("test 5,000 images")."""
    near = {number.index - 1, number.index + 1, number.index + 2}
    return {t.key for t in clause.terms if t.value is None and t.index in near and abs(t.position - number.position) <= 2}


def _same_phrase(ours: Term, point: Clause, theirs: Term, clause: Clause) -> bool:
    """Two numbers for one noun phrase said in another order: "test 5,000 images" gives the number of
    "10,000 test images" (each number's name is in the other's phrase)."""
    if ours.bound_to is None or theirs.bound_to is None:
        return False
    return ours.bound_to in _phrase(theirs, clause) and theirs.bound_to in _phrase(ours, point)


def _fraction_of(a: Term, b: Term) -> bool:
    """Numbers of one kind, or a percent against the fraction it stands for ("10.5 percent" and
    0.105), not against the bare number it is written with ("10.5")."""
    if a.percent == b.percent:
        return True
    percent, plain = (a, b) if a.percent else (b, a)
    return abs(plain.value) <= 1 and same_value(percent.value / 100, percent.tolerance / 100, plain.value, plain.tolerance)


def _sizes(term: Term, clause: Clause) -> list[Term]:
    """A square size states its side: "starts at 32x32" says 32."""
    return [t for t in clause.terms if re.fullmatch(rf"{term.value:g}x{term.value:g}", t.key)] if term.value == int(term.value) else []


def _neighbour(clause: Clause, term: Term) -> str | None:
    """The word a degree word qualifies: the next term, else the one before, across a linking verb
    ("the weights become larger" qualifies the weights)."""
    following = clause.terms[term.index + 1 : term.index + 2]
    if following:
        return following[0].key
    before = [t for t in clause.terms[: term.index] if t.key not in LINKING_VERBS]
    return before[-1].key if before else None


def _attributive(clause: Clause, term: Term) -> bool:
    """A degree word before the word it qualifies names a kind ("low LR fine-tunes"); after it, it
    says what happens to it ("the LR goes up"): one does not reverse the other."""
    return term.index + 1 < len(clause.terms)


def _chosen_against(term: Term, occurrence: Term) -> bool:
    """The point denies the word; the learner named it as what they chose against."""
    return term.negated and not term.contrasted and occurrence.passed_over and not occurrence.negated


def occurrences(term: Term, point: Clause, clause: Clause, lexicon: Lexicon) -> tuple[list[Term], list[Term]]:
    """The clause's terms that say this term (exact) and that say its opposite (opposed)."""
    if term.value is not None:
        return _number_occurrences(term, point, clause)
    words = [t for t in clause.terms if t.value is None]
    side = _square_side(term.key)
    sides = [t for t in clause.terms if side is not None and t.value == side and not t.boolean and t.contrasted == term.contrasted]
    # A contrasted word ("instead of 25") matches only a contrasted one ("versus 25").
    # A word the point denies ("avoids catastrophic forgetting") is said by one the learner chose against
    # ("nudged gradually rather than catastrophically forgotten").
    said = [t for t in words if same_word(term.key, t.key, lexicon)]
    exact = [t for t in said if t.contrasted == term.contrasted or _chosen_against(term, t)] + sides
    if _SIZE.fullmatch(term.key) and not exact:  # "a 14x14 heatmap" where the point has a "7x7 heatmap"
        around = _around(point, term)
        sizes = [t for t in words if _SIZE.fullmatch(t.key) and t.key != term.key and not t.contrasted]
        return [], [t for t in sizes if any(same_word(a, b, lexicon) for a in around for b in _around(clause, t))]
    # A word inside an identifier names a thing: it can stand for a named counterpart
    # (RandomVerticalFlip for RandomHorizontalFlip) but not for an opposite (StepLR's "step" is no
    # claim about steps against epochs).
    named = lexicon.counterparts.get(term.key, ())
    opposed = [t for t in words if lexicon.opposite(term.key, t.key) and (t.key in named or not (t.ident or term.ident))]
    # A counterpart inside a participle phrase describes the noun ("the running mean collected in
    # training"), it does not stand in the point's place ("inference uses running statistics").
    opposed = [t for t in opposed if not (t.modifier and t.key in named)]
    if term.key in lexicon.degree:
        # A degree qualified by its opposite is a noun ("much lower maximum learning rates": a maximum,
        # lowered); the point's "higher maximum" is answered by "lower", not by "maximum".
        qualified = [t for t in exact if t.index > 0 and _qualifies(clause.terms[t.index - 1], t, lexicon)]
        exact = [t for t in exact if t not in qualified]
        kind = _attributive(point, term)
        qualifiers = {t.index - 1: t for t in qualified}
        opposed = [
            t
            for t in opposed
            if _neighbour(clause, qualifiers.get(t.index, t)) == _neighbour(point, term) and _attributive(clause, t) == kind
        ]
        # A predicate's degree is answered by a predicate's degree: in "very large batches reach sharp minima that
        # generalise less", "less" answers "flat minima generalise better"; "large" names a kind of batch.
        if opposed and all(_attributive(clause, t) != kind and _neighbour(clause, t) != _neighbour(point, term) for t in exact):
            exact = []
    return exact, opposed


def _qualifies(before: Term, term: Term, lexicon: Lexicon) -> bool:
    """The word right before a degree word, its opposite, qualifies it ("lower maximum")."""
    return before.position == term.position - 1 and lexicon.opposite(term.key, before.key)


def _around(clause: Clause, term: Term) -> list[str]:
    """The words right before and after a term: what a size is the size of."""
    return [t.key for t in clause.terms[max(0, term.index - 1) : term.index + 2] if t.index != term.index and t.value is None]


def _nearest(candidates: list[Term], anchor: float | None) -> Term:
    return candidates[0] if anchor is None else min(candidates, key=lambda t: abs(t.index - anchor))


def _choose_all(point: Clause, clause: Clause, lexicon: Lexicon) -> dict[int, tuple[Term, bool]]:
    """For each of the point's terms, the clause term that answers it and whether it is an
    opposite. Exact words come first, preferring the same polarity; a word said twice is taken
    where the other terms were found (so two negations of one sentence are not mixed up); an
    opposite is taken only from words no exact match used, preferring the other polarity
    ("not disabled" for "enabled")."""
    found = {term.index: occurrences(term, point, clause, lexicon) for term in point.terms}
    chosen: dict[int, tuple[Term, bool]] = {}
    pending = []
    for term in point.terms:
        exact = found[term.index][0]
        preferred = [t for t in exact if t.negated == term.negated] or exact
        if len(preferred) == 1:
            chosen[term.index] = (preferred[0], False)
        elif preferred:
            pending.append((term, preferred))
    for term, preferred in pending:
        anchor = sum(t.index for t, _ in chosen.values()) / len(chosen) if chosen else None
        chosen[term.index] = (_nearest(preferred, anchor), False)
    used = {t.index for t, _ in chosen.values()}
    # A point that names both counterparts ("split the training set into train and validation")
    # is not swapped by a clause that says one of them twice: the word is the point's own.
    stated = {term.key for term in point.terms if term.index in chosen}
    for term in point.terms:
        opposed = [t for t in found[term.index][1] if t.index not in used and t.key not in stated]
        if term.index in chosen or not opposed:
            continue
        preferred = [t for t in opposed if t.negated != term.negated] or opposed
        chosen[term.index] = (preferred[0], True)
        used.add(preferred[0].index)
    return chosen


def align(point: Clause, clause: Clause, lexicon: Lexicon) -> Alignment:
    """Negation is read per clause: a point and a clause that both negate agree ("no graph is
    stored" and "the graph is not stored"). An opposite under a negation cancels it
    ("does not use batch statistics" for "uses running statistics")."""
    chosen = _choose_all(point, clause, lexicon)
    terms = {t.index: t for t in point.terms}
    point_heads, clause_heads = _heads(point.terms), _heads(clause.terms)
    consumed: set[int] = set()
    # Another value denied ("doesn't expect [0, 1]" where the point has "expects 0-255") neither states
    # the point's value nor reverses it: the denial and the number leave the reading.
    for index, (occurrence, is_opposite) in list(chosen.items()):
        if is_opposite and occurrence.value is not None and occurrence.negated and not terms[index].negated:
            del chosen[index]
            consumed.update(occurrence.negated_by)
    opposed_terms, swaps = [], []
    for index, (occurrence, is_opposite) in chosen.items():
        if not is_opposite:
            continue
        # A true opposite cancels a negation anywhere in its reach ("doesn't load anything in
        # parallel" is "loads in the main process"); one of several named things only where the
        # negation governs it ("does not use batch statistics", not "do not apply softmax" for sigmoid).
        binary = occurrence.key in lexicon.opposites.get(terms[index].key, ())
        governed = _governs(occurrence, clause_heads) or _governs(terms[index], point_heads)
        if (occurrence.negated or occurrence.contrasted) != terms[index].negated and occurrence.value is None and (binary or governed):
            consumed.update(occurrence.negated_by, terms[index].negated_by)
        else:
            opposed_terms.append(terms[index].key)
            swaps.append((terms[index], occurrence, _how(terms[index], occurrence, lexicon)))
    # A key point's negation counts where the word it governs (the first in its scope) lines up: "does
    # not change accuracy" is not reversed by a clause that names accuracy but not change.
    clause_markers = _governing(clause, {occurrence.index for occurrence, _ in chosen.values()})
    # A word both sides negate is negated alike, however far each negation reaches ("doesn't give
    # reliable stats" for "have no reliable batch statistics").
    clause_markers |= {m for i, (o, opposite) in chosen.items() if not opposite and o.negated and terms[i].negated for m in o.negated_by}
    clause_markers -= consumed
    clause_markers -= _before_the_reason(clause, clause_markers, chosen)
    taken_away, agreeing = _privative(point, clause, chosen, clause_markers, lexicon)
    clause_markers -= agreeing
    bearing = bool(clause_markers) or clause.counterfactual  # the clause's own polarity is in play
    point_markers = {m for i, t in terms.items() for m in t.negated_by if point_heads[m] in chosen or bearing}
    point_markers -= consumed
    # The point's denial is matched by what the learner chose against: the two agree.
    agreed = [terms[i] for i, (o, opposite) in chosen.items() if not opposite and _chosen_against(terms[i], o)]
    point_markers -= {m for t in agreed for m in t.negated_by}
    subject = next((t.index for t in point.terms if t.value is None and lexicon.has_opposite(t.key)), None)
    mirrored = subject in chosen and chosen[subject][1] and terms[subject].key in opposed_terms
    negation_flip = (len(clause_markers) + len(point_markers) + clause.counterfactual) % 2 == 1
    # Two negations that cancel in count but deny different things swap what is denied: "use dropout
    # and no BatchNorm" for "use BatchNorm and no dropout".
    exchanged = None if negation_flip else _denials_swapped(terms, chosen, (point_heads, point_markers), (clause_heads, clause_markers))
    if exchanged is not None:  # shown as the two things swapped: "you put BatchNorm where the point has dropout"
        negation_flip = True
        swaps.append((exchanged[0], exchanged[1], "roles"))
    return Alignment(
        total=len(point.terms),
        supported=sum(not is_opposite for _, is_opposite in chosen.values()) + taken_away,
        opposed=sum(is_opposite for _, is_opposite in chosen.values()),
        # One concept swapped in two places ("split the training set into train ..." read as
        # "split the test set into test ...") is one reversal, not a mirror image.
        flips=len(set(opposed_terms)) + negation_flip,
        subject_mirrored=bool(mirrored),
        opposed_terms=tuple(opposed_terms),
        can_contradict=not clause.hypothetical and _numbers_lined_up(point, chosen),
        span=_span(chosen),
        swaps=tuple(swaps),
        negation_flip=negation_flip,
        numbers=sum(_numeric(t) for t in point.terms),
        numbers_aligned=sum(_numeric(terms[i]) and not opposite for i, (_, opposite) in chosen.items()),
    )


_SIZE = re.compile(r"\d+(?:x\d+)+")


def _square_side(key: str) -> float | None:
    """A square size's side: "40x40" is stated by "40 per side"."""
    sides = key.split("x")
    return float(sides[0]) if _SIZE.fullmatch(key) and len(set(sides)) == 1 else None


def _numeric(term: Term) -> bool:
    """A number, or a size ("7x7", as "7 by 7" reads too): what a numeric point claims."""
    return term.value is not None or _SIZE.fullmatch(term.key) is not None


PRIVATIVE_REACH = 4  # the point's words after a privative verb that are its object ("removes the 1000-class ImageNet head")
COUNTERFACTUAL = re.compile(r"\bwould(?:n't)?\b", re.IGNORECASE)  # "without X, Y would happen"


def _privative(
    point: Clause, clause: Clause, chosen: dict[int, tuple[Term, bool]], clause_markers: set[int], lexicon: Lexicon
) -> tuple[int, set[int]]:
    """Polarity composes across a verb that takes its object away: "shuffling breaks correlations
    between batches" is stated by "there is no correlation between batches", and by the
    counterfactual "without shuffling the batches would be correlated". Where the clause negates
    the verb's object, or supposes its subject away and says what would follow, and does not say
    the verb, its negation is the verb's work: it agrees (the verb counts as stated) and flips
    nothing. A clause that negates the verb itself ("doesn't break correlations") or denies the
    subject as a fact ("there is no shuffling so the correlation stays") is read as before."""
    stated, agreeing = 0, set()
    counterfactual = COUNTERFACTUAL.search(clause.text) is not None
    for verb in point.terms:
        if verb.key not in lexicon.privative or verb.negated or verb.index in chosen:
            continue
        objects = point.terms[verb.index + 1 : verb.index + 1 + PRIVATIVE_REACH]
        subjects = point.terms[: verb.index] if counterfactual else ()
        # The verb does the work of one negation: with the object and the subject both negated
        # ("without shuffling they would not be correlated") the other still reverses the point.
        for words in (objects, subjects):
            markers = sorted({m for o in words if o.index in chosen and not chosen[o.index][1] for m in chosen[o.index][0].negated_by})
            found = [m for m in markers if m in clause_markers and m not in agreeing]
            if found:
                stated += 1
                agreeing.add(found[0])
                break
    return stated, agreeing


def _before_the_reason(clause: Clause, clause_markers: set[int], chosen: dict[int, tuple[Term, bool]]) -> set[int]:
    """ "the layer will not update because optimizer.step() only iterates over the parameters passed
    to it" states "optimizer.step only updates the parameters it was given": a negation before
    "because" is the consequence; where most of the point lines up in the reason after it, the
    point is the reason, and that negation does not bear on it. Not where an opposite lines up: then
    the negation is part of how the clause reads it (a swap it may mirror)."""
    if clause.reason is None or any(opposite for _, opposite in chosen.values()):
        return set()
    lined_up = [occurrence for occurrence, _ in chosen.values()]
    after = sum(t.position > clause.reason for t in lined_up)
    indices = {t.index for t in lined_up}
    dropped = set()
    for marker in clause_markers:
        reach = [t for t in clause.terms if marker in t.negated_by]
        if not reach or any(t.position > clause.reason for t in reach):
            continue
        # Most of the point is in the reason, or the negation denies a word the point lacks ("don't
        # use a batch size of 1 because it is slow and noisy") and the point goes on in the reason.
        if 2 * after > len(lined_up) or (after and reach[0].index not in indices):
            dropped.add(marker)
    return dropped


def _denials_swapped(
    terms: dict[int, Term],
    chosen: dict[int, tuple[Term, bool]],
    point: tuple[dict[int, int], set[int]],
    clause: tuple[dict[int, int], set[int]],
) -> tuple[Term, Term] | None:
    """The point denies one of its words the clause asserts, and the clause denies another the point
    asserts: the word each negation governs (the first of its reach), not one further in its reach.
    Each side is (each negation's head, the negations that bear on the point). Returns the point's
    denied word and the clause's denied word, which stands where it should be."""
    (point_heads, point_markers), (clause_heads, clause_markers) = point, clause
    said = [(terms[i], o) for i, (o, opposite) in chosen.items() if not opposite and o.value is None]
    point_only = [t for t, o in said if t.negated and not o.negated and any(point_heads.get(m) == t.index for m in point_markers)]
    clause_only = [o for t, o in said if o.negated and not t.negated and any(clause_heads.get(m) == o.index for m in clause_markers)]
    return (point_only[0], clause_only[0]) if point_only and clause_only else None


def _heads(terms: tuple[Term, ...]) -> dict[int, int]:
    """Each negation marker's head: the index of the first term in its scope."""
    heads: dict[int, int] = {}
    for term in terms:
        for marker in term.negated_by:
            heads.setdefault(marker, term.index)
    return heads


def _governing(clause: Clause, lined_up: set[int]) -> set[int]:
    """The clause's negations that bear on the point: the word each governs lines up, or most of
    its reach does ("isn't a full pass over the data"), not one noun inside a phrase it negates
    ("avoid expensive CPU ops" says nothing against "make CPU transforms cheaper")."""
    scopes: dict[int, list[int]] = {}
    for term in clause.terms:
        for marker in term.negated_by:
            scopes.setdefault(marker, []).append(term.index)
    governing = {m for m, scope in scopes.items() if scope[0] in lined_up or 2 * len(lined_up.intersection(scope)) >= len(scope)}
    # A negation whose reach holds another one's head negates that negation ("you don't see upside-down
    # trucks" for "objects appear upright"): the two compose.
    return governing | {m for m, scope in scopes.items() if any(scopes[g][0] in scope[1:] for g in governing if g != m)}


def _governs(term: Term, heads: dict[int, int]) -> bool:
    """The term is the first word of one of its negations' reach (or a contrast names it)."""
    return term.contrasted or any(heads.get(marker) == term.index for marker in term.negated_by)


def _how(point_term: Term, clause_term: Term, lexicon: Lexicon) -> str:
    if point_term.value is not None or _SIZE.fullmatch(point_term.key):
        return "value" if point_term.boolean or clause_term.boolean else "number"
    return "roles" if clause_term.key in lexicon.counterparts.get(point_term.key, ()) else "antonym"


def _span(chosen: dict[int, tuple[Term, bool]]) -> int | None:
    indices = [occurrence.index for occurrence, _ in chosen.values()]
    return max(indices) - min(indices) + 1 if indices else None


def _numbers_lined_up(point: Clause, chosen: dict[int, tuple[Term, bool]]) -> bool:
    """A point that states a number is about that number: it is contradicted only through it, or
    through the name it is bound to ("raw pixels are float32 0-1" for "uint8 0-255")."""
    numbers = [t for t in point.terms if t.value is not None]
    names = {t.bound_to for t in numbers}
    swapped_name = any(is_opposite and t.key in names for t in point.terms if t.index in chosen for _, is_opposite in [chosen[t.index]])
    return not numbers or swapped_name or any(t.index in chosen for t in numbers)


def lined_up(point: Clause, clause: Clause, lexicon: Lexicon) -> frozenset[int]:
    """The point's terms (by index) the clause answers, in either polarity."""
    return frozenset(_choose_all(point, clause, lexicon))


def states(clause: Clause, key: str, lexicon: Lexicon) -> bool:
    """Whether the clause names this term itself (not its opposite)."""
    return any(same_word(key, t.key, lexicon) for t in clause.terms)
