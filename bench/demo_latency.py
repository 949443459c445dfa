"""Every demo's time with its defaults."""

from __future__ import annotations

from bench.common import BenchResult, percentiles


def run(quick: bool) -> BenchResult:
    from proofs.catalogue import all_demos
    from proofs.registry import run as run_demo

    result = BenchResult("demos")
    runs = [run_demo(d) for d in all_demos()]
    timed = [r for r in runs if not r.skipped]
    p50, _, worst = percentiles([r.seconds for r in timed])
    slowest = max(timed, key=lambda r: r.seconds)
    result.add("demos run (CPU)", len(timed), "demos", f"{sum(r.passed for r in timed)} passed; {len(runs) - len(timed)} GPU-only skipped")
    result.add("demo time p50", p50, "s")
    result.add("demo time max", worst, "s", f"slowest: {slowest.id}; target <= 2 s")
    return result
