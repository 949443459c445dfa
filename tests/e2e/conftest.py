"""A fresh app server per test, started the way the README says (`make run`), and a Chromium
launcher. Skips with a reason when Debian's chromium or playwright is missing."""

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_healthy(url: str, process: subprocess.Popen) -> None:
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return
        except OSError:
            time.sleep(0.3)
    os.killpg(process.pid, 15)
    pytest.fail("the app did not start within 90 s")


@pytest.fixture
def start_server(tmp_path):
    """start_server(hosted=False, args="") -> (url, progress db path); `args` are more Streamlit
    options for `make run` (ARGS); every server is stopped afterwards."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium) to run the browser test")
    pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    processes = []

    def start(hosted: bool = False, args: str = "", port: int | None = None, host: str = "127.0.0.1") -> tuple[str, Path]:
        port = port or _free_port()
        db = tmp_path / f"progress-{port}.db"
        env = {**os.environ, "VIVA_PROGRESS_DB": str(db), "PORT": str(port), "HOSTED": "1" if hosted else ""}
        process = subprocess.Popen(
            ["make", "run", f"PORT={port}", f"ARGS={args}"], cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        processes.append(process)
        url = f"http://{host}:{port}"
        _wait_healthy(url, process)
        return url, db

    yield start
    for process in processes:
        os.killpg(process.pid, 15)
        process.wait(timeout=20)


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def server(start_server):
    return start_server()


def reveal_answer(page) -> None:
    """Reveal the flashcard's answer with its shortcut, Space. A key pressed between the button
    being drawn and Streamlit binding its shortcut is lost (a loaded 2-core CI machine did this
    once: the card stayed hidden for 30 s), so press again while the button is still shown. A
    second press binds no Streamlit shortcut once the answer shows (only the reveal button takes
    Space); the browser's own Space scrolls the page, which no caller reads."""
    from playwright.sync_api import expect

    reveal = page.get_by_role("button", name="Reveal answer (Space)")
    expect(reveal).to_be_enabled(timeout=60_000)
    for _ in range(3):
        page.keyboard.press("Space")
        try:
            expect(reveal).to_be_hidden(timeout=10_000)
            return
        except AssertionError:
            continue
    expect(reveal).to_be_hidden(timeout=1)  # fails with Playwright's own message: the shortcut never took


def review_one_card(page, url: str) -> None:
    """Open Flashcards, reveal the first card with Space and rate it Good with 3, as a learner at the keyboard."""
    import re

    from playwright.sync_api import expect

    page.goto(f"{url}/flashcards")
    reveal_answer(page)
    expect(page.get_by_role("button", name=re.compile(r"^Good · "))).to_be_visible(timeout=30_000)
    page.keyboard.press("3")
    expect(page.get_by_text("Saved. Good")).to_be_visible(timeout=30_000)
