"""Edited snippets run in a separate process with limits, and not at all in hosted mode."""

import builtins
import dis

import pytest

from proofs.catalogue import demo_ids, get_demo
from sandbox.snippets import SnippetsDisabled, demo_snippet, run_snippet


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


def test_hosted_mode_without_bwrap_disables_snippets(monkeypatch):
    monkeypatch.setenv("HOSTED", "1")
    monkeypatch.setenv("VIVA_NO_BWRAP", "1")
    with pytest.raises(SnippetsDisabled, match="HOSTED=1"):
        run_snippet("print(1)")


def test_a_demo_snippet_runs_and_prints_its_checks():
    result = run_snippet(demo_snippet(get_demo("bn-cancels-conv-bias")), timeout_s=120)
    assert result.ok, result.stderr[-500:]
    assert result.stdout.startswith("PASS outputs identical with and without the bias")


def test_a_snippet_sees_its_modules_private_helpers():
    result = run_snippet(demo_snippet(get_demo("augmentation-small-data-gap")), timeout_s=120)  # uses _MirroredClasses
    assert result.ok, result.stderr[-500:]
    assert result.stdout.startswith("PASS 18 training images")


def _global_names(code) -> set[str]:
    """Names a code object and the functions inside it look up as globals."""
    names = {i.argval for i in dis.get_instructions(code) if i.opname in ("LOAD_GLOBAL", "LOAD_NAME")}
    nested = (const for const in code.co_consts if hasattr(const, "co_code"))
    return names.union(*(_global_names(inner) for inner in nested))


@pytest.mark.parametrize("demo_id", demo_ids())
def test_every_demo_snippet_resolves_all_its_names(demo_id):
    # Running 100 snippets costs a torch import each; defining each one in its prelude's namespace
    # finds the same NameError without running it.
    snippet = demo_snippet(get_demo(demo_id))
    definition = compile(snippet[: snippet.index("# broken=True makes")], "<snippet>", "exec")
    namespace: dict = {}
    exec(definition, namespace)
    missing = {name for name in _global_names(definition) if name not in namespace and not hasattr(builtins, name)}
    assert not missing, f"{demo_id}: the snippet uses undefined names {sorted(missing)}"
