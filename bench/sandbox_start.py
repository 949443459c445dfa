"""What the bubblewrap layer adds to the start of learner code: `python -I -c pass` started
through sandbox.process with and without bwrap, best of several runs each."""

from __future__ import annotations

import sys
import tempfile

from bench.common import BenchResult


def _best_start(use_bwrap: bool, runs: int) -> float:
    import os
    from unittest import mock

    from sandbox.process import Limits, run_contained

    argv = [sys.executable, "-I", "-c", "pass"]
    with mock.patch.dict(os.environ, {"VIVA_NO_BWRAP": "" if use_bwrap else "1"}), tempfile.TemporaryDirectory() as workdir:
        return min(run_contained(argv, Limits(), workdir, {"PATH": "/usr/bin:/bin"}).seconds for _ in range(runs))


def run(quick: bool) -> BenchResult:
    from sandbox.bwrap import bwrap_usable

    result = BenchResult("sandbox")
    runs = 5 if quick else 15
    plain = _best_start(False, runs)
    result.add("start of a contained python, no bwrap", plain, "s", f"best of {runs}")
    if not bwrap_usable():
        result.add("added by bwrap", None, "s", "bubblewrap is not usable here")
        return result
    wrapped = _best_start(True, runs)
    result.add("start of a contained python, in bwrap", wrapped, "s", f"best of {runs}")
    result.add("added by bwrap", wrapped - plain, "s", "target <= 0.3 s")
    return result
