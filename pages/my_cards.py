"""My cards: add a card, import Markdown notes, see and remove the cards and edits of your own,
and take the whole deck (yours included) to Anki."""

import tempfile
from pathlib import Path

import streamlit as st

from ui.editor import render_import, render_new_card_form
from ui.state import get_bank, get_store, profile

bank, store = get_bank(), get_store()
st.title("My cards")
st.caption("Your cards and edits are kept with your progress; the shipped bank files are never changed.")

add_tab, import_tab, mine_tab = st.tabs(["Add a card", "Import notes", "Your cards and edits"])
with add_tab:
    render_new_card_form(bank, store)
with import_tab:
    render_import(bank, store)
with mine_tab:
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

st.subheader("Export")
if st.button("Build an Anki deck of the whole bank, your cards included", icon=":material/download:"):
    from study.export import export_anki

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "viva-drill.apkg"
        export_anki(get_bank().items, path)
        st.session_state["deck-bytes"] = path.read_bytes()
if st.session_state.get("deck-bytes"):
    st.download_button("Download viva-drill.apkg", st.session_state["deck-bytes"], "viva-drill.apkg", "application/octet-stream")
