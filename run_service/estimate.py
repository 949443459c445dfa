"""When a queued run will start: the slots are simulated in FIFO order."""

from __future__ import annotations

import heapq

STARTUP_SECONDS = 5.0  # loading data and the final evaluation, before any run has been measured
UNBUDGETED_SECONDS = 60.0  # an epochs-based run, before any has been measured


def expected_seconds(time_budget: float | None, measured_overhead: float | None, measured_unbudgeted: float | None) -> float:
    """How long a run is expected to hold a slot."""
    if time_budget is not None:
        return time_budget + (measured_overhead if measured_overhead is not None else STARTUP_SECONDS)
    return measured_unbudgeted if measured_unbudgeted is not None else UNBUDGETED_SECONDS


def seconds_until_start(running_remaining: list[float], queued_ahead: list[float], slots: int) -> float:
    """Seconds until the next run after `queued_ahead` starts, given the seconds the running runs
    still need and the expected length of each run ahead of it in the queue."""
    free_at = sorted(max(0.0, r) for r in running_remaining)[:slots]
    free_at += [0.0] * (slots - len(free_at))
    heapq.heapify(free_at)
    for duration in queued_ahead:
        heapq.heappush(free_at, heapq.heappop(free_at) + duration)
    return free_at[0]
