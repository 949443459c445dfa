"""In headless Chromium against freshly started servers: every page's URL works as the first visit,
the keyboard review shows intervals and undoes, and hosted learners keep their own progress."""

import re

from playwright.sync_api import Page, expect

from proofs.families import DEMO_FAMILIES
from study.store import ProgressStore
from tests.e2e.conftest import reveal_answer, review_one_card

PAGES = ["quiz", "flashcards", "viva", "search", "browse", "training_lab", "progress", "my_cards", "settings"]
PAGES += [f"lab-{family}" for family in DEMO_FAMILIES]


def _shows_the_apps_navigation(page: Page) -> None:
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav.get_by_text("Mock viva")).to_be_visible(timeout=60_000)  # a title only st.navigation gives
    expect(nav.get_by_text("Training lab")).to_be_visible()
    assert nav.get_by_text("demo lab", exact=True).count() == 0  # the automatic listing's raw file name


def test_every_page_url_works_as_the_first_visit_after_a_start(start_server, browser):
    url, _ = start_server()
    for path in PAGES:  # the first of these is the server's very first visit
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{url}/{path}")
        _shows_the_apps_navigation(page)
        context.close()


def test_keyboard_review_shows_intervals_and_undo_restores_the_due_count(server, browser):
    url, db = server
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{url}/flashcards")
    counts = page.get_by_text(re.compile(r"^\d+ due · \d+ new"))
    expect(counts).to_be_visible(timeout=60_000)
    before = counts.inner_text()
    expect(page.get_by_role("button", name="Reveal answer (Space)")).to_be_visible(timeout=30_000)
    reveal_answer(page)
    expect(page.get_by_role("button", name="Good · 10m (3)")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("button", name="Easy · 7d (4)")).to_be_visible()  # 8 days, load-balanced within 6-10 (the card fixes the draw)
    page.keyboard.press("3")
    expect(page.get_by_text("Saved. Good")).to_be_visible(timeout=30_000)
    assert [r.rating.name for r in ProgressStore(db).reviews()] == ["Good"]
    expect(counts).not_to_have_text(before)
    page.keyboard.press("Control+z")
    expect(page.get_by_text("Saved. Undid Good")).to_be_visible(timeout=30_000)
    expect(counts).to_have_text(before)
    assert ProgressStore(db).reviews() == []


def test_hosted_learners_keep_separate_progress_and_come_back_by_their_link(start_server, browser):
    url, db = start_server(hosted=True)
    ann, bob = browser.new_context().new_page(), browser.new_context().new_page()
    review_one_card(ann, url)
    assert "resume=" in ann.url
    bob.goto(f"{url}/progress")
    expect(bob.get_by_text("No reviews yet")).to_be_visible(timeout=60_000)

    ann.goto(f"{url}/progress?resume={ann.url.split('resume=')[1].split('&')[0]}")  # a bookmark, next day
    expect(ann.get_by_role("heading", name="Progress")).to_be_visible(timeout=60_000)
    expect(ann.get_by_text("No reviews yet")).to_have_count(0)
    ann.reload()  # a refresh keeps the learner too
    expect(ann.get_by_role("heading", name="Progress")).to_be_visible(timeout=60_000)
    expect(ann.get_by_text("No reviews yet")).to_have_count(0)

    store = ProgressStore(db)
    assert len([p for p in store.profiles() if store.reviews(p)]) == 1  # one learner reviewed; bob's profile is empty
    stranger = browser.new_context().new_page()
    stranger.goto(f"{url}/progress?resume=not-a-real-token")
    expect(stranger.get_by_text("No reviews yet")).to_be_visible(timeout=60_000)
    expect(stranger.get_by_text("That resume link is not valid")).to_be_visible()
