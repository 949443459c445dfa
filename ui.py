"""Shared view pieces for the Streamlit pages: cached bank, store and index, the sidebar, the card
view, the demo panel and the code viewer. Heavy modules (torch) are imported inside the functions
that need them, so a page that only shows cards never loads torch."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import streamlit as st

from qa_bank.loader import BankError, load_bank
from qa_bank.schema import Bank, QAItem
from study.filters import ItemFilter
from study.search import SearchIndex
from study.store import DEFAULT_PROFILE, ProgressStore, StoreError

RATING_BUTTONS = (("Again", "1"), ("Hard", "2"), ("Good", "3"), ("Easy", "4"))


def hosted() -> bool:
    """HOSTED=1: a shared deployment; editing code, custom data paths and long training are off."""
    return os.environ.get("HOSTED", "") == "1"


def now() -> datetime:
    return datetime.now(UTC)


def start_of_today() -> datetime:
    current = now()
    return current.replace(hour=0, minute=0, second=0, microsecond=0)


# ---------------------------------------------------------------------------------------------
# Cached data
# ---------------------------------------------------------------------------------------------


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


@st.cache_resource(show_spinner=False)
def get_index() -> SearchIndex:
    return SearchIndex.from_bank(get_bank())


def profile() -> str:
    """The learner's profile. Hosted: a random one bound to this browser session, never chosen by
    name, so one learner cannot open (read or change) another's progress."""
    if hosted():
        if "profile" not in st.session_state or not st.session_state["profile"].startswith("hosted-"):
            import secrets

            st.session_state["profile"] = f"hosted-{secrets.token_hex(8)}"
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


# ---------------------------------------------------------------------------------------------
# Sidebar
# ---------------------------------------------------------------------------------------------


def sidebar_filters(bank: Bank, key: str) -> ItemFilter:
    """Topic, source, type and difficulty filters, drawn once in the sidebar of a page."""
    with st.sidebar:
        st.caption(f"Profile: **{profile()}**")
        topics = st.multiselect("Topics", list(bank.topics), format_func=lambda t: bank.topics[t].name, key=f"{key}-topics")
        sources = st.multiselect("Source documents", sorted({i.source.document for i in bank.items}), key=f"{key}-sources")
        types = st.multiselect("Type", sorted({t for i in bank.items for t in i.type}), key=f"{key}-types")
        difficulties = st.multiselect("Difficulty", [1, 2, 3], key=f"{key}-difficulty")
        demo_only = st.checkbox("Only items with a demo", key=f"{key}-demo")
    return ItemFilter(tuple(topics), tuple(sources), tuple(types), tuple(difficulties), True if demo_only else None)


# ---------------------------------------------------------------------------------------------
# Cards
# ---------------------------------------------------------------------------------------------


def render_item_body(item: QAItem, bank: Bank) -> None:
    """Answer, key points, correction note, source and links of one item.

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


_POINT_LOOK = {  # status -> (icon, label) for a key point in graded feedback
    "matched": (":material/check_circle:", "Matched"),
    "partial": (":material/adjust:", "Partly"),
    "missed": (":material/radio_button_unchecked:", "Missed"),
    "contradicted": (":material/cancel:", "Contradicted"),
}


def render_grade_feedback(result) -> None:
    """Each key point as matched, partly stated, missed or contradicted, with the learner's own
    clause that decided it; then each misconception the answer states, with its correction."""
    for point in result.points:
        icon, label = _POINT_LOOK[point.status.value]
        said = f" · you said: “{point.clause}”" if point.clause else ""
        line = f"{icon} **{label}:** {point.point}{said}"
        if point.status.value == "contradicted":
            st.error(line)
        elif point.status.value == "matched":
            st.success(line)
        else:
            st.markdown(line)
    for hit in result.misconceptions:
        st.warning(f":material/report: **Misconception:** “{hit.clause}” states that {hit.belief}.  \n**Correction:** {hit.correction}")


def render_proof(item: QAItem, bank: Bank, key: str) -> None:
    """Beside a card: its demo, the code it points at, and related cards."""
    if item.demo:
        render_demo_panel(item.demo, key=f"{key}-demo")
    if item.code_refs and st.toggle("Show the code this answer points at", key=f"{key}-code"):
        for ref in item.code_refs:
            render_code_ref(ref)
    related = related_cards(item, bank)
    if related:
        st.markdown("**Related cards:** " + " · ".join(r.question.splitlines()[0][:60] for r in related))


def related_cards(item: QAItem, bank: Bank, limit: int = 3) -> list[QAItem]:
    from study.viva import related_items

    return related_items(item, bank.items, limit)


def render_code_ref(ref: str) -> None:
    """The source of `module:name` with its file line numbers."""
    import inspect

    from qa_bank.links import resolve_code_ref

    try:
        target = resolve_code_ref(ref)
        lines, first = inspect.getsourcelines(target)
        path = inspect.getsourcefile(target)
    except (LookupError, TypeError, OSError) as error:
        st.info(f"`{ref}`: source not available ({error})")
        return
    st.caption(f"`{ref}` · {os.path.relpath(path)} lines {first}-{first + len(lines) - 1}")
    st.code("".join(f"{first + i:4d}  {line}" for i, line in enumerate(lines)), language="python")


# ---------------------------------------------------------------------------------------------
# Demos
# ---------------------------------------------------------------------------------------------


def _param_widget(param, key: str):
    label = param.name.replace("_", " ")
    if isinstance(param.default, bool):
        return st.checkbox(label, value=param.default, key=key, help=param.help or None)
    if param.choices:
        return st.selectbox(label, param.choices, index=param.choices.index(param.default), key=key)
    if isinstance(param.default, int):
        return st.number_input(label, min_value=int(param.low), max_value=int(param.high), value=param.default, step=1, key=key)
    return st.number_input(label, min_value=float(param.low), max_value=float(param.high), value=float(param.default), key=key, format="%g")


def render_demo_panel(demo_id: str, key: str) -> None:
    """Parameter widgets, a Run button, the checks as passed or failed, figures, tables and the source."""
    from cifar_core.demos import get_demo
    from cifar_core.demos.registry import run

    demo = get_demo(demo_id)
    with st.container(border=True):
        st.markdown(f"**Demo: {demo.title}**  \n{demo.claim}")
        values = {p.name: _param_widget(p, f"{key}-{p.name}") for p in demo.params}
        if st.button("Run demo", key=f"{key}-run", icon=":material/play_arrow:"):
            try:
                st.session_state[f"{key}-result"] = run(demo, values)
            except ValueError as error:
                st.error(str(error))
        outcome = st.session_state.get(f"{key}-result")
        if outcome is not None and outcome.id == demo_id:
            _show_demo_outcome(outcome)
        with st.expander("Snippet (the demo's own code)"):
            st.code(demo.source, language="python")
        render_edit_and_run(demo, key)


def render_edit_and_run(demo, key: str) -> None:
    """Edit the demo's snippet and run it in a separate, time- and memory-limited process."""
    from cifar_core.sandbox import DEFAULT_TIMEOUT_S, demo_snippet, run_snippet

    if hosted():
        st.caption("Editing and running code is off on this shared deployment.")
        return
    if not st.toggle("Edit and run this snippet", key=f"{key}-edit"):
        return
    code = st.text_area("Snippet", demo_snippet(demo), height=300, key=f"{key}-code")
    if st.button("Run edited snippet", key=f"{key}-run-edited", icon=":material/terminal:"):
        with st.spinner(f"Running in a separate process (limit {DEFAULT_TIMEOUT_S:.0f} s)..."):
            st.session_state[f"{key}-snippet"] = run_snippet(code)
    outcome = st.session_state.get(f"{key}-snippet")
    if outcome is None:
        return
    if outcome.reason == "timeout":
        st.error(f"Stopped after {outcome.seconds_limit:.0f} s: the snippet ran too long.")
    elif outcome.reason == "memory":
        st.error("Stopped: the snippet used more memory than allowed.")
    elif outcome.reason == "error":
        st.error("The snippet raised an error:")
    if outcome.stdout:
        st.code(outcome.stdout, language="text")
    if outcome.stderr and not outcome.ok:
        st.code(outcome.stderr[-3000:], language="text")
    for figure in outcome.figures:
        st.image(figure)


def _show_demo_outcome(outcome) -> None:
    if outcome.skipped:
        st.info(f"Skipped: {outcome.skipped}")
        return
    for check in outcome.result.checks:
        measured = ", ".join(f"{k} = {v:.4g}" if isinstance(v, float) else f"{k} = {v}" for k, v in check.measured.items())
        name = check.name.replace("*", "\\*")  # "128*4*4" must not turn into italics
        (st.success if check.passed else st.error)(f"{'Passed' if check.passed else 'Failed'}: {name}  \n{measured}")
    for line in outcome.result.text:
        st.caption(line)
    for table in outcome.result.tables:
        st.dataframe(table, hide_index=True)
    for figure in outcome.result.figures:
        st.plotly_chart(figure, width="stretch")
    if outcome.result.images:
        columns = st.columns(len(outcome.result.images))
        for column, image in zip(columns, outcome.result.images, strict=True):
            column.image(image, width=128)
    st.caption(f"{outcome.seconds:.3f} s")
