"""Numbers as values: arithmetic ("128*4*4", "128 times 16", "50k / 256"), logarithms ("ln(10)",
"-log(0.1)", "minus the log of 0.1"), suffixes ("2k", "1e-3", "10%"), sizes ("5 by 5" is 5x5) and
units (MB/GB), each read to one value with the tolerance its writing implies, so "2.30" is
ln(10) and "about 94 MB" is 93.8 MB."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

# Spoken numbers: "three conv blocks" is 3 blocks, "half the memory" 0.5 of it ("half precision"
# and "cut in half" are not numbers), and a scale after a number multiplies it ("25.6M", "4.1 billion").
WORD_NUMBERS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "eighteen": 18, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "eighty": 80, "hundred": 100, "half": 0.5, "quarter": 0.25,
}  # fmt: skip
SCALES = {"k": 1e3, "m": 1e6, "b": 1e9, "thousand": 1e3, "million": 1e6, "billion": 1e9}
_WORD_NUMBER = r"(?<!in\s)\b(?:" + "|".join(WORD_NUMBERS) + r")\b(?![\s-]*precision)"
# "zero" names zero padding or zeroing gradients; it is a number only as the start of a range ("zero to 255", "zero to one").
_ZERO_RANGE = r"\bzero\b(?=\s*(?:to|-|\u2013)\s*(?:\d|(?:one|two|three|four|five|six|seven|eight|nine|ten|a\s+hundred)\b))"
_WORD_NUMBER = rf"{_WORD_NUMBER}|{_ZERO_RANGE}"
# A number as typed: thousands commas, decimals, exponent, a scale suffix; a percent sign (or word) after it.
_NUMBER = r"\d{1,3}(?:,\d{3})+(?![\d])|\d+(?:\.\d+)?(?:e[-+]?\d+)?|(?<![\w.])\.\d+"  # ".247" is 0.247
_LEXEME = re.compile(
    rf"(?P<number>(?:{_NUMBER})|{_WORD_NUMBER})(?P<suffix>[kmb]\b|\s+(?:thousand|million|billion)\b)?(?P<percent>\s*(?:%|percent\b|per\s+cent\b))?"
    r"|(?P<func>\b(?:natural\s+)?(?:ln|log|exp|sqrt)\b(?:\s+of\b)?)"
    r"|(?P<op>\*\*|\^|[*\u00d7\u00b7\u22c5/+]|(?<![\w)])-(?=\s*(?:ln|log)\b)|\b(?:times|multiplied\s+by|divided\s+by|over|plus|minus)\b|\bx\b)"
    r"|(?P<by>\bby\b)|(?P<paren>[()])|(?P<the>\bthe\b(?=\s+(?:natural\s+)?(?:ln|log)\b))|(?P<space>\s+)|(?P<word>[a-z_]\w*)|(?P<other>.)",
    re.IGNORECASE,
)
_KINDS = ("number", "func", "op", "by", "paren", "the", "space", "word", "other")
_OPERATORS = {"*": "*", "\u00d7": "*", "\u00b7": "*", "\u22c5": "*", "x": "*", "times": "*", "multiplied by": "*"}  # "2·4" as in the notes
_OPERATORS |= {"/": "/", "over": "/", "divided by": "/"}
_OPERATORS |= {"+": "+", "plus": "+", "-": "-", "minus": "-"}
_OPERATORS |= {"^": "^", "**": "^"}  # "2^8 values", "2**8"
APPROXIMATE_SHARE = 0.03  # "about 50 minutes" covers 49: a stated approximation is within 3% of its value
APPROXIMATE = frozenset({"about", "around", "roughly", "approximately", "approx", "~", "\u2248", "nearly", "almost"})
UNITS = {"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12, "byte": 1.0, "bytes": 1.0, "kib": 1024.0, "mib": 1024.0**2, "gib": 1024.0**3}
UNITS |= {"flops": 1.0, "mflops": 1e6, "gflops": 1e9, "tflops": 1e12}  # "4.1 GFLOPs" is 4.1 billion FLOPs
# Durations in seconds, so "2,940 seconds" states "about 49 minutes". Bare "s" and "h" are left out:
# "h" is a height ("halving h and w") and "s" a plural or possessive as often as a second.
UNITS |= {unit: 1.0 for unit in ("sec", "secs", "second", "seconds")}
UNITS |= {unit: 60.0 for unit in ("min", "mins", "minute", "minutes")} | {unit: 3600.0 for unit in ("hr", "hrs", "hour", "hours")}
UNITS |= {"ms": 1e-3, "millisecond": 1e-3, "milliseconds": 1e-3}
# Spoken numbers of more than one word, read to a value before anything else: "nine tenths" is 0.9,
# "two-twenty-four" 224, "one e minus three" and "ten to the minus three" 0.001, "a quarter" 0.25,
# "two point three" 2.3, "one in ten" 0.1. "one" alone is no number ("the one after the pooling").
_UNITS = {w: n for n, w in enumerate(["one", "two", "three", "four", "five", "six", "seven", "eight", "nine"], start=1)}
_TEENS = {
    w: n
    for n, w in enumerate(
        ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"], start=10
    )
}
_TENS = {w: 10 * n for n, w in enumerate(["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"], start=2)}
_DENOMINATORS = {"half": 2, "halves": 2, "third": 3, "thirds": 3, "quarter": 4, "quarters": 4, "fifth": 5, "fifths": 5}
_DENOMINATORS |= {"tenth": 10, "tenths": 10, "hundredth": 100, "hundredths": 100, "thousandth": 1000, "thousandths": 1000}
# "one fiftieth" is 0.02, "five sixths" 0.83; "the sixth epoch" stays an ordinal (a denominator needs a count before it).
_DENOMINATORS |= {f"{word}{s}": n for word, n in (("sixth", 6), ("seventh", 7), ("eighth", 8), ("ninth", 9)) for s in ("", "s")}
_DENOMINATORS |= {f"{word}{s}": n for word, n in (("twentieth", 20), ("fiftieth", 50)) for s in ("", "s")}
_ORDINALS = {w: n for n, w in enumerate(["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth"], start=1)}
_SPOKEN_WORDS = frozenset(_UNITS) | frozenset(_TEENS) | frozenset(_TENS) | frozenset(_DENOMINATORS)
_SPOKEN_WORDS |= {"a", "an", "and", "hundred", "thousand", "million", "point", "e", "minus", "negative", "to", "the", "in", "power", "of"}
_SPOKEN_RUN = re.compile(r"[a-z]+(?:[\s-]+[a-z]+)*", re.IGNORECASE)
_WORD = re.compile(r"[a-z]+", re.IGNORECASE)
SIZE_LIMIT = 1024  # "7 x 7" is a 7x7 size; "8000 x 32 x 32" is arithmetic


class _Spoken:
    """Reads spoken numbers from a list of lower-case words; each method returns (value, next index) or None."""

    def __init__(self, words: list[str]):
        self.words = words

    def word(self, index: int) -> str:
        return self.words[index] if index < len(self.words) else ""

    def below_hundred(self, index: int) -> tuple[float, int] | None:
        word = self.word(index)
        if word in _TENS:
            unit = _UNITS.get(self.word(index + 1))
            return (_TENS[word] + unit, index + 2) if unit else (_TENS[word], index + 1)
        if word in _TEENS or word in _UNITS:
            return float(_TEENS.get(word) or _UNITS[word]), index + 1
        return None

    def cardinal(self, index: int) -> tuple[float, int] | None:
        """ "twenty-four", "three hundred and six", "a hundred", "fifty thousand"."""
        if self.word(index) in ("a", "an") and self.word(index + 1) in ("hundred", "thousand"):
            read = (1.0, index + 1)
        else:
            read = self.below_hundred(index)
        if read is None:
            return None
        value, index = read
        for scale, factor in (("hundred", 100), ("thousand", 1000), ("million", 1e6)):
            if self.word(index) == scale:
                value, index = value * factor, index + 1
                rest = self.below_hundred(index + (self.word(index) == "and"))
                if rest is not None and rest[0] < factor:
                    value, index = value + rest[0], rest[1]
        return value, index

    def exponent(self, index: int) -> tuple[float, int] | None:
        """ "minus three" after "e" or "ten to the (power of)"."""
        sign = -1 if self.word(index) in ("minus", "negative") else 1
        read = self.cardinal(index + (sign < 0))
        return (sign * read[0], read[1]) if read is not None else None

    def number(self, index: int) -> tuple[float, int] | None:
        whole = self.cardinal(index)
        if whole is None and self.word(index) in ("a", "an", "one") and self.word(index + 1) in _DENOMINATORS:
            whole = (1.0, index + 1)
        if whole is None:
            return None
        value, after = whole
        nxt = self.word(after)
        if self.word(index) in _TENS and after == index + 1 and nxt in _ORDINALS:  # "the twenty fifth epoch": 25th, not 20/5
            return value + _ORDINALS[nxt], after + 1
        if nxt in _DENOMINATORS and (value != 1 or nxt[-1] != "s" or nxt == "halves"):  # "nine tenths", "a quarter"
            return value / _DENOMINATORS[nxt], after + 1
        if self.word(index) in _UNITS and after == index + 1 and self.word(after) in _TENS:  # "two-twenty-four": 224
            rest = self.below_hundred(after)
            return value * 100 + rest[0], rest[1]
        if nxt == "point" and self.word(after + 1) in _UNITS | {"zero": 0, "oh": 0}:  # "two point three"
            digits, end = "", after + 1
            while self.word(end) in _UNITS or self.word(end) in ("zero", "oh"):
                digits += str(_UNITS.get(self.word(end), 0))
                end += 1
            return float(f"{value:g}.{digits}"), end
        if nxt == "e" and (power := self.exponent(after + 1)):  # "one e minus three"
            return value * 10.0 ** power[0], power[1]
        tail = self.words[after : after + 2] + [""]
        if value == 10 and tail[:2] == ["to", "the"]:  # "ten to the minus four", "ten to the power of minus four"
            start = after + 2 + 2 * (self.words[after + 2 : after + 4] == ["power", "of"])
            if power := self.exponent(start):
                return 10.0 ** power[0], power[1]
        if value == 1 and nxt == "in" and (of := self.cardinal(after + 1)):  # "one in ten"
            return 1 / of[0], of[1]
        if nxt == "and" and self.words[after + 1 : after + 3] == ["a", "half"]:  # "two and a half"
            return value + 0.5, after + 3
        return whole


def _spoken_spans(text: str) -> list[tuple[int, int, float]]:
    """(start, end, value) of each number spoken in more than one word ("nine tenths", "two-twenty-four")."""
    found = []
    for run in _SPOKEN_RUN.finditer(text):
        matches = list(_WORD.finditer(run[0]))
        reader = _Spoken([m[0].lower() for m in matches])
        index = 0
        while index < len(matches):
            read = reader.number(index) if reader.words[index] in _SPOKEN_WORDS else None
            if read is None or read[1] - index < 2:
                index += 1
                continue
            value, end = read
            found.append((run.start() + matches[index].start(), run.start() + matches[end - 1].end(), value))
            index = end
    return found


# "1 in 50" as typed is a rate, 0.02, as "one in ten" is 0.1 spoken.
_ONE_IN = re.compile(r"(?<![\w.])1\s+in\s+(\d{1,3}(?:,\d{3})+|\d+)(?![\w.,]*\d)")


def _one_in_spans(text: str) -> list[tuple[int, int, float]]:
    return [(m.start(), m.end(), 1 / float(m[1].replace(",", ""))) for m in _ONE_IN.finditer(text) if float(m[1].replace(",", "")) > 1]


@dataclass(frozen=True)
class NumberSpan:
    """One value read from the text: where it was typed and how exactly it was meant."""

    start: int
    end: int
    value: float
    tolerance: float = 0.0  # half a unit of the last digit written, or more for "about"
    percent: bool = False
    size: str | None = None  # "5x5" for "5 by 5": a shape, compared as its text
    computed: bool = False  # arithmetic or a function was evaluated
    claimed: float | None = None  # "128*4*4 = 512": the learner equates this expression to another value


def _written_tolerance(text: str) -> float:
    """Half a unit of the last digit typed after the decimal point: "2.30" is 2.295-2.305. Whole
    numbers are exact (counts, epochs) unless the learner says "about"."""
    mantissa = text.lower().split("e")[0]
    if "." not in mantissa:
        return 0.0
    decimals = len(mantissa.split(".")[1])
    exponent = int(text.lower().split("e")[1]) if "e" in text.lower() else 0
    return 0.5 * 10.0 ** (exponent - decimals)


class _Parser:
    """Recursive descent over lexemes: expr := term (('+'|'-') term)*; term := power (('*'|'/') power)*;
    power := unary ('^' power)?; unary := '-'? (func unary | '(' expr ')' | number)."""

    def __init__(self, lexemes: list[tuple[str, str, int, int]]):
        self.lexemes = lexemes
        self.position = 0
        self.evaluated = False

    def peek(self) -> tuple[str, str, int, int] | None:
        return self.lexemes[self.position] if self.position < len(self.lexemes) else None

    def expr(self) -> tuple[float, float]:
        value, tolerance = self.term()
        while (lexeme := self.peek()) and lexeme[0] == "op" and _OPERATORS[lexeme[1]] in "+-":
            self.position += 1
            right, right_tolerance = self.term()
            value = value + right if _OPERATORS[lexeme[1]] == "+" else value - right
            tolerance, self.evaluated = tolerance + right_tolerance, True
        return value, tolerance

    def term(self) -> tuple[float, float]:
        value, tolerance = self.power()
        while (lexeme := self.peek()) and lexeme[0] == "op" and _OPERATORS[lexeme[1]] in "*/":
            self.position += 1
            right, right_tolerance = self.power()
            if right == 0 or value == 0:
                raise ValueError("product or quotient with zero")
            relative = tolerance / abs(value) + right_tolerance / abs(right)  # relative errors add
            value = value * right if _OPERATORS[lexeme[1]] == "*" else value / right
            tolerance, self.evaluated = relative * abs(value), True
        return value, tolerance

    def power(self) -> tuple[float, float]:
        """A power binds tighter than a product and to the right: "2^8" is 256, exactly."""
        value, tolerance = self.unary()
        if (lexeme := self.peek()) and lexeme[0] == "op" and _OPERATORS[lexeme[1]] == "^":
            self.position += 1
            exponent, _ = self.power()
            if abs(exponent) > 64 or (value < 0 and exponent != int(exponent)):
                raise ValueError("power out of range")
            value, tolerance, self.evaluated = value**exponent, 0.0 if tolerance == 0 else abs(value**exponent) * 1e-3, True
        return value, tolerance

    def unary(self) -> tuple[float, float]:
        lexeme = self.peek()
        if lexeme is None:
            raise ValueError("expression ends early")
        kind, text = lexeme[0], lexeme[1]
        if kind == "op" and _OPERATORS[text] == "-":
            self.position += 1
            value, tolerance = self.unary()
            self.evaluated = True
            return -value, tolerance
        if kind == "func":
            self.position += 1
            argument, _ = self.unary()
            self.evaluated = True
            return _apply(text, argument), 0.0
        if kind == "paren" and text == "(":
            self.position += 1
            value, tolerance = self.expr()
            if not (self.peek() and self.peek()[1] == ")"):
                raise ValueError("unclosed parenthesis")
            self.position += 1
            return value, tolerance
        if kind == "number":
            self.position += 1
            return _number_value(text)
        raise ValueError(f"not a number: {text!r}")


def _apply(func: str, argument: float) -> float:
    name = re.sub(r"\s+of$|^natural\s+", "", func.lower().strip())
    if name in ("ln", "log"):  # in this field log is the natural log (cross-entropy in nats)
        if argument <= 0:
            raise ValueError("log of a non-positive number")
        return math.log(argument)
    if name == "exp":
        return math.exp(min(argument, 700.0))
    return math.sqrt(argument) if argument >= 0 else math.nan


def _number_value(text: str) -> tuple[float, float]:
    """A typed number's value and tolerance: "2k" is 1500-2500 (half the scale when no decimal is
    written), "5.3M" 5.25-5.35 million, "three" exactly 3."""
    body = text.lower().rstrip("%").strip()
    if body == "zero":
        return 0.0, 0.0
    if body in WORD_NUMBERS:
        return float(WORD_NUMBERS[body]), 0.0
    digits, _, scale_word = body.partition(" ")
    if not scale_word and body[-1] in SCALES:
        digits, scale_word = body[:-1], body[-1]
    scale = SCALES.get(scale_word.strip(), 1.0)
    if digits in WORD_NUMBERS:  # "ten thousand"
        return WORD_NUMBERS[digits] * scale, 0.0
    digits = digits.replace(",", "")
    tolerance = _written_tolerance(digits) * scale if "." in digits or scale == 1.0 else 0.5 * scale
    return float(digits) * scale, tolerance


def _lexemes(text: str) -> list[tuple[str, str, int, int]]:
    """(kind, text, start, end) with spaces dropped, and "the" before a log ("minus the log of 0.1");
    any other "the" is a word, so "128 times the 16 classes" is no product."""
    out = []
    spoken = _spoken_spans(text) + _one_in_spans(text)
    for match in _LEXEME.finditer(text):
        inside = next((span for span in spoken if span[0] <= match.start() < span[1]), None)
        if inside is not None:  # one number lexeme for the whole spoken phrase, written as digits
            if match.start() == inside[0]:
                percent = re.match(r"\s*(?:%|percent\b|per\s+cent\b)", text[inside[1] :], re.IGNORECASE)
                written = f"{inside[2]:g}" if " point " in text[inside[0] : inside[1]] else f"{inside[2]:.6e}"  # spoken is exact
                out.append(("number", written + ("%" if percent else ""), inside[0], inside[1] + (percent.end() if percent else 0)))
            continue
        if out and out[-1][0] == "number" and match.start() < out[-1][3]:
            continue  # the percent word of a spoken number
        kind = next(name for name in _KINDS if match[name] is not None)
        if kind in ("space", "the"):
            continue
        if kind == "number":
            body = match["number"] + (match["suffix"] or "")
            out.append(("number", body + ("%" if match["percent"] else ""), match.start(), match.end()))
        elif kind == "op":
            out.append(("op", re.sub(r"\s+", " ", match[kind].strip().lower()), match.start(), match.end()))
        else:
            out.append((kind, match[kind], match.start(), match.end()))
    return out


def _size(lexemes: list, index: int) -> NumberSpan | None:
    """ "5 by 5", "7 x 7": two whole numbers joined by "by" or a lone "x" are a size, like "5x5"."""
    if index + 2 >= len(lexemes):
        return None
    (k1, a, s, _), (k2, joint, _, _), (k3, b, _, e) = lexemes[index : index + 3]
    if k1 != "number" or k3 != "number" or not a.isdigit() or not b.isdigit():
        return None
    if not (k2 == "by" or (k2 == "op" and joint == "x")) or max(int(a), int(b)) > SIZE_LIMIT:
        return None
    if index + 4 < len(lexemes) and lexemes[index + 3][0] == "op":  # "8000 x 32 x 32 x 3": arithmetic
        return None
    return NumberSpan(s, e, float(int(a) * int(b)), size=f"{a}x{b}")


def _slash_list(lexemes: list, index: int) -> list:
    """Three or more plain numbers joined by slashes are a list ("8k / 2k / 10k"); two are a quotient."""
    listed = []
    position = index
    while position < len(lexemes) and lexemes[position][0] == "number":
        listed.append(lexemes[position])
        joined = position + 2 < len(lexemes) and lexemes[position + 1][:2] == ("op", "/") and lexemes[position + 2][0] == "number"
        if not joined:
            break
        position += 2
    return listed if len(listed) >= 3 else []


def _shape(lexemes: list, index: int) -> list:
    """A tensor shape written with x after a named dimension ("batch x 3 x 32 x 32", "B x 64 x 16 x 16")
    is its sizes, as "[B, 3, 32, 32]" is: not the product 3072."""
    if index < 2 or lexemes[index - 2][0] != "word" or lexemes[index - 1][:2] != ("op", "x"):
        return []
    listed, position = [], index
    while position < len(lexemes) and lexemes[position][0] == "number":
        listed.append(lexemes[position])
        if not (position + 2 < len(lexemes) and lexemes[position + 1][:2] == ("op", "x") and lexemes[position + 2][0] == "number"):
            break
        position += 2
    return listed if len(listed) >= 2 else []


def _plain(lexeme: tuple[str, str, int, int]) -> NumberSpan:
    value, tolerance = _number_value(lexeme[1])
    return NumberSpan(lexeme[2], lexeme[3], value, tolerance, lexeme[1].endswith("%"))


# "just under fifty minutes" is about fifty: a bound said to be close is an approximation.
_NEAR_BOUND = frozenset({"under", "over", "below", "above", "short"})
_CLOSE = frozenset({"just", "slightly", "bit", "little"})


def _approximate(text: str, start: int) -> bool:
    before = re.findall(r"[a-z~\u2248]+|[~\u2248]", text[max(0, start - 24) : start].lower())
    if len(before) >= 2 and before[-1] in _NEAR_BOUND and before[-2] in _CLOSE:
        return True
    return bool(before) and before[-1] in APPROXIMATE


def number_spans(text: str) -> list[NumberSpan]:
    """Every value in the text, longest expression first; plain numbers included (one span each)."""
    lexemes = _lexemes(text)
    spans: list[NumberSpan] = []
    index = 0
    while index < len(lexemes):
        kind = lexemes[index][0]
        start = index + 1 if lexemes[index][:2] == ("paren", "(") else index  # "(.247/.243/.261)"
        listed = _slash_list(lexemes, start) or _shape(lexemes, index)
        if listed:  # "8k / 2k / 10k": three sizes, not 8000 / 2000 / 10000
            spans += [_plain(lexeme) for lexeme in listed]
            index = start + 2 * len(listed) - 1
            continue
        size = _size(lexemes, index)
        if size is not None:
            spans.append(size)
            index += 3
            continue
        if kind not in ("number", "func", "op", "paren"):
            index += 1
            continue
        span, used = _longest_expression(text, lexemes, index)
        if span is None:
            index += 1
            continue
        spans.append(span)
        index += used
    return _equations(text, spans)


# What joins an expression to the value the learner says it has: "128*4*4 = 2048", "50000/256 ≈ 195".
EQUATED = frozenset({"=", "==", "is", "gives", "equals", "\u2248", "~", "~=", "= about", "is about", "gives about", "is roughly", "= ~"})


def _equations(text: str, spans: list[NumberSpan]) -> list[NumberSpan]:
    """An expression equated to a value it does not have ("128*4*4 = 512") carries the claim, so
    the arithmetic error can contradict a key point that states the right result."""
    out = list(spans)
    for index, (left, right) in enumerate(zip(spans, spans[1:], strict=False)):
        joined = re.sub(r"\s+", " ", text[left.end : right.start].strip().lower()) in EQUATED
        if left.computed and joined and not same_value(left.value, left.tolerance, right.value, right.tolerance):
            out[index] = replace(left, claimed=right.value)
    return out


def _longest_expression(text: str, lexemes: list, index: int) -> tuple[NumberSpan | None, int]:
    """The longest run of lexemes from `index` that parses as one expression holding a number."""
    for end in range(min(len(lexemes), index + 24), index, -1):
        window = lexemes[index:end]
        if not any(k == "number" for k, *_ in window) or window[-1][0] == "op" or window[-1][0] == "func":
            continue
        if window[0][0] == "paren" and window[0][1] == ")":
            return None, 1
        parser = _Parser(window)
        try:
            value, tolerance = parser.expr()
        except (ValueError, OverflowError, ZeroDivisionError):
            continue
        if parser.position != len(window) or math.isnan(value):
            continue
        inner = [lexeme for lexeme in window if lexeme[0] != "paren"]
        start, stop = inner[0][2], inner[-1][3]  # "(80%)" is the number 80%, shown without its brackets
        percent = len(inner) == 1 and inner[0][1].endswith("%")
        if _approximate(text, start):
            tolerance = max(tolerance, APPROXIMATE_SHARE * abs(value), 0.5 if value == int(value) and abs(value) >= 10 else 0.0)
        return NumberSpan(start, stop, value, tolerance, percent, computed=parser.evaluated), end - index
    return None, 1


def unit_scale(word: str) -> float | None:
    return UNITS.get(word.lower())


def same_value(a: float, a_tolerance: float, b: float, b_tolerance: float) -> bool:
    """Equal within the looser of the two written precisions (and a relative 1e-9 for floats)."""
    tolerance = max(a_tolerance, b_tolerance)
    # Strictly inside the rounding interval ("0.9" is not "0.95"); exact values only to float noise.
    return abs(a - b) < tolerance if tolerance else abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1.0)
