"""Demo panels: parameter widgets, Run, the checks with their measured values, and Edit and run
(the snippet in a separate, limited process)."""

from __future__ import annotations

import streamlit as st


def _param_widget(param, key: str):
    label = param.name.replace("_", " ")
    if isinstance(param.default, bool):
        return st.checkbox(label, value=param.default, key=key, help=param.help or None)
    if param.choices:
        return st.selectbox(label, param.choices, index=param.choices.index(param.default), key=key)
    if isinstance(param.default, int):
        return st.number_input(label, min_value=int(param.low), max_value=int(param.high), value=param.default, step=1, key=key)
    return st.number_input(label, min_value=float(param.low), max_value=float(param.high), value=float(param.default), key=key, format="%g")


def render_demo_panel(demo_id: str, key: str, claim_check: str | None = None) -> None:
    """Parameter widgets, a Run button, the checks as passed or failed, figures, tables and the source.

    claim_check: the check that proves the card beside the panel; it is shown first, as the claim
    check, and the demo's other checks as side checks."""
    from proofs.catalogue import get_demo
    from proofs.registry import run

    demo = get_demo(demo_id)
    with st.container(border=True):
        st.markdown(f"**Demo: {demo.title}**  \n{demo.claim}")
        values = {p.name: _param_widget(p, f"{key}-{p.name}") for p in demo.params}
        if st.button("Run demo", key=f"{key}-run", icon=":material/play_arrow:"):
            try:
                st.session_state[f"{key}-result"] = run(demo, values)
                if values == {p.name: p.default for p in demo.params}:  # a verdict is on the claim as stated
                    _remember_verdict(st.session_state[f"{key}-result"])
            except ValueError as error:
                st.error(str(error))
        outcome = st.session_state.get(f"{key}-result")
        if outcome is not None and outcome.id == demo_id:
            _show_demo_outcome(outcome, claim_check)
        with st.expander("Snippet (the demo's own code)"):
            st.code(demo.source, language="python")
        render_edit_and_run(demo, key)


def _verdict_key(demo_id: str) -> str:
    return f"demo-verdict-{demo_id}"


def _remember_verdict(outcome) -> None:
    """Keep a run's verdict for the session, so every card citing the demo can show it."""
    st.session_state[_verdict_key(outcome.id)] = outcome


def render_claim_verdict(demo_id: str, claim_check: str, key: str, checks_note: bool = False) -> None:
    """Beside an answer: the check that proves it, with the values it measured, from this session's
    run of the demo or from a run started here (torch loads only when the learner asks).

    checks_note: the answer is wrong and the claim check proves the correction note instead."""
    outcome = st.session_state.get(_verdict_key(demo_id))
    what = "the correction note" if checks_note else "this answer"
    if outcome is None:
        st.caption(f"Claim check for {what}: {_md(claim_check)} (demo `{demo_id}`)")
        if not st.button("Run the claim check", key=f"{key}-check", icon=":material/science:"):
            return
    from proofs.catalogue import get_demo
    from proofs.registry import run

    demo = get_demo(demo_id)
    if outcome is None:
        outcome = run(demo)
        _remember_verdict(outcome)
    check = None if outcome.skipped else outcome.named(claim_check)
    if check is None:
        why = outcome.skipped or f"the demo reports no check named {_md(claim_check)}"
        st.info(f"Claim check {_md(claim_check)} cannot be shown: {why}", icon=":material/block:")
        return
    verdict = "passed" if check.passed else "failed"
    body = f"Claim check {verdict}: {_md(check.name)}  \n{_measured(check)}  \n"
    body += f"Demo `{demo_id}` checks {what}; this check fails when the demo makes the mistake: {_md(demo.mistake)}"
    (st.success if check.passed else st.error)(body, icon=":material/verified:" if check.passed else ":material/error:")


def render_edit_and_run(demo, key: str) -> None:
    """Edit the demo's snippet and run it in a separate, contained process (sandbox/)."""
    from sandbox.bwrap import containment, learner_code_allowed
    from sandbox.snippets import DEFAULT_TIMEOUT_S, demo_snippet, run_snippet

    allowed, why_not = learner_code_allowed()
    if not allowed:
        st.caption(f"Editing and running code is off on this shared deployment: {why_not}.")
        return
    if not st.toggle("Edit and run this snippet", key=f"{key}-edit"):
        return
    st.caption(f"Runs in {containment()}.")
    from ui.code_editor import code_input

    code, ctrl_enter = code_input("Snippet", demo_snippet(demo), f"{key}-code", lines=(12, 30))
    if st.button("Run edited snippet", key=f"{key}-run-edited", icon=":material/terminal:") or ctrl_enter:
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


def _md(text: str) -> str:
    return text.replace("*", "\\*")  # "128*4*4" must not turn into italics


def _measured(check) -> str:
    return ", ".join(f"{k} = {v:.4g}" if isinstance(v, float) else f"{k} = {v}" for k, v in check.measured.items())


def _show_demo_outcome(outcome, claim_check: str | None = None) -> None:
    if outcome.skipped:
        st.info(f"Skipped: {outcome.skipped}")
        return
    # The card's own claim check first: it is the one whose failure would refute the card.
    checks = sorted(outcome.result.checks, key=lambda c: c.name != claim_check)
    for check in checks:
        role = "" if claim_check is None else ("Claim check " if check.name == claim_check else "Side check ")
        verdict = "passed" if check.passed else "failed"
        label = f"{role}{verdict}" if role else verdict.capitalize()
        (st.success if check.passed else st.error)(f"{label}: {_md(check.name)}  \n{_measured(check)}")
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
