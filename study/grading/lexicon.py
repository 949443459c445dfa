"""The grader's domain lexicon: `lexicon.yaml` read into lookup tables over normalised stems."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

import snowballstemmer
import yaml

LEXICON_PATH = Path(__file__).with_name("lexicon.yaml")
NEGATION_KINDS = ("short", "phrase", "contrast", "clause")

# British spellings the bank and learners mix; unified before stemming so "normalises" and
# "normalizes" share a stem. Words ending in -ise that are not verbs of this kind are kept.
_ISE = re.compile(r"^(\w{3,}?)is(e|es|ed|ing|ation|ations|er|ers)$")
_ISE_KEEP = frozenset(
    [
        "raise",
        "raises",
        "raised",
        "raising",
        "noise",
        "noises",
        "precise",
        "concise",
        "otherwise",
        "likewise",
        "exercise",
        "exercises",
        "promise",
        "premise",
        "surprise",
        "advise",
        "revise",
        "comprise",
        "enterprise",
        "expertise",
        "franchise",
        "wise",
        "rise",
        "rises",
        "arise",
        "arises",
    ]
)
_BRITISH = {"centre": "center", "centres": "centers", "centred": "centered", "colour": "color", "behaviour": "behavior"}
_STEMMER = snowballstemmer.stemmer("english")
# Words whose Snowball stem would merge them with a word of another meaning
# ("activations" and "active" both stem to "activ"; "identity" and "identical" to "ident").
_WHOLE_WORDS = {"activation": "activation", "activations": "activation", "identity": "identity"}


@cache
def stem(word: str) -> str:
    """One word's normalised stem: American spelling, then the Snowball English stemmer."""
    if word in _WHOLE_WORDS:
        return _WHOLE_WORDS[word]
    word = _BRITISH.get(word, word)
    if word not in _ISE_KEEP:
        word = _ISE.sub(r"\1iz\2", word)
    return _STEMMER.stemWord(word)


Phrase = tuple[str, ...]  # a sequence of stems


@dataclass(frozen=True, eq=False)
class Lexicon:
    """Lookup tables keyed by stem sequences; built once by `load_lexicon`."""

    rewrites: dict[Phrase, Phrase]  # a phrase and the words it stands for
    concepts: dict[Phrase, str]  # a phrase (or one stem) and its concept name
    negations: dict[Phrase, str]  # a marker and its kind (short, phrase, clause)
    opposites: dict[str, frozenset[str]]  # concept -> concepts that contradict it
    counterparts: dict[str, frozenset[str]]  # named things a sentence is split between
    degree: frozenset[str] = frozenset()  # concepts whose opposite counts only on the same word
    longest: int = 1  # the longest phrase, in stems
    privative: frozenset[str] = frozenset()  # verbs that take their object away ("breaks correlations" = "no correlation")

    @cached_property
    def vocabulary(self) -> dict[Phrase, tuple[str, str]]:
        """Every phrase the tokenizer looks up, with what it is: ("marker", kind) or ("word", concept)."""
        return {**{k: ("marker", kind) for k, kind in self.negations.items()}, **{k: ("word", c) for k, c in self.concepts.items()}}

    @cached_property
    def names(self) -> frozenset[str]:
        """Concept names and paired words: never matched to another word as a typo (float16 is not bfloat16)."""
        return frozenset(self.concepts.values()) | frozenset(self.opposites) | frozenset(self.counterparts)

    def opposite(self, concept: str, other: str) -> bool:
        return other in self.opposites.get(concept, ()) or other in self.counterparts.get(concept, ())

    def has_opposite(self, concept: str) -> bool:
        return concept in self.opposites or concept in self.counterparts


class LexiconError(ValueError):
    """A problem in lexicon.yaml, naming the section and entry."""


def phrase_of(text: str) -> Phrase:
    """A lexicon entry as stems, normalised the way answers are."""
    return tuple(stem(word) for word in re.findall(r"[a-z0-9]+", text.lower().replace("_", " ")))


def _concept_table(synonyms: dict[str, list[str]], problems: list[str]) -> dict[Phrase, str]:
    table: dict[Phrase, str] = {}
    for concept, variants in synonyms.items():
        for variant in [concept.replace("_", " "), *variants]:
            key = phrase_of(str(variant))
            if table.get(key, concept) != concept:
                problems.append(f"synonyms: {variant!r} is in both {table[key]!r} and {concept!r}")
            table[key] = concept
    return table


def _pair_table(pairs: list[list[str]], section: str, concept_of, problems: list[str]) -> dict[str, frozenset[str]]:
    table: dict[str, set[str]] = {}
    for position, pair in enumerate(pairs, start=1):
        if not (isinstance(pair, list) and len(pair) == 2):
            problems.append(f"{section} entry {position}: must be a pair [a, b]")
            continue
        first, second = (concept_of(str(word)) for word in pair)
        if first == second:
            problems.append(f"{section} entry {position}: {pair} name the same concept")
        table.setdefault(first, set()).add(second)
        table.setdefault(second, set()).add(first)
    return {concept: frozenset(others) for concept, others in table.items()}


def build_lexicon(raw: dict) -> Lexicon:
    """Validate raw lexicon data and build its tables; every problem is listed at once."""
    problems: list[str] = []
    rewrites = {phrase_of(k): phrase_of(str(v)) for k, v in (raw.get("rewrites") or {}).items()}
    concepts = _concept_table(raw.get("synonyms") or {}, problems)
    negations: dict[Phrase, str] = {}
    for kind, markers in (raw.get("negations") or {}).items():
        if kind not in NEGATION_KINDS:
            problems.append(f"negations: unknown kind {kind!r}; use {', '.join(NEGATION_KINDS)}")
        for marker in markers:
            negations[phrase_of(str(marker))] = kind
            if phrase_of(str(marker)) in concepts:
                problems.append(f"negations: {marker!r} is also a synonym of {concepts[phrase_of(str(marker))]!r}")

    def concept_of(word: str) -> str:
        key = phrase_of(word)
        return concepts.get(key, " ".join(key))

    opposites = _pair_table(raw.get("opposites") or [], "opposites", concept_of, problems)
    counterparts = _pair_table(raw.get("counterparts") or [], "counterparts", concept_of, problems)
    if problems:
        raise LexiconError(f"{LEXICON_PATH.name}: " + "; ".join(problems))
    longest = max(len(key) for key in [*rewrites, *concepts, *negations])
    degree = frozenset(concept_of(str(word)) for word in raw.get("degree") or ())
    privative = frozenset(concept_of(str(word)) for word in raw.get("privative") or ())
    return Lexicon(rewrites, concepts, negations, opposites, counterparts, degree, longest, privative)


@cache
def load_lexicon(path: Path = LEXICON_PATH) -> Lexicon:
    return build_lexicon(yaml.safe_load(path.read_text(encoding="utf-8")))
