"""The Browse page renders the whole bank and filters it, under Streamlit's AppTest."""

import sys
from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def test_browse_page_renders_every_item():
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert at.title[0].value == "Browse the bank"
    assert len(at.expander) == 218


def test_browse_filters_by_topic():
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.sidebar.multiselect[0].select("batchnorm").run()
    assert not at.exception
    assert 0 < len(at.expander) < 218
    assert at.caption[0].value.startswith(f"{len(at.expander)} of 218")


def test_app_start_imports_no_torch():
    # Start-up must stay light: torch is imported only by pages that need it.
    AppTest.from_file(APP, default_timeout=60).run()
    assert "torch" not in sys.modules
