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


def render_demo_panel(demo_id: str, key: str) -> None:
    """Parameter widgets, a Run button, the checks as passed or failed, figures, tables and the source."""
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
            _show_demo_outcome(outcome)
        with st.expander("Snippet (the demo's own code)"):
            st.code(demo.source, language="python")
        render_edit_and_run(demo, key)


def _verdict_key(demo_id: str) -> str:
    return f"demo-verdict-{demo_id}"


def _remember_verdict(outcome) -> None:
    """Keep a run's verdict for the session, so every card citing the demo can show it."""
    st.session_state[_verdict_key(outcome.id)] = outcome


def render_note_verdict(demo_id: str, key: str) -> None:
    """Next to a correction note: the verdict of the demo that checks it, from this session's run
    or from a run started here (torch loads only when the learner asks)."""
    outcome = st.session_state.get(_verdict_key(demo_id))
    if outcome is None:
        if not st.button(f"Check this note: run demo {demo_id}", key=f"{key}-check", icon=":material/science:"):
            return
        from proofs.catalogue import get_demo
        from proofs.registry import run

        outcome = run(get_demo(demo_id))
        _remember_verdict(outcome)
    if outcome.skipped:
        st.info(f"Demo `{demo_id}` cannot run here: {outcome.skipped}", icon=":material/block:")
    elif outcome.passed:
        st.success(f"Demo `{demo_id}` passed all {len(outcome.result.checks)} checks: the note holds.", icon=":material/verified:")
    else:
        failed = "; ".join(outcome.failed_checks) or outcome.error or "no checks ran"
        st.error(f"Demo `{demo_id}` failed: {failed}", icon=":material/error:")


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
