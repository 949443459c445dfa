"""Progress: reviews per day, retention, stability by topic, the due forecast, leeches and suspended cards."""

from collections import Counter, defaultdict

import streamlit as st
from fsrs import Rating

from study.scheduling import due_forecast
from ui.charts import plotly_go
from ui.plan import render_leeches
from ui.state import get_bank, get_store, now, profile

go = plotly_go()

bank, store = get_bank(), get_store()
st.title("Progress")
reviews, cards = store.reviews(profile()), store.cards(profile())
if not reviews:
    st.info("No reviews yet: rate a few flashcards and your charts appear here.")
    render_leeches(bank, store, profile(), now())
    st.stop()

per_day = Counter(r.reviewed_at.date() for r in reviews)
recalled = defaultdict(list)
for review in reviews:
    recalled[review.reviewed_at.date()].append(review.rating != Rating.Again)
days = sorted(per_day)
left, right = st.columns(2)
figure = go.Figure(go.Bar(x=days, y=[per_day[d] for d in days]))
figure.update_layout(title="Reviews per day", height=300)
left.plotly_chart(figure, width="stretch")
figure = go.Figure(go.Scatter(x=days, y=[sum(recalled[d]) / len(recalled[d]) for d in days], mode="lines+markers"))
figure.update_layout(title="Retention (share not rated Again)", yaxis_range=[0, 1], height=300)
right.plotly_chart(figure, width="stretch")

stability = defaultdict(list)
by_id = bank.by_id()
for item_id, card in cards.items():
    if item_id in by_id and card.stability:
        for topic in by_id[item_id].topics:
            stability[topic].append(card.stability)
left, right = st.columns(2)
if stability:
    topics = sorted(stability, key=lambda t: -sum(stability[t]) / len(stability[t]))
    figure = go.Figure(go.Bar(x=[bank.topics[t].name for t in topics], y=[sum(stability[t]) / len(stability[t]) for t in topics]))
    figure.update_layout(title="Mean stability by topic (days)", height=320)
    left.plotly_chart(figure, width="stretch")
forecast = due_forecast(cards, now(), days=14)
figure = go.Figure(go.Bar(x=[f"+{d}d" for d in range(14)], y=forecast))
figure.update_layout(title="Due forecast (next 14 days)", height=320)
right.plotly_chart(figure, width="stretch")

practice = [r for r in reviews if r.mode in ("exercise", "drill")]
if practice:
    st.subheader("Coding exercises and drills")
    rows = {}
    for review in practice:
        kind, _, name = review.item_id.partition(":")
        row = rows.setdefault(review.item_id, {"kind": kind, "name": name, "attempts": 0, "right": 0})
        row["attempts"] += 1
        row["right"] += review.rating != Rating.Again
    table = ["| kind | exercise or family | attempts | not rated Again |", "| --- | --- | ---: | ---: |"]
    table += [f"| {r['kind']} | {r['name']} | {r['attempts']} | {r['right']} |" for r in rows.values()]
    st.markdown("\n".join(table))

render_leeches(bank, store, profile(), now())
