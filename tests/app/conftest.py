from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def progress_db(tmp_path, monkeypatch):
    path = tmp_path / "progress.db"
    monkeypatch.setenv("VIVA_PROGRESS_DB", str(path))
    return path


@pytest.fixture
def app(progress_db):
    def open_page(page: str | None = None) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        at.run()
        if page is not None:
            at.switch_page(page).run()
        assert not at.exception, at.exception
        return at

    return open_page
