"""A class on one HOSTED=1 server: four learners in four browser contexts open the Training lab
through the app's navigation and press Start at once. Their runs queue behind the worker pool:
those waiting see their place, then their own curves and result, nobody gets an exception, and
each run ends close to what a learner alone gets, within its budget.

The test shortens the budget to keep CI quick (BUDGET_S); the README's table was measured with
the form's defaults (VIVA_E2E_LAB_BUDGET=30). At 10 s a run trained about 24 steps, and one
learner's run, sharing CI's 2 cores with the other browsers drawing their reports, once managed
10 (half is the bar); 15 s gives each run enough steps that such a burst is not most of it."""

import os
import re

from playwright.sync_api import Page, expect

from tests.conftest import SHARED_CIFAR10

BUDGET_S = int(os.environ.get("VIVA_E2E_LAB_BUDGET", "15"))
LEARNERS = 4
CLEAR_OF_CHANCE = 0.14
RESULT = re.compile(r"Validation accuracy ([\d.]+)% after (\d+) steps in [\d.]+ s \(training ([\d.]+) s")


def _open_lab(page: Page, url: str) -> None:
    page.goto(url)
    page.get_by_role("link", name="Training lab").click()  # through the navigation, as a learner does
    expect(page.get_by_role("button", name="Start training")).to_be_visible(timeout=120_000)
    page.get_by_label("Time budget (s)").fill(str(BUDGET_S))


def _result(page: Page, timeout_s: float) -> tuple[float, int, float]:
    success = page.get_by_text(RESULT)
    expect(success).to_be_visible(timeout=int(timeout_s * 1000))
    accuracy, steps, seconds = RESULT.search(success.inner_text()).groups()
    return float(accuracy) / 100, int(steps), float(seconds)


def _no_exception(page: Page) -> None:
    expect(page.locator("[data-testid='stException']")).to_have_count(0)


def test_four_learners_at_once_queue_and_each_gets_a_full_run(start_server, browser, monkeypatch):
    if (SHARED_CIFAR10 / "train").is_dir():
        monkeypatch.setenv("CIFAR10_DIR", str(SHARED_CIFAR10))  # real data, as a class would use
    url, _ = start_server(hosted=True)
    solo = browser.new_context().new_page()
    _open_lab(solo, url)
    solo.get_by_role("button", name="Start training").click()
    alone = _result(solo, timeout_s=300)  # the first run also starts the worker and loads the data
    _no_exception(solo)
    assert alone[0] >= CLEAR_OF_CHANCE, f"a learner alone ended near chance: {alone}"

    pages = [browser.new_context().new_page() for _ in range(LEARNERS)]
    for page in pages:
        _open_lab(page, url)
    # Playwright's sync pages belong to this thread, so "at once" is four clicks in a row, each
    # a fraction of a second: all four runs are submitted before the first can finish.
    for page in pages:
        page.get_by_role("button", name="Start training").click()
    expect(pages[-1].get_by_text(re.compile(r"Queued: you are number [1-4] in the queue"))).to_be_visible(timeout=60_000)
    results = [_result(page, timeout_s=LEARNERS * (BUDGET_S + 30)) for page in pages]
    for page in pages:
        _no_exception(page)
        expect(page.get_by_text("Training loss")).to_be_visible()  # its own curves, drawn after the queue
    print(f"alone: {alone}; four at once: {results}")
    for accuracy, steps, training in results:
        # The deadline is checked before every step; a step here takes well under a second.
        assert training <= BUDGET_S + 1.0, f"a run trained {training} s on a {BUDGET_S} s budget"
        # Every learner got a real run, not a starved one: at least half the steps of a learner
        # alone and an accuracy near theirs, well clear of chance (10%; the 5,000-image validation
        # split at chance reads 10 +- 0.4%). The absolute figure depends on the machine: CI's 2 cores
        # took 12 steps in a 10 s run where this machine takes 40, so the bar is relative to the
        # solo run on the same machine. The README reports the figures at the form's 30 s default.
        assert steps >= 0.5 * alone[1], (accuracy, steps, alone)
        assert accuracy >= max(CLEAR_OF_CHANCE, alone[0] - 0.1), (accuracy, steps, alone)
