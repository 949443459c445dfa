"""In headless Chromium: solve a coding exercise (after an infinite loop that is stopped, a huge
allocation that is refused, and a wrong try, the page still working), answer a drill, and see
both stored."""

from exercises.catalogue import get_exercise
from exercises.drills import make_drill
from study.store import ProgressStore
from tests.e2e.conftest import BROWSER_ARGS, CHROMIUM


def _run_checks(page, code: str, expect, wait_for: str, timeout_ms: int = 60_000) -> None:
    editor = page.get_by_label("Your code")
    editor.fill(code)
    editor.press("Tab")  # the text area sends its value when it loses focus
    page.get_by_role("button", name="Run checks (Ctrl+Enter)").click()
    expect(page.get_by_text(wait_for).first).to_be_visible(timeout=timeout_ms)


def test_solve_an_exercise_and_a_drill_in_a_real_browser(server, monkeypatch):
    from playwright.sync_api import expect, sync_playwright

    url, db = server
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/exercises?exercise=epoch-mean-loss")  # a deep link to one exercise
        expect(page.get_by_text("is one batch's mean loss").first).to_be_visible(timeout=60_000)  # its prompt
        _run_checks(
            page, "def epoch_mean_loss(batch_losses, batch_sizes):\n    while True:\n        pass\n", expect, "your code finishes in time"
        )
        huge = "import torch\ndef epoch_mean_loss(batch_losses, batch_sizes):\n    return torch.empty(10**11).sum().item()\n"
        _run_checks(page, huge, expect, "can't allocate memory")  # a huge allocation: refused, on the learner's line
        _run_checks(page, "def epoch_mean_loss(batch_losses, batch_sizes):\n    return sum(batch_losses) / len(batch_losses)\n", expect,
                    "checks passed.")  # fmt: skip
        expect(page.get_by_text("weight each batch's mean loss by its batch size").first).to_be_visible()
        _run_checks(page, get_exercise("epoch-mean-loss").solution, expect, "All 3 checks passed.")
        page.get_by_role("button", name="Hard").click()
        expect(page.get_by_text("Saved Hard for The epoch's loss per sample")).to_be_visible(timeout=30_000)

        page.goto(f"{url}/drills?drill=tensor-memory")
        question = page.get_by_role("heading", level=3)
        expect(question).to_contain_text("How many bytes", timeout=60_000)
        seed = int(
            page.get_by_text("python -m exercises drill tensor-memory --seed").inner_text().split("--seed ")[1].split()[0].rstrip("`")
        )
        drill = make_drill("tensor-memory", seed)
        assert drill.question in question.inner_text()
        page.get_by_label("Your answer (a number)").fill(f"{int(drill.answer)}")
        page.get_by_role("button", name="Check").click()
        expect(page.get_by_text("Right (tolerance").first).to_be_visible(timeout=30_000)
        browser.close()
    reviews = ProgressStore(db).reviews()
    assert [(r.item_id, r.rating.name) for r in reviews] == [("exercise:epoch-mean-loss", "Hard"), ("drill:tensor-memory", "Good")]
