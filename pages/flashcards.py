"""Flashcards: question, reveal, rate Again/Hard/Good/Easy with each button's next interval, undo
the last rating, a summary when the session ends; suspend, bury, flag and Card info; the proof
beside the card."""

import time

import streamlit as st

from study.controls import CardMeta
from study.daily import todays_queue
from study.session import ReviewSession
from ui.cards import rating_buttons, render_item_body, render_proof, sidebar_filters
from ui.editor import render_card_editor
from ui.plan import leech_note, render_card_controls, render_card_info
from ui.state import after_flashcard_review, get_bank, get_store, learner_settings, now, profile

bank, store = get_bank(), get_store()
item_filter = sidebar_filters(bank, "cards")
session: ReviewSession = st.session_state.setdefault("review-session", ReviewSession())
st.title("Flashcards")

if session.count and st.button("Undo last rating (Ctrl+Z)", shortcut="Mod+Z", icon=":material/undo:", key="undo"):
    undone = store.undo_last_review(profile())
    if undone is not None:
        session.forget_last()
        st.session_state.update({"card-current": undone.item_id, "card-revealed": False, "card-shown-at": time.time()})
        st.session_state["card-last"] = f"Undid {undone.rating.name} on this card."
        st.rerun()

queue = todays_queue(store, bank.items, profile(), now(), among=item_filter.apply(bank.items))
if not queue.ids:
    if session.count:
        st.success(f"Session done: {session.summary()}")
    else:
        st.success("No card is due with these filters. Widen the filters, or come back later.")
    st.stop()

current = st.session_state.get("card-current")
if current not in queue.ids:
    current = queue.ids[0]
    st.session_state.update({"card-current": current, "card-revealed": False, "card-shown-at": time.time()})
item = bank.by_id()[current]
kind = "new card" if current in queue.new else "final pass before the viva" if current in queue.final_pass else "review"
final = f" · {len(queue.final_pass)} in the final pass" if queue.final_pass else ""
st.caption(f"{len(queue.due)} due · {len(queue.new)} new{final} · {kind}")

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
        moment = now()
        rating = rating_buttons(store.preview(item.id, moment, profile()), moment, key="rate")
        if rating is not None:
            elapsed_ms = int((time.time() - st.session_state.get("card-shown-at", time.time())) * 1000)
            before = store.meta(profile()).get(item.id, CardMeta())
            card, _ = store.record_review(item.id, rating, moment, profile(), duration_ms=elapsed_ms, mode="flashcard")
            session.record(rating, elapsed_ms)
            st.session_state["card-last"] = f"{rating.name}: next review {card.due:%Y-%m-%d %H:%M} UTC"
            st.session_state["card-leech"] = leech_note(before, store.meta(profile())[item.id], learner_settings().leech_threshold)
            st.session_state.pop("card-current", None)
            after_flashcard_review()
            st.rerun()
        render_card_editor(item, bank, store, key=f"edit-{item.id}")
    if render_card_controls(item, store, profile(), now(), key=f"controls-{item.id}"):
        st.session_state.pop("card-current", None)
        st.rerun()
    with st.expander("Card info"):
        render_card_info(item, store, profile(), now())
with proof_col:
    if st.session_state.get("card-revealed"):
        render_proof(item, bank, key=f"card-{item.id}")
if st.session_state.get("card-last"):
    st.caption(f"Saved. {st.session_state['card-last']}")
if leech := st.session_state.pop("card-leech", None):  # once, after the rating that made the leech
    st.warning(leech, icon=":material/bug_report:")
