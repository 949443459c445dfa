"""`python -m exercises`: list, starter, solution, check, drills, drill. Exit 0 on success,
1 when a check fails, 2 on a usage error (an unknown id, a missing file, bad arguments)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from exercises.catalogue import UnknownExercise, all_exercises, get_exercise
from exercises.drills import FAMILIES, UnknownFamily, make_drill

USAGE_ERROR = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m exercises", description="Coding exercises and generated drills.")
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="every exercise with its id, title and linked bank items")
    listing.add_argument("--json", action="store_true")
    for name in ("starter", "solution"):
        commands.add_parser(name, help=f"print the exercise's {name}").add_argument("id")
    check = commands.add_parser("check", help="run the hidden checks on FILE.py in a separate, limited process")
    check.add_argument("id")
    check.add_argument("file", type=Path)
    check.add_argument("--json", action="store_true")
    check.add_argument("--timeout", type=float, default=10.0, help="seconds the code may run, all checks together")
    check.add_argument("--seed", type=int, default=None, help="draw the hidden cases from this seed (default: a fresh one each run)")
    drills = commands.add_parser("drills", help="the drill families")
    drills.add_argument("--json", action="store_true")
    drill = commands.add_parser("drill", help="one drill: question, answer and tolerance")
    drill.add_argument("family")
    drill.add_argument("--seed", type=int, default=0)
    drill.add_argument("--json", action="store_true")
    return parser


def _list(as_json: bool) -> int:
    exercises = [exercise.to_dict() for exercise in all_exercises().values()]
    if as_json:
        print(json.dumps(exercises, indent=1))
    for exercise in [] if as_json else exercises:
        print(f"{exercise['id']:<22} {exercise['title']}  (practises {', '.join(exercise['items'])})")
    return 0


def _check(exercise_id: str, path: Path, as_json: bool, timeout_s: float, seed: int | None) -> int:
    from exercises.runner import CodingExercisesOff, check_in_sandbox

    get_exercise(exercise_id)  # an unknown id is a usage error before anything runs
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as error:
        print(f"error: cannot read {path}: {error.strerror}", file=sys.stderr)
        return USAGE_ERROR
    except UnicodeDecodeError as error:
        print(f"error: {path} is not UTF-8 text (byte {error.start}): save it as UTF-8", file=sys.stderr)
        return USAGE_ERROR
    try:
        result = check_in_sandbox(exercise_id, source, timeout_s=timeout_s, keep_spare=False, seed=seed)
    except CodingExercisesOff as error:
        print(f"error: {error}", file=sys.stderr)
        return USAGE_ERROR
    if as_json:
        print(json.dumps(result.to_dict(), indent=1))
    for outcome in [] if as_json else result.checks:
        print(f"{outcome.status.upper():<6} {outcome.name}")
        if not outcome.passed:
            details = [f"expected {outcome.expected}", f"got {outcome.got}"] if outcome.status == "failed" else []
            for line in [*details, *outcome.message.splitlines()]:
                print(f"       {line}")
    return 0 if result.passed else 1


def _drills(as_json: bool) -> int:
    families = [family.to_dict() for family in FAMILIES.values()]
    if as_json:
        print(json.dumps(families, indent=1))
    for family in [] if as_json else families:
        print(f"{family['id']:<18} {family['title']}")
    return 0


def _drill(family_id: str, seed: int, as_json: bool) -> int:
    drill = make_drill(family_id, seed)
    print(json.dumps(drill.to_dict(), indent=1) if as_json else f"{drill.question}\nanswer: {drill.answer:g} (±{drill.tolerance:g})")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "list":
            return _list(args.json)
        if args.command in ("starter", "solution"):
            exercise = get_exercise(args.id)
            print(exercise.starter if args.command == "starter" else exercise.solution, end="")
            return 0
        if args.command == "check":
            return _check(args.id, args.file, args.json, args.timeout, args.seed)
        if args.command == "drills":
            return _drills(args.json)
        return _drill(args.family, args.seed, args.json)
    except (UnknownExercise, UnknownFamily) as error:
        print(f"error: {error}", file=sys.stderr)
        return USAGE_ERROR
