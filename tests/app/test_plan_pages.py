"""The study plan in the app: Today with a viva date, Settings (date, retention, limits, Optimize),
the card controls and Card info on Flashcards, leeches on Progress, review durations from every
page that reviews, and the class view refused to anyone but an instructor."""

from datetime import UTC, datetime, timedelta

from fsrs import Rating
from streamlit.testing.v1 import AppTest

from exercises.drills import make_drill
from qa_bank.loader import load_bank
from study import controls
from study.learner import LearnerSettings
from study.store import ProgressStore
from tests.app.conftest import APP

FIRST = load_bank().items[0].id


def _button(at, label: str):
    return next(b for b in at.button if b.label.startswith(label))


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_today_with_a_viva_date_shows_days_left_unseen_cards_and_predicted_recall(app, progress_db):
    store = ProgressStore(progress_db)
    today = datetime.now(UTC).date()
    store.save_settings("default", LearnerSettings().with_viva_date(today + timedelta(days=20), today))
    at = app()
    assert _metric(at, "Days left") == "20" and _metric(at, "Cards not yet seen") == "218"
    assert _metric(at, "If you stopped today") == "0%"
    predicted = int(_metric(at, "Predicted recall on the day").rstrip("%"))
    assert 90 <= predicted <= 100
    assert at.expander[0].label.startswith("By topic (weakest first: ")
    assert _metric(at, "New today") == "22"  # the plan's pace: 218 cards over the first 10 of 20 days


def test_settings_saves_a_viva_date_and_a_retention_and_reschedules(app, progress_db):
    store = ProgressStore(progress_db)
    moment = datetime.now(UTC) - timedelta(days=3)
    store.record_review(FIRST, Rating.Good, moment)
    store.record_review(FIRST, Rating.Easy, moment + timedelta(minutes=10))
    due_before = store.card(FIRST).due
    at = app("pages/settings.py")
    at.checkbox(key="plan-has-date").check().run()
    at.slider(key="retention").set_value(0.8).run()
    assert not at.exception
    _button(at, "Save settings").click().run()
    saved = ProgressStore(progress_db).settings("default")
    assert saved.desired_retention == 0.8 and saved.viva_date == datetime.now(UTC).date() + timedelta(days=30)
    assert saved.plan_start == datetime.now(UTC).date()
    assert any(s.value.startswith("Saved. 1 cards rescheduled") for s in at.success)
    assert ProgressStore(progress_db).card(FIRST).due != due_before


def test_optimize_below_the_minimum_says_so_and_keeps_the_defaults(app, progress_db):
    store = ProgressStore(progress_db)
    start = datetime.now(UTC) - timedelta(days=10)
    for day in (0, 3, 8):
        store.record_review(FIRST, Rating.Good, start + timedelta(days=day))
    at = app("pages/settings.py")
    _button(at, "Optimize").click().run(timeout=120)
    assert not at.exception
    assert any("below the optimizer's minimum" in c.value for c in at.caption)
    assert [m.label for m in at.metric if m.label in ("Log loss", "RMSE")] == ["Log loss", "RMSE"]
    assert ProgressStore(progress_db).parameters_for("default").source == "defaults"


def test_suspend_bury_and_flag_from_the_flashcards_page(app, progress_db):
    at = app("pages/flashcards.py")
    first = at.session_state["card-current"]
    _button(at, "Suspend").click().run()
    assert ProgressStore(progress_db).meta()[first].suspended and at.session_state["card-current"] != first
    second = at.session_state["card-current"]
    _button(at, "Bury").click().run()
    assert ProgressStore(progress_db).meta()[second].buried_until is not None
    third = at.session_state["card-current"]
    at.selectbox(key=f"controls-{third}-flag").select(3).run()
    assert ProgressStore(progress_db).meta()[third].flag == 3
    assert len({first, second, third}) == 3 and not at.exception


def test_card_info_shows_memory_state_and_history_and_a_leech_is_announced(app, progress_db):
    store = ProgressStore(progress_db)
    moment = datetime.now(UTC) - timedelta(days=200)
    store.record_review(FIRST, Rating.Good, moment)
    due = store.record_review(FIRST, Rating.Good, moment + timedelta(minutes=10))[0].due
    for _ in range(7):  # seven lapses, each followed by relearning
        store.record_review(FIRST, Rating.Again, due)
        due = store.record_review(FIRST, Rating.Good, due + timedelta(minutes=10))[0].due
    at = app("pages/flashcards.py")
    assert at.session_state["card-current"] == FIRST  # long overdue: first in the queue
    assert {"Difficulty", "Stability", "Recall now", "Recall at the viva"} <= {m.label for m in at.metric}
    assert any("7 lapses" in c.value for c in at.caption)
    assert any(m.value.count("| flashcard |") == 16 for m in at.markdown)  # the review history, one row a review
    _button(at, "Reveal answer").click().run()
    _button(at, "Again").click().run()
    assert any(w.value.startswith("This card is a leech: forgotten 8 times. Tagged leech and suspended it") for w in at.warning)
    assert ProgressStore(progress_db).meta()[FIRST].suspended


def test_progress_lists_leeches_and_unsuspends(app, progress_db):
    store = ProgressStore(progress_db)
    store.record_review(FIRST, Rating.Good, datetime.now(UTC))
    store.change_meta(FIRST, "default", controls.suspend, datetime.now(UTC))
    at = app("pages/progress.py")
    assert any("suspended" in m.value and "0 lapses" in m.value for m in at.markdown)
    _button(at, "Unsuspend").click().run()
    assert not ProgressStore(progress_db).meta()[FIRST].suspended


def test_quiz_and_drill_reviews_record_how_long_they_took(app, progress_db):
    at = app("pages/quiz.py")
    at.text_area[0].input("zero the gradients before backward").run()
    at.button[0].click().run()
    _button(at, "Hard").click().run()
    drills = app("pages/drills.py")
    seed = drills.session_state["drill-seeds"][drills.selectbox[0].value]
    drills.text_input[0].input(str(make_drill(drills.selectbox[0].value, seed).answer))
    _button(drills, "Check").click().run()
    reviews = ProgressStore(progress_db).reviews()
    assert [r.mode for r in reviews] == ["quiz", "drill"]
    assert all(r.duration_ms is not None and r.duration_ms >= 0 for r in reviews)


# -- the class view -----------------------------------------------------------------------------------

AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32, "client_id": "viva",
        "client_secret": "s", "server_metadata_url": "http://localhost:9/.well-known/openid-configuration"}  # fmt: skip


def _class_page(user: dict, monkeypatch) -> AppTest:
    monkeypatch.setenv("HOSTED", "1")
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = AUTH
    at.secrets["class_view"] = {"instructor_emails": ["teacher@example.com"]}
    at.user = {"is_logged_in": True, **user}
    at.run()
    at.switch_page("pages/class_view.py").run()
    assert not at.exception, at.exception
    return at


def _two_learners(progress_db) -> None:
    store = ProgressStore(progress_db)
    for learner, rating in (("user-ana", Rating.Again), ("user-ben", Rating.Good)):
        store.record_review(FIRST, Rating.Good, datetime.now(UTC) - timedelta(days=2), learner)
        store.record_review(FIRST, rating, datetime.now(UTC), learner)
    store.record_review("exercise:accuracy", Rating.Good, datetime.now(UTC), "user-ana", score=1.0, mode="exercise", kind="exercise")


def test_the_class_view_is_refused_to_a_learner(progress_db, monkeypatch):
    _two_learners(progress_db)
    at = _class_page({"sub": "ana-sub", "email": "ana@example.com"}, monkeypatch)
    assert at.error[0].value.startswith("The class view is for the class's instructors")
    assert not at.metric and not at.get("download_button")
    assert not any("Learner " in m.value for m in at.markdown)


def test_an_unverified_instructor_email_is_refused(progress_db, monkeypatch):
    at = _class_page({"sub": "x", "email": "teacher@example.com", "email_verified": False}, monkeypatch)
    assert at.error and at.error[0].value.startswith("The class view is for the class's instructors")


def test_an_instructor_sees_the_class_under_pseudonyms(progress_db, monkeypatch):
    from study.class_view import pseudonym

    _two_learners(progress_db)
    at = _class_page({"sub": "t-sub", "email": "Teacher@Example.com"}, monkeypatch)
    assert not at.error
    assert _metric(at, "Learners") == "2"
    learners = next(m.value for m in at.markdown if "| learner |" in m.value)
    assert pseudonym("user-ana") in learners and "user-ana" not in learners
    assert any("| 50% | 2 |" in m.value for m in at.markdown)  # the topic's two interday reviews: one recalled
    assert any("| accuracy | 100% | 1 |" in m.value for m in at.markdown)


def test_names_replace_pseudonyms_only_when_the_deployer_says_so(progress_db, monkeypatch):
    monkeypatch.setenv("VIVA_CLASS_NAMES", "1")
    learner = _class_page({"sub": "ana-sub", "email": "ana@example.com"}, monkeypatch)  # signing in stores her e-mail
    assert learner.error  # still refused
    ProgressStore(progress_db).record_review(FIRST, Rating.Good, datetime.now(UTC), learner.session_state["profile"])
    teacher = _class_page({"sub": "t-sub", "email": "teacher@example.com"}, monkeypatch)
    assert any("| ana@example.com |" in m.value for m in teacher.markdown)
