"""Flashcards: question, reveal, rate Again/Hard/Good/Easy; the proof beside the card."""

import time

import streamlit as st
from fsrs import Rating

from study.scheduling import build_queue
from ui import RATING_BUTTONS, get_bank, get_store, now, profile, render_item_body, render_proof, sidebar_filters, start_of_today

bank, store = get_bank(), get_store()
item_filter = sidebar_filters(bank, "cards")
st.title("Flashcards")

items = item_filter.apply(bank.items)
queue = build_queue(
    items, store.cards(profile()), now(), st.session_state.get("new_limit", 20), store.new_items_since(start_of_today(), profile())
)
if not queue.ids:
    st.success("No card is due with these filters. Widen the filters, or come back later.")
    st.stop()

current = st.session_state.get("card-current")
if current not in queue.ids:
    current = queue.ids[0]
    st.session_state["card-current"] = current
    st.session_state["card-revealed"] = False
    st.session_state["card-shown-at"] = time.time()
item = bank.by_id()[current]
st.caption(f"{len(queue.due)} due · {len(queue.new)} new · {'new card' if current in queue.new else 'review'}")

card_col, proof_col = st.columns([3, 2])
with card_col:
    st.markdown(f"### {item.question}")
    if not st.session_state.get("card-revealed"):
        if st.button("Reveal answer (Space)", type="primary", shortcut="Space", key="reveal"):
            st.session_state["card-revealed"] = True
            st.rerun()
    else:
        render_item_body(item, bank)
        st.markdown("**How well did you know it?**")
        for column, (name, key) in zip(st.columns(4), RATING_BUTTONS, strict=True):
            if column.button(f"{name} ({key})", key=f"rate-{name}", shortcut=key, width="stretch"):
                elapsed_ms = int((time.time() - st.session_state.get("card-shown-at", time.time())) * 1000)
                card, _ = store.record_review(item.id, Rating[name], now(), profile(), duration_ms=elapsed_ms, mode="flashcard")
                st.session_state["card-last"] = f"{name}: next review {card.due:%Y-%m-%d %H:%M} UTC"
                st.session_state.pop("card-current", None)
                st.rerun()
with proof_col:
    if st.session_state.get("card-revealed"):
        render_proof(item, bank, key=f"card-{item.id}")
if st.session_state.get("card-last"):
    st.caption(f"Saved. {st.session_state['card-last']}")
