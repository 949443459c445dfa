"""Today: what is due per topic, the streak, the viva plan, and one button to start."""

from collections import Counter
from datetime import timedelta

import streamlit as st

from study.daily import todays_queue
from ui.plan import render_viva_panel
from ui.state import get_bank, get_store, learner_settings, now, profile, start_of_today

bank, store, moment = get_bank(), get_store(), now()
cards = store.cards(profile())
queue = todays_queue(store, bank.items, profile(), moment)
reviews = store.reviews(profile())

st.title("Today")
review_days = {r.reviewed_at.date() for r in reviews}
streak, day = 0, start_of_today().date()
if day not in review_days:
    day -= timedelta(days=1)  # today not studied yet: the streak so far still counts
while day in review_days:
    streak, day = streak + 1, day - timedelta(days=1)

due_col, new_col, streak_col, seen_col = st.columns(4)
due_col.metric(
    "Due now",
    len(queue.due) + len(queue.final_pass),
    help=f"{len(queue.final_pass)} of them in the final pass" if queue.final_pass else None,
)
new_col.metric("New today", len(queue.new))
streak_col.metric("Streak (days)", streak)
seen_col.metric("Cards studied", f"{len(cards)} / {len(bank.items)}")

exercise_cards, drill_cards = store.cards(profile(), kind="exercise"), store.cards(profile(), kind="drill")
exercise_col, drill_col, _, _ = st.columns(4)
exercise_col.metric("Exercises due", sum(c.due <= moment for c in exercise_cards.values()), help=f"{len(exercise_cards)} practised so far")
drill_col.metric("Drill families due", sum(c.due <= moment for c in drill_cards.values()), help=f"{len(drill_cards)} practised so far")

if queue.ids:
    if st.button("Start today's review", type="primary", icon=":material/play_arrow:", shortcut="Enter"):
        st.switch_page("pages/flashcards.py")
else:
    st.success("Nothing due. Come back tomorrow, or try the quiz or a mock viva.")

render_viva_panel(bank, store, profile(), moment, learner_settings())

by_id = bank.by_id()
due_topics = Counter(t for i in queue.due + queue.final_pass for t in by_id[i].topics)
new_topics = Counter(t for i in queue.new for t in by_id[i].topics)
rows = [
    {"topic": bank.topics[t].name, "due": due_topics.get(t, 0), "new": new_topics.get(t, 0)}
    for t in bank.topics
    if due_topics.get(t) or new_topics.get(t)
]
if rows:
    # A Markdown table: st.dataframe would import pandas and pyarrow, about a second at start-up.
    table = ["| topic | due | new |", "| --- | ---: | ---: |"] + [f"| {r['topic']} | {r['due']} | {r['new']} |" for r in rows]
    st.markdown("\n".join(table))
