"""The Quiz page in headless Chromium grades a list of terms, a role swap, a list of bare numbers and two
exchanged denials the way issue 28 saw them: none may be rated Good or Easy, and the page says why (say how
the terms relate; which is which; which two things were swapped); a Good waits for the exact checks
("Which does what?", "Which is right?") and comes with its caveat.
Run alone with: .venv/bin/python -m pytest tests/e2e/test_quiz_grading_browser.py"""

import re

SIMPLE_CNN = "viva-01-simplecnn-class-implement-batchnorm-relu"
REFLECT = "resnet-07-padding-mode-reflect"
TERM_LIST = "SimpleCNN: three conv blocks, classifier. BatchNorm, stabilises, speeds up, training. ReLU, non-linearity. MaxPool, halves, spatial size."  # noqa: E501
ROLE_SWAP = "zero padding mirrors the pixels from inside the image, and reflect gives a black border"
SPLIT_SIZES = "keras-s3-q6-much-total-memory-normalized-dataset"
BARE_NUMBERS = "93.8 MB, 23.5 MB, 117.2 MB, 235 MB, float32"
DROPOUT_OR_BN = "resnet-10-can-remove-dropout-use-batchnorm"
DENIALS_EXCHANGED = "Often yes. ResNets typically use Dropout and no BatchNorm, since dropout gives enough regularisation"
NOT_GOOD = re.compile(r"Suggested rating: (Again|Hard)")


# (item, answer, what the page must say): each rated Hard or Again, and told why.
NOT_GOOD_CASES = [
    (SIMPLE_CNN, TERM_LIST, ("You listed the terms; say how they relate",)),
    (REFLECT, ROLE_SWAP, ("Roles swapped", "you put zero where the point has reflect")),
    # Round 13: a list of numbers without their names; "Dropout and no BatchNorm" for "BatchNorm and no dropout".
    (SPLIT_SIZES, BARE_NUMBERS, ("You listed the numbers; say which is which",)),
    (DROPOUT_OR_BN, DENIALS_EXCHANGED, ("you put batchnorm where the point has dropout",)),
]
CORRECT = "zeros gives a black border, while reflect mirrors the pixels from inside the image, which keeps the texture continuous and gives fewer artefacts"  # noqa: E501


def grade_in_browser(page, url: str, item_id: str, answer: str, *shown) -> None:
    """Type the answer into /quiz?item=ID, grade it, and see each of `shown` (text or pattern) on the page."""
    from playwright.sync_api import expect

    page.goto(f"{url}/quiz?item={item_id}")
    box = page.get_by_label("Your answer, in your own words")
    expect(box).to_be_visible(timeout=60_000)
    box.fill(answer)
    page.get_by_role("button", name="Grade my answer").click()
    expect(page.get_by_text("Suggested rating")).to_be_visible(timeout=30_000)
    for text in shown:
        expect(page.get_by_text(text).first).to_be_visible()


def test_term_lists_swaps_and_bare_numbers_are_rated_hard_or_again_and_told_why(server, browser):
    url, _ = server
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    for item_id, answer, why in NOT_GOOD_CASES:
        grade_in_browser(page, url, item_id, answer, *why, NOT_GOOD)


OWNERS = {"fills border with black": "zeros", "mirrors pixels from inside": "reflect"}  # REFLECT's roles


def choose_roles(page, picks: dict[str, str]) -> None:
    """Pick a subject for each role text of "Which does what?" and check them."""
    for text, subject in picks.items():
        page.get_by_role("combobox", name=text).click()
        page.get_by_role("option", name=subject, exact=True).click()
    page.get_by_role("button", name="Check the roles").click()


BELIEF = "reflect padding adds a black border"  # REFLECT's misconception, set beside its truth
TRUTH = "reflect padding adds a mirrored border"


def pick_statement(page, statement: str) -> None:
    """Pick `statement` in REFLECT's misconception pair and the truth of every other pair it asks (those written
    for its key points), then check them."""
    from qa_bank.loader import load_bank

    others = [m.truth for m in load_bank().by_id()[REFLECT].misconceptions if m.truth and m.truth != TRUTH]
    for chosen in (statement, *others):
        page.get_by_text(chosen, exact=True).click()
    page.get_by_role("button", name="Check my picks").click()


def test_a_good_rating_comes_with_its_caveat(server, browser):
    # What the blind sets measure, on the page: a Good is a suggestion, not proof of the right way round.
    from playwright.sync_api import expect

    url, _ = server
    page = browser.new_page(viewport={"width": 1400, "height": 1200})
    grade_in_browser(page, url, REFLECT, CORRECT, "Which does what?", "Which is right?")
    choose_roles(page, OWNERS)
    pick_statement(page, TRUTH)
    expect(page.get_by_text(re.compile(r"Suggested rating: (Good|Easy)"))).to_be_visible(timeout=30_000)
    expect(page.get_by_text("A Good is not proof you said it the right way round")).to_be_visible()


def test_a_wrong_pick_holds_a_good_at_hard_and_closes_the_check(server, browser):
    # The right-sounding answer reads Good but is suggested as Hard until the checks are answered; giving
    # each role's text to the other subject keeps it at Hard, says whose it is and closes that check (the
    # message names the right answer, so a second try would be a copy); picking the belief names it.
    from playwright.sync_api import expect

    url, _ = server
    page = browser.new_page(viewport={"width": 1400, "height": 1200})
    grade_in_browser(page, url, REFLECT, CORRECT, "Which does what?", re.compile(r"Suggested rating: Hard \(your answer reads (Good|Easy)"))
    choose_roles(page, {text: next(s for s in OWNERS.values() if s != owner) for text, owner in OWNERS.items()})
    expect(page.get_by_text("is what reflect does, not zeros").first).to_be_visible(timeout=30_000)
    expect(page.get_by_text("held at Hard: a check went wrong")).to_be_visible()
    expect(page.get_by_role("button", name="Check the roles")).to_have_count(0)
    pick_statement(page, BELIEF)
    expect(page.get_by_text(f"“{BELIEF}” is the misconception.")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("button", name="Check my picks")).to_have_count(0)
    expect(page.get_by_text("held at Hard: a check went wrong")).to_be_visible()
