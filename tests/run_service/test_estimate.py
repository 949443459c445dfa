"""Estimated starts for queued runs: the slots simulated in FIFO order."""

from run_service.estimate import STARTUP_SECONDS, expected_seconds, seconds_until_start


def test_next_in_line_starts_when_the_first_slot_frees():
    assert seconds_until_start([12.0, 30.0], [], slots=2) == 12.0
    assert seconds_until_start([], [], slots=1) == 0.0  # a free slot: now


def test_runs_ahead_take_the_earliest_free_slot_in_turn():
    # One slot busy for 10 s, then two 20 s runs ahead of ours: 10 + 20 + 20.
    assert seconds_until_start([10.0], [20.0, 20.0], slots=1) == 50.0
    # Two slots: the runs ahead spread over both.
    assert seconds_until_start([10.0, 5.0], [20.0, 20.0], slots=2) == 25.0


def test_a_run_past_its_expected_end_counts_as_ending_now():
    assert seconds_until_start([-4.0], [], slots=1) == 0.0


def test_expected_length_of_a_budgeted_run_uses_measured_overhead_when_known():
    assert expected_seconds(30.0, None, None) == 30.0 + STARTUP_SECONDS
    assert expected_seconds(30.0, 2.5, None) == 32.5
    assert expected_seconds(None, None, 80.0) == 80.0
