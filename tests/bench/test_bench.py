"""The benchmark runner writes JSON and Markdown with machine and versions; no wall-clock asserts."""

import json
import subprocess
import sys
from pathlib import Path

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
