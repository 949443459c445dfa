"""`python -m bench [NAME...] [--quick] [--json] [--out DIR]`: measured figures with the machine,
versions and date, written as JSON and a Markdown table. `python -m bench hosted ...` measures a
class on one server through the run service (bench/hosted.py); `python -m bench project-viva
--external DIR --labels DIR` scores the project analyser on projects kept outside the repository."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path

from bench.common import BenchResult, machine

BENCHES = {
    "training": "bench.training",
    "training-sim": "bench.training_simulated",
    "gpu": "bench.gpu",
    "demos": "bench.demo_latency",
    "search": "bench.search_latency",
    "app": "bench.app_start",
    "grading": "bench.grading",
    "exercises": "bench.exercise_check",
    "sandbox": "bench.sandbox_start",
    "project-viva": "bench.project_viva",
    "checks": "bench.checks_blind",
    "quiz-verdict": "bench.quiz_verdict",
}


def markdown(results: list[BenchResult], info: dict[str, object], quick: bool) -> str:
    lines = [
        f"Measured {info['date']} on {info['cpu']} ({info['cores']} cores), GPU: {info['gpu']};"
        f" Python {info['python']}, torch {info['torch']}"
        f"{'; --quick' if quick else ''}.",
        "",
        "| bench | figure | value | note |",
        "| --- | --- | --- | --- |",
    ]
    for result in results:
        for figure in result.figures:
            value = "not measured" if figure.value is None else f"{figure.value:.4g} {figure.unit}"
            lines.append(f"| {result.bench} | {figure.name} | {value} | {figure.note} |")
    for result in results:
        if result.details:
            lines += ["", f"### {result.bench}", "", result.details]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["hosted"]:  # a class on one server: its own options (see bench/hosted.py)
        from bench.hosted import main as hosted

        return hosted(argv[1:])
    if argv[:1] == ["project-viva"] and len(argv) > 1:  # its own options: --external, --labels, --corpus
        from bench.project_viva import main as project_viva

        return project_viva(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("names", nargs="*", help=f"benches to run (default all: {', '.join(BENCHES)})")
    parser.add_argument("--quick", action="store_true", help="fewer repeats; under 10 minutes on 2 CPU cores")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the Markdown table")
    parser.add_argument("--out", default="bench_out", help="directory for results.json and results.md")
    parser.add_argument(
        "--blind", action="append", default=[], metavar="PATH", help="grading: a labelled YAML file of answers, reported apart (repeatable)"
    )
    parser.add_argument(
        "--show-blind-failures",
        action="store_true",
        help="grading: also list the blind sets' missed answers (whoever reads them to change the grader ends their blindness)",
    )
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCHES]
    if unknown:
        parser.error(f"unknown bench(es) {', '.join(unknown)}; choose from {', '.join(BENCHES)}")
    if args.blind and "grading" not in (args.names or BENCHES):
        parser.error("--blind is read by the grading bench only: add 'grading' to the benches")
    if args.blind:  # a bad labelled file is one line naming the file and entries, before anything runs
        from bench.grading import LabelledSetError, load_labelled

        for path in args.blind:
            try:
                load_labelled(Path(path))
            except LabelledSetError as error:
                parser.error(str(error))
    info, results = machine(), []
    for name in args.names or list(BENCHES):
        start = time.perf_counter()
        options = {"blind": args.blind, "show_blind_failures": args.show_blind_failures} if name == "grading" else {}
        result = importlib.import_module(BENCHES[name]).run(args.quick, **options)
        result.seconds = time.perf_counter() - start
        results.append(result)
        print(f"[{name}] done in {result.seconds:.0f} s", file=sys.stderr)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    payload = {
        "machine": info,
        "quick": args.quick,
        "results": [
            {"bench": r.bench, "seconds": r.seconds, "figures": [f.to_dict() for f in r.figures], "details": r.details} for r in results
        ],
    }
    (out / "results.json").write_text(json.dumps(payload, indent=1))
    table = markdown(results, info, args.quick)
    (out / "results.md").write_text(table + "\n")
    print(json.dumps(payload, indent=1) if args.json else table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
