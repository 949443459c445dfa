"""The Quiz page in headless Chromium grades a list of terms and a role swap the way issue 28 saw
them: neither may be rated Good or Easy, and the page says why (say how the terms relate; which
two things were swapped). Run alone with: .venv/bin/python -m pytest tests/e2e/test_quiz_grading_browser.py"""

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


def grade_in_browser(page, url: str, item_id: str, answer: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{url}/quiz?item={item_id}")
    box = page.get_by_label("Your answer, in your own words")
    expect(box).to_be_visible(timeout=60_000)
    box.fill(answer)
    page.get_by_role("button", name="Grade my answer").click()
    expect(page.get_by_text("Suggested rating")).to_be_visible(timeout=30_000)


def test_a_term_list_and_a_role_swap_are_rated_hard_or_again(server, browser):
    from playwright.sync_api import expect

    url, _ = server
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    grade_in_browser(page, url, SIMPLE_CNN, TERM_LIST)
    expect(page.get_by_text("You listed the terms; say how they relate")).to_be_visible()
    expect(page.get_by_text(NOT_GOOD)).to_be_visible()
    grade_in_browser(page, url, REFLECT, ROLE_SWAP)
    expect(page.get_by_text("Roles swapped").first).to_be_visible()
    expect(page.get_by_text("you put zero where the point has reflect")).to_be_visible()
    expect(page.get_by_text(NOT_GOOD)).to_be_visible()


def test_bare_numbers_and_exchanged_denials_are_rated_hard_or_again(server, browser):
    # Round 13: a list of numbers without their names, and "dropout and no BatchNorm" for "BatchNorm and no dropout".
    from playwright.sync_api import expect

    url, _ = server
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    grade_in_browser(page, url, SPLIT_SIZES, BARE_NUMBERS)
    expect(page.get_by_text("You listed the numbers; say which is which")).to_be_visible()
    expect(page.get_by_text(NOT_GOOD)).to_be_visible()
    grade_in_browser(page, url, DROPOUT_OR_BN, DENIALS_EXCHANGED)
    expect(page.get_by_text("you put batchnorm where the point has dropout")).to_be_visible()
    expect(page.get_by_text(NOT_GOOD)).to_be_visible()


def test_a_good_rating_comes_with_its_caveat(server, browser):
    # What the blind sets measure, on the page: a Good is a suggestion, not proof of the right way round.
    from playwright.sync_api import expect

    url, _ = server
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    correct = (
        "zeros gives a black border, while reflect mirrors the pixels from inside the image, "
        "which keeps the texture continuous and gives fewer artefacts"
    )
    grade_in_browser(page, url, REFLECT, correct)
    expect(page.get_by_text(re.compile(r"Suggested rating: (Good|Easy)"))).to_be_visible()
    expect(page.get_by_text("A Good is not proof you said it the right way round")).to_be_visible()
