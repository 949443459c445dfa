"""My cards: add a card, import Markdown notes, see and remove the cards and edits of your own,
and take the whole deck (yours included) to Anki."""

import streamlit as st

from ui.editor import render_anki_export, render_import, render_new_card_form, render_own_cards
from ui.state import get_bank, get_store

bank, store = get_bank(), get_store()
st.title("My cards")
st.caption("Your cards and edits are kept with your progress; the shipped bank files are never changed.")

add_tab, import_tab, mine_tab = st.tabs(["Add a card", "Import notes", "Your cards and edits"])
with add_tab:
    render_new_card_form(bank, store)
with import_tab:
    render_import(bank, store)
with mine_tab:
    render_own_cards(store)
st.subheader("Export")
render_anki_export(bank)
