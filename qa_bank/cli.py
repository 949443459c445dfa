"""`python -m qa_bank`: lint, list, show and stats over the bank (the study commands are `python -m study`)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from qa_bank.lint import lint
from qa_bank.loader import BankError, load_bank
from qa_bank.schema import QAItem
from qa_bank.stats import bank_stats, format_stats


def _cmd_lint(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.paths] if args.paths else None
    missing = [p for p in paths or [] if not p.is_file()]
    if missing:
        for path in missing:
            print(f"{path}:0: no such file", file=sys.stderr)
        return 1
    problems = lint(paths)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s)", file=sys.stderr)
        return 1
    print("bank is clean")
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    items = load_bank().items
    if args.json:
        print(json.dumps([item.to_dict() for item in items], ensure_ascii=False, indent=1))
    else:
        for item in items:
            print(f"{item.id}\t{item.question.splitlines()[0][:90]}")
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    item = load_bank().find(args.id)
    if item is None:
        print(f"error: no item with id '{args.id}' (try `python -m qa_bank list`)", file=sys.stderr)
        return 1
    print(json.dumps(item.to_dict(), ensure_ascii=False, indent=1) if args.json else _format_item(item))
    return 0


def _format_item(item: QAItem) -> str:
    parts = [
        f"{item.id}  [{', '.join(item.topics)}]  difficulty {item.difficulty}  ({item.source.label()})",
        f"Q: {item.question}",
        f"A: {item.answer}",
        "Key points: " + "; ".join(item.key_points),
    ]
    if item.roles:
        parts.append("Roles: " + "; ".join(f"{role.subject}: {role.does}" for role in item.roles))
    if item.notes:
        parts.append(f"Note: {item.notes}")
    if item.code_refs:
        parts.append("Code: " + ", ".join(item.code_refs))
    if item.demo:
        parts.append(f"Demo: {item.demo}")
    return "\n".join(parts)


def _cmd_stats(args: argparse.Namespace) -> int:
    stats = bank_stats(load_bank())
    print(json.dumps(stats.to_dict(), indent=1) if args.json else format_stats(stats))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m qa_bank", description="The viva Q&A bank.")
    commands = parser.add_subparsers(dest="command", required=True)
    lint_parser = commands.add_parser("lint", help="validate bank files (default: all)")
    lint_parser.add_argument("paths", nargs="*", help="bank YAML files to check")
    lint_parser.set_defaults(run=_cmd_lint)
    list_parser = commands.add_parser("list", help="every item")
    list_parser.add_argument("--json", action="store_true", help="all fields as a JSON array")
    list_parser.set_defaults(run=_cmd_list)
    show_parser = commands.add_parser("show", help="one item")
    show_parser.add_argument("id")
    show_parser.add_argument("--json", action="store_true")
    show_parser.set_defaults(run=_cmd_show)
    stats_parser = commands.add_parser("stats", help="counts by source, topic and type")
    stats_parser.add_argument("--json", action="store_true")
    stats_parser.set_defaults(run=_cmd_stats)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except BankError as error:
        # A broken bank is the editor's to fix: one line per problem, never a traceback.
        for problem in error.problems:
            print(problem, file=sys.stderr)
        return 1
