"""Search: one box, facets, results that open their card."""

import streamlit as st

from study.filters import ItemFilter
from ui.cards import proof_filter, render_item_body, render_proof
from ui.state import get_bank, get_index

bank, index = get_bank(), get_index()
st.title("Search")
query = st.text_input(
    "Search questions, answers, topics and key points", placeholder="e.g. BN eval, gradiant clipping, LR finder", key="search-query"
)
with st.sidebar:
    topics = st.multiselect("Topic", list(bank.topics), format_func=lambda t: bank.topics[t].name, key="search-topics")
    types = st.multiselect("Type", sorted({t for i in bank.items for t in i.type}), key="search-types")
    sources = st.multiselect("Source", sorted({i.source.document for i in bank.items}), key="search-sources")
    has_demo, unproved_reason = proof_filter("search-proof")
item_filter = ItemFilter(tuple(topics), tuple(sources), tuple(types), (), has_demo, unproved_reason)
if not query.strip():
    st.caption("Abbreviations work (BN, LR, GAP, AMP, DDP, ECE, TTA) and so do typos.")
    st.stop()
hits = index.search(query, top_k=20, item_filter=item_filter)
st.caption(f"{len(hits)} result(s)")
by_id = bank.by_id()
for hit in hits:
    item = by_id[hit.id]
    with st.expander(f"{item.question.splitlines()[0]}  ·  {hit.score:.1f}"):
        render_item_body(item, bank)
        if st.toggle("Show the proof (demo, code, related)", key=f"search-proof-{hit.id}"):
            render_proof(item, bank, key=f"search-{hit.id}")
