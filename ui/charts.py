"""Plotly for pages, safe when several sessions draw their first chart at the same moment.

Plotly checks for pandas with `sys.modules.get("pandas")` and uses what it finds. When one
session's thread is still importing pandas (Streamlit and plotly both import it lazily), another
session's thread gets the half-initialised module and fails on `pd.Series`: seen with four
learners opening the Training lab at once. An `import pandas` statement, unlike that lookup,
waits for an import in progress to finish, so every page takes plotly from here."""

from __future__ import annotations


def plotly_go():
    """`plotly.graph_objects`, returned only once pandas is fully imported in this process."""
    import pandas  # noqa: F401  (waits for another thread's import of pandas to complete)
    import plotly.graph_objects as go

    return go
