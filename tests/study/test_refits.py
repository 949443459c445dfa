"""Refits in the background: at most a few processes at once per server, the rest queued and
started as running ones finish, every process reaped when it exits, and the real command fits and
stores the learner's report."""

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from fsrs import Rating

from study.fit import refit_due
from study.learner import LearnerSettings
from study.refits import QUEUED, RUNNING, RefitLimits, RefitPool
from study.store import ProgressStore
from tests.study.refit_fakes import Launcher

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_at_most_max_running_refits_run_and_the_rest_wait_their_turn():
    launcher = Launcher()
    pool = RefitPool(RefitLimits(max_running=2), launch=launcher)
    assert [pool.request("db", p).state for p in ("ana", "ben", "cara", "dan")] == [RUNNING, RUNNING, QUEUED, QUEUED]
    assert pool.request("db", "ana").state == RUNNING and pool.request("db", "dan").ahead == 1  # one place each
    assert list(launcher.started) == ["ana", "ben"] and pool.running() == 2
    launcher.started["ana"].finish()
    assert pool.wait("db", "ana", timeout=30)
    assert list(launcher.started) == ["ana", "ben", "cara"]  # cara started when ana's ended, not before
    assert pool.status("db", "dan").ahead == 0
    for name in ("ben", "cara", "dan"):
        launcher.started[name].finish()
        assert pool.wait("db", name, timeout=30)
    assert launcher.live_at_start == [0, 1, 1, 1] and pool.running() == 0  # never a third at once
    assert pool.status("db", "dan").state is None and pool.status("db", "dan").last_exit == 0


def test_one_learners_refits_are_kept_apart_per_store():
    launcher = Launcher()
    pool = RefitPool(RefitLimits(max_running=1), launch=launcher)
    assert pool.request("first.db", "ana").state == RUNNING
    assert pool.request("second.db", "ana").state == QUEUED  # another store's "ana" is another learner
    launcher.started["ana"].finish()
    assert pool.wait("first.db", "ana", timeout=30) and pool.status("second.db", "ana").state == RUNNING
    launcher.started["ana"].finish()
    assert pool.wait("second.db", "ana", timeout=30)


def test_a_finished_refit_process_is_reaped_at_once_and_its_failure_kept():
    def failing(target, profile):
        script = "import sys; print('step 1', file=sys.stderr); sys.exit('python -m study optimize: the store is locked')"
        return subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    pool = RefitPool(RefitLimits(max_running=1), launch=failing)
    pool.request("db", "ana")
    pid = pool._running[("db", "ana")][0].pid
    assert pool.wait("db", "ana", timeout=60)
    with pytest.raises(ChildProcessError):  # already waited for: no zombie left until the next refit
        os.waitpid(pid, os.WNOHANG)
    status = pool.status("db", "ana")
    assert (status.state, status.last_exit, status.last_error) == (None, 1, "python -m study optimize: the store is locked")


def test_a_refit_that_cannot_start_is_noted_and_the_next_one_starts():
    launcher = Launcher()

    def launch(target, profile):
        if profile == "ana":
            raise OSError("[Errno 11] Resource temporarily unavailable")
        return launcher(target, profile)

    pool = RefitPool(RefitLimits(max_running=1), launch=launch)
    assert pool.request("db", "ana").last_exit == -1 and pool.request("db", "ben").state == RUNNING
    assert pool.status("db", "ana").last_error == "could not start the refit: [Errno 11] Resource temporarily unavailable"
    launcher.started["ben"].finish()
    assert pool.wait("db", "ben", timeout=30)


def test_after_a_failed_refit_a_review_waits_before_starting_another_but_optimize_does_not():
    launcher = Launcher(returncode=1, stderr=b"Traceback ...\nValueError: no reviews")
    pool = RefitPool(RefitLimits(max_running=2), launch=launcher)
    pool.request("db", "ana", automatic=True)
    launcher.started["ana"].finish()
    assert pool.wait("db", "ana", timeout=30) and pool.status("db", "ana").last_exit == 1
    # the refit stays due (a failure stores no report): the next reviews must not start one each
    assert pool.request("db", "ana", automatic=True).state is None and len(launcher.targets) == 1
    assert pool.request("db", "ana").state == RUNNING and len(launcher.targets) == 2  # Settings' Optimize tries again
    launcher.started["ana"].finish()
    assert pool.wait("db", "ana", timeout=30)
    patient = RefitPool(RefitLimits(max_running=2, retry_after_s=0.0), launch=launcher)
    patient.request("db", "ben", automatic=True)
    launcher.started["ben"].finish()
    assert patient.wait("db", "ben", timeout=30)
    assert patient.request("db", "ben", automatic=True).state == RUNNING  # the wait is over: a review starts one again
    launcher.started["ben"].finish()
    assert patient.wait("db", "ben", timeout=30)


def test_after_a_refit_that_worked_the_next_due_one_starts_at_once():
    launcher = Launcher()
    pool = RefitPool(RefitLimits(max_running=1), launch=launcher)
    pool.request("db", "ana", automatic=True)
    launcher.started["ana"].finish()
    assert pool.wait("db", "ana", timeout=30)
    assert pool.request("db", "ana", automatic=True).state == RUNNING
    launcher.started["ana"].finish()
    assert pool.wait("db", "ana", timeout=30)


def test_the_limit_comes_from_the_environment_and_a_bad_one_is_one_line():
    assert RefitLimits.from_env({}).max_running == 2
    assert RefitLimits.from_env({"VIVA_MAX_REFITS": " 4 "}).max_running == 4
    for bad in ("0", "two", "-1", "1.5"):
        with pytest.raises(ValueError) as error:
            RefitLimits.from_env({"VIVA_MAX_REFITS": bad})
        assert str(error.value) == f"VIVA_MAX_REFITS must be a whole number of at least 1, not {bad!r}"


def test_the_automatic_refit_runs_in_a_process_of_its_own(store_target):
    store = ProgressStore(store_target)
    store.save_settings("ana", LearnerSettings(refit_every=2))
    for minutes in range(2):
        store.record_review("item-a", Rating.Good, START + timedelta(minutes=minutes), "ana")
    assert refit_due(store, "ana")
    pool = RefitPool()
    assert pool.request(store.target, "ana").state == RUNNING
    assert pool.wait(store.target, "ana", timeout=120) and pool.status(store.target, "ana").last_exit == 0
    assert ProgressStore(store_target).fit_report("ana")["reviews"] == 2 and not refit_due(ProgressStore(store_target), "ana")
