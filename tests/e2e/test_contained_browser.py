"""A hosted class server (HOSTED=1) in headless Chromium: with bubblewrap a learner edits and
runs a demo and checks an exercise inside it; without it both are off and the page says why."""

import re

import pytest
from playwright.sync_api import Page, expect

from exercises.catalogue import get_exercise
from sandbox.bwrap import bwrap_usable


def _edit_and_run_first_demo(page: Page, url: str) -> None:
    page.goto(f"{url}/lab-batchnorm")
    page.get_by_text("Edit and run this snippet").first.click()
    expect(page.get_by_text("Runs in bubblewrap: no network").first).to_be_visible(timeout=60_000)
    page.get_by_role("button", name="Run edited snippet").first.click()
    # The run's output starts "PASS <check> ..."; a bare "PASS" also matches (case aside) a collapsed
    # snippet's "change_between_passes", which may come first in the page and stays hidden.
    expect(page.get_by_text(re.compile(r"^PASS ")).first).to_be_visible(timeout=120_000)


def test_hosted_with_bwrap_runs_learner_code_inside_it(start_server, browser):
    if not bwrap_usable():
        pytest.skip("bubblewrap is not usable here (apt-get install bubblewrap)")
    url, _ = start_server(hosted=True)
    page = browser.new_context().new_page()
    _edit_and_run_first_demo(page, url)
    page.goto(f"{url}/exercises?exercise=accuracy")
    expect(page.get_by_text("Checked in bubblewrap").first).to_be_visible(timeout=60_000)
    editor = page.frame_locator('iframe[title="code_editor.code_editor"]').first
    editor.locator(".ace_text-input").first.focus()
    editor.locator(".ace_editor").first.evaluate(
        "(element, code) => element.env.editor.setValue(code, 1)", get_exercise("accuracy").solution
    )
    editor.locator(".ace_text-input").first.press("Control+Enter")
    expect(page.get_by_text("All 4 checks passed.")).to_be_visible(timeout=120_000)


def test_hosted_without_bwrap_keeps_code_off_and_says_why(start_server, browser, monkeypatch):
    monkeypatch.setenv("VIVA_NO_BWRAP", "1")  # as on a server where bubblewrap is missing
    url, _ = start_server(hosted=True)
    page = browser.new_context().new_page()
    page.goto(f"{url}/lab-batchnorm")
    expect(page.get_by_text("Editing and running code is off on this shared deployment: bubblewrap").first).to_be_visible(timeout=60_000)
    page.goto(f"{url}/exercises")
    expect(page.get_by_text("Coding exercises are off on this shared deployment: bubblewrap").first).to_be_visible(timeout=60_000)
