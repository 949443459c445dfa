"""Every demo's claim holds (so CI proves it), and each demo's declared mistake makes a named check fail."""

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from proofs.catalogue import all_demos, demo_ids, get_demo, run_demo
from proofs.registry import run
from tests.proofs.runs import demo_run

REPO_ROOT = Path(__file__).resolve().parents[2]
CPU_DEMOS = [d.id for d in all_demos() if not d.needs_cuda]


def test_at_least_forty_cpu_demos_with_claims_and_source():
    assert len(CPU_DEMOS) >= 40
    for demo in all_demos():
        assert demo.claim.endswith(".") and demo.title
        assert f"def {demo.function.__name__}" in demo.source


def _ran_or_skip(demo_id: str, broken: bool = False):
    """The demo's run; a dataset demo where the real CIFAR-10 is absent, or a demo needing free cores on a busy
    machine, skips with its reason (CI has the data and two idle cores)."""
    outcome = demo_run(demo_id, broken=broken)
    if outcome.skipped and (get_demo(demo_id).needs_dataset or get_demo(demo_id).needs_free_cores):
        pytest.skip(f"{demo_id}: {outcome.skipped}")
    return outcome


@pytest.mark.parametrize("demo_id", CPU_DEMOS)
def test_demo_claim_holds(demo_id):
    result = _ran_or_skip(demo_id)
    failed = [(c.name, c.measured) for c in result.result.checks if not c.passed]
    assert result.result.checks and not failed, failed


@pytest.mark.parametrize("demo_id", CPU_DEMOS)
def test_demo_fails_a_named_check_with_its_mistake(demo_id):
    """A check that still passes with the mistake in place proves nothing; an exception does not count."""
    outcome = _ran_or_skip(demo_id, broken=True)
    assert get_demo(demo_id).mistake
    assert outcome.error is None, outcome.error
    assert outcome.caught and outcome.failed_checks, [c.to_dict() for c in outcome.result.checks]


def test_gpu_demos_say_why_they_skip_without_cuda():
    for demo in all_demos():
        if demo.needs_cuda and not torch.cuda.is_available():
            outcome = run_demo(demo.id)
            assert outcome.skipped and "CUDA" in outcome.skipped


def test_dataset_demos_say_where_they_looked_when_cifar10_is_absent(monkeypatch, tmp_path):
    dataset_demos = [d for d in all_demos() if d.needs_dataset]
    assert len(dataset_demos) >= 3
    monkeypatch.setenv("CIFAR10_DIR", str(tmp_path))
    for demo in dataset_demos:
        for broken in (False, True):
            outcome = run(demo, broken=broken)
            assert outcome.skipped and str(tmp_path / "train") in outcome.skipped and not outcome.result.checks
            assert outcome.claim_verdict(demo.check_names[0]) == "skipped"


def test_parameters_are_checked_and_coerced():
    assert run_demo("dropout-train-vs-eval", p="0.2").passed
    with pytest.raises(ValueError, match=r"p must be in \[0.05, 0.95\]"):
        run_demo("dropout-train-vs-eval", p="1.5")
    with pytest.raises(ValueError, match="has no parameter 'q'"):
        run_demo("dropout-train-vs-eval", q="1")


def test_cli_list_run_and_errors():
    listed = subprocess.run([sys.executable, "-m", "proofs", "list", "--json"], capture_output=True, text=True, cwd=REPO_ROOT)
    assert len(json.loads(listed.stdout)) == len(demo_ids())
    ran = subprocess.run(
        [sys.executable, "-m", "proofs", "run", "bn-train-vs-eval", "--param", "batch_size=16", "--json"],
        capture_output=True, text=True, cwd=REPO_ROOT,
    )  # fmt: skip
    payload = json.loads(ran.stdout)
    assert ran.returncode == 0 and payload["passed"] and payload["checks"]
    bad = subprocess.run([sys.executable, "-m", "proofs", "run", "no-such-demo"], capture_output=True, text=True, cwd=REPO_ROOT)
    assert bad.returncode == 1 and bad.stderr.startswith("error: no demo 'no-such-demo'") and bad.stderr.count("\n") == 1


def test_every_bank_demo_link_resolves():
    from qa_bank.loader import load_bank

    linked = [item for item in load_bank().items if item.demo]
    assert all(get_demo(item.demo) for item in linked)


@pytest.mark.parametrize("demo_id", CPU_DEMOS)
def test_check_names_read_from_the_source_are_the_checks_a_run_reports(demo_id):
    # Lint reads claim checks from the source (no run); a run is the oracle for what it reads.
    assert get_demo(demo_id).check_names == tuple(dict.fromkeys(c.name for c in _ran_or_skip(demo_id).result.checks))


def test_a_single_thread_demo_restores_torch_threads():
    demo = next(d for d in all_demos() if d.threads == 1)
    before = torch.get_num_threads()
    seen = []
    original = demo.function

    def spy(**kwargs):
        seen.append(torch.get_num_threads())
        return original(**kwargs)

    run(dataclasses.replace(demo, function=spy))
    assert seen == [1] and torch.get_num_threads() == before


def test_a_demo_s_declared_imports_are_imported_before_it_runs(monkeypatch):
    import sys

    monkeypatch.delitem(sys.modules, "wave", raising=False)  # a small stdlib module nothing here imports
    demo = get_demo("dropout-train-vs-eval")
    seen = []

    def spy(**kwargs):
        seen.append("wave" in sys.modules)
        return demo.function(**kwargs)

    run(dataclasses.replace(demo, function=spy, imports=("wave",)))
    assert seen == [True]
