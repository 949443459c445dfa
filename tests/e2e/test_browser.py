"""End to end in headless Chromium: start the app as the README does, review a card with the
keyboard, search, run a demo, and screenshot each page.

Needs Debian's `chromium` (.ci/run installs it) and the `playwright` Python package; never
`playwright install`. Run alone with: .venv/bin/python -m pytest tests/e2e -s
Set SCREENSHOT_DIR to keep the screenshots (the README's come from docs/screenshots)."""

import os
import re
from pathlib import Path

from study.store import ProgressStore
from tests.e2e.conftest import BROWSER_ARGS, CHROMIUM, reveal_answer


def test_review_search_and_demo_in_a_real_browser(server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    url, db = server
    shots = Path(os.environ.get("SCREENSHOT_DIR", tmp_path / "screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(url)
        expect(page.get_by_role("heading", name="Today")).to_be_visible(timeout=60_000)
        expect(page.get_by_role("button", name="Start today's review")).to_be_visible(timeout=30_000)
        page.screenshot(path=shots / "today.jpg", type="jpeg", quality=80)

        page.goto(f"{url}/flashcards")
        expect(page.get_by_role("button", name="Reveal answer (Space)")).to_be_visible(timeout=30_000)
        reveal_answer(page)
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

        page.goto(f"{url}/quiz")
        answer = page.get_by_label("Your answer, in your own words")
        expect(answer).to_be_visible(timeout=30_000)
        answer.fill("the last block has 128 channels and the three maxpools double the size each time, 32 to 64")
        page.get_by_role("button", name="Grade my answer").click()
        expect(page.get_by_text("Suggested rating")).to_be_visible(timeout=30_000)
        page.get_by_text("Suggested rating").scroll_into_view_if_needed()
        page.screenshot(path=shots / "quiz.jpg", type="jpeg", quality=80)

        page.goto(f"{url}/viva")
        page.get_by_role("button", name="Start the viva").click()
        for _ in range(2):
            box = page.get_by_label("Your answer")
            expect(box).to_be_visible(timeout=30_000)
            box.fill("it normalises with the batch mean and variance and keeps running statistics for evaluation")
            page.get_by_role("button", name="Submit answer").click()
            expect(page.get_by_text("Last answer:")).to_be_visible(timeout=30_000)
        page.get_by_role("button", name="End the viva now").click()
        expect(page.get_by_role("button", name=re.compile("Download the report"))).to_be_visible(timeout=30_000)
        page.screenshot(path=shots / "viva_report.jpg", type="jpeg", quality=80)

        page.goto(f"{url}/training_lab")
        expect(page.get_by_role("button", name="Start training")).to_be_visible(timeout=30_000)
        page.get_by_text("Generated offline set").click()
        budget = page.get_by_label("Time budget (s)")
        budget.fill("12")
        page.get_by_role("button", name="Start training").click()
        expect(page.get_by_text("Training loss").first).to_be_visible(timeout=60_000)
        page.wait_for_timeout(4000)  # let the live curves grow before the screenshot
        # No scrolling first: the page is shot whole, and a run that ends meanwhile redraws it.
        page.screenshot(path=shots / "training_lab_live.jpg", type="jpeg", quality=80, full_page=True)
        expect(page.get_by_text("Validation accuracy")).to_be_visible(timeout=120_000)
        expect(page.get_by_text("Per-class accuracy").first).to_be_visible(timeout=30_000)
        page.get_by_text("Validation accuracy").scroll_into_view_if_needed()
        page.screenshot(path=shots / "training_lab.jpg", type="jpeg", quality=80, full_page=True)
        browser.close()
