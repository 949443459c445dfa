"""The benchmark runner writes JSON and Markdown with machine and versions; no wall-clock asserts."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_quick_search_demo_and_gpu_benches_report_figures(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "bench", "search", "demos", "gpu", "--quick", "--json", "--out", str(tmp_path)],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert {"date", "cpu", "torch", "gpu"} <= set(payload["machine"])
    figures = {f["name"]: f for r in payload["results"] for f in r["figures"]}
    assert figures["search p95, 10,000 items"]["unit"] == "ms" and figures["search p95, 10,000 items"]["value"] > 0
    assert figures["demos run (CPU)"]["value"] >= 40
    assert json.loads((tmp_path / "results.json").read_text()) == payload
    assert "| search | search p50, bank (218 items) |" in (tmp_path / "results.md").read_text()


def test_unknown_bench_is_a_one_line_error(tmp_path):
    result = subprocess.run([sys.executable, "-m", "bench", "nope", "--out", str(tmp_path)], capture_output=True, text=True, cwd=REPO_ROOT)
    assert result.returncode == 2 and "unknown bench(es) nope" in result.stderr


def test_training_bench_builds_only_valid_configurations(tmp_path, monkeypatch):
    # The real bench trains for minutes on real CIFAR-10; here every run it asks for is validated
    # and answered by a stand-in, so a recipe change that breaks one of its configurations fails fast.
    from types import SimpleNamespace

    import bench.training as training

    (tmp_path / "train").mkdir()
    asked = []

    def fake_fast_train(cfg, on_step=None):
        asked.append(cfg.validated())
        on_step(SimpleNamespace(images_per_second=1000.0))
        return SimpleNamespace(report=SimpleNamespace(accuracy=0.8), seconds=0.95 * cfg.time_budget)

    monkeypatch.setattr(training, "SHARED_CIFAR10", tmp_path)
    monkeypatch.setattr(training, "fast_train", fake_fast_train)
    monkeypatch.setattr(training, "document_recipe", lambda budget, data_dir: (500.0, 0.5, 30_000))
    monkeypatch.setattr(training, "measured_peak_gflops", lambda: 100.0)
    result = training.run(quick=True)
    assert {cfg.model for cfg in asked} == {"simplecnn", "fastnet"}
    assert all(f.value is not None for f in result.figures), [f.name for f in result.figures if f.value is None]


def test_gpu_bench_reports_the_speedrun_where_cuda_and_data_exist(tmp_path, monkeypatch):
    # No GPU in CI: CUDA and the speedrun are stood in for, so the reporting path still runs.
    import torch

    import bench.gpu as gpu
    import cifar_core.data
    import cifar_core.speedrun as speedrun_module
    from cifar_core.speedrun import SpeedrunConfig, SpeedrunResult

    (tmp_path / "train").mkdir()
    asked = []

    def fake_speedrun(cfg, splits, runs, warmup_runs):
        asked.append((cfg, runs, warmup_runs))
        return [SpeedrunResult(0.94 + i / 1000, 0.93, 2.0 + i / 10, 0.05, 430, 10.0, "Fake GPU", 45_000, 5_000) for i in range(runs)]

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(gpu, "SHARED_CIFAR10", tmp_path)
    monkeypatch.setattr(cifar_core.data, "load_splits", lambda options: options)
    monkeypatch.setattr(speedrun_module, "speedrun", fake_speedrun)
    figures = {f.name: f for f in gpu.run(quick=True).figures}
    assert asked[0][1:] == (3, 1) and asked[0][0] == SpeedrunConfig()  # the recipe as shipped, after one warm-up run
    assert figures["speedrun accuracy (TTA), mean"].value == pytest.approx(94.1)
    assert figures["speedrun accuracy, worst run"].value == pytest.approx(94.0)
    assert figures["speedrun training time, median"].value == pytest.approx(2.1)
    assert "Fake GPU, 3 runs, 45,000 training / 5,000 held-out images" in figures["speedrun accuracy (TTA), mean"].note


BLIND = """\
answers:
- {item: resnet-07-padding-mode-reflect, kind: role_swap, expect: again_or_hard, why: swapped,
   answer: "zero padding mirrors the pixels from inside the image, and reflect gives a black border"}
- {item: resnet-07-padding-mode-reflect, kind: correct_paraphrase, expect: good_or_easy, why: right,
   answer: "zeros gives a black border while reflect mirrors pixels from inside the image, keeping texture continuity with fewer artefacts"}
- {item: resnet-07-padding-mode-reflect, kind: term_list, expect: not_good, why: list,
   answer: "zeros, black, border, reflect, mirrors, pixels"}
"""


def test_grading_bench_reports_a_blind_file_apart_per_kind(tmp_path):
    blind = tmp_path / "blind_a.yaml"
    blind.write_text(BLIND)
    result = subprocess.run(
        [sys.executable, "-m", "bench", "grading", "--quick", "--json", "--out", str(tmp_path), "--blind", str(blind)],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    figures = {f["name"]: f["value"] for r in json.loads(result.stdout)["results"] for f in r["figures"]}
    assert figures["blind blind_a.yaml: role_swap"] == 100 and figures["blind blind_a.yaml: term_list"] == 100
    assert figures["blind blind_a.yaml: correct_paraphrase"] == 100 and figures["blind blind_a.yaml: grade p95"] > 0
    assert "tuned: role_swap" in figures and "held-out: off_topic" in figures  # the tuned and held-out sets, apart
    assert "dev-A: correct_negation" in figures  # blind set A, tuned on since, is its own set


def test_a_bad_blind_file_is_one_line_naming_its_entries(tmp_path):
    blind = tmp_path / "blind_b.yaml"
    blind.write_text("- {item: no-such-item, kind: correct_paraphrase, expect: good, answer: x}\n- {kind: partial}\n")
    result = subprocess.run(
        [sys.executable, "-m", "bench", "grading", "--blind", str(blind), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    message = result.stderr.strip().splitlines()[-1]
    assert str(blind) in message and "entry 1: unknown item 'no-such-item'" in message and "entry 1: unknown expect 'good'" in message
    assert "entry 2: missing item" in message and "entry 2: missing answer" in message


def test_the_simulated_clock_bench_is_deterministic_and_puts_the_trainer_back(tmp_path):
    # The point of the simulated clock: the step count follows the charged costs, not the machine's
    # load, so two runs (or two versions of the trainer) compare to the step.
    import cifar_core.fast as fast
    from bench.training_simulated import simulated_run
    from tests.cifar_core.test_data import write_tree

    write_tree(tmp_path, classes=("a", "b", "c", "d"), per_class=20)
    originals = (fast._clock, fast.training_step, fast.collect_logits)
    first = simulated_run(5.0, seed=0, data_dir=str(tmp_path))
    second = simulated_run(5.0, seed=0, data_dir=str(tmp_path))
    assert (fast._clock, fast.training_step, fast.collect_logits) == originals
    assert first.steps == second.steps and first.seconds == second.seconds
    assert first.report is not None and first.seconds <= 5.0 and first.training_seconds >= 0.7 * 5.0


def test_grading_bench_lists_a_dev_sets_misses_but_withholds_a_blind_sets():
    # A blind set stays blind only while nobody changing the grader reads its misses: the bench prints its
    # figures per kind, and its missed answers only when asked (--show-blind-failures).
    from bench.grading import BLIND_G_SET, DEV_E_SET, details_markdown, evaluate, load_labelled

    dev = evaluate(load_labelled(DEV_E_SET)[:60], "dev-E")
    blind = evaluate(load_labelled(BLIND_G_SET)[:60], "blind-G")
    dev_miss, blind_miss = dev.failures()[0].labelled.answer, blind.failures()[0].labelled.answer

    default = details_markdown([dev, blind])
    assert dev_miss in default and blind_miss not in default
    assert "blind-G: ratings per kind of answer" in default and "not listed" in default
    assert blind_miss in details_markdown([dev, blind], show_blind_failures=True)
