"""`python -m study`: grade, search, import, export and migrate, over the bank and the store."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from qa_bank.loader import BankError, load_bank


def _cmd_grade(args: argparse.Namespace) -> int:
    from study.grading import grade

    item = load_bank().by_id().get(args.id)
    if item is None:
        print(f"error: no item with id '{args.id}'", file=sys.stderr)
        return 1
    result = grade(item, args.answer)
    if args.json:
        print(json.dumps(result.to_dict()))
    else:
        print(f"score {result.score:.2f} -> {result.suggested_rating}")
        print(f"matched: {'; '.join(result.matched)}\nmissed: {'; '.join(result.missed)}")
        for point in result.points:
            if point.status.value == "contradicted":
                print(f"contradicted ({point.why}): {point.point} -- {point.explain()}")
        if result.listed_terms:
            print(result.hint)
        for hit in result.misconceptions:
            print(f"misconception: {hit.belief} -> {hit.correction}")
    return 0


def _cmd_search(args: argparse.Namespace) -> int:
    from study.filters import ItemFilter
    from study.search import SearchIndex

    bank = load_bank()
    unknown = [t for t in args.topic if t not in bank.topics]
    if unknown:
        print(f"error: unknown topic(s) {', '.join(unknown)} (see qa_bank/topics.yaml)", file=sys.stderr)
        return 1
    item_filter = ItemFilter(topics=tuple(args.topic), types=tuple(args.type), has_demo=True if args.has_demo else None)
    hits = SearchIndex.from_bank(bank).search(args.query, args.top, item_filter)
    if args.json:
        print(json.dumps([hit.to_dict() for hit in hits], ensure_ascii=False))
    else:
        for hit in hits:
            print(f"{hit.score:6.2f}  {hit.id}  {hit.question.splitlines()[0][:80]}")
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    from qa_bank.loader import load_topics
    from study.importer import import_markdown, write_items_yaml

    source = Path(args.notes)
    if not source.is_file():
        print(f"{source}:0: no such file", file=sys.stderr)
        return 1
    topics, _ = load_topics()
    result = import_markdown(source, topics)
    for skipped in result.skipped:
        print(f"{source}:{skipped.line}: skipped: {skipped.reason}", file=sys.stderr)
    write_items_yaml(result.items, Path(args.out))
    print(f"imported {len(result.items)} item(s) into {args.out}; skipped {len(result.skipped)} block(s)")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from study.export import export_anki, export_csv
    from study.filters import ItemFilter

    item_filter = ItemFilter(topics=tuple(args.topic), types=tuple(args.type), has_demo=True if args.has_demo else None)
    items = item_filter.apply(load_bank().items)
    out = Path(args.out)
    if args.format == "anki":
        export_anki(items, out)
    else:
        export_csv(items, out)
    print(f"exported {len(items)} item(s) to {out}")
    return 0


def _cmd_migrate(args: argparse.Namespace) -> int:
    from study.copy_store import copy_store
    from study.store import StoreError

    try:
        counts = copy_store(args.source, args.target)
    except StoreError as error:
        print(f"python -m study migrate: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(counts))
    else:
        print(f"copied {counts['profiles']} profiles, {counts['cards']} cards and {counts['reviews']} reviews")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m study", description="The study engine: grading, search, import, export, stores.")
    commands = parser.add_subparsers(dest="command", required=True)
    grade_parser = commands.add_parser("grade", help="grade a typed answer against an item's key points")
    grade_parser.add_argument("id")
    grade_parser.add_argument("--answer", required=True)
    grade_parser.add_argument("--json", action="store_true")
    grade_parser.set_defaults(run=_cmd_grade)
    search_parser = commands.add_parser("search", help="fuzzy search with abbreviations and typos")
    search_parser.add_argument("query")
    search_parser.add_argument("--top", type=int, default=10)
    search_parser.add_argument("--topic", action="append", default=[])
    search_parser.add_argument("--type", action="append", default=[])
    search_parser.add_argument("--has-demo", action="store_true")
    search_parser.add_argument("--json", action="store_true")
    search_parser.set_defaults(run=_cmd_search)
    import_parser = commands.add_parser("import", help="Markdown Q&A notes to bank YAML")
    import_parser.add_argument("notes")
    import_parser.add_argument("--out", required=True)
    import_parser.set_defaults(run=_cmd_import)
    export_parser = commands.add_parser("export", help="an Anki deck (.apkg) or CSV")
    export_parser.add_argument("--format", choices=["anki", "csv"], required=True)
    export_parser.add_argument("--out", required=True)
    export_parser.add_argument("--topic", action="append", default=[])
    export_parser.add_argument("--type", action="append", default=[])
    export_parser.add_argument("--has-demo", action="store_true")
    export_parser.set_defaults(run=_cmd_export)
    migrate_parser = commands.add_parser("migrate", help="copy every learner's progress, own cards and resume links from SRC to DST")
    migrate_parser.add_argument("source", metavar="SRC", help="SQLite path or database URL")
    migrate_parser.add_argument("target", metavar="DST", help="created and upgraded to the current schema")
    migrate_parser.add_argument("--json", action="store_true", help='print {"profiles": n, "cards": n, "reviews": n}')
    migrate_parser.set_defaults(run=_cmd_migrate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except BankError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        return 1
