"""From a learner's text to clauses of concepts: tokens, abbreviations, lexicon phrases, negation
scopes, numbers bound to the names they qualify, and sentences split between named counterparts."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

from study.grading.lexicon import Lexicon, stem
from study.grading.numbers import NumberSpan, number_spans, unit_scale
from study.vocabulary import ABBREVIATIONS, STOPWORDS

# Filler that carries no claim in a spoken answer. Negation words and comparatives are not here:
# the lexicon reads them first.
GRADING_STOPWORDS = (STOPWORDS - {"not", "no", "more", "less", "most", "over", "under", "per"}) | {
    "model", "pytorch", "py", "torch", "nn", "self", "every", "e", "g", "i", "ie", "eg", "get", "gets", "got", "make", "makes", "made",
    "really", "basically", "actually", "thing", "things", "like", "way", "some", "because", "since", "which", "while",
    "thus", "hence", "therefore", "just", "still", "already", "even", "whole", "here", "these", "those", "other", "own",
    "onto", "its", "itself", "called", "call", "calls", "let", "lets", "need", "needs", "needed", "want",
    "around", "roughly", "approximately", "approx", "nearly", "almost",  # numbers.py reads these as a tolerance
    "ca", "wo", "doe",  # what is left of "can't", "won't" and "does" once n't and the stemmer have had them
}  # fmt: skip
CONJUNCTIONS = frozenset({"and", "while", "whereas", "but", "so", "or"})
# Where a negation's reach ends: "don't update because step only updates its parameters".
SCOPE_BREAKS = CONJUNCTIONS | {"because", "since", "as", "which", "that", "when", "where", "if", "unless", "until", "then", "though"}
# Words a short negation reaches past: "does not currently implement" negates "implement".
TRANSPARENT = frozenset(
    {"always", "yet", "also", "currently", "necessarily", "really", "usually", "actually", "strictly", "directly"}
    | {"guarantee", "ensure", "mean"}  # "does not guarantee bitwise" negates "bitwise"
    | {"near", "close", "exactly", "quite", "around", "about", "even"}  # "shouldn't be near zero" negates "zero"
)
# A clause that supposes ("if you don't zero the gradients, ...") asserts nothing it negates.
# A check names what it looks for without asserting it ("check that grads aren't exploding").
CHECKS = frozenset({"check", "verify", "confirm"})
HYPOTHETICAL = frozenset({"if", "unless", "suppose", "forget", "forgetting", "forgot", "whether", "otherwise"}) | CHECKS
COPULAS = frozenset({"is", "are", "was", "were", "be", "been", "'s"})
MODALS = frozenset({"can", "could", "will", "would", "may", "might", "should", "must", "do", "does", "did"})
# "doesn't just follow the gradient, it adds momentum" says more than that, it denies nothing.
ADDITIVE = frozenset({"just", "only", "merely", "simply", "solely"})
SUBJECT_PRONOUNS = frozenset({"it", "they", "this", "we", "you", "he", "she", "which", "that"})
PHRASE_SCOPE = 3
DISJUNCTIONS = frozenset({"or", "nor"})
DISJUNCT_REACH = 2  # content words of the noun phrase after "or" that a negation before it still covers
# Prepositions that end like a gerund but go on to their object: "turned off during validation"
# negates "during validation", where "without zeroing" ends at its gerund.
ING_PREPOSITIONS = frozenset({"during", "including", "regarding", "concerning", "following", "according"})
# "doesn't load anything in parallel": a negation reaches the verb and what qualifies it. Reading a
# clause's negations by parity keeps a wide scope harmless ("does not overwrite gradients" flips once).
SHORT_SCOPE = 3  # content words a "no"/"without" negates: a noun phrase
BINDING_REACH = 2  # content words between a number and the name it qualifies
OPERATORS = frozenset({"plus", "times"})  # "F(x) * x" binds no number to "times"
BOOLEANS = (frozenset({"true", "on", "enabled"}), frozenset({"false", "off", "disabled"}))
COMPARATIVE_EQUALS = frozenset({"well", "good", "much", "fast", "quickly", "often", "high", "strong", "strongly"})
# Words that make a short fragment a statement rather than a list item: verbs of being, having and
# doing, and the prepositions that relate two things ("ReLU for non-linearity").
LINKS = frozenset({
    "is", "are", "was", "were", "be", "been", "being", "am", "has", "have", "had", "does", "do", "did", "can", "could", "will",
    "would", "should", "must", "may", "might", "gives", "give", "makes", "make", "means", "mean", "uses", "use", "used", "takes",
    "take", "keeps", "keep", "lets", "let", "gets", "get", "becomes", "become", "causes", "cause", "needs", "need", "for", "to",
    "into", "so", "because", "when", "than", "via", "then", "which", "that",
})  # fmt: skip
VERB_ENDINGS = ("s", "es", "ed", "ing")
COPULAS = frozenset({"is", "are", "was", "were"})  # "527K were trainable": the number is what the name after it counts
LIST_ITEM_WORDS = 3  # a fragment of at most this many content words, with no link, is a list item when its neighbour is one too

# Bullets start new lines, so a newline ends them; "128 * 4" is arithmetic, not a bullet.
_SENTENCE_BREAK = re.compile(r"[.!?;]+(?=\s|$)|\n+|\b(?:whereas|but|however|although)\b", re.IGNORECASE)
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z][a-z])|(?<=[A-Z])(?=[A-Z][a-z])")
_AUXILIARIES = "do|does|did|is|are|was|were|can|ca|could|would|should|has|have|had|must|need|wo"
_TOKEN = re.compile(
    r"(?P<dims>\d+(?:x\d+)+)\b"  # 32x32, 3x3: one word
    # a number; a unit after it is a word, a percent sign or word is part of it
    r"|(?P<number>(?:\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?(?:e[-+]?\d+)?)(?![\d.,]\d))(?P<percent>\s*(?:%|percent\b|per\s+cent\b))?"
    r"|(?P<symbol>[+*\u00d7\u00b7\u22c5])|(?P<nt>n't|nt)\b"
    # "dont", "doesnt", "isnt", "wont": learners drop the apostrophe; the auxiliary and its "nt" are read as "don't"
    rf"|(?P<word>\b(?:{_AUXILIARIES})(?=nt\b)|[a-z][a-z0-9]*?(?=n't\b)|[a-z][a-z0-9]*)"
    # "SimpleCNN: three blocks", "A - B": clause joints; "epoch - 1", "p - y", "F(x) - x" and
    # "(mean - x)" are arithmetic: a minus after a bracket or a one-letter name, or before one
    r"|(?P<comma>,|:(?=\s)|(?<!\))(?<!\b[b-hj-z])(?<!\b[a-z]')\s[-\u2013\u2014]+\s(?!\d|[b-hj-z]\b(?!'))|\u2014)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Token:
    """One unit after lexicon matching. `key` is a concept name, a stem, a number's text or a
    marker's kind; `start`/`end` index the analysed text so a clause can be shown as typed."""

    kind: str  # word, number, marker, stop, comma
    key: str
    start: int
    end: int
    surface: str = ""
    value: float | None = None
    percent: bool = False
    tolerance: float = 0.0  # a number's written precision (numbers.py)
    boolean: bool = False  # True/False, or on/off after a name
    claimed: float | None = None  # an expression the learner equates to another value (numbers.py)
    ident: bool = False  # part of a typed identifier (StepLR, step_size): it names the thing, it claims nothing
    attached: bool = False  # a number glued to the name before it: "max(1)", "step_size=10"
    positional: bool = False  # a call's argument after a comma ("Linear(in_features, 10)"): the name before it is another argument
    verb_degree: bool = False  # the "less" that "doesn't generalise as well" becomes: the degree of the verb before it


@dataclass(frozen=True)
class Term:
    """A content token of a clause with its negation scopes and, for a number, its name."""

    key: str
    index: int  # position among the clause's terms
    negated_by: tuple[int, ...] = ()  # the negation markers whose scope holds it (their offsets in the text)
    value: float | None = None
    percent: bool = False
    bound_to: str | None = None  # a number's nearest name ("momentum" in "momentum 0.9")
    position: int = 0  # token position in the clause: a number binds to a word right after it
    surface: str = ""  # as typed, for feedback ("zero" where the point has "reflect")
    tolerance: float = 0.0
    boolean: bool = False
    contrasted: bool = False  # under "instead of" / "rather than": named as the alternative, neither asserted nor denied
    claimed: float | None = None  # "128*4*4 = 512": the value the learner says this expression has
    ident: bool = False  # a word inside an identifier ("step" in StepLR): never read through an opposite
    attached: bool = False  # a number glued to the name before it ("max(1)"): bound to that name
    modifier: bool = False  # in a participle phrase qualifying a noun ("collected in training"): never a swapped role
    passed_over: bool = False  # under a substitution ("instead of", "rather than"): the thing the learner chose against
    positional: bool = False  # a call's argument after a comma: no name before it is its own

    @property
    def negated(self) -> bool:
        return len(self.negated_by) % 2 == 1


@dataclass(frozen=True)
class Clause:
    text: str  # the learner's words
    terms: tuple[Term, ...]
    sentence: int = 0  # clauses split from one sentence share this number
    hypothetical: bool = False  # "if ...", "forgetting ...": it supposes, so it cannot contradict
    listed: bool = False  # one short item of a list of terms ("BatchNorm, stabilises, training"): it states no claim
    # After a bare "Without this," the rest of the sentence says what would happen in its absence: its
    # polarity is the reverse of the claim ("Without this, TensorFlow reserves 100% of VRAM" = it stops that).
    counterfactual: bool = False
    reason: int | None = None  # token position of "because": what follows is the reason, a statement of its own


def _words(surface: str, start: int, lexicon: Lexicon) -> list[Token]:
    """A typed word split at camel-case joints (DataParallel -> data, parallel), lower-cased;
    a name the lexicon knows whole stays whole (ResNet50, BatchNorm2d, CrossEntropyLoss)."""
    base = re.sub(r"\d+d?$", "", surface.lower())
    known = (stem(base),) in lexicon.concepts or (stem(base),) in lexicon.rewrites
    cuts = [0, len(surface)] if known else [0, *(m.start() for m in _CAMEL.finditer(surface)), len(surface)]
    parts = [surface[a:b].lower() for a, b in zip(cuts, cuts[1:], strict=False)]
    # A name whose parts mean nothing to the lexicon stays whole, as learners type it in lower
    # case ("TensorFlow" is "tensorflow", not "tensor flow"); "DataParallel" splits at "parallel".
    if not any((stem(part),) in lexicon.concepts or part in ABBREVIATIONS for part in parts):
        cuts = [0, len(surface)]
    return [Token("word", surface[a:b].lower(), start + a, start + b, surface[a:b].lower()) for a, b in zip(cuts, cuts[1:], strict=False)]


def _number_token(span: NumberSpan, text: str, offset: int) -> Token:
    """One token for a whole expression ("128 times 16" is 2048); a size ("5 by 5") is the word "5x5"."""
    start, end = span.start + offset, span.end + offset
    if span.size:
        return Token("word", span.size, start, end, span.size)
    surface = text[span.start : span.end]
    return Token("number", f"{span.value:g}", start, end, surface, span.value, span.percent, span.tolerance, claimed=span.claimed)


def _with_units(tokens: list[Token]) -> list[Token]:
    """A size unit after a number scales it ("0.094 GB" is 94 MB); the unit word stays a term."""
    out = list(tokens)
    for index in range(len(out) - 1):
        scale = unit_scale(out[index + 1].key) if out[index].kind == "number" and out[index + 1].kind == "word" else None
        if scale is not None:
            number = out[index]
            out[index] = replace(number, value=number.value * scale, tolerance=number.tolerance * scale, key=f"{number.value * scale:g}")
    return out


def _raw_tokens(text: str, offset: int, lexicon: Lexicon) -> list[Token]:
    text = text.replace("\u2019", "'")
    spans = number_spans(text)
    tokens: list[Token] = []
    covered_until, next_span = -1, 0
    for match in _TOKEN.finditer(text):
        if match["dims"]:  # "7x7" is a size word, not the number 7
            while next_span < len(spans) and spans[next_span].start < match.end():
                next_span += 1
        while next_span < len(spans) and spans[next_span].start <= match.start():
            span = spans[next_span]
            next_span += 1
            if span.end > match.start():  # the expression starts here: one token for all of it
                tokens.append(_number_token(span, text, offset))
                covered_until = span.end
        if match.start() < covered_until:
            continue
        start, end = match.start() + offset, match.end() + offset
        if match["dims"]:
            tokens.append(Token("word", match["dims"].lower(), start, end, match["dims"].lower()))
        elif match["number"]:
            value = float(match["number"].replace(",", ""))
            tokens.append(Token("number", f"{value:g}", start, end, match["number"], value, bool(match["percent"])))
        elif match["symbol"]:  # F(x) + x against F(x) * x
            word = "plus" if match["symbol"] == "+" else "times"
            tokens.append(Token("word", word, start, end, word))
        elif match["nt"]:
            tokens.append(Token("word", "not", start, end, "not"))
        elif match["word"]:
            tokens.extend(_words(match["word"], start, lexicon))
        else:
            tokens.append(Token("comma", ",", start, end))
    return _shared_percent(_with_units(tokens), text, offset)


# What joins the two ends of a range: "10.5 to 49%", "10.5-49%", "10.5 -> 49%".
_RANGE_LINK = re.compile(r"\s*(?:to|-|\u2013|->|\u2192)\s*", re.IGNORECASE)


def _shared_percent(tokens: list[Token], text: str, offset: int) -> list[Token]:
    """A percent sign at the end of a range holds for both ends: "from 10.5 to 49 percent", "10.5-49%"."""
    out = list(tokens)
    for index in range(len(out) - 1):
        number, end = out[index], out[index + 1]
        if number.kind != "number" or number.percent or number.value is None or number.value > 100:
            continue
        end = out[index + 2] if end.surface.lower() == "to" and index + 2 < len(out) else end
        between = text[number.end - offset : end.start - offset]
        if end.kind == "number" and end.percent and _RANGE_LINK.fullmatch(between):
            out[index] = replace(number, percent=True)
    return out


def _expand_abbreviations(tokens: list[Token], lexicon: Lexicon) -> list[Token]:
    out = []
    for token in tokens:
        protected = (stem(token.key),) in lexicon.rewrites or (stem(token.key),) in lexicon.concepts
        if token.kind == "word" and token.key in ABBREVIATIONS and not protected:
            out.extend(Token("word", stem(word), token.start, token.end, word) for word in ABBREVIATIONS[token.key].split())
        else:
            out.append(token if token.kind != "word" else Token("word", stem(token.key), token.start, token.end, token.surface))
    return out


def _match(tokens: list[Token], position: int, table: dict, longest: int) -> tuple[int, object] | None:
    """The longest phrase of `table` starting at `position` (no phrase spans a comma)."""
    for length in range(min(longest, len(tokens) - position), 0, -1):
        window = tokens[position : position + length]
        if any(t.kind == "comma" for t in window):
            continue
        key = tuple(t.key for t in window)
        if key in table:
            return length, table[key]
    return None


def _apply_rewrites(tokens: list[Token], lexicon: Lexicon) -> list[Token]:
    out, position = [], 0
    while position < len(tokens):
        found = _match(tokens, position, lexicon.rewrites, lexicon.longest)
        if found is None:
            out.append(tokens[position])
            position += 1
            continue
        length, replacement = found
        start, end = tokens[position].start, tokens[position + length - 1].end
        surface = " ".join(t.surface for t in tokens[position : position + length])
        out.extend(Token("word", word, start, end, surface) for word in replacement)
        position += length
    return out


def _classify(tokens: list[Token], lexicon: Lexicon) -> list[Token]:
    """Markers and concepts (longest phrase first), then numbers, stopwords and plain stems."""
    out, position = [], 0
    while position < len(tokens):
        token = tokens[position]
        found = _match(tokens, position, lexicon.vocabulary, lexicon.longest)
        if found is not None:
            length, (kind, name) = found
            surface = " ".join(t.surface for t in tokens[position : position + length])
            out.append(Token(kind, name, token.start, tokens[position + length - 1].end, surface))
            position += length
            continue
        following = tokens[position + 1] if position + 1 < len(tokens) else None
        if token.kind == "word" and _is_boolean(token, out[-1] if out else None, following):
            truth = token.surface in BOOLEANS[0]
            token = replace(token, kind="number", key=str(truth).lower(), value=float(truth), boolean=True)
        elif token.kind == "word" and (token.surface in GRADING_STOPWORDS or token.key in GRADING_STOPWORDS):
            token = Token("stop", token.surface, token.start, token.end, token.surface)
        out.append(token)
        position += 1
    return out


def _is_boolean(token: Token, before: Token | None, after: Token | None) -> bool:
    """True/False always; on/off only as a value after a name at the end of a phrase ("benchmark
    on", "set shuffle off,"), never "on the GPU"."""
    if token.surface in ("true", "false"):
        return True
    if token.surface not in ("on", "off") or before is None or before.kind not in ("word", "number"):
        return False
    return after is None or after.kind == "comma" or after.surface in CONJUNCTIONS


def _comparative_negation(tokens: list[Token]) -> list[Token]:
    """ "doesn't generalise as well" is "generalises worse": the negation becomes a lower degree
    of the word it governs, so it agrees with "can hurt generalisation" (polarity composes)."""
    out = list(tokens)
    for index, token in enumerate(tokens):
        if token.kind != "marker" or token.key != "short":
            continue
        words = [i for i in range(index + 1, min(len(tokens), index + 4)) if tokens[i].kind == "word"]
        if not words or words[0] + 2 >= len(tokens):
            continue
        verb = words[0]
        if tokens[verb + 1].surface == "as" and tokens[verb + 2].surface in COMPARATIVE_EQUALS:
            out[index] = replace(token, kind="stop")
            out[verb + 1] = replace(tokens[verb + 1], kind="word", key="down", surface="less", verb_degree=True)
            out[verb + 2] = replace(tokens[verb + 2], kind="stop")
    return out


def tokenize(text: str, lexicon: Lexicon, offset: int = 0) -> list[Token]:
    tokens = _apply_rewrites(_expand_abbreviations(_raw_tokens(text, offset, lexicon), lexicon), lexicon)
    return _comparative_negation(_in_identifiers(_classify(tokens, lexicon), text, offset))


_IDENTIFIER = re.compile(r"[A-Za-z0-9_]+")
# Inside an open call, after a comma: "Linear(in_features, " before the 10.
_POSITIONAL = re.compile(r"[A-Za-z_]\w*\([^()]*,\s*$")


def _in_identifiers(tokens: list[Token], text: str, offset: int) -> list[Token]:
    """Mark words that are only part of a typed identifier ("step" in StepLR or step_size: the
    name of a thing, not a claim about steps), and numbers glued to the name before them by a
    bracket or an equals sign ("outputs.max(1)", "step_size=10"). A lexicon phrase that covers the
    whole identifier ("zero_grad") is not a part."""
    out = []
    for token in tokens:
        start, end = token.start - offset, token.end - offset
        if token.kind == "number":
            before = text[max(0, start - 64) : start]
            glued = re.search(r"[A-Za-z0-9_\]]\s*[(=]\s*$", before) is not None
            positional = _POSITIONAL.search(before) is not None
            out.append(replace(token, attached=glued, positional=positional) if glued or positional else token)
            continue
        run = next((m for m in _IDENTIFIER.finditer(text, max(0, start - 64)) if m.start() <= start < m.end()), None)
        part = run is not None and (run.start() < start or run.end() > end) and not text[run.start() : run.end()].isdigit()
        out.append(replace(token, ident=True) if token.kind == "word" and part else token)
    return out


def _scopes(tokens: list[Token]) -> dict[int, list[int]]:
    """Token indices each negation marker covers: the next content word (short), the next noun
    phrase up to a comma (phrase), or the whole clause (clause)."""
    content = [i for i, t in enumerate(tokens) if t.kind in ("word", "number")]
    scopes: dict[int, list[int]] = {}
    for index, token in enumerate(tokens):
        if token.kind != "marker":
            continue
        if token.key == "clause":
            scopes[index] = content
            continue
        # "is not a full pass over the data": after a copula the negation governs the predicate phrase.
        copula = index > 0 and tokens[index - 1].surface in COPULAS
        if token.key == "short" and index + 1 < len(tokens) and tokens[index + 1].surface in ADDITIVE:
            scopes[index] = []  # "not just X" is "X and more"
            continue
        reach = {"short": SHORT_SCOPE if not copula else PHRASE_SCOPE, "phrase": PHRASE_SCOPE, "contrast": len(tokens)}[token.key]
        covered = []
        for later in range(index + 1, len(tokens)):
            # "don't cost any extra CPU or memory" denies both: a negation distributes over "or" ("not (A or B)").
            if tokens[later].surface in DISJUNCTIONS and covered and token.key != "contrast" and later + 1 < len(tokens):
                reach = len(covered) + DISJUNCT_REACH
                continue
            if tokens[later].kind == "comma" or tokens[later].surface in SCOPE_BREAKS or len(covered) == reach:
                break
            if token.key == "contrast" and covered and tokens[later].surface in SUBJECT_PRONOUNS:
                break
            if tokens[later].kind in ("word", "number") and not (token.key == "short" and tokens[later].surface in TRANSPARENT):
                covered.append(later)
                gerund = tokens[later].surface.endswith("ing") and tokens[later].surface not in ING_PREPOSITIONS
                if gerund and token.key == "phrase":  # "without zeroing, old gradients add up": the gerund is the phrase
                    break
        if _denies_necessity(tokens, index):
            covered = _subject_before(tokens, index) or covered
        scopes[index] = covered
    return scopes


# Passive or adjectival only: "doesn't need gradients" denies its object, "isn't needed" its subject.
NECESSITY = frozenset({"needed", "required", "necessary", "essential"})


def _denies_necessity(tokens: list[Token], marker: int) -> bool:
    """ "human review isn't needed", "a softmax is not required before the loss": the negated
    predicate is only that something is needed, so what it denies is the thing before it."""
    following = next((t for t in tokens[marker + 1 :] if t.kind in ("word", "number", "stop", "comma")), None)
    return following is not None and following.surface in NECESSITY


def _subject_before(tokens: list[Token], marker: int) -> list[int]:
    """The content words between the clause's last joint and the negation: its subject."""
    covered = []
    for earlier in range(marker - 1, -1, -1):
        if tokens[earlier].kind == "comma" or tokens[earlier].surface in SCOPE_BREAKS:
            break
        if tokens[earlier].kind in ("word", "number"):
            covered.append(earlier)
    return sorted(covered)


def _in_name_value_list(number: Term, next_name: Term, terms: list[Term]) -> bool:
    """A number between two names that each sit right before a number of their own ("factor 0.5
    patience 3"): a list of name-value pairs, so the number is the value of the name before it."""
    named_before = any(t.value is None and t.index == number.index - 1 and t.position == number.position - 1 for t in terms)
    valued_after = any(t.value is not None and t.index == next_name.index + 1 and t.position == next_name.position + 1 for t in terms)
    return named_before and valued_after


def _bind_numbers(terms: list[Term], copulas: frozenset[int] = frozenset(), degree: frozenset[str] = frozenset()) -> list[Term]:
    """Each number takes the word right after it ("4 channels", "10 epochs", or across a copula: "527K
    were trainable"), else the nearest preceding name within reach ("momentum 0.9", "step_size=10"),
    else the nearest following. A number right after another number belongs to the same name ("mean
    (0.49, 0.48, 0.45)"), and a True/False/on/off is the value of the name before it ("deterministic=True
    and benchmark off"). `copulas` holds the token positions of is/are/was/were; `degree` the lexicon's
    degree concepts, which compare a number after a copula ("1e-2 is lower") rather than name what it counts."""
    bound: list[Term] = []
    names = [t for t in terms if t.value is None and t.key not in OPERATORS]
    for term in terms:
        if term.value is None:
            bound.append(term)
            continue
        if term.positional:  # "Linear(in_features, 10)": 10 is no value of in_features
            bound.append(replace(term, bound_to=None))
            continue
        previous = bound[-1] if bound else None
        gap = 2 if term.position + 1 in copulas else 1
        adjacent = [t for t in names if t.index == term.index + 1 and t.position == term.position + gap and not term.boolean]
        adjacent = [t for t in adjacent if gap == 1 or t.key not in degree]
        before = [t for t in names if term.index - BINDING_REACH <= t.index < term.index]
        if adjacent and _in_name_value_list(term, adjacent[0], terms):
            adjacent = []  # "factor 0.5 patience 3": each number follows its own name
        if term.attached and before:  # "outputs.max(1) gives": the argument of max, not of "gives"
            bound.append(replace(term, bound_to=before[-1].key))
            continue
        following = previous is not None and previous.value is not None and term.position - previous.position <= 2
        if following and not term.boolean and not adjacent:  # "(0.49, 0.48, 0.45)"; not "cifar-10 has 5000 images"
            bound.append(replace(term, bound_to=previous.bound_to))
            continue
        after = [t for t in names if term.index < t.index <= term.index + BINDING_REACH]
        nearest = adjacent or before[-1:] or after[:1]
        bound.append(replace(term, bound_to=nearest[0].key if nearest else None))
    return bound


# Contrasts that put one thing in another's place: what follows is what the learner chose against
# ("use the batch mean instead of the running mean"), not merely compared with ("better than Adam").
SUBSTITUTIONS = frozenset({"instead of", "rather than", "in place of", "as opposed to"})

# "the running mean collected in training": a participle right after a noun, then a preposition,
# describes the noun (where the statistics came from), not what the sentence says it is used for.
MODIFIER_PREPOSITIONS = frozenset({"in", "during", "at", "from", "by", "on", "over", "with", "for"})
IRREGULAR_PARTICIPLES = frozenset({"learned", "learnt", "built", "kept", "held", "taken", "seen", "done", "made", "stored", "saved"})


def _modifiers(tokens: list[Token]) -> set[int]:
    """Token indices inside a participle phrase that qualifies the noun before it: the
    participle's preposition and up to two content words after it, to the next break."""
    inside: set[int] = set()
    for index in range(1, len(tokens) - 1):
        surface = tokens[index].surface
        participle = surface.endswith("ed") or surface in IRREGULAR_PARTICIPLES
        after_noun = tokens[index - 1].kind == "word" and tokens[index - 1].surface not in COPULAS
        if not (participle and after_noun and tokens[index + 1].surface in MODIFIER_PREPOSITIONS):
            continue
        covered = 0
        for later in range(index + 2, len(tokens)):
            if tokens[later].kind == "comma" or tokens[later].surface in SCOPE_BREAKS or covered == 2:
                break
            if tokens[later].kind in ("word", "number"):
                inside.add(later)
                covered += 1
    return inside


WITHOUT = "without"
# "you won't", "it can't", "you cannot", "you couldn't": a consequence denied as impossible.
CANNOT = frozenset({"wo", "ca", "could", "cannot"})


def _requirement(tokens: list[Token], scopes: dict[int, list[int]]) -> set[int]:
    """ "without full seeding you won't reproduce a run" and "you can't reproduce a run without full
    seeding" say full seeding is needed: the two negations, the condition's and the consequence's, cancel. Only an impossibility ("won't",
    "can't"): "without shuffling the batches would not be correlated" is a claim about batches."""
    for condition, covered in scopes.items():
        if tokens[condition].surface.lower() != "without" or not covered:
            continue
        for consequence in scopes:
            impossible = tokens[consequence].key == "short" and (
                tokens[consequence].surface.lower() in CANNOT or tokens[consequence - 1].surface.lower() in CANNOT
            )
            # "without seeding you won't reproduce it", or the other way round: "it can't plan the curve without the steps".
            if impossible and (consequence > covered[0] or consequence < condition):
                return {condition, consequence}
    return set()


def build_clause(tokens: list[Token], text: str, sentence: int = 0, checked: bool = False, degree: frozenset[str] = frozenset()) -> Clause:
    negators: dict[int, list[int]] = {}
    contrasted: set[int] = set()
    passed_over: set[int] = set()
    modifiers = _modifiers(tokens)
    # What a check looks for is named, not asserted or denied: "check the inputs don't contain nan"
    # is "check the inputs for nan". A clause that continues a check's list (`checked`) is named whole.
    check = -1 if checked else next((i for i, t in enumerate(tokens) if t.surface in CHECKS), len(tokens))
    scopes = _scopes(tokens)
    cancelled = _requirement(tokens, scopes)
    for marker, covered in scopes.items():
        if (marker > check and tokens[marker].key != "contrast") or marker in cancelled:
            continue
        # "neither shuffles nor augments" is one negation over both verbs, not two that cancel.
        earlier = [m for m in scopes if m < marker and tokens[m].key == "short"]
        source = earlier[-1] if tokens[marker].surface.lower() == "nor" and earlier else marker
        for index in covered:
            if tokens[marker].key == "contrast":
                contrasted.add(index)
                if tokens[marker].surface.lower() in SUBSTITUTIONS:
                    passed_over.add(index)
            else:
                negators.setdefault(index, []).append(tokens[source].start)
    content = [(i, t) for i, t in enumerate(tokens) if t.kind in ("word", "number")]
    terms = [
        Term(
            t.key,
            n,
            tuple(negators.get(i, ())),
            t.value,
            t.percent,
            None,
            i,
            t.surface,
            t.tolerance,
            t.boolean,
            i in contrasted,
            t.claimed,
            t.ident,
            t.attached,
            i in modifiers,
            i in passed_over,
            t.positional,
        )
        for n, (i, t) in enumerate(content)
    ]
    hypothetical = checked or any(t.surface in HYPOTHETICAL for t in tokens)
    reason = next((i for i, t in enumerate(tokens) if t.surface == "because"), None)
    copulas = frozenset(i for i, t in enumerate(tokens) if t.surface.lower() in COPULAS)
    short = _short(tokens) or _one_name(tokens, text)
    return Clause(text, tuple(_bind_numbers(terms, copulas, degree)), sentence, hypothetical, short, reason=reason)


_CODE_NAME = re.compile(r"\w[._]\w")  # a dotted or snake_case name, as code is typed


def _one_name(tokens: list[Token], text: str) -> bool:
    """One typed name ("torchvision.datasets.CIFAR10", "get_data_loaders"): a single word of a list,
    whatever its parts look like."""
    name = text.strip()
    return LIST_ITEM_WORDS >= 1 and not any(c.isspace() for c in name) and _CODE_NAME.search(name) is not None


def _short(tokens: list[Token]) -> bool:
    """A fragment that could be one item of a list of terms: a few content words, no verb or
    preposition relating them, no negation. `clauses` calls it a list item when a neighbour is short too."""
    content = [i for i, t in enumerate(tokens) if t.kind in ("word", "number")]
    if len(content) > LIST_ITEM_WORDS:
        return False
    if len(content) > 1 and any(t.kind == "marker" or t.surface in LINKS for t in tokens):
        return False  # one word relates nothing, even "disables"
    # A verb between two content words ("crop simulates translations", "BatchNorm stabilises training").
    middle = [tokens[i] for i in content[1:-1]]
    return not any(t.kind == "word" and t.surface.endswith(VERB_ENDINGS) and not t.surface.endswith("ss") for t in middle)


def _renumbered(terms: list[Term]) -> tuple[Term, ...]:
    return tuple(replace(term, index=n) for n, term in enumerate(terms))


def merge(parts: list[Clause], text: str) -> Clause:
    """Clauses of one sentence read together again (terms renumbered, scopes and bindings kept)."""
    terms = _renumbered([term for part in parts for term in part.terms])
    counterfactual = bool(parts) and all(part.counterfactual for part in parts)
    reason = parts[0].reason if len(parts) == 1 else None  # token positions are each clause's own
    return Clause(text, terms, parts[0].sentence if parts else 0, counterfactual=counterfactual, reason=reason)


def _split_point(tokens: list[Token], lexicon: Lexicon) -> int | None:
    """Where a sentence naming two counterparts splits: before the conjunction or comma that
    separates them, when other content stands between them ("train enables dropout and eval
    disables it"); never inside "mean and variance"."""
    content = [i for i, t in enumerate(tokens) if t.kind == "word" or t.boolean]
    for a_pos, first in enumerate(content):
        for second in content[a_pos + 1 :]:
            # The degree that "don't generalise as well" becomes belongs to the verb before it: no second thing to split at.
            if not _counterparts(tokens[first], tokens[second], lexicon) or tokens[second].verb_degree:
                continue
            between = [i for i in range(first + 1, second) if tokens[i].kind in ("word", "number")]
            # Only one-letter names between them: one formula ("(mean - x) / std"), not two claims.
            if not between or all(len(tokens[i].surface) == 1 for i in between):
                continue
            joints = [i for i in range(first + 1, second) if tokens[i].kind == "comma" or tokens[i].key in CONJUNCTIONS]
            if joints:
                return joints[-1]
            # A number right before the second name is its own ("5000 train + 1000 test"): it goes with it.
            start = second
            while start - 1 > first and tokens[start - 1].kind == "number" and not tokens[start - 1].boolean:
                start -= 1
            # So do its negation and auxiliaries ("large batches don't hurt generalisation", "can hurt"); a contrast
            # ("test 0.489 vs validation 0.490") stays where it is.
            while start - 1 > first and (
                (tokens[start - 1].kind == "marker" and tokens[start - 1].key != "contrast") or tokens[start - 1].surface.lower() in MODALS
            ):
                start -= 1
            return start if start - 1 > first else second
    return None


def _counterparts(first: Token, second: Token, lexicon: Lexicon) -> bool:
    """Two named things learners swap, or two opposite values ("training=False ... training=True")."""
    if first.boolean or second.boolean:
        return first.boolean and second.boolean and first.value != second.value
    return second.key in lexicon.counterparts.get(first.key, ())


def split_counterparts(tokens: list[Token], lexicon: Lexicon) -> list[list[Token]]:
    point = _split_point(tokens, lexicon)
    if point is None:
        return [tokens]
    return split_counterparts(tokens[:point], lexicon) + split_counterparts(tokens[point:], lexicon)


def sentences(text: str) -> list[tuple[int, str]]:
    """(offset, sentence) pieces split at sentence ends, bullets and contrast words."""
    pieces, start = [], 0
    for match in _SENTENCE_BREAK.finditer(text):
        pieces.append((start, text[start : match.start()]))
        start = match.end()
    pieces.append((start, text[start:]))
    return [(offset, piece) for offset, piece in pieces if piece.strip()]


def _split_commas(tokens: list[Token], text: str) -> list[list[Token]]:
    """At commas and colons, except inside brackets: "(0.4914, 0.4822, 0.4465)" is one value."""
    pieces: list[list[Token]] = [[]]
    for token in tokens:
        before = text[: token.start]
        inside = before.count("(") + before.count("[") > before.count(")") + before.count("]")
        if token.kind == "comma" and not inside:
            pieces.append([])
        elif token.kind != "comma":
            pieces[-1].append(token)
    return [piece for piece in pieces if piece]


CHECK_CONTINUATIONS = ("that", "whether", "if", "and that", "and whether")


def _continues_check(piece: list[Token], text: str) -> bool:
    """A comma piece that goes on with a check's list of what to look for ("..., that grads aren't exploding")."""
    before = text[: piece[0].start].rstrip().lower()
    opening = " ".join(t.surface for t in piece[:2])
    return before.endswith(",") and (piece[0].surface in CHECK_CONTINUATIONS or opening in CHECK_CONTINUATIONS)


BARE_CONDITIONS = frozenset({"it", "this", "that", "them", "these"})  # "without it": the thing the answer is about


def clauses(text: str, lexicon: Lexicon) -> list[Clause]:
    """The answer's clauses in order, each with the words the learner typed: sentences split
    between named counterparts, then at commas. Grading reads runs of neighbouring clauses of one
    sentence together, so a claim spread over a comma is still seen whole; a short fragment next to
    another short fragment is a list item, which states no claim with its neighbours."""
    out = []
    for number, (offset, sentence) in enumerate(sentences(text)):
        checking = False  # "check the data, that the loss isn't far from ..., that grads aren't exploding"
        supposed = False  # after a bare "Without this," the rest of the sentence is counterfactual
        for part in split_counterparts(tokenize(sentence, lexicon, offset), lexicon):
            for piece in _split_commas(part, text):
                # "Without it a random split can skew classes": the bare condition, typed without its comma.
                if len(piece) > 2 and piece[0].surface.lower() == WITHOUT and piece[1].surface.lower() in BARE_CONDITIONS:
                    supposed, piece = True, piece[2:]
                continued = checking and _continues_check(piece, text)
                clause = build_clause(piece, text[piece[0].start : piece[-1].end].strip(" ,:-"), number, continued, lexicon.degree)
                checking = continued or any(t.surface in CHECKS for t in piece)
                if clause.terms:
                    out.append(replace(clause, counterfactual=supposed))
                elif piece[0].surface.lower() == WITHOUT:  # "Without this," / "Without it,": the condition names nothing
                    supposed = True
    short = [c.listed for c in out]  # build_clause stores shortness; listing needs a short neighbour
    return [replace(c, listed=short[i] and ((i > 0 and short[i - 1]) or (i + 1 < len(out) and short[i + 1]))) for i, c in enumerate(out)]


@lru_cache(maxsize=4096)
def key_point_clause(point: str, lexicon: Lexicon) -> Clause:
    """A key point read as one clause (key points are written as one claim each); cached, as every
    grade reads the same few hundred points."""
    tokens = [t for _, sentence in sentences(point) for t in tokenize(sentence, lexicon)]
    clause = build_clause(tokens, point, degree=lexicon.degree)
    # A term said twice ("F(x) + x") is one thing to state, not two.
    seen: set[tuple[str, float | None]] = set()
    unique = [t for t in clause.terms if (t.key, t.value) not in seen and not seen.add((t.key, t.value))]
    return Clause(point, _renumbered(unique))
