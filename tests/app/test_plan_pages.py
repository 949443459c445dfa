"""The study plan in the app: Today with a viva date, Settings (date, retention, limits, Optimize),
the card controls and Card info on Flashcards, leeches on Progress, review durations from every
page that reviews, and the class view refused to anyone but an instructor."""

import json
import os
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fsrs import Rating
from streamlit.testing.v1 import AppTest

from exercises.drills import make_drill
from qa_bank.loader import load_bank
from study import controls
from study.learner import LearnerSettings
from study.store import ProgressStore
from tests.app.conftest import APP
from tests.study.refit_fakes import Launcher

REPO_ROOT = Path(__file__).resolve().parents[2]

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


def test_today_says_when_the_review_limit_not_the_pace_leaves_cards_unseen(app, progress_db):
    today = datetime.now(UTC).date()
    settings = LearnerSettings(max_reviews_per_day=30).with_viva_date(today + timedelta(days=10), today)
    ProgressStore(progress_db).save_settings("default", settings)
    at = app()
    warning = at.warning[0].value  # the plan's pace (44 a day) is enough; 30 cards a day are not
    assert "stay unseen on the day: your limit of 30 reviews a day leaves no room for them" in warning
    assert "the plan needs" not in warning  # it once said "At 44 new cards a day ...: the plan needs 44"


def test_todays_plan_follows_new_parameters_and_the_session_keeps_a_few_plans(app, progress_db):
    from study.fit import replay_memory
    from tests.study.learner_sim import FORGETFUL

    store = ProgressStore(progress_db)
    today = datetime.now(UTC).date()
    for item in load_bank().items[:30]:
        store.record_review(item.id, Rating.Good, datetime.now(UTC) - timedelta(days=4))
    store.save_settings("default", LearnerSettings().with_viva_date(today + timedelta(days=20), today))
    at = app()
    before = _metric(at, "If you stopped today")
    store.save_fit("default", {"reviews": 30}, list(FORGETFUL))  # as a refit in its own process does, with no review in between
    replay_memory(store, "default")
    at.run()
    assert _metric(at, "If you stopped today") != before  # recomputed with the new parameters, not the plan cached for the old
    for day in range(6):
        store.save_settings("default", LearnerSettings().with_viva_date(today + timedelta(days=21 + day), today))
        at.run()
    assert len(at.session_state["_plans"]) <= 4  # not one plan kept per change for the whole session


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


def test_settings_opens_after_the_viva_date_has_passed_and_keeps_that_date(app, progress_db):
    today = datetime.now(UTC).date()
    passed = LearnerSettings(viva_date=today - timedelta(days=3), plan_start=today - timedelta(days=20))
    ProgressStore(progress_db).save_settings("default", passed)
    at = app("pages/settings.py")  # the date input's minimum is today: a passed date as its value raised StreamlitValueBelowMinError
    assert not at.checkbox(key="plan-has-date").value
    assert any(c.value.startswith(f"Your viva was on {passed.viva_date:%d %B %Y}") for c in at.caption)
    at.slider(key="retention").set_value(0.85).run()
    _button(at, "Save settings").click().run()
    saved = ProgressStore(progress_db).settings("default")
    assert (saved.desired_retention, saved.viva_date, saved.plan_start) == (0.85, passed.viva_date, passed.plan_start)
    at.checkbox(key="plan-has-date").check().run()  # a new date: from today on
    assert not at.exception and at.date_input(key="plan-date").value == today + timedelta(days=30)


def _pace(at) -> int:
    return next(n for n in at.number_input if n.label == "New cards a day for the plan").value


def test_a_changed_viva_date_keeps_the_plans_own_pace(app, progress_db):
    today = datetime.now(UTC).date()
    at = app("pages/settings.py")
    at.checkbox(key="plan-has-date").check().run()
    assert _pace(at) == 13  # 218 cards over the 17 days before the last 13 of a 30-day plan
    at.date_input(key="plan-date").set_value(today + timedelta(days=10)).run()
    assert _pace(at) == 44  # 218 cards over the first 5 of 10 days (the input once kept 13, and saved it as the learner's pace)
    _button(at, "Save settings").click().run()
    saved = ProgressStore(progress_db).settings("default")
    assert saved.viva_date == today + timedelta(days=10) and saved.plan_new_per_day is None
    next(n for n in at.number_input if n.label == "New cards a day for the plan").set_value(30).run()
    _button(at, "Save settings").click().run()
    assert ProgressStore(progress_db).settings("default").plan_new_per_day == 30  # a pace the learner chose is theirs


def test_both_settings_previews_show_the_values_being_edited(app, progress_db, monkeypatch):
    """Nothing saved: a 10-day viva, retention 0.80 and 60 reviews a day, set in that order. The plan
    preview once kept the saved retention (0.90) and limit (200), the workload preview the saved
    date (none) and pace; each must match a preview computed here from the edited settings."""
    from study.daily import learner_plan
    from study.workload import workload_preview

    moment = datetime.now(UTC)
    monkeypatch.setattr("ui.state.now", lambda: moment)  # the simulations below replay the page's exactly
    today = moment.date()
    at = app("pages/settings.py")
    at.checkbox(key="plan-has-date").check().run()
    at.date_input(key="plan-date").set_value(today + timedelta(days=10)).run()
    at.slider(key="retention").set_value(0.8).run()
    at.number_input(key="limit-reviews").set_value(60).run()
    assert not at.exception
    edited = LearnerSettings(desired_retention=0.8, max_reviews_per_day=60).with_viva_date(today + timedelta(days=10), today)
    store, items = ProgressStore(progress_db), load_bank().items

    def busiest(settings: LearnerSettings) -> str:
        plan = learner_plan(store, items, "default", moment, settings, runs=5)
        recall = plan.predicted_recall_on_date
        return f"about {max(plan.reviews_per_day):.0f} cards on the busiest day; predicted recall on the day {recall:.0%}"

    def totals(settings: LearnerSettings) -> str:
        preview = workload_preview(store, items, "default", moment, 0.8, settings)
        return " · ".join(f"{r:.0%}: {total:.0f} reviews" for r, total in preview.totals.items()) + " in 30 days"

    saved_retention = replace(edited, desired_retention=0.9, max_reviews_per_day=200)
    assert busiest(edited) != busiest(saved_retention)  # measured: about 60 cards and 86%, against 91 and 95%
    assert any(busiest(edited) in c.value for c in at.caption)
    assert totals(edited) != totals(LearnerSettings(max_reviews_per_day=60))  # with the date and its pace, against without
    assert totals(edited) in [c.value for c in at.caption]
    assert ProgressStore(progress_db).settings("default") == LearnerSettings()  # nothing saved by looking


@pytest.fixture
def refits(monkeypatch):
    """A refit pool of the test's own (the server's one is shared by everything in this process);
    `launch` replaces the real `python -m study optimize --auto` process."""
    import study.refits

    def install(launch=None, max_running: int = 2) -> study.refits.RefitPool:
        limits = study.refits.RefitLimits(max_running)
        pool = study.refits.RefitPool(limits, launch) if launch else study.refits.RefitPool(limits)
        monkeypatch.setattr(study.refits, "_pool", pool)
        return pool

    return install


def _running_note(at) -> str | None:
    return next((i.value for i in at.info if "in the background" in i.value), None)


def test_optimize_runs_in_the_background_and_shows_the_stored_fit_when_done(app, progress_db, refits):
    from fsrs.scheduler import DEFAULT_PARAMETERS

    from study.fit import FitReport

    launcher = Launcher()
    pool = refits(launcher)
    at = app("pages/settings.py")
    assert any(c.value.startswith("Parameters in use: FSRS-6's defaults") for c in at.caption)
    _button(at, "Optimize").click().run()
    assert list(launcher.started) == ["default"]  # the process started; the page did not fit anything itself
    assert _running_note(at).startswith("Fitting FSRS to your reviews in the background")
    assert not any(b.label == "Optimize" for b in at.button)  # one fit at a time
    at.run()
    assert list(launcher.started) == ["default"] and _running_note(at)  # still running: still said, not started again
    parameters = [0.1, *DEFAULT_PARAMETERS[1:]]  # what the process stores when its fit is better
    report = FitReport(600, 520, True, True, "defaults", 0.52, 0.50, 0.09, 0.07, parameters, datetime.now(UTC).isoformat())
    ProgressStore(progress_db).save_fit("default", report.to_dict(), parameters)
    launcher.started["default"].finish()
    assert pool.wait(launcher.targets[0], "default", timeout=30)
    at.run()
    assert _running_note(at) is None and any(b.label == "Optimize" for b in at.button)
    assert any(c.value.startswith("Parameters in use: fitted to your reviews") for c in at.caption)
    assert any("log loss 0.5200 → 0.5000; the new parameters are in use" in c.value for c in at.caption)


def test_optimize_waits_its_turn_when_the_server_runs_its_limit_of_fits(app, progress_db, refits):
    launcher = Launcher()
    pool = refits(launcher, max_running=1)
    pool.request("another.db", "ben")  # another learner's fit holds the only slot
    at = app("pages/settings.py")
    _button(at, "Optimize").click().run()
    assert list(launcher.started) == ["ben"]
    assert any(i.value.startswith("Your fit is waiting: the server runs a few at a time") for i in at.info)
    launcher.started["ben"].finish()
    assert pool.wait("another.db", "ben", timeout=30)
    at.run()
    assert list(launcher.started) == ["ben", "default"] and _running_note(at)  # started when ben's ended
    launcher.started["default"].finish()


def test_the_rating_that_reaches_refit_every_starts_a_refit(app, progress_db, refits):
    launcher = Launcher()
    refits(launcher)
    ProgressStore(progress_db).save_settings("default", LearnerSettings(refit_every=2))
    at = app("pages/flashcards.py")
    for _ in range(2):
        _button(at, "Reveal answer").click().run()
        _button(at, "Good").click().run()
    assert list(launcher.started) == ["default"] and launcher.targets == [str(progress_db)]
    launcher.started["default"].finish()


def test_a_fit_that_fails_says_so_on_settings(app, progress_db, refits):
    launcher = Launcher(returncode=1, stderr=b"python -m study optimize: database is locked\n")
    pool = refits(launcher)
    at = app("pages/settings.py")
    _button(at, "Optimize").click().run()
    launcher.started["default"].finish()
    assert pool.wait(launcher.targets[0], "default", timeout=30)
    at.run()
    assert at.error[0].value == "The last fit stopped (exit status 1): python -m study optimize: database is locked. Optimize tries again."


def test_optimize_below_the_minimum_says_so_and_keeps_the_defaults(app, progress_db, refits):
    pool = refits()  # the real process: below the minimum it never imports torch, so it is quick
    store = ProgressStore(progress_db)
    start = datetime.now(UTC) - timedelta(days=10)
    for day in (0, 3, 8):
        store.record_review(FIRST, Rating.Good, start + timedelta(days=day))
    at = app("pages/settings.py")
    _button(at, "Optimize").click().run()
    assert pool.wait(str(progress_db), "default", timeout=120) and pool.status(str(progress_db), "default").last_exit == 0
    at.run()
    assert not at.exception
    assert any("below the optimizer's minimum" in c.value for c in at.caption)
    assert [m.label for m in at.metric if m.label in ("Log loss", "RMSE")] == ["Log loss", "RMSE"]
    assert ProgressStore(progress_db).parameters_for("default").source == "defaults"


@pytest.mark.slow
def test_optimize_never_imports_torch_into_the_server(progress_db):
    """A real fit (906 interday reviews, 10-40 s) clicked on Settings, in a fresh interpreter: torch
    stays out of the server's process, and the page shows the fit the refit process stored."""
    done = subprocess.run([sys.executable, "-m", "tests.app.optimize_probe"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=900,
                          env={**os.environ, "VIVA_PROGRESS_DB": str(progress_db)})  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["torch_before_click"] is False and result["exception"] == []
    assert result["torch_after_click"] is False  # the fit once ran here, loading torch and blocking the page
    assert any(note.startswith("Fitting FSRS to your reviews in the background") for note in result["while_running"])
    assert result["finished"] and result["torch_after_fit"] is False
    assert any(c.startswith("Parameters in use: fitted to your reviews") for c in result["captions"])
    assert any("the new parameters are in use" in c for c in result["captions"])


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


def _hide(store: ProgressStore, suspended, buried) -> None:
    moment = datetime.now(UTC)
    for item in suspended:
        store.change_meta(item.id, "default", controls.suspend, moment)
    for item in buried:
        store.change_meta(item.id, "default", lambda meta: controls.bury(meta, moment), moment)


def test_quiz_never_offers_a_suspended_or_buried_card_when_nothing_is_due(app, progress_db):
    items = load_bank().items
    store = ProgressStore(progress_db)
    store.save_settings("default", LearnerSettings(new_per_day=0))  # nothing due, nothing new: the Quiz offers any card
    _hide(store, suspended=[items[0]], buried=[items[1]])
    at = app("pages/quiz.py")
    assert at.session_state["quiz-current"] == items[2].id  # it once fell back to every item, the suspended first
    linked = AppTest.from_file(APP, default_timeout=60)
    linked.query_params["item"] = items[0].id  # a link to the suspended card does not open it either
    linked.run()
    linked.switch_page("pages/quiz.py").run()
    assert linked.session_state["quiz-current"] == items[2].id


def test_the_mock_viva_never_asks_a_suspended_or_buried_card(app, progress_db):
    items = load_bank().items
    _hide(ProgressStore(progress_db), suspended=items[3:], buried=[items[2]])
    at = app("pages/viva.py")
    _button(at, "Start the viva").click().run()
    assert sorted(at.session_state["viva-session"].queue) == sorted([items[0].id, items[1].id])  # 6 asked for; 2 may be asked
    _hide(ProgressStore(progress_db), suspended=items[:2], buried=[])
    fresh = app("pages/viva.py")
    assert any("suspended or buried" in i.value for i in fresh.info) and not any(b.label == "Start the viva" for b in fresh.button)


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
