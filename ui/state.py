"""Session state in one place: the cached bank and search index, the clock, the learner's profile
and their progress store. Heavy modules (torch) are never imported here."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

import streamlit as st

from qa_bank.loader import BankError, load_bank
from qa_bank.schema import Bank
from study.learner import LearnerSettings
from study.own_cards import apply_overlay
from study.search import SearchIndex
from study.store import DEFAULT_PROFILE, ProgressStore, StoreError


def hosted() -> bool:
    """HOSTED=1: a shared deployment; editing code, custom data paths and long training are off."""
    return os.environ.get("HOSTED", "") == "1"


def now() -> datetime:
    return datetime.now(UTC)


def start_of_today() -> datetime:
    return now().replace(hour=0, minute=0, second=0, microsecond=0)


@st.cache_resource(show_spinner=False)
def _cached_bank() -> Bank:
    return load_bank()


def shipped_bank() -> Bank:
    """The bank as shipped, loaded once per server process; a broken bank stops the page."""
    try:
        return _cached_bank()
    except BankError as error:
        shown = "\n".join(f"- `{problem}`" for problem in error.problems[:20])
        st.error(f"The Q&A bank has {len(error.problems)} problem(s); run `python -m qa_bank lint`.\n\n{shown}")
        st.stop()
        raise  # unreachable: st.stop() ends the script run


def get_bank() -> Bank:
    """The bank as this learner sees it: the shipped items with their own edits and cards."""
    return apply_overlay(shipped_bank(), get_store().own_cards(profile()))


@st.cache_resource(show_spinner=False)
def _shipped_index() -> SearchIndex:
    return SearchIndex.from_bank(shipped_bank())


def get_index() -> SearchIndex:
    """The search index of get_bank(): the shared one, or this learner's own while they have own
    cards, rebuilt only when one changes (218 items index in a few ms)."""
    own = get_store().own_cards(profile())
    if not own:
        return _shipped_index()
    signature = tuple((card.item_id, card.updated_at) for card in own)
    cached = st.session_state.get("_own-index")
    if cached is None or cached[0] != signature:
        cached = (signature, SearchIndex.from_bank(apply_overlay(shipped_bank(), own)))
        st.session_state["_own-index"] = cached
    return cached[1]


def profile() -> str:
    """The learner's profile. Hosted: the signed-in user or the holder of a resume link, never a
    name from session state (see ui.identity); locally the chosen profile."""
    if hosted():
        from ui.identity import hosted_profile

        st.session_state["profile"] = hosted_profile(get_store())
        return st.session_state["profile"]
    return st.session_state.setdefault("profile", DEFAULT_PROFILE)


def get_store() -> ProgressStore:
    """This session's progress store (one SQLite connection per browser session)."""
    store = st.session_state.get("store")
    if store is None:
        try:
            store = ProgressStore()
        except StoreError as error:
            st.error(f"Progress cannot be saved: {error}")
            st.stop()
        st.session_state["store"] = store
        if store.recovery_message:
            st.session_state["store_warning"] = store.recovery_message
    if st.session_state.get("store_warning"):
        st.warning(st.session_state["store_warning"], icon=":material/warning:")
    return store


def learner_settings() -> LearnerSettings:
    """This learner's stored settings; a broken settings row stops the page with its one line."""
    try:
        return get_store().settings(profile())
    except StoreError as error:
        st.error(str(error))
        st.stop()
        raise  # unreachable: st.stop() ends the script run


def started(key: str) -> None:
    """Note when something to review (a card, a quiz question, an exercise, a drill) was first shown."""
    st.session_state.setdefault(f"_started-{key}", time.time())


def elapsed_ms(key: str) -> int | None:
    """Milliseconds since started(key), and forget it: the review's duration, stored with it."""
    start = st.session_state.pop(f"_started-{key}", None)
    return None if start is None else max(0, int((time.time() - start) * 1000))


def refit_pool():
    """The server's refit processes (study.refits); a bad VIVA_MAX_REFITS stops the page with its line."""
    from study.refits import pool

    try:
        return pool()
    except ValueError as error:
        st.error(str(error))
        st.stop()
        raise  # unreachable: st.stop() ends the script run


def after_flashcard_review() -> None:
    """Every N flashcard reviews the learner's FSRS parameters are refitted, in a separate process
    (queued while the server already runs its limit of them; not again for a while after one failed)."""
    from study.fit import refit_due

    store = get_store()
    if refit_due(store, profile()):
        refit_pool().request(store.target, profile(), automatic=True)
