"""End to end in headless Chromium: start the app as the README does, review a card with the
keyboard, search, run a demo, and screenshot each page.

Needs Debian's `chromium` (.ci/run installs it) and the `playwright` Python package; never
`playwright install`. Run alone with: .venv/bin/python -m pytest tests/e2e -s
Set SCREENSHOT_DIR to keep the screenshots (the README's come from docs/screenshots)."""

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from study.store import ProgressStore

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium) to run the browser test")
    pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    port = _free_port()
    env = {**os.environ, "VIVA_PROGRESS_DB": str(tmp_path / "progress.db"), "PORT": str(port)}
    process = subprocess.Popen(
        ["make", "run", f"PORT={port}"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            time.sleep(0.3)
    else:
        os.killpg(process.pid, 15)
        pytest.fail("the app did not start within 90 s")
    yield url, tmp_path / "progress.db"
    os.killpg(process.pid, 15)
    process.wait(timeout=20)


def test_review_search_and_demo_in_a_real_browser(server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    url, db = server
    shots = Path(os.environ.get("SCREENSHOT_DIR", tmp_path / "screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(url)
        expect(page.get_by_role("heading", name="Today")).to_be_visible(timeout=60_000)
        expect(page.get_by_role("button", name="Start today's review")).to_be_visible(timeout=30_000)
        page.screenshot(path=shots / "today.jpg", type="jpeg", quality=80)

        page.goto(f"{url}/flashcards")
        expect(page.get_by_role("button", name="Reveal answer (Space)")).to_be_visible(timeout=30_000)
        page.keyboard.press("Space")
        expect(page.get_by_text("How well did you know it?")).to_be_visible(timeout=30_000)
        expect(page.get_by_role("button", name="Run demo")).to_be_visible(timeout=60_000)  # the proof beside the card
        page.get_by_role("button", name="Run demo").click()
        expect(page.get_by_text("Passed:").first).to_be_visible(timeout=60_000)
        page.screenshot(path=shots / "flashcards.jpg", type="jpeg", quality=80)
        page.keyboard.press("3")
        expect(page.get_by_text("Saved. Good")).to_be_visible(timeout=30_000)
        reviews = ProgressStore(db).reviews()
        assert [r.rating.name for r in reviews] == ["Good"]

        page.goto(f"{url}/search")
        box = page.get_by_label("Search questions, answers, topics and key points")
        box.fill("BN eval")
        box.press("Enter")
        expect(page.get_by_text("result(s)")).to_be_visible(timeout=30_000)
        page.screenshot(path=shots / "search.jpg", type="jpeg", quality=80)

        page.goto(f"{url}/lab-batchnorm")
        page.get_by_role("button", name="Run demo").first.click()
        expect(page.get_by_text("Passed:").first).to_be_visible(timeout=60_000)
        page.screenshot(path=shots / "demo_lab.jpg", type="jpeg", quality=80, full_page=True)

        page.goto(f"{url}/training_lab")
        expect(page.get_by_role("button", name="Start training")).to_be_visible(timeout=30_000)
        page.screenshot(path=shots / "training_lab.jpg", type="jpeg", quality=80)
        browser.close()
