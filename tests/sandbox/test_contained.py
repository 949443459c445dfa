"""Hostile snippets against the contained runner without bwrap (process group, limits, capped
output). After each, no process of the snippet remains and the result says what happened."""

import os
import time
import uuid

import pytest

from sandbox.snippets import run_snippet
from tests.processes import processes_with


@pytest.fixture(autouse=True)
def without_bwrap(monkeypatch):
    """These tests pin the layer below bwrap; tests/sandbox/test_bwrap.py pins bwrap's."""
    monkeypatch.setenv("VIVA_NO_BWRAP", "1")


@pytest.fixture
def marker():
    """A sleep length no other process uses, so /proc shows exactly the snippet's sleepers."""
    return f"{31 + uuid.uuid4().int % 1000 / 1000:.3f}"


def test_a_background_child_neither_outlives_the_snippet_nor_turns_it_into_a_timeout(marker):
    started = time.perf_counter()
    result = run_snippet(f"import subprocess\nsubprocess.Popen(['sleep', '{marker}'])\nprint('done')\n", timeout_s=20)
    assert result.ok and result.stdout.strip() == "done"
    assert time.perf_counter() - started < 10  # the verdict is the main process's exit, not the pipes closing
    assert processes_with(f"sleep {marker}") == []


def test_a_bounded_fork_loop_is_killed_with_the_snippet(marker):
    code = f"import os\nfor _ in range(100):\n    if os.fork() == 0:\n        os.execvp('sleep', ['sleep', '{marker}'])\nprint('forked')\n"
    result = run_snippet(code, timeout_s=20)
    assert result.ok and "forked" in result.stdout
    assert processes_with(f"sleep {marker}") == []


def test_printing_100_mb_keeps_only_a_capped_tail():
    result = run_snippet("import sys\nfor _ in range(100):\n    sys.stdout.write('x' * 1_000_000)\nprint('end')\n", timeout_s=60)
    assert result.ok and len(result.stdout) <= 20_000 and result.stdout.rstrip().endswith("end")


def test_infinite_recursion_is_an_error_with_its_traceback():
    result = run_snippet("def f():\n    return f()\nf()\n", timeout_s=30)
    assert not result.ok and result.reason == "error" and "RecursionError" in result.stderr


def test_a_native_crash_is_reported():
    result = run_snippet("import ctypes\nctypes.string_at(0)\n", timeout_s=30)
    assert not result.ok and result.reason == "error" and "stopped by SIGSEGV: a native crash" in result.stderr


def test_a_file_past_the_size_limit_is_stopped(tmp_path):
    result = run_snippet("with open('big.bin', 'wb') as f:\n    f.write(b'0' * (64 << 20))\n", timeout_s=30)
    assert not result.ok and ("SIGXFSZ" in result.stderr or "File too large" in result.stderr)


def test_a_busy_loop_is_stopped_at_the_time_limit():
    started = time.perf_counter()
    result = run_snippet("while True:\n    pass\n", timeout_s=3)
    assert not result.ok and result.reason == "timeout" and time.perf_counter() - started < 8


def test_the_thread_share_is_set_for_torch_and_blas():
    result = run_snippet("import os\nprint(os.environ['OMP_NUM_THREADS'], os.environ['MKL_NUM_THREADS'])\n", timeout_s=20)
    assert result.ok and result.stdout.split() == ["2", "2"]
    assert os.environ.get("OMP_NUM_THREADS") != "sentinel"  # the parent's own environment is untouched
