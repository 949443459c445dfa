"""`python -m bench project-viva [--external DIR --labels DIR]`: the project analyser against
labelled projects. Fact accuracy (every labelled fact compared with what the analyser says),
parameter counts exact, finding precision and recall (a finding matches a label of the same kind
in the same file within LINE_SLACK lines; in a notebook, the same cell), and seconds per project,
model measurement included.

Without options it runs the corpus in tests/project_viva/corpus (and the fixtures beside it);
--external runs projects kept outside the repository (real public projects, whose code must not
be copied in), with their labels in a separate folder, one JSON per project."""

from __future__ import annotations

import argparse
import json
import math
import re
import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import REPO_ROOT, BenchResult

CORPUS_DIRS = (REPO_ROOT / "tests" / "project_viva" / "corpus", REPO_ROOT / "tests" / "project_viva" / "fixtures")
LINE_SLACK = 2
LR_TOLERANCE = 1e-3  # relative, per epoch


@dataclass
class Case:
    name: str
    path: Path  # what is analysed: a folder, a file
    labels: dict[str, Any]


@dataclass
class Score:
    facts_right: int = 0
    facts_total: int = 0
    params_exact: int = 0
    params_total: int = 0
    true_positive: int = 0
    false_positive: int = 0
    false_negative: int = 0
    seconds: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)  # this process and its children: independent of the machine's load
    misses: list[str] = field(default_factory=list)  # what went wrong, one line each

    @property
    def precision(self) -> float | None:
        found = self.true_positive + self.false_positive
        return self.true_positive / found if found else None

    @property
    def recall(self) -> float | None:
        labelled = self.true_positive + self.false_negative
        return self.true_positive / labelled if labelled else None


# -- comparing one fact ----------------------------------------------------------------------------


def same(expected: Any, got: Any, name: str = "") -> bool:
    """A labelled fact against the analyser's: numbers within a relative tolerance (exact for
    parameter counts), texts without case, lists of names as sets, dicts on the labelled keys."""
    if name == "params":
        return expected == got
    if isinstance(expected, bool) or expected is None:
        return expected == got
    if isinstance(expected, int | float) and isinstance(got, int | float) and not isinstance(got, bool):
        return math.isclose(expected, got, rel_tol=1e-6, abs_tol=1e-12)
    if isinstance(expected, str):
        return isinstance(got, str) and _name(expected) == _name(got)
    if isinstance(expected, dict):
        return isinstance(got, dict) and all(same(v, got.get(k), k) for k, v in expected.items())
    if isinstance(expected, list) and name == "lr_by_epoch":
        return isinstance(got, list) and len(got) == len(expected) and all(_close(a, b) for a, b in zip(expected, got, strict=True))
    if isinstance(expected, list):
        if not isinstance(got, list):
            return False
        if all(isinstance(v, str) for v in expected):
            return {_name(v) for v in expected} == {_name(str(v)) for v in got}
        return len(expected) == len(got) and all(same(a, b) for a, b in zip(expected, got, strict=True))
    return expected == got


def _name(text: str) -> str:
    """A name as labels write it, without the details some add: "RandomCrop(32, padding=4)",
    "width_shift_range=0.125", "LearningRateScheduler (0.1 / ...)", "categorical_crossentropy"
    against "CategoricalCrossentropy"."""
    head = re.split(r"[(=]| \(", text.strip(), maxsplit=1)[0]
    return re.sub(r"[^a-z0-9]", "", head.lower())


def _close(a: Any, b: Any) -> bool:
    return isinstance(a, int | float) and isinstance(b, int | float) and math.isclose(a, b, rel_tol=LR_TOLERANCE, abs_tol=1e-15)


def match_findings(expected: list[dict], got: list[dict]) -> tuple[int, list[dict], list[dict]]:
    """(matched, unmatched labels, unmatched findings); each label matches at most one finding."""
    left = list(got)
    missed = []
    matched = 0
    for label in expected:
        hit = next((f for f in left if _matches(label, f)), None)
        if hit is None:
            missed.append(label)
        else:
            left.remove(hit)
            matched += 1
    return matched, missed, left


def _matches(label: dict, finding: dict) -> bool:
    """Same kind, same file, line within LINE_SLACK. In a notebook the analyser gives `cell` (its
    index in the notebook's cells) with `line` in that cell, and `code_line` in the code cells
    joined; the corpus labels the joined line (with `cell_line`), the real-project labels the cell
    and the line in it."""
    if label.get("kind") != finding.get("kind") or Path(label.get("file", "")).name != Path(finding.get("file", "")).name:
        return False
    if label.get("cell_line") is not None and finding.get("code_line") is not None:
        return abs(int(label["line"]) - int(finding["code_line"])) <= LINE_SLACK
    if label.get("cell") is not None and finding.get("cell") is not None:
        line = label.get("line")
        return label["cell"] == finding["cell"] and (line is None or abs(int(line) - int(finding["line"])) <= LINE_SLACK)
    line = label.get("line")
    return line is None or abs(int(line) - int(finding.get("line", -999))) <= LINE_SLACK


def facts_of(labels: dict[str, Any]) -> dict[str, Any]:
    """The labelled facts: under "facts", or every top-level key but findings and path."""
    if "facts" in labels:
        return labels["facts"]
    return {k: v for k, v in labels.items() if k not in ("findings", "path", "project", "notes", "repo", "commit", "licence", "root")}


# -- cases ---------------------------------------------------------------------------------------


def corpus_cases(roots: tuple[Path, ...] = CORPUS_DIRS) -> list[Case]:
    """Every folder with a labels.json: the project is the folder (or the one file its labels name)."""
    cases = []
    for root in roots:
        for labels_path in sorted(root.glob("*/labels.json")):
            labels = json.loads(labels_path.read_text(encoding="utf-8"))
            folder = labels_path.parent
            target = folder / labels["path"] if labels.get("path") else folder
            cases.append(Case(f"{root.name}/{folder.name}", target, labels))
    return cases


def external_cases(projects: Path, labels: Path, only: list[str] | None = None) -> list[Case]:
    """Projects outside the repository: labels/<name>.json for each project folder <name>; a
    label's `root` names the subfolder that holds the project (its `entry` is relative to it)."""
    cases = []
    for labels_path in sorted(labels.glob("*.json")):
        if only and not any(word in labels_path.stem for word in only):
            continue
        raw = json.loads(labels_path.read_text(encoding="utf-8"))
        folder = projects / labels_path.stem
        if not folder.exists():
            print(f"{labels_path}: no project folder {folder}", file=sys.stderr)
            continue
        target = folder / (raw.get("root") or raw.get("path") or "")
        cases.append(Case(labels_path.stem, target, raw))
    return cases


def score_case(case: Case, score: Score, measure_model: bool = True) -> dict[str, Any]:
    from project_viva.analysis import analyse
    from project_viva.sources import ProjectInputError, load_path

    started, cpu_started = time.perf_counter(), _cpu()
    try:
        result = analyse(load_path(case.path), measure_model=measure_model).to_dict()
    except ProjectInputError as error:
        result = {"findings": [], "error": str(error)}
    score.seconds.append(time.perf_counter() - started)
    score.cpu_seconds.append(_cpu() - cpu_started + (result.get("runner_cpu_seconds") or 0.0))
    for name, expected in facts_of(case.labels).items():
        got = result.get(name)
        right = same(expected, got, name)
        score.facts_total += 1
        score.facts_right += right
        if not right:
            score.misses.append(f"{case.name}: {name}: expected {json.dumps(expected)[:120]}, got {json.dumps(got, default=str)[:120]}")
        if name == "params" and result.get("framework", "pytorch") == "pytorch":
            score.params_total += 1
            score.params_exact += right
    matched, missed, extra = match_findings(case.labels.get("findings", []), result.get("findings", []))
    score.true_positive += matched
    score.false_negative += len(missed)
    score.false_positive += len(extra)
    score.misses += [f"{case.name}: missed {m['kind']} at {m.get('file')}:{m.get('line')}" for m in missed]
    score.misses += [f"{case.name}: false alarm {f['kind']} at {f['file']}:{f['line']}" for f in extra]
    return result


def _cpu() -> float:
    """CPU seconds of this process; the contained runner reports its own (a process in bubblewrap's
    PID namespace is not counted among this process's children)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def run_cases(cases: list[Case], title: str, quick: bool = False) -> BenchResult:
    score = Score()
    for case in cases:
        score_case(case, score)
        print(f"[project-viva] {case.name}: {score.seconds[-1]:.1f} s", file=sys.stderr)
    result = BenchResult(f"project-viva ({title})")
    result.add("projects", len(cases), "")
    result.add(
        "fact accuracy",
        score.facts_right / score.facts_total if score.facts_total else None,
        "",
        f"{score.facts_right}/{score.facts_total} facts",
    )
    exact_note = f"{score.params_exact}/{score.params_total} PyTorch projects"
    result.add("parameter counts exact", score.params_exact / score.params_total if score.params_total else None, "", exact_note)
    tp, fp, fn = score.true_positive, score.false_positive, score.false_negative
    result.add("finding precision", score.precision, "", f"{tp} right of {tp + fp} reported (same kind, file, line within {LINE_SLACK})")
    result.add("finding recall", score.recall, "", f"{tp} of {tp + fn} labelled")
    if score.seconds:
        ordered = sorted(score.seconds)
        note = f"median {ordered[len(ordered) // 2]:.1f} s, max {ordered[-1]:.1f} s, model measurement included"
        result.add("seconds per project", sum(ordered) / len(ordered), "s", note)
        cpu = sorted(score.cpu_seconds)
        cpu_note = f"median {cpu[len(cpu) // 2]:.1f} s, max {cpu[-1]:.1f} s: CPU time of the analyser and its runner, whatever the load"
        result.add("CPU seconds per project", sum(cpu) / len(cpu), "s", cpu_note)
    result.details = "\n".join(f"- {line}" for line in score.misses) or "No misses."
    return result


def run(quick: bool = False) -> BenchResult:
    return run_cases(corpus_cases(), "corpus", quick)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench project-viva")
    parser.add_argument("--external", type=Path, help="folder of project folders kept outside the repository")
    parser.add_argument("--labels", type=Path, help="folder of <project>.json labels for --external")
    parser.add_argument("--only", action="append", help="with --external: only the projects whose name contains this (repeatable)")
    parser.add_argument("--corpus", type=Path, action="append", help="a corpus folder of <project>/labels.json (repeatable)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if bool(args.external) != bool(args.labels):
        parser.error("--external and --labels go together")
    if args.external:
        result = run_cases(external_cases(args.external, args.labels, args.only), f"external: {args.external}")
    else:
        result = run_cases(corpus_cases(tuple(args.corpus) if args.corpus else CORPUS_DIRS), "corpus")
    from bench.__main__ import markdown
    from bench.common import machine

    if args.json:
        print(json.dumps({"figures": [f.to_dict() for f in result.figures], "details": result.details}, indent=1))
    else:
        print(markdown([result], machine(), False))
    return 0
