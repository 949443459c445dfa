"""The exercises, one module per topic; `exercises.catalogue` gathers them."""

from textwrap import dedent


def code(text: str) -> str:
    """Source written indented inside a module, as the learner sees it: dedented, one final newline."""
    return dedent(text).strip("\n") + "\n"
