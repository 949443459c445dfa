"""Parse Markdown Q&A notes into question/answer blocks.

Six layouts are recognised, mixed freely in one file; they are the layouts of the bank's five
source documents plus plain ``Q:``/``A:`` notes:

- ``N) Q: question (Type: short / coding)`` then ``Answer:``;
- ``## QN: question`` then ``**Answer:**``;
- ``### N. Title`` then ``**Q:** question`` / ``**A:** answer``;
- ``**QN: question**`` then ``A: answer``, inside ``## Section N: Title`` and
  ``### Technical Questions`` / ``### Context Questions`` headings;
- ``### N. Question`` with the answer as the text below it;
- ``Q: question`` then ``A: answer``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# A question opens a block; each pattern captures (number, text) or (text).
_NUMBERED_VIVA = re.compile(r"^(\d+)\)\s*Q:\s*(.+)$")
_HASH_Q = re.compile(r"^##\s+Q(\d+):\s*(.+)$")
_H3_NUMBERED = re.compile(r"^###\s+(\d+)\.\s+(.+)$")
_BOLD_QN = re.compile(r"^\*\*Q(\d+):\s*(.+?)\*\*\s*$")
_PLAIN_Q = re.compile(r"^Q:\s*(.+)$")

# Headings that set context for the blocks below them, and lines that close a block.
_SECTION_NUMBERED = re.compile(r"^#\s+(\d+)\.\s+(.+)$")
_SECTION_NAMED = re.compile(r"^##\s+Section\s+(\d+):\s*(.+)$")
_SECTION_OTHER = re.compile(r"^##\s+(?!Q\d+:)(?!Section\s+\d+:)(.+)$")
_KIND_HEADING = re.compile(r"^###\s+(Technical|Context)\s+Questions\s*$", re.IGNORECASE)
_RULE = re.compile(r"^-{3,}\s*$")

_TYPE_SUFFIX = re.compile(r"\s*\(Type:\s*([^)]*)\)\s*$")
_ANSWER_LABEL = re.compile(r"^(?:\*\*Answer:\*\*|Answer(?:\s*\([^)]*\))?:|\*\*A:\*\*|A:)\s*")
_INNER_QUESTION = re.compile(r"^\*\*Q:\*\*\s*(.*)$")


@dataclass(frozen=True)
class ParsedBlock:
    """One question and answer as found in a Markdown file."""

    question: str
    answer: str
    line: int  # 1-based line of the question
    number: str | None = None
    section: str | None = None
    title: str | None = None
    type_words: tuple[str, ...] = ()
    layout: str = ""


@dataclass(frozen=True)
class SkippedBlock:
    """A block that looked like a question but could not be read."""

    line: int
    reason: str


@dataclass
class ParseResult:
    blocks: list[ParsedBlock] = field(default_factory=list)
    skipped: list[SkippedBlock] = field(default_factory=list)


@dataclass
class _Open:
    """The block being collected."""

    layout: str
    line: int
    number: str | None
    heading: str
    section: str | None
    kind: str | None
    body: list[str] = field(default_factory=list)


def _question_start(line: str) -> tuple[str, str | None, str] | None:
    """Return (layout, number, heading text) if this line opens a question block."""
    for layout, pattern in (
        ("numbered_viva", _NUMBERED_VIVA),
        ("hash_q", _HASH_Q),
        ("bold_qn", _BOLD_QN),
    ):
        match = pattern.match(line)
        if match:
            return layout, match.group(1), match.group(2).strip()
    match = _H3_NUMBERED.match(line)
    if match:
        return "h3_numbered", match.group(1), match.group(2).strip()
    match = _PLAIN_Q.match(line)
    if match:
        return "plain", None, match.group(1).strip()
    return None


def parse_markdown(text: str) -> ParseResult:
    """Split Markdown notes into question/answer blocks, reporting unreadable ones.

    Headings inside fenced code blocks are ignored, so code comments never open a block.
    """
    result = ParseResult()
    section: str | None = None
    kind: str | None = None
    current: _Open | None = None
    in_fence = False

    def close() -> None:
        nonlocal current
        if current is not None:
            _finish(current, result)
        current = None

    for index, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        if in_fence or line.lstrip().startswith("```"):
            if current is not None:
                current.body.append(raw)
            continue
        start = _question_start(line)
        if start is not None:
            close()
            layout, number, heading = start
            current = _Open(layout, index, number, heading, section, kind)
            continue
        heading_section = _match_section(line)
        if heading_section is not None:
            close()
            section, kind = heading_section, None
            continue
        kind_match = _KIND_HEADING.match(line)
        if kind_match:
            close()
            kind = kind_match.group(1).lower()
            continue
        if _RULE.match(line):
            close()
            kind = None  # a rule ends a "Technical/Context Questions" group
            continue
        if current is not None:
            current.body.append(raw)
    close()
    return result


def _match_section(line: str) -> str | None:
    match = _SECTION_NUMBERED.match(line)
    if match:
        return f"{match.group(1)}. {match.group(2).strip()}"
    match = _SECTION_NAMED.match(line)
    if match:
        return f"Section {match.group(1)}: {match.group(2).strip()}"
    match = _SECTION_OTHER.match(line)
    if match:
        return match.group(1).strip()
    return None


def _finish(block: _Open, result: ParseResult) -> None:
    question, title, body = block.heading, None, list(block.body)
    if block.layout == "h3_numbered":
        # `### N. Title` followed by `**Q:**` is the titled layout; otherwise the heading
        # itself is the question and everything below is the answer.
        question, title, body = _split_titled(block.heading, body)
    elif block.layout == "plain":
        body = _drop_until_answer_label(body)
    type_words: tuple[str, ...] = ()
    type_match = _TYPE_SUFFIX.search(question)
    if type_match:
        type_words = tuple(w.strip() for w in type_match.group(1).split("/") if w.strip())
        question = question[: type_match.start()].rstrip()
    if block.kind and not type_words:
        type_words = (block.kind,)
    answer = _strip_answer_label(body)
    if not question.strip():
        result.skipped.append(SkippedBlock(block.line, "empty question"))
        return
    if not answer:
        result.skipped.append(SkippedBlock(block.line, f"no answer below question {question[:60]!r}"))
        return
    result.blocks.append(
        ParsedBlock(
            question=question.strip(),
            answer=answer,
            line=block.line,
            number=block.number,
            section=block.section,
            title=title,
            type_words=type_words,
            layout=block.layout,
        )
    )


def _split_titled(heading: str, body: list[str]) -> tuple[str, str | None, list[str]]:
    for position, line in enumerate(body):
        match = _INNER_QUESTION.match(line.strip())
        if match:
            rest = body[position + 1 :]
            question_lines = [match.group(1)]
            while rest and rest[0].strip() and not _ANSWER_LABEL.match(rest[0].strip()):
                question_lines.append(rest.pop(0).strip())
            return " ".join(q for q in question_lines if q), heading, rest
        if line.strip():
            break
    return heading, None, body


def _drop_until_answer_label(body: list[str]) -> list[str]:
    for position, line in enumerate(body):
        if line.strip().startswith("A:"):
            return body[position:]
    return []


def _strip_answer_label(body: list[str]) -> str:
    lines = list(body)
    while lines and not lines[0].strip():
        lines.pop(0)
    if lines:
        first = lines[0].strip()
        label = _ANSWER_LABEL.match(first)
        if label:
            remainder = first[label.end() :]
            lines[0] = remainder
            if not remainder.strip():
                lines.pop(0)
    return "\n".join(lines).strip("\n").rstrip()
