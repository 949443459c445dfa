"""Export items to an Anki deck (genanki) or CSV."""

from __future__ import annotations

import csv
import html
import re
from pathlib import Path

import genanki

from qa_bank.schema import QAItem

# Fixed ids: Anki matches decks and note types by id, so re-imports update instead of duplicating.
ANKI_MODEL_ID = 1_607_392_319
ANKI_DECK_ID = 2_059_400_110
_CARD_CSS = ".card { font-family: sans-serif; font-size: 18px; } pre { text-align: left; background: #f4f4f4; padding: 6px; }"
ANKI_MODEL = genanki.Model(
    ANKI_MODEL_ID,
    "Viva drill Q&A",
    fields=[{"name": "Question"}, {"name": "Answer"}, {"name": "KeyPoints"}, {"name": "Notes"}, {"name": "Source"}],
    templates=[
        {
            "name": "Card 1",
            "qfmt": "{{Question}}",
            "afmt": '{{FrontSide}}<hr id="answer">{{Answer}}<p><b>Key points:</b> {{KeyPoints}}</p>'
            "{{#Notes}}<p><i>Correction:</i> {{Notes}}</p>{{/Notes}}<p><small>{{Source}}</small></p>",
        }
    ],
    css=_CARD_CSS,
)


def markdown_to_anki_html(text: str) -> str:
    """Just enough Markdown for Anki: code blocks, inline code, bold, line breaks; LaTeX as MathJax.

    Text is HTML-escaped first, so tags in bank text show as text in Anki too.
    """
    blocks = re.split(r"```[a-zA-Z]*\n(.*?)```", text, flags=re.S)
    out = []
    for position, block in enumerate(blocks):
        if position % 2 == 1:
            out.append(f"<pre><code>{html.escape(block)}</code></pre>")
            continue
        part = html.escape(block, quote=False)
        part = re.sub(r"\$\$(.+?)\$\$", r"\\[\1\\]", part, flags=re.S)
        part = re.sub(r"\$(.+?)\$", r"\\(\1\\)", part)
        part = re.sub(r"`([^`]+)`", r"<code>\1</code>", part)
        part = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", part)
        out.append(part.replace("\n", "<br>"))
    return "".join(out)


def _tag(topic: str) -> str:
    return re.sub(r"\s+", "_", topic)


def build_deck(items: list[QAItem], deck_name: str = "Viva drill") -> genanki.Deck:
    deck = genanki.Deck(ANKI_DECK_ID, deck_name)
    for item in items:
        fields = [
            markdown_to_anki_html(item.question),
            markdown_to_anki_html(item.answer),
            html.escape("; ".join(item.key_points)),
            markdown_to_anki_html(item.notes),
            html.escape(item.source.label()),
        ]
        # The GUID comes from the item id alone, so exporting again updates the same notes.
        deck.add_note(genanki.Note(model=ANKI_MODEL, fields=fields, guid=genanki.guid_for(item.id), tags=[_tag(t) for t in item.topics]))
    return deck


def export_anki(items: list[QAItem], out: Path, deck_name: str = "Viva drill") -> None:
    genanki.Package(build_deck(items, deck_name)).write_to_file(str(out))


CSV_COLUMNS = ("id", "question", "answer", "key_points", "topics", "type", "difficulty", "source", "notes", "code_refs", "demo")


def export_csv(items: list[QAItem], out: Path) -> None:
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for item in items:
            writer.writerow(
                [
                    item.id, item.question, item.answer, "; ".join(item.key_points), ", ".join(item.topics), "/".join(item.type),
                    item.difficulty, item.source.label(), item.notes, ", ".join(item.code_refs), item.demo or "",
                ]
            )  # fmt: skip
