"""Browse: every item of the bank, grouped by topic or by source document, with filters."""

import streamlit as st

from study.filters import ItemFilter
from ui.cards import proof_filter, render_item_body
from ui.state import get_bank

bank = get_bank()
st.title("Browse the bank")

with st.sidebar:
    group_by = st.radio("Group by", ["Topic", "Source document"], horizontal=True)
    chosen_topics = st.multiselect("Topics", list(bank.topics), format_func=lambda t: bank.topics[t].name)
    documents = sorted({item.source.document for item in bank.items})
    chosen_documents = st.multiselect("Source documents", documents)
    only_notes = st.checkbox("Only items with a correction note")
    has_demo, unproved_reason = proof_filter("browse-proof")
    contains = st.text_input("Question contains", placeholder="e.g. BatchNorm")

proof = ItemFilter(has_demo=has_demo, unproved_reason=unproved_reason)
items = [
    item
    for item in bank.items
    if proof.accepts(item)
    and (not chosen_topics or set(item.topics) & set(chosen_topics))
    and (not chosen_documents or item.source.document in chosen_documents)
    and (not only_notes or item.notes)
    and (not contains or contains.lower() in item.question.lower())
]
st.caption(f"{len(items)} of {len(bank.items)} items")

groups: dict[str, list] = {}
for item in items:
    keys = [bank.topics[item.topics[0]].name] if group_by == "Topic" else [item.source.document]
    for key in keys:
        groups.setdefault(key, []).append(item)

for heading, members in groups.items():
    st.subheader(f"{heading} ({len(members)})")
    for item in members:
        with st.expander(item.question.splitlines()[0]):
            render_item_body(item, bank)
