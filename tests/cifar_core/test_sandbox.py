"""Edited snippets run in a separate process with limits, and not at all in hosted mode."""

import pytest

from cifar_core.demos import get_demo
from cifar_core.sandbox import SnippetsDisabled, demo_snippet, run_snippet


def test_output_and_figures_are_captured():
    result = run_snippet("import matplotlib.pyplot as plt\nprint('hello', 6 * 7)\nplt.plot([1, 2, 3])\n", timeout_s=60)
    assert result.ok and result.stdout.strip() == "hello 42"
    assert len(result.figures) == 1 and result.figures[0].startswith(b"\x89PNG")


def test_an_infinite_loop_is_stopped_at_the_time_limit():
    result = run_snippet("while True:\n    pass\n", timeout_s=3)
    assert not result.ok and result.reason == "timeout"


def test_a_huge_allocation_is_stopped_by_the_memory_limit():
    result = run_snippet("data = bytearray(8 * 1024**3)\nprint('allocated')\n", timeout_s=30, memory_mb=512)
    assert not result.ok and result.reason == "memory" and "allocated" not in result.stdout


def test_errors_come_back_as_text():
    result = run_snippet("raise ValueError('broken on purpose')\n", timeout_s=30)
    assert not result.ok and result.reason == "error" and "broken on purpose" in result.stderr


def test_the_child_cannot_see_the_parent_environment(monkeypatch):
    monkeypatch.setenv("VIVA_SECRET", "s3cret")
    result = run_snippet("import os\nprint(os.environ.get('VIVA_SECRET'))\n", timeout_s=30)
    assert result.stdout.strip() == "None"


def test_hosted_mode_disables_snippets(monkeypatch):
    monkeypatch.setenv("HOSTED", "1")
    with pytest.raises(SnippetsDisabled, match="HOSTED=1"):
        run_snippet("print(1)")


def test_a_demo_snippet_runs_and_prints_its_checks():
    result = run_snippet(demo_snippet(get_demo("bn-cancels-conv-bias")), timeout_s=120)
    assert result.ok, result.stderr[-500:]
    assert result.stdout.startswith("PASS outputs identical with and without the bias")
