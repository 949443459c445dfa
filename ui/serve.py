"""Serve the app: `python -m ui.serve [streamlit options]` is `streamlit run app.py` with deep links
that work on a server's first visit.

Why: Streamlit decides once per server process whether an app is an old-style multipage app by
whether a `pages/` folder sits beside the entry script (`PagesManager.uses_pages_directory`). Until
some run of app.py calls `st.navigation`, which clears that flag, every session runs through the
folder-based router: a first visit to /quiz runs pages/quiz.py alone, under an automatic sidebar of
file names and without the app's navigation. This project keeps its pages in `pages/` and always
uses `st.navigation`, so the flag is cleared before the server starts.
"""

from __future__ import annotations

import sys
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app.py"


def main(argv: list[str]) -> None:
    """Never returns: click exits with streamlit's status (a bad option prints its usage line)."""
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.web import cli

    PagesManager.uses_pages_directory = False
    cli.main(["run", str(APP), *argv], prog_name="streamlit")


if __name__ == "__main__":
    main(sys.argv[1:])
