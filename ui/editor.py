"""Editing the bank as a learner: fix a card, add one, import a Markdown notes file. Everything is
stored as the learner's own overlay in the progress store; the shipped YAML files are never written."""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from qa_bank.schema import Bank, QAItem
from study.own_cards import OWN_ID_PREFIX, OwnCardError, add_item, edit_item, import_items
from study.store import ProgressStore
from ui.state import now, profile


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _card_fields(bank: Bank, key: str, item: QAItem | None = None) -> dict:
    """Question, answer, key points (one per line) and topics, prefilled from `item`."""
    question = st.text_area("Question", item.question if item else "", key=f"{key}-question")
    answer = st.text_area("Answer (Markdown)", item.answer if item else "", height=160, key=f"{key}-answer")
    points = st.text_area("Key points, one per line (2-6)", "\n".join(item.key_points) if item else "", key=f"{key}-points")
    topics = st.multiselect(
        "Topics (1-3)", list(bank.topics), list(item.topics) if item else [], format_func=lambda t: bank.topics[t].name, key=f"{key}-topics"
    )
    return {"question": question, "answer": answer, "key_points": _lines(points), "topics": topics}


def _show_problems(error: OwnCardError) -> None:
    st.error("Not saved:\n" + "\n".join(f"- {problem}" for problem in error.problems))


def render_card_editor(item: QAItem, bank: Bank, store: ProgressStore, key: str) -> None:
    """Edit this card (an overlay of the learner's own); revert an edit, or delete an own card."""
    own = {card.item_id: card for card in store.own_cards(profile())}
    with st.expander("Edit this card", icon=":material/edit:"):
        with st.form(f"{key}-form"):
            changes = _card_fields(bank, key, item)
            saved = st.form_submit_button("Save my version")
        if saved:
            try:
                edit_item(store, bank, item, changes, now(), profile())
                st.rerun()  # the card redraws with the learner's version
            except OwnCardError as error:
                _show_problems(error)
        if item.id in own:
            label = "Delete this card" if item.id.startswith(OWN_ID_PREFIX) else "Revert to the shipped text"
            if st.button(label, key=f"{key}-remove"):
                store.remove_own_card(item.id, profile())
                st.rerun()


def render_new_card_form(bank: Bank, store: ProgressStore) -> None:
    with st.form("new-card", clear_on_submit=False):
        fields = _card_fields(bank, "new-card")
        added = st.form_submit_button("Add card", type="primary")
    if added:
        try:
            item = add_item(store, bank, fields["question"], fields["answer"], fields["key_points"], fields["topics"], now(), profile())
            st.success(f"Added `{item.id}`: it is searchable and scheduled like every other card.")
        except OwnCardError as error:
            _show_problems(error)


def render_import(bank: Bank, store: ProgressStore) -> None:
    """Import a Markdown notes file with the bank's importer; a per-line report of what was skipped."""
    from study.importer import import_markdown

    upload = st.file_uploader("Markdown notes (Q:/A: pairs or the source documents' layouts)", type=["md", "markdown", "txt"])
    if upload is None or not st.button("Import these notes", key="import-go"):
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / Path(upload.name).name
        path.write_bytes(upload.getvalue())
        try:
            result = import_markdown(path, bank.topics)
        except (UnicodeDecodeError, OSError) as error:
            st.error(f"{upload.name}: cannot be read ({error})")
            return
    problems = import_items(store, bank, result.items, now(), profile())
    st.success(f"Imported {len(result.items) - len(problems)} card(s) from {upload.name}.")
    report = [f"{upload.name}:{block.line}: skipped: {block.reason}" for block in result.skipped] + problems
    if report:
        st.code("\n".join(report), language="text")


def render_own_cards(store: ProgressStore) -> None:
    """The learner's cards and edits, newest last, each removable (an edit reverts to the shipped text)."""
    own = store.own_cards(profile())
    if not own:
        st.info("No cards or edits of your own yet. Add one here, or edit a card under Flashcards.")
    for card in own:
        kind = f"edit of `{card.edits}`" if card.edits else "your card"
        left, right = st.columns([5, 1])
        left.markdown(f"**{card.item['question'].splitlines()[0][:90]}**  \n{kind} · saved {card.updated_at:%Y-%m-%d %H:%M} UTC")
        if right.button("Revert" if card.edits else "Delete", key=f"remove-{card.item_id}"):
            store.remove_own_card(card.item_id, profile())
            st.rerun()


def render_anki_export(bank: Bank) -> None:
    """The whole bank as this learner sees it, their own cards included, as an Anki deck."""
    if st.button("Build an Anki deck of the whole bank, your cards included", icon=":material/download:"):
        from study.export import export_anki

        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "viva-drill.apkg"
            export_anki(bank.items, path)
            st.session_state["deck-bytes"] = path.read_bytes()
    if st.session_state.get("deck-bytes"):
        st.download_button("Download viva-drill.apkg", st.session_state["deck-bytes"], "viva-drill.apkg", "application/octet-stream")
