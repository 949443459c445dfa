"""Turn Markdown Q&A notes into schema-valid bank YAML: source, guessed topics, drafted key points."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from qa_bank.markdown_parser import ParsedBlock, SkippedBlock, parse_markdown
from qa_bank.schema import TYPE_WORDS, Topic
from study.vocabulary import content_words

MAX_KEY_POINT_WORDS = 12


@dataclass
class ImportResult:
    items: list[dict] = field(default_factory=list)
    skipped: list[SkippedBlock] = field(default_factory=list)


def _slug(text: str, words: int = 5) -> str:
    tokens = [t for t in re.findall(r"[a-z0-9]+", text.lower()) if len(t) > 2][:words]
    return "-".join(tokens) or "item"


def guess_topics(question: str, answer: str, topics: dict[str, Topic], limit: int = 2) -> list[str]:
    """Topics whose name and description share the most words with the question (weighted x2) and answer."""
    text_words = content_words(question) * 2 + content_words(answer)
    scores = {}
    for topic in topics.values():
        vocabulary = set(content_words(f"{topic.id} {topic.name} {topic.description}"))
        scores[topic.id] = sum(1 for word in text_words if word in vocabulary)
    ranked = [t for t, s in sorted(scores.items(), key=lambda pair: -pair[1]) if s > 0][:limit]
    return ranked or ["training-loop"]


def draft_key_points(answer: str) -> list[str]:
    """2-6 short phrases from the answer's sentences and bullets, for the learner to edit."""
    text = re.sub(r"```.*?```", " ", answer, flags=re.S)
    text = re.sub(r"[*_`$#>|]", "", text)
    pieces = [p.strip(" -•:;") for p in re.split(r"(?<=[.!?])\s+|\n+|;", text)]
    phrases = []
    for piece in pieces:
        words = piece.split()
        if len(words) >= 2:
            phrases.append(" ".join(words[:MAX_KEY_POINT_WORDS]).rstrip(".,"))
    if len(phrases) < 2:
        words = text.split()
        half = max(1, len(words) // 2)
        phrases = [" ".join(part[:MAX_KEY_POINT_WORDS]).strip(" -•:;.,") for part in (words[:half], words[half:])]
    return [p for p in phrases if p][:6] if len([p for p in phrases if p]) >= 2 else ["see the answer", "key idea"]


def block_to_item(block: ParsedBlock, document: str, prefix: str, ordinal: int, topics: dict[str, Topic]) -> dict:
    types = [w for w in block.type_words if w in TYPE_WORDS] or ["conceptual"]
    source: dict = {"document": document, "number": int(block.number) if block.number else ordinal}
    if block.section:
        source["section"] = block.section
    if block.title:
        source["title"] = block.title
    return {
        "id": f"{prefix}-{ordinal:03d}-{_slug(block.question)}",
        "question": block.question,
        "answer": block.answer,
        "type": types[:3],
        "topics": guess_topics(block.question, block.answer, topics),
        "difficulty": 2,
        "source": source,
        "key_points": draft_key_points(block.answer),
        "notes": "",
        "code_refs": [],
        # An imported note is not checked by code yet; saying so keeps it honest and lint-clean
        # until its author writes a demo or picks another reason.
        "unproved": {"reason": "demo pending", "note": f"imported from {document}; no demo checks it yet"},
    }


def import_markdown(path: Path, topics: dict[str, Topic]) -> ImportResult:
    """Every readable Q&A block of a Markdown file as a bank item dict, and the blocks skipped."""
    text = path.read_text(encoding="utf-8")
    parsed = parse_markdown(text)
    title = next((line[2:].strip() for line in text.splitlines() if line.startswith("# ")), path.stem)
    prefix = _slug(path.stem, 3)
    items = [block_to_item(block, title, prefix, n, topics) for n, block in enumerate(parsed.blocks, start=1)]
    return ImportResult(items, parsed.skipped)


class _LiteralDumper(yaml.SafeDumper):
    pass


_LiteralDumper.add_representer(
    str, lambda dumper, data: dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|" if "\n" in data else None)
)


def write_items_yaml(items: list[dict], out: Path) -> None:
    out.write_text(yaml.dump({"items": items}, Dumper=_LiteralDumper, sort_keys=False, allow_unicode=True, width=100), encoding="utf-8")
