"""Hosted mode: sessions cannot see each other's progress, choose profiles, paths or long runs."""

from datetime import UTC, datetime

from fsrs import Rating
from streamlit.testing.v1 import AppTest

from study.store import ProgressStore
from tests.app.conftest import APP


def _session(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page(page).run()
    assert not at.exception
    return at


def test_two_hosted_sessions_have_separate_progress(progress_db, monkeypatch):
    monkeypatch.setenv("HOSTED", "1")
    first, second = _session("pages/progress.py"), _session("pages/progress.py")
    first_profile, second_profile = first.session_state["profile"], second.session_state["profile"]
    assert first_profile.startswith("hosted-") and first_profile != second_profile
    ProgressStore(progress_db).record_review(
        "viva-02-models-classifier-nn-linear-128", Rating.Good, datetime.now(UTC), profile=first_profile
    )
    first.run()
    second.run()
    assert not first.info  # the first learner sees charts
    assert second.info[0].value.startswith("No reviews yet")  # the second sees nothing of the first's


def test_hosted_session_cannot_pick_another_profile(progress_db, monkeypatch):
    monkeypatch.setenv("HOSTED", "1")
    at = _session("pages/settings.py")
    at.session_state["profile"] = "default"  # a tampered session state is replaced, not trusted
    at.run()
    assert at.session_state["profile"].startswith("hosted-")
    assert not at.selectbox or all(s.label != "Learner profile" for s in at.selectbox)
    assert all(t.label != "CIFAR-10 directory (an image-folder tree or cifar-10-batches-py)" for t in at.text_input)


def test_hosted_training_lab_bounds_budget_and_paths(progress_db, monkeypatch):
    monkeypatch.setenv("HOSTED", "1")
    at = _session("pages/training_lab.py")
    directory = next(t for t in at.text_input if t.label == "Directory")
    assert directory.disabled
    budget = next(n for n in at.number_input if n.label == "Time budget (s)")
    epochs = next(n for n in at.number_input if n.label == "Epochs")
    assert budget.max == 60 and epochs.max == 5


def _opened_with(query: dict[str, str]) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for name, value in query.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, at.exception
    return at


def test_a_resume_link_brings_the_learner_back_and_a_wrong_one_reaches_no_one(progress_db, monkeypatch):
    monkeypatch.setenv("HOSTED", "1")
    first = _opened_with({})
    profile, token = first.session_state["profile"], first.query_params["resume"]
    assert profile.startswith("hosted-") and len(token) >= 32
    ProgressStore(progress_db).record_review("viva-02-models-classifier-nn-linear-128", Rating.Good, datetime.now(UTC), profile=profile)

    again = _opened_with({"resume": token})  # a refresh, or the bookmark next day
    assert again.session_state["profile"] == profile
    assert again.query_params["resume"] == token

    forged = _opened_with({"resume": token[:-2] + "xx"})
    assert forged.session_state["profile"] not in (profile, "default")
    assert any("not valid" in w.value for w in forged.sidebar.warning)
    missing = _opened_with({})
    assert missing.session_state["profile"] not in (profile, forged.session_state["profile"])
    assert ProgressStore(progress_db).reviews(missing.session_state["profile"]) == []
