"""Today with a viva date, in headless Chromium: a learner ten days into a 24-day plan (simulated
through the store with the learner of tests/study/learner_sim.py) sees the days left, the cards
not yet seen, the predicted recall on the day and the daily load. Set SCREENSHOT_DIR to keep the
screenshot (docs/screenshots/today_viva.jpg comes from here)."""

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fsrs.scheduler import DEFAULT_PARAMETERS
from playwright.sync_api import expect

from qa_bank.loader import load_bank
from study.learner import LearnerSettings
from study.store import ProgressStore
from tests.e2e.conftest import _free_port
from tests.study.learner_sim import Learner, study_day


def _ten_days_into_a_plan(db: Path) -> None:
    items, store = load_bank().items, ProgressStore(db)
    start = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0) - timedelta(days=10)
    store.save_settings("default", LearnerSettings().with_viva_date((start + timedelta(days=24)).date(), start.date()))
    learner = Learner(DEFAULT_PARAMETERS, seed=5)
    for day in range(10):
        study_day(store, items, learner, "default", start + timedelta(days=day))
    store.close()


@pytest.mark.slow
def test_today_shows_the_viva_plan(start_server, browser, tmp_path):
    port = _free_port()
    _ten_days_into_a_plan(tmp_path / f"progress-{port}.db")  # the file start_server gives this port
    url, _ = start_server(port=port)
    page = browser.new_page(viewport={"width": 1400, "height": 1250})
    page.goto(url)
    expect(page.get_by_text("Predicted recall on the day")).to_be_visible(timeout=90_000)
    expect(page.get_by_test_id("stMetric").filter(has_text="Days left")).to_contain_text("14")
    expect(page.get_by_text("Daily load: cards to study each day until the viva")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("By topic (weakest first:")).to_be_visible()
    shots = Path(os.environ.get("SCREENSHOT_DIR", tmp_path / "screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(1500)  # the chart's bars finish drawing
    page.screenshot(path=shots / "today_viva.jpg", type="jpeg", quality=70)
