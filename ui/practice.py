"""How a check run looks: each check passed, failed with expected against got and what the
failure usually means, or an error with the learner's own traceback lines."""

from __future__ import annotations

import streamlit as st


def render_check_result(result) -> None:
    passed = sum(c.passed for c in result.checks)
    if result.passed:
        st.success(f"All {passed} checks passed.", icon=":material/task_alt:")
    else:
        st.error(f"{passed} of {len(result.checks)} checks passed.", icon=":material/rule:")
    for outcome in result.checks:
        if outcome.passed:
            st.markdown(f":material/check_circle: {outcome.name}")
            continue
        with st.container(border=True):
            st.markdown(f":material/cancel: **{outcome.name}**")
            if outcome.status == "failed":
                st.markdown(f"Expected `{outcome.expected}`  \nGot `{outcome.got}`")
                st.caption(outcome.message)
            else:
                st.code(outcome.message, language="text")
