"""`python -m study`: grade, search, import, export and migrate, over the bank and the store; fit FSRS to
a learner (optimize) and plan to a viva date (plan)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from qa_bank.loader import BankError, load_bank


def _cmd_grade(args: argparse.Namespace) -> int:
    from study.grading import grade

    item = load_bank().find(args.id)
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


def _open_store(args: argparse.Namespace):
    """The store --database names, else $VIVA_DATABASE_URL / $VIVA_PROGRESS_DB / the default file."""
    from study.store import ProgressStore

    return ProgressStore(args.database)


def _unknown_profile(store, profile: str) -> str | None:
    """A --profile the store does not hold (a typo would otherwise create it, empty, and report on
    nothing); the local learner's profile is always known."""
    from study.store import DEFAULT_PROFILE

    names = store.profiles()
    if profile == DEFAULT_PROFILE or profile in names:
        return None
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return f"--profile: no learner {profile!r} in {store.where} (profiles: {shown or 'none yet'})"


def _cmd_optimize(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from study.fit import optimize_class, optimize_learner, refit
    from study.store import StoreError

    if args.auto:
        os.nice(10)  # the app starts this on its own after every N reviews: it must not slow the pages
    try:
        store = _open_store(args)
        now = datetime.now(UTC)
        if not args.whole_class and (problem := _unknown_profile(store, args.profile)):
            print(f"python -m study optimize: {problem}", file=sys.stderr)
            return 1
        if args.whole_class:
            report = optimize_class(store, now, save=not args.no_save)
        elif args.auto:
            report = refit(store, args.profile, now, hosted=os.environ.get("HOSTED") == "1")
        else:
            report = optimize_learner(store, args.profile, now, save=not args.no_save)
    except StoreError as error:
        print(f"python -m study optimize: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report.to_dict()))
    elif not args.auto:
        print(_fit_line(report, "the class" if args.whole_class else f"profile {args.profile}"))
    return 0


def _fit_line(report, who: str) -> str:
    head = f"{who}: {report.reviews} reviews ({report.interday_reviews} interday)"
    if report.log_loss_before is None:
        return f"{head}; nothing to fit yet"
    figures = f"log loss {report.log_loss_before:.4f} -> {report.log_loss_after:.4f}, "
    figures += f"RMSE {report.rmse_before:.4f} -> {report.rmse_after:.4f}"
    if not report.fitted:
        return f"{head}; below the optimizer's minimum, parameters unchanged ({report.source_before}): {figures}"
    return f"{head}; {figures}; " + ("saved" if report.saved else f"kept the {report.source_before} parameters (no better)")


def _plan_settings(args: argparse.Namespace, stored, today):
    """The stored settings with the command line's changes; (settings, None) or (None, message)."""
    from dataclasses import replace
    from datetime import date

    changes = {}
    if args.viva_date:
        try:
            stored = stored.with_viva_date(date.fromisoformat(args.viva_date), today)
        except ValueError:
            return None, f"--viva-date: {args.viva_date!r} is not a YYYY-MM-DD date"
    for name in ("desired_retention", "new_per_day"):
        if getattr(args, name) is not None:
            changes["plan_new_per_day" if name == "new_per_day" else name] = getattr(args, name)
    try:
        settings = replace(stored, **changes)
    except ValueError as error:
        return None, str(error).replace("desired_retention", "--desired-retention").replace("plan_new_per_day", "--new-per-day")
    return (settings, None) if settings.viva_date else (None, "no viva date: give --viva-date YYYY-MM-DD (or set one in Settings)")


def _cmd_plan(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from study.daily import learner_plan
    from study.own_cards import apply_overlay
    from study.store import StoreError

    now = datetime.fromisoformat(args.now) if args.now else datetime.now(UTC)
    try:
        store = _open_store(args)
        if problem := _unknown_profile(store, args.profile):
            print(f"python -m study plan: {problem}", file=sys.stderr)
            return 1
        settings, problem = _plan_settings(args, store.settings(args.profile), now.date())
        if problem:
            print(f"python -m study plan: {problem}", file=sys.stderr)
            return 1
        items = apply_overlay(load_bank(), store.own_cards(args.profile)).items
        plan = learner_plan(store, items, args.profile, now, settings)
    except StoreError as error:
        print(f"python -m study plan: {error}", file=sys.stderr)
        return 1
    if plan is None:
        print(f"python -m study plan: --viva-date {settings.viva_date} is not after today ({now.date()})", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(plan.to_dict()))
    else:
        print(f"{plan.days_left} days to {plan.viva_date}: {plan.unseen} cards unseen, {plan.new_per_day} new a day until "
              f"{plan.last_new_day}, about {max(plan.reviews_per_day):.0f} cards on the busiest day; predicted recall on the day "
              f"{plan.predicted_recall_on_date:.1%} (desired {plan.desired_retention:.0%})")  # fmt: skip
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
    _add_plan_commands(commands)
    return parser


def _add_store_options(parser: argparse.ArgumentParser) -> None:
    from study.store import DEFAULT_PROFILE

    parser.add_argument("--profile", default=DEFAULT_PROFILE, help="the learner (default: the local learner's profile)")
    parser.add_argument("--database", help="SQLite path or database URL (default: $VIVA_DATABASE_URL, else the local progress file)")
    parser.add_argument("--json", action="store_true")


def _add_plan_commands(commands) -> None:
    optimize_parser = commands.add_parser("optimize", help="fit FSRS to a learner's reviews (py-fsrs's optimizer); keeps better parameters")
    _add_store_options(optimize_parser)
    optimize_parser.add_argument("--class", dest="whole_class", action="store_true", help="fit every learner's reviews together")
    optimize_parser.add_argument("--no-save", action="store_true", help="report only; keep the parameters in use")
    optimize_parser.add_argument("--auto", action="store_true", help=argparse.SUPPRESS)  # the app's automatic refit
    optimize_parser.set_defaults(run=_cmd_optimize)
    plan_parser = commands.add_parser("plan", help="the plan to a viva date: new cards a day, daily load, predicted recall on the day")
    _add_store_options(plan_parser)
    plan_parser.add_argument("--viva-date", help="YYYY-MM-DD (default: the one set in Settings)")
    plan_parser.add_argument("--desired-retention", type=float, help="0.70-0.97 (default: the learner's)")
    plan_parser.add_argument("--new-per-day", type=int, help="your own pace of new cards (default: the pace the plan needs)")
    plan_parser.add_argument("--now", help=argparse.SUPPRESS)  # an ISO time with zone, for reproducible tests
    plan_parser.set_defaults(run=_cmd_plan)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except BankError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        return 1
