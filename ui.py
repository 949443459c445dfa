"""Shared view pieces for the Streamlit pages: cached bank access and item rendering."""

from __future__ import annotations

import streamlit as st

from qa_bank.loader import BankError, load_bank
from qa_bank.schema import Bank, QAItem


@st.cache_resource(show_spinner=False)
def _cached_bank() -> Bank:
    return load_bank()


def get_bank() -> Bank:
    """The bank, loaded once per server process; a broken bank stops the page with its problems."""
    try:
        return _cached_bank()
    except BankError as error:
        shown = "\n".join(f"- `{problem}`" for problem in error.problems[:20])
        st.error(f"The Q&A bank has {len(error.problems)} problem(s); run `python -m qa_bank lint`.\n\n{shown}")
        st.stop()
        raise  # unreachable: st.stop() ends the script run


def render_item_body(item: QAItem, bank: Bank) -> None:
    """Answer, key points, correction note, source and code links of one item.

    Bank text goes through st.markdown without unsafe_allow_html, so any HTML in it shows as text.
    """
    st.markdown(item.answer)
    st.markdown("**Key points:** " + " · ".join(item.key_points))
    if item.notes:
        st.warning(item.notes, icon=":material/edit_note:")
    topic_names = [bank.topics[t].name for t in item.topics if t in bank.topics]
    st.caption(f"{item.source.label()} · {', '.join(topic_names)} · {'/'.join(item.type)} · difficulty {item.difficulty}")
    if item.code_refs:
        st.caption("Code: " + ", ".join(f"`{ref}`" for ref in item.code_refs))
    if item.demo:
        st.caption(f"Demo: `{item.demo}`")
