"""`python -m project_viva analyse PATH [--json] [--no-measure]`: read a project (a .py file, a
folder, a .zip or a .ipynb notebook) and print its facts, findings and viva questions."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from project_viva.analysis import analyse
from project_viva.sources import ProjectInputError, load_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m project_viva")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("analyse", help="analyse a project: a .py file, a folder, a .zip or a .ipynb notebook")
    run.add_argument("path", type=Path)
    run.add_argument("--json", action="store_true", help="print one JSON object")
    run.add_argument("--no-measure", action="store_true", help="read the code only; do not build the model in the contained runner")
    args = parser.parse_args(argv)
    try:
        project = load_path(args.path)
    except ProjectInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    analysis = analyse(project, measure_model=not args.no_measure)
    if args.json:
        print(json.dumps(analysis.to_dict(), indent=1, default=str))
    else:
        print(render_text(analysis.to_dict()))
    return 0


def render_text(result: dict) -> str:
    where = result.get("where", {})
    lines = [f"{result['project']}: {result['framework']} project, entry {result['entry']}", ""]
    for name in ("model_class", "params", "optimizer", "scheduler", "loss", "batch_size_train", "epochs", "augmentations",
                 "normalization", "uses_batchnorm", "uses_dropout", "mixed_precision", "eval_mode_used", "no_grad_in_eval",
                 "selection_on_test_set"):  # fmt: skip
        at = where.get(name)
        suffix = f"  ({at['file']}:{at['line']})" if at else ""
        lines.append(f"{name:22} {result.get(name)}{suffix}")
    if result.get("lr_by_epoch"):
        lr = result["lr_by_epoch"]
        lines.append(f"{'lr_by_epoch':22} {lr[0]:g} ... {lr[-1]:g} over {len(lr)} epochs")
    lines += ["", f"{len(result['findings'])} finding(s):"]
    for item in result["findings"]:
        lines.append(f"  {item['file']}:{item['line']}: {item['kind']}: {item['message']}")
    for reason in result["unmeasured"]:
        lines.append(f"  not established: {reason}")
    for problem in result["problems"]:
        lines.append(f"  problem: {problem}")
    return "\n".join(lines)
