"""Every page renders under AppTest, and its main interaction works."""

import re
import subprocess
import sys
import time
from datetime import UTC
from pathlib import Path

import pytest

from study.store import ProgressStore

REPO_ROOT = Path(__file__).resolve().parents[2]


def load_item(item_id: str):
    from qa_bank.loader import load_bank

    return load_bank().by_id()[item_id]


def button(at, label_start: str):
    return next(b for b in at.button if b.label.startswith(label_start))


def test_today_shows_counts(app):
    at = app()
    assert at.title[0].value == "Today"
    assert [m.label for m in at.metric][:2] == ["Due now", "New today"]


def test_browse_renders_every_item_and_filters(app):
    at = app("pages/browse.py")
    assert len(at.expander) == 218
    at.sidebar.multiselect[0].select("batchnorm").run()
    assert 0 < len(at.expander) < 218


def test_browse_and_search_filter_by_proof(app):
    from qa_bank.loader import load_bank

    items = load_bank().items
    proved, opinion = sum(1 for i in items if i.demo), sum(1 for i in items if i.unproved and i.unproved.reason == "opinion")
    at = app("pages/browse.py")
    at.sidebar.selectbox(key="browse-proof").select("Proved by a demo").run()
    assert len(at.expander) == proved
    at.sidebar.selectbox(key="browse-proof").select("Unproved: opinion").run()
    assert len(at.expander) == opinion and not at.exception
    assert any(c.value.startswith("Unproved (opinion): ") for c in at.caption)
    search = app("pages/search.py")
    search.sidebar.selectbox(key="search-proof").select("Unproved").run()
    search.text_input[0].input("learning rate").run()
    hits = [e.label for e in search.expander]
    unproved_questions = {i.question.splitlines()[0] for i in items if i.unproved}
    assert hits and all(label.rsplit("  ·  ", 1)[0] in unproved_questions for label in hits)


def test_flashcard_reveal_and_rate_updates_the_store(app, progress_db):
    at = app("pages/flashcards.py")
    question = at.markdown[0].value
    button(at, "Reveal answer").click().run()
    assert not at.exception
    button(at, "Good").click().run()
    assert not at.exception
    reviews = ProgressStore(progress_db).reviews()
    assert len(reviews) == 1 and reviews[0].rating.name == "Good" and reviews[0].mode == "flashcard"
    assert at.markdown[0].value != question  # the next card is shown


def test_quiz_grades_a_typed_answer(app, progress_db):
    at = app("pages/quiz.py")
    at.text_area[0].input("PyTorch accumulates gradients, so zero them before backward").run()
    at.button[0].click().run()  # the form's submit button
    assert not at.exception
    assert at.metric[0].label == "Score"
    button(at, "Hard").click().run()
    assert [r.mode for r in ProgressStore(progress_db).reviews()] == ["quiz"]


TRAIN_EVAL = "viva-30-purpose-model-train-model-eval"
TRAIN_EVAL_ANSWER = (
    "model.train() enables dropout and BatchNorm batch statistics; model.eval() disables dropout and BatchNorm uses running statistics"
)
REVERSED = "model.train() disables dropout and BatchNorm uses its running statistics; model.eval() enables dropout"
MISCONCEPTION = "model.eval() turns off gradient computation so nothing else is needed"


def quiz_graded(app, item_id: str, answer: str):
    """The Quiz on `item_id` with `answer` typed and graded."""
    at = app("pages/quiz.py")
    at.session_state["quiz-current"] = item_id
    at.run()
    at.text_area[0].input(answer)
    at.button[0].click().run()
    return at


def test_quiz_shows_contradicted_points_and_misconceptions(app):
    at = app("pages/quiz.py")
    at.session_state["quiz-current"] = TRAIN_EVAL
    at.run()
    at.text_area[0].input(REVERSED)  # a form: the text is sent with the submit click
    at.button[0].click().run()
    assert not at.exception
    contradicted = [e.value for e in at.error if "Contradicted" in e.value]
    assert len(contradicted) == 3 and "you said: “model.train() disables dropout" in contradicted[0]  # the learner's own clause
    assert any(c.value.startswith("Suggested rating: **Again**") for c in at.caption)
    at.text_area[0].input(MISCONCEPTION)
    at.button[0].click().run()
    warnings = [w.value for w in at.warning]
    assert any("Misconception" in w and "torch.no_grad()" in w for w in warnings), warnings  # with its correction


# The Quiz page example of issue 28 (a list of terms rated Easy, every point "Matched").
TERM_LIST = "SimpleCNN: three conv blocks, classifier. BatchNorm, stabilises, speeds up, training. ReLU, non-linearity. MaxPool, halves, spatial size."  # noqa: E501
ROLE_SWAP = "zero padding mirrors the pixels from inside the image, and reflect gives a black border"


def test_quiz_tells_a_term_list_and_names_the_swapped_roles(app):
    at = app("pages/quiz.py")
    at.session_state["quiz-current"] = "viva-01-simplecnn-class-implement-batchnorm-relu"
    at.run()
    at.text_area[0].input(TERM_LIST)
    at.button[0].click().run()
    assert not at.exception
    assert any("You listed the terms; say how they relate: what does BatchNorm do to training?" in w.value for w in at.warning)
    assert not any(s.value.startswith("Suggested rating: **Good") or s.value.startswith("Suggested rating: **Easy") for s in at.caption)
    at.session_state["quiz-current"] = "resnet-07-padding-mode-reflect"
    at.run()
    at.text_area[0].input(ROLE_SWAP)
    at.button[0].click().run()
    errors = [e.value for e in at.error]
    assert any("Roles swapped" in e and "you put zero where the point has reflect" in e for e in errors), errors
    assert any(c.value.startswith("Suggested rating: **Again**") for c in at.caption)


def match_roles(at, item_id: str, key: str) -> None:
    """Answer "Which does what?" (its widgets under `key`) for `item_id`, every role right."""
    from qa_bank.loader import load_bank

    owner = {r.does: r.subject for r in load_bank().by_id()[item_id].roles}
    for n in range(len(owner)):
        box = at.selectbox(key=f"{key}-{n}")
        box.select(owner[box.label])
    button(at, "Check the roles").click().run()


def pick_statements(at, item_id: str, key: str, believe: int | None = None) -> None:
    """Answer "Which is right?" (its widgets under `key`) for `item_id`: every truth, but the belief of pair `believe`."""
    from qa_bank.loader import load_bank
    from study.belief_check import asked_misconceptions

    for n, misconception in enumerate(asked_misconceptions(load_bank().by_id()[item_id])):
        at.radio(key=f"{key}-{n}").set_value(misconception.belief if n == believe else misconception.truth)
    button(at, "Check my picks").click().run()


def pass_checks(at, item_id: str, viva_answer: int | None = None) -> None:
    """Pass both of the item's exact checks, in the Quiz (keyed by item) or under report answer `viva_answer` of the viva."""
    if viva_answer is None:
        match_roles(at, item_id, f"quiz-roles-{item_id}")
        pick_statements(at, item_id, f"quiz-beliefs-{item_id}")
        return
    match_roles(at, item_id, f"viva-checks-roles-{viva_answer}")
    pick_statements(at, item_id, f"viva-checks-beliefs-{viva_answer}")


def test_quiz_says_a_good_is_not_proof_beside_a_good_and_only_there(app):
    # The blind sets' lesson, in the page: a Good may still hide a point said the wrong way round.
    from ui.cards import GOOD_IS_NOT_PROOF

    at = quiz_graded(app, TRAIN_EVAL, TRAIN_EVAL_ANSWER)
    assert not any(c.value == GOOD_IS_NOT_PROOF for c in at.caption)  # the Good waits for the item's exact checks
    pass_checks(at, TRAIN_EVAL)
    # Checked, what was picked stays on the page, each marked, in place of the forms.
    from study.belief_check import asked_misconceptions

    marked = [m.value for m in at.markdown if ":material/check:" in m.value]
    assert all(any(f"“{r.does}”: **{r.subject}**" in m for m in marked) for r in load_item(TRAIN_EVAL).roles), marked
    assert all(any(m.endswith(f"“{b.truth}”") for m in marked) for b in asked_misconceptions(load_item(TRAIN_EVAL))), marked
    assert any(c.value.startswith(("Suggested rating: **Good", "Suggested rating: **Easy")) for c in at.caption)
    assert any(c.value == GOOD_IS_NOT_PROOF for c in at.caption)
    at.text_area[0].input(REVERSED)
    at.button[0].click().run()
    assert not any(c.value == GOOD_IS_NOT_PROOF for c in at.caption)


def test_the_points_wait_for_the_checks_they_would_answer(app):
    # Each key-point pair is a point beside its reversal: listed above the pair, the point would be its answer.
    at = quiz_graded(app, TRAIN_EVAL, TRAIN_EVAL_ANSWER)
    assert not any("Matched:" in s.value for s in at.success)
    summary = [c.value for c in at.caption if c.value.startswith("Key points: ")]
    assert summary and re.match(r"Key points: \d+ matched.*Which ones shows once the checks below are answered", summary[0]), summary
    pass_checks(at, TRAIN_EVAL)
    assert any("Matched:" in s.value for s in at.success) and not any(c.value.startswith("Key points: ") for c in at.caption)


def test_the_viva_report_names_missed_points_only_once_their_checks_are_answered(app):
    from study.grading import grade

    at = app("pages/viva.py")
    viva_with_one_answer(at, TRAIN_EVAL, "model.train() enables dropout")  # misses the points on eval and BatchNorm
    report = next(m.value for m in at.markdown if "Mock viva report" in m.value)
    assert "point(s), named once this answer's checks are answered" in report
    pass_checks(at, TRAIN_EVAL, viva_answer=1)
    report = next(m.value for m in at.markdown if "Mock viva report" in m.value)
    missed = grade(load_item(TRAIN_EVAL), "model.train() enables dropout").missed
    assert missed and f"missed: {'; '.join(missed)}" in report


AUGMENT = "viva-03-show-training-data-augmentation-configured"
AUGMENT_ANSWER = (
    "In get_data_loaders the train transform has RandomCrop(32, padding=4) and RandomHorizontalFlip. The crop shifts the object "
    "a few pixels so the net learns translation robustness, and the flip makes it invariant to left/right orientation."
)


def test_quiz_asks_which_does_what_and_which_is_right_once_and_holds_a_good_after_a_wrong_pick(app, progress_db):
    # The checks a fluent reversal cannot pass: match each role's text to its subject, and pick the true
    # statement beside each misconception. Until the learner does, the grader's Good is suggested as Hard;
    # a wrong pick keeps it there for this review, because the result names the right answer.
    at = quiz_graded(app, AUGMENT, AUGMENT_ANSWER)
    pending = r"Suggested rating: \*\*Hard\*\* \(your answer reads (Good|Easy): match the roles and pick the right statements to earn it\)"
    assert any(re.match(pending, c.value) for c in at.caption), [c.value for c in at.caption]
    texts = {"simulates small translations": "RandomCrop", "gives left-right invariance": "RandomHorizontalFlip"}
    boxes = [at.selectbox(key=f"quiz-roles-{AUGMENT}-{n}") for n in range(2)]
    assert {box.label for box in boxes} == set(texts)
    for box in boxes:  # each text given to the other subject
        box.select(next(s for t, s in texts.items() if t != box.label))
    button(at, "Check the roles").click().run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any("“simulates small translations” is what **RandomCrop** does, not RandomHorizontalFlip" in e for e in errors), errors
    held = "Suggested rating: **Hard** (held at Hard: a check went wrong)"
    assert any(c.value.startswith(held) for c in at.caption)
    # One attempt: the form is gone, and grading the answer again does not bring it back.
    assert not any(b.label == "Check the roles" for b in at.button) and not any(str(b.key).startswith("quiz-roles-") for b in at.selectbox)
    at.button[0].click().run()
    assert any(c.value.startswith(held) for c in at.caption) and not any(b.label == "Check the roles" for b in at.button)
    pick_statements(at, AUGMENT, f"quiz-beliefs-{AUGMENT}", believe=0)
    from study.belief_check import asked_misconceptions

    belief = asked_misconceptions(load_item(AUGMENT))[0].belief
    assert any(e.value.startswith(f"“{belief}” is the misconception.") for e in at.error), [e.value for e in at.error]
    assert any(c.value.startswith(held) for c in at.caption) and not any(b.label == "Check my picks" for b in at.button)
    # Rated, the card's checks are forgotten: its next review asks afresh, nothing picked.
    button(at, "Hard").click().run()
    at.session_state["quiz-current"] = AUGMENT
    at.run()
    at.text_area[0].input(AUGMENT_ANSWER)
    at.button[0].click().run()
    assert any(b.label == "Check the roles" for b in at.button) and any(b.label == "Check my picks" for b in at.button)
    assert all(at.selectbox(key=f"quiz-roles-{AUGMENT}-{n}").value == "…" for n in range(2))
    assert any(re.match(pending, c.value) for c in at.caption)


def test_mock_viva_report_shows_contradictions_and_misconceptions(app):
    at = app("pages/viva.py")
    at.slider[0].set_value(3).run()
    button(at, "Start the viva").click().run()
    at.session_state["viva-session"].queue[0] = TRAIN_EVAL
    at.run()
    at.text_area[0].input(REVERSED + ". " + MISCONCEPTION)
    at.button[0].click().run()
    assert any("Contradicted" in e.value for e in at.error)  # shown at once, as an examiner would stop you
    button(at, "End the viva now").click().run()
    report = next(m.value for m in at.markdown if "Mock viva report" in m.value)
    assert "Contradicted (roles): model.eval() disables dropout" in report and "you put train where the point has eval" in report
    assert "Misconception: model.eval() turns off gradient computation" in report
    from ui.cards import GOOD_IS_NOT_PROOF

    assert any(c.value == GOOD_IS_NOT_PROOF for c in at.caption)  # once, above the report's answers


def viva_with_one_answer(at, item_id: str, answer: str) -> None:
    """Start a viva, ask `item_id` first, answer it, and end the viva at its report."""
    at.slider[0].set_value(3).run()
    button(at, "Start the viva").click().run()
    at.session_state["viva-session"].queue[0] = item_id
    at.run()
    at.text_area[0].input(answer)
    at.button[0].click().run()
    button(at, "End the viva now").click().run()


def test_mock_viva_report_holds_a_good_until_the_checks_pass(app):
    # The report's titles carry each answer's rating: as in the Quiz, a Good waits for the item's exact checks.
    at = app("pages/viva.py")
    viva_with_one_answer(at, TRAIN_EVAL, TRAIN_EVAL_ANSWER)
    title = next(e.label for e in at.expander if e.label.startswith("1. "))
    assert re.search(r"· Hard \(your answer reads (Good|Easy): match the roles and pick the right statements to earn it\)$", title), title
    pass_checks(at, TRAIN_EVAL, viva_answer=1)
    assert not at.exception
    title = next(e.label for e in at.expander if e.label.startswith("1. "))
    assert re.search(r"· (Good|Easy)$", title), title
    # A new viva's first answer is asked afresh: the last viva's checks do not carry over.
    button(at, "New viva").click().run()
    viva_with_one_answer(at, TRAIN_EVAL, TRAIN_EVAL_ANSWER)
    title = next(e.label for e in at.expander if e.label.startswith("1. "))
    assert re.search(r"· Hard \(your answer reads (Good|Easy): match the roles", title), title


def test_mock_viva_runs_to_a_report(app):
    at = app("pages/viva.py")
    at.slider[0].set_value(3).run()
    button(at, "Start the viva").click().run()
    assert at.caption[0].value.startswith("Question 1")
    at.text_area[0].input("batch statistics in training, running statistics at inference").run()
    at.button[0].click().run()
    assert not at.exception
    button(at, "End the viva now").click().run()
    assert at.subheader[0].value == "Report"
    assert any(b.label.startswith("New viva") for b in at.button)


def test_search_returns_results(app):
    at = app("pages/search.py")
    at.text_input[0].input("BN eval").run()
    assert not at.exception
    assert len(at.expander) >= 3 and "batch" in at.expander[0].label.lower()


def test_demo_lab_family_page_runs_a_demo_and_shows_its_checks(progress_db):
    from streamlit.testing.v1 import AppTest

    lab = AppTest.from_function(_render_batchnorm_lab, default_timeout=60).run()
    assert not lab.exception and lab.title[0].value == "Lab: BatchNorm"
    button(lab, "Run demo").click().run()
    assert not lab.exception
    assert any(s.value.startswith("Passed: ") for s in lab.success)
    assert not lab.error


def _render_batchnorm_lab():
    from pages.demo_lab import family_page

    family_page("batchnorm")()


def test_progress_page_with_and_without_reviews(app, progress_db):
    at = app("pages/progress.py")
    assert at.info[0].value.startswith("No reviews yet")
    from datetime import datetime

    from fsrs import Rating

    store = ProgressStore(progress_db)
    store.record_review("viva-02-models-classifier-nn-linear-128", Rating.Good, datetime.now(UTC))
    at = app("pages/progress.py")
    assert not at.info and not at.exception


def test_settings_creates_a_profile(app, progress_db):
    at = app("pages/settings.py")
    at.text_input[0].input("ana").run()
    button(at, "Use this profile").click().run()
    assert at.session_state["profile"] == "ana"
    assert "ana" in ProgressStore(progress_db).profiles()


def _finished(run_id: str, timeout: float = 120):
    from run_service.service import get_service

    deadline = time.monotonic() + timeout
    while (update := get_service().update(run_id)).outcome is None:
        assert time.monotonic() < deadline, f"run still {update.status}"
        time.sleep(0.1)
    return update


def test_training_lab_trains_on_the_generated_set_and_stops(app):
    from run_service.service import get_service

    at = app("pages/training_lab.py")
    at.radio[0].set_value("Generated offline set")
    at.number_input[0].set_value(600)  # subset
    at.number_input[1].set_value(6)  # time budget, seconds
    at.button[0].click().run()
    assert not at.exception
    run_id = at.session_state["lab-run"]
    finished = _finished(run_id)
    assert finished.where.startswith("worker 1 (pid ")  # trained in a worker process, not in the server
    at.run()
    assert not at.exception
    assert any(s.value.startswith("Validation accuracy") for s in at.success), [e.value for e in at.error]
    assert any("generated offline set" in c.value for c in at.success)
    from cifar_core.fast import FAST_RECIPE
    from run_service.lab import LAB_BATCH_SIZE, LAB_SGD_LR

    config = finished.outcome.config
    lab_sgd = {"optimizer": "sgd", "batch_size": LAB_BATCH_SIZE, "lr": LAB_SGD_LR}  # SGD by default: run_service/lab.py
    for name, value in FAST_RECIPE.items():  # the form starts on the measured recipe, tricks included
        assert getattr(config, name) == lab_sgd.get(name, value), name

    # The form comes back with the settings of the run just made, not the defaults.
    assert at.radio[0].value == "Generated offline set" and at.number_input[0].value == 600 and at.number_input[1].value == 6
    assert at.session_state["lab-live"]["steps"][-1].image_size in (16, 24, 32)
    at.radio[1].set_value("Epochs")
    at.number_input[2].set_value(200)
    next(c for c in at.checkbox if c.label == "Progressive resizing").uncheck()
    at.button[0].click().run()
    run_id = at.session_state["lab-run"]
    service = get_service()
    while not service.update(run_id).steps:
        time.sleep(0.05)
    assert service.records()[-1].config.resize_schedule == ""
    at.run()
    next(b for b in at.button if b.label == "Stop").click().run()
    assert _finished(run_id, timeout=30).status == "stopped"
    at.run()
    assert any(w.value.startswith("Stopped") for w in at.warning)


def test_training_lab_shows_the_queue_place_and_cancels_while_queued(app):
    from cifar_core.config import TrainConfig
    from cifar_core.data import DataOptions
    from run_service.service import get_service

    service = get_service()  # one slot here: another learner's long run holds it
    other = service.submit("someone-else", TrainConfig(data=DataOptions(dataset="synthetic", synthetic_size=1000), model="fastnet",
                                                       optimizer="sgd", lr=0.4, batch_size=100, time_budget=120))  # fmt: skip
    try:
        at = app("pages/training_lab.py")
        at.radio[0].set_value("Generated offline set")
        at.number_input[0].set_value(600)
        at.button[0].click().run()
        mine = at.session_state["lab-run"]
        assert service.update(mine).status == "queued"
        assert any(i.value.startswith("Queued: you are number 1 in the queue, starts in about") for i in at.info), [
            i.value for i in at.info
        ]
        next(b for b in at.button if b.label == "Cancel").click().run()
        assert _finished(mine, timeout=10).outcome.message == "cancelled while queued"
        at.run()
        assert any(w.value == "Stopped: cancelled while queued" for w in at.warning)
    finally:
        service.cancel(other)
        _finished(other, timeout=60)


def test_app_start_imports_no_torch(progress_db):
    script = (
        "import sys\nfrom streamlit.testing.v1 import AppTest\n"
        f"at = AppTest.from_file({str(REPO_ROOT / 'app.py')!r}, default_timeout=60).run()\n"
        "assert not at.exception, at.exception\nprint('torch' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("False")


def test_training_lab_form_draws_without_torch(progress_db):
    # The form is plain configuration; torch loads when a run starts or its results render.
    script = (
        "import sys\nfrom streamlit.testing.v1 import AppTest\n"
        f"at = AppTest.from_file({str(REPO_ROOT / 'app.py')!r}, default_timeout=60).run()\n"
        "at.switch_page('pages/training_lab.py').run()\n"
        "assert not at.exception, at.exception\n"
        "assert any(b.label == 'Start training' for b in at.button), [b.label for b in at.button]\n"
        "print('torch' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("False")


def test_bank_html_renders_as_text(progress_db):
    from streamlit.testing.v1 import AppTest

    def page():
        from qa_bank.schema import QAItem, Source
        from ui.cards import render_item_body
        from ui.state import get_bank

        item = QAItem("x", "q", "<script>alert(1)</script> **bold**", ("short",), ("autograd",), 1, Source("d", 1), ("a", "b"))
        render_item_body(item, get_bank())

    at = AppTest.from_function(page, default_timeout=30).run()
    assert not at.exception
    rendered = at.markdown[0]
    assert "<script>" in rendered.value and not rendered.proto.allow_html


def test_edit_and_run_executes_the_snippet_in_a_child_process(progress_db):
    from streamlit.testing.v1 import AppTest

    lab = AppTest.from_function(_render_fold_demo, default_timeout=120).run()
    lab.toggle[0].set_value(True).run()
    lab.session_state["t-code-text"] = "print('edited', 2 + 2)"  # what the code editor holds (AppTest cannot type in it)
    button(lab, "Run edited snippet").click().run()
    assert not lab.exception
    assert any(code.value.strip() == "edited 4" for code in lab.code)


def test_hosted_mode_without_bwrap_hides_edit_and_run_and_says_why(progress_db, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("HOSTED", "1")
    monkeypatch.setenv("VIVA_NO_BWRAP", "1")
    lab = AppTest.from_function(_render_fold_demo, default_timeout=60).run()
    assert not lab.toggle
    assert any("off on this shared deployment: bubblewrap (bwrap) is not available" in c.value for c in lab.caption)


def test_hosted_mode_with_bwrap_edits_and_runs_inside_it(progress_db, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from sandbox.bwrap import bwrap_usable

    if not bwrap_usable():
        pytest.skip("bubblewrap is not usable here (apt-get install bubblewrap)")
    monkeypatch.setenv("HOSTED", "1")
    lab = AppTest.from_function(_render_fold_demo, default_timeout=60).run()
    lab.toggle[0].set_value(True).run()
    assert any(c.value.startswith("Runs in bubblewrap: no network") for c in lab.caption)
    next(b for b in lab.button if b.label == "Run edited snippet").click().run(timeout=120)
    assert not lab.exception and any("PASS" in c.value for c in lab.code)


def _render_fold_demo():
    from ui.demos import render_demo_panel

    render_demo_panel("bn-fold-into-conv", key="t")


def test_key_points_with_arithmetic_render_without_italics(progress_db):
    from streamlit.testing.v1 import AppTest

    def page():
        from qa_bank.schema import QAItem, Source
        from ui.cards import render_item_body
        from ui.state import get_bank

        item = QAItem("x", "q", "a", ("short",), ("autograd",), 1, Source("d", 1), ("flattened size 128*4*4 = 2048", "b"))
        render_item_body(item, get_bank())

    at = AppTest.from_function(page, default_timeout=30).run()
    assert any("128\\*4\\*4" in m.value for m in at.markdown), [m.value for m in at.markdown]


def test_a_correction_note_shows_its_claim_check_and_measured_values(app):
    from qa_bank.loader import load_bank

    item_id = "keras-s3-q5-normalization-applied-before-after-augmentation"  # its note: the order does not matter
    item = load_bank().by_id()[item_id]
    at = app("pages/browse.py")
    at.sidebar.selectbox(key="browse-proof").select("Proved by a demo").run()
    assert any(c.value == f"Claim check for the correction note: {item.claim_check} (demo `{item.demo}`)" for c in at.caption)
    at.button(key=f"claim-{item_id}-check").click().run()
    assert not at.exception
    verdicts = [s.value for s in at.success if f"Demo `{item.demo}` checks the correction note" in s.value]
    assert len(verdicts) == 1 and verdicts[0].startswith(f"Claim check passed: {item.claim_check}  \n"), verdicts
    assert " = " in verdicts[0].splitlines()[1]  # the values the check measured
    # The verdict is kept for the session: the card shows it without a button on the next run.
    at.run()
    assert not [b for b in at.button if b.key == f"claim-{item_id}-check"]
    assert len([s for s in at.success if f"Demo `{item.demo}` checks" in s.value]) == 1


def test_flashcard_shows_the_claim_check_beside_the_answer_and_first_in_the_demo_panel(app):
    from proofs.catalogue import get_demo
    from qa_bank.loader import load_bank

    at = app("pages/flashcards.py")
    button(at, "Reveal answer").click().run()
    item = next(i for i in load_bank().items if i.question == at.markdown[0].value.removeprefix("### "))
    assert item.demo and item.claim_check, "the first card is expected to have a demo"
    button(at, "Run the claim check").click().run()
    assert not at.exception
    beside = [s.value for s in at.success if s.value.startswith("Claim check passed: ")]
    assert beside and beside[0].splitlines()[0] == f"Claim check passed: {item.claim_check.replace('*', chr(92) + '*')}  "
    assert get_demo(item.demo).mistake.replace("*", "\\*") in beside[0]
    button(at, "Run demo").click().run()
    panel = [s.value for s in at.success if s.value.startswith(("Claim check", "Side check")) and "checks this answer" not in s.value]
    assert len(panel) == len(get_demo(item.demo).check_names), panel
    assert panel[0].startswith(f"Claim check passed: {item.claim_check.replace('*', chr(92) + '*')}  \n")
    assert all(v.startswith("Side check passed: ") for v in panel[1:]), panel
