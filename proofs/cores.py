"""Are there free CPU cores for a demo that shows work running in parallel (DataLoader workers)?

Measured, not assumed: the cores this process may use (os.sched_getaffinity, which taskset and cgroups set), and
whether two processes get twice the work of one done on them. On two idle cores a pair finishes its work in about
the time one process takes alone; where other jobs hold the cores, or where both processes share one, it takes up
to twice as long, and a demo about parallel loading could only flake there. `registry.run` asks before its timer
starts, as it checks for CUDA or the dataset, and skips the demo with this module's one-line reason."""

from __future__ import annotations

import os
import struct
import time

FREE_SPEEDUP = 1.8  # two processes must get at least this many times one's work done (1.97-2.07 on two idle cores here)


def _spin() -> float:
    """Seconds for a fixed piece of pure-Python work (about 20 ms here)."""
    started = time.perf_counter()
    total = 0
    for number in range(400_000):
        total += number * number
    return time.perf_counter() - started


def parallel_speedup() -> float:
    """How many times one process's work two processes get done at once (each times its own work, so the fork's
    cost is not counted)."""
    alone = min(_spin() for _ in range(2))
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child spins, says how long it took, and leaves
        os.write(write, struct.pack("d", _spin()))
        os._exit(0)
    beside = _spin()
    beside = max(beside, struct.unpack("d", os.read(read, 8))[0])
    os.waitpid(child, 0)
    os.close(read)
    os.close(write)
    return 2 * alone / beside


def missing_cores_reason(count: int) -> str | None:
    """None when `count` (2) free cores are there; else one line saying what was measured."""
    cores = len(os.sched_getaffinity(0))
    if cores < count:
        return f"needs {count} CPU cores to show work in parallel; this process may run on {cores} (os.sched_getaffinity)"
    speedup = parallel_speedup()
    if speedup < FREE_SPEEDUP:
        return f"needs {count} free CPU cores; two processes working at once got {speedup:.2f}x the work of one (other jobs hold the cores)"
    return None


OWN_CORE_SHARE = 0.9  # a spin pinned to a core nobody else uses gets 0.97-1.0 of it here; beside one other job, about 0.5


def core_share(core: int) -> float:
    """The share of `core` this process gets: CPU seconds over wall seconds of a fixed spin pinned there."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {core})
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        _spin()
        return (time.process_time() - cpu) / (time.perf_counter() - wall)
    finally:
        os.sched_setaffinity(0, before)


def own_core() -> tuple[int, float]:
    """(the core this process may use that another job leaves most to it, the share of it a spin got there).

    A demo timing work on one core needs the core to itself: where another job shares it, the scheduler splits the core
    per process, so three processes (a loop and two workers) get more of it than one, a gain that is no loading hidden."""
    shares = {core: core_share(core) for core in sorted(os.sched_getaffinity(0))}
    best = max(shares, key=lambda core: shares[core])
    return best, shares[best]
