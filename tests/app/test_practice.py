"""The Exercises and Drills pages: solve an exercise, see a failure with expected against got,
survive hostile code, answer a drill, and both scheduled in the store; hosted mode turns the
coding exercises off and keeps the drills."""

from exercises.catalogue import get_exercise
from exercises.drills import make_drill
from study.store import ProgressStore


def _button(at, label):
    return next(b for b in at.button if b.label.startswith(label))


def _checks(at, source: str):
    exercise = at.session_state["exercise-current"]
    at.session_state[f"code-{exercise}-text"] = source  # what the code editor holds (a browser component: AppTest cannot type in it)
    _button(at, "Run checks").click().run(timeout=120)
    assert not at.exception, at.exception


def test_a_wrong_then_right_solution_and_the_rating_is_stored(app, progress_db):
    at = app("pages/exercises.py")
    at.selectbox[0].select("conv-output-size").run()
    assert at.query_params["exercise"] == "conv-output-size"  # the address names the exercise
    _checks(at, "def conv_output_size(size, kernel, stride, padding, dilation=1):\n    return size\n")
    assert any("checks passed." in e.value and "of 5" in e.value for e in at.error)
    assert any(
        "Expected `conv_output_size(" in m.value and "Got `" in m.value for m in at.markdown
    )  # the failing call, hidden until it fails
    _checks(at, get_exercise("conv-output-size").solution)
    assert [s.value for s in at.success if "checks passed" in s.value] == ["All 5 checks passed."]
    assert any("Suggested rating: **Good** (2 tries)" in c.value for c in at.caption)
    _button(at, "Good").click().run()
    reviews = ProgressStore(progress_db).reviews()
    assert [(r.item_id, r.mode, r.score) for r in reviews] == [("exercise:conv-output-size", "exercise", 1.0)]
    assert reviews[0].duration_ms > 0  # from opening the exercise to the rating: two runs of the checks at least
    assert list(ProgressStore(progress_db).cards(kind="exercise")) == ["exercise:conv-output-size"]


def test_hint_and_solution_count_in_the_suggested_rating(app):
    at = app("pages/exercises.py")
    at.selectbox[0].select("accuracy").run()
    _button(at, "Show a hint").click().run()
    _button(at, "Show the solution").click().run()
    assert any("argmax over dim=1" in i.value for i in at.info)
    assert any("def accuracy" in c.value for c in at.code)
    _checks(at, get_exercise("accuracy").solution)
    assert any("Suggested rating: **Again**" in c.value and "solution shown" in c.value for c in at.caption)


def test_an_infinite_loop_a_huge_allocation_and_an_exception_give_a_clear_result_and_the_page_keeps_working(app, monkeypatch):
    monkeypatch.setattr("exercises.runner.TIMEOUT_S", 3.0)
    at = app("pages/exercises.py")
    at.selectbox[0].select("accuracy").run()
    _checks(at, "def accuracy(logits, labels):\n    while True:\n        pass\n")
    assert any("stopped after 2 s: an infinite loop" in c.value for c in at.code)
    assert any("not run: your code used up its time" in c.value for c in at.code)
    _checks(at, "import torch\ndef accuracy(logits, labels):\n    return torch.empty(10**11).sum().item()\n")
    assert any("more memory than the checks allow" in c.value for c in at.code)
    _checks(at, "def accuracy(logits, labels):\n    raise ValueError('my bug')\n")
    assert any("ValueError: my bug" in c.value and "line 2" in c.value for c in at.code)
    _checks(at, get_exercise("accuracy").solution)
    assert any(s.value == "All 4 checks passed." for s in at.success)


def test_a_drill_answered_right_and_wrong(app, progress_db):
    at = app("pages/drills.py")
    at.selectbox[0].select("steps-per-epoch").run()
    seed = at.session_state["drill-seeds"]["steps-per-epoch"]
    drill = make_drill("steps-per-epoch", seed)
    assert any(drill.question in m.value for m in at.markdown)
    at.text_input[0].input(str(int(drill.answer)))  # a form's widgets are sent with its submit button
    at.button[-1].click().run()
    assert any(s.value.startswith("Right") for s in at.success)
    _button(at, "New drill").click().run()
    at.text_input[0].input("-1")
    at.button[-1].click().run()
    assert any(e.value.startswith("Not quite: the answer is") for e in at.error)
    reviews = ProgressStore(progress_db).reviews()
    assert [(r.item_id, r.rating.name, r.mode) for r in reviews] == [
        ("drill:steps-per-epoch", "Good", "drill"),
        ("drill:steps-per-epoch", "Again", "drill"),
    ]


def test_hosted_mode_without_bwrap_turns_exercises_off_and_keeps_drills(app, monkeypatch):
    monkeypatch.setenv("HOSTED", "1")
    monkeypatch.setenv("VIVA_NO_BWRAP", "1")
    at = app("pages/exercises.py")
    assert any("Coding exercises are off on this shared deployment" in i.value for i in at.info)
    assert "code-accuracy-text" not in at.session_state and not at.text_area  # no editor
    drills = app("pages/drills.py")
    assert drills.text_input and not drills.exception


def test_a_flashcard_links_to_its_exercise(app):
    at = app("pages/search.py")
    at.text_input[0].input("zero_grad required before backward").run()
    practise = next(b for b in at.button if b.label == "Practise in code: One training step")
    practise.click().run()
    assert not at.exception
    assert at.session_state["exercise-current"] == "train-step"
    assert at.title[0].value == "Coding exercises" and at.selectbox[0].value == "train-step"  # the exercise page, on that exercise


def test_today_and_progress_count_exercises_and_drills(app, progress_db):
    from datetime import UTC, datetime, timedelta

    from fsrs import Rating

    store = ProgressStore(progress_db)
    earlier = datetime.now(UTC) - timedelta(days=30)  # long enough ago to be due again
    store.record_review("exercise:dropout", Rating.Good, earlier, mode="exercise", kind="exercise", score=1.0)
    store.record_review("drill:softmax", Rating.Again, earlier, mode="drill", kind="drill", score=0.0)
    today = app("pages/today.py")
    metrics = {m.label: m.value for m in today.metric}
    assert metrics["Exercises due"] == "1" and metrics["Drill families due"] == "1"
    assert metrics["Cards studied"].startswith("0 /")  # practice is not counted as flashcards
    progress = app("pages/progress.py")
    table = next(m.value for m in progress.markdown if "exercise or family" in m.value)
    assert "| exercise | dropout | 1 | 1 |" in table and "| drill | softmax | 1 | 0 |" in table
