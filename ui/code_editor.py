"""A code editor for the Exercises page and "Edit and run": streamlit-code-editor (Ace, the
editor's files ship inside the package, so it works offline), with Python highlighting, line
numbers, Tab that indents, Ctrl+Enter that runs, and the line an error came from marked.

Chosen over streamlit-ace (last released 2021, no way to mark a line from Python) and the
Monaco components (streamlit-monaco 2023, streamlit-monaco-editor: a far larger editor for
ten-line functions, fewer users): streamlit-code-editor is the most used and still released,
and passes Ace's own `markers` and `annotations` through, which is how the failing line is
highlighted."""

from __future__ import annotations

import re

import streamlit as st

_CSS = ".failing-line { position: absolute; background: rgba(255, 75, 75, 0.22); }"
_LINE = re.compile(r"^line (\d+), in ", re.MULTILINE)


def failing_line(messages: list[str]) -> int | None:
    """The learner's line the first error came from ("line 3, in f: ..."), if one did."""
    for message in messages:
        found = _LINE.findall(message)
        if found:
            return int(found[-1])
    return None


def code_input(label: str, initial: str, key: str, failing: int | None = None, lines: tuple[int, int] = (14, 32)) -> tuple[str, bool]:
    """The editor, holding `initial` until the learner types, with line `failing` marked. Returns
    (code, run): the latest code (kept in st.session_state[f"{key}-text"]) and whether Ctrl+Enter
    was pressed just now."""
    from code_editor import code_editor

    text_key, seen_key = f"{key}-text", f"{key}-seen"
    st.session_state.setdefault(text_key, initial)
    st.caption(f"{label} (Tab indents, Ctrl+Enter runs)")
    markers = (
        [{"startRow": failing - 1, "startCol": 0, "endRow": failing - 1, "endCol": 1, "className": "failing-line", "type": "fullLine"}]
        if failing
        else []
    )
    annotations = [{"row": failing - 1, "column": 0, "type": "error", "text": "the error came from this line"}] if failing else []
    # The component reads its props when it mounts: a new failing line remounts it (with the text as it is now).
    # It sends its text on blur (clicking Run blurs it first) and on Ctrl+Enter; a debounced send while typing
    # could land after a Ctrl+Enter and replace it, losing the run.
    response = code_editor(
        st.session_state[text_key], lang="python", height=list(lines), key=f"{key}-line-{failing or 0}", response_mode="blur",
        options={"showLineNumbers": True, "tabSize": 4, "useSoftTabs": True, "showPrintMargin": False},
        props={"markers": markers, "annotations": annotations}, component_props={"css": _CSS},
    )  # fmt: skip
    submitted = False
    if response and response.get("id") and response["id"] != st.session_state.get(seen_key):
        st.session_state[seen_key] = response["id"]
        st.session_state[text_key] = response["text"]
        submitted = response.get("type") == "submit"
    return st.session_state[text_key], submitted
