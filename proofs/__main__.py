"""`python -m proofs list|run|run-all [--json]`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from proofs.catalogue import all_demos, get_demo
from proofs.registry import Demo, DemoRun, run


def _describe(demo: Demo) -> dict[str, object]:
    params = [
        {"name": p.name, "default": p.default, "low": p.low, "high": p.high, "choices": list(p.choices), "help": p.help}
        for p in demo.params
    ]
    return {
        "id": demo.id, "title": demo.title, "claim": demo.claim, "family": demo.family,
        "params": params, "mistake": demo.mistake, "needs_cuda": demo.needs_cuda,
    }  # fmt: skip


def _parse_params(pairs: list[str]) -> dict[str, str]:
    params = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"--param expects NAME=VALUE, got '{pair}'")
        params[name] = value
    return params


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m proofs", description="Self-checking PyTorch demos.")
    commands = parser.add_subparsers(dest="command", required=True)
    list_parser = commands.add_parser("list")
    list_parser.add_argument("--json", action="store_true")
    run_parser = commands.add_parser("run")
    run_parser.add_argument("id")
    run_parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    run_parser.add_argument("--json", action="store_true")
    all_parser = commands.add_parser("run-all")
    all_parser.add_argument("--json", action="store_true")
    all_parser.add_argument("--broken", action="store_true", help="run each demo with its mistake; every one must fail a named check")
    args = parser.parse_args(argv)

    if args.command == "list":
        demos = all_demos()
        print(json.dumps([_describe(d) for d in demos], indent=1) if args.json else "\n".join(f"{d.id:36s} {d.claim}" for d in demos))
        return 0
    if args.command == "run-all" and args.broken:
        return _report_broken([run(d, broken=True) for d in all_demos()], args.json)
    try:
        runs = [run(get_demo(args.id), _parse_params(args.param))] if args.command == "run" else [run(d) for d in all_demos()]
    except (KeyError, ValueError) as error:
        print(f"error: {error.args[0] if error.args else error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([r.to_dict() for r in runs] if args.command == "run-all" else runs[0].to_dict(), indent=1))
    else:
        for result in runs:
            status = "SKIP" if result.skipped else ("PASS" if result.passed else "FAIL")
            print(f"{status} {result.id:36s} {result.seconds:6.3f} s  {result.skipped or ''}")
            for check in result.result.checks:
                print(f"     {'ok ' if check.passed else 'BAD'} {check.name}  {check.measured}")
    return 0 if all(r.passed for r in runs) else 1


def _report_broken(runs: list[DemoRun], as_json: bool) -> int:
    """Exit 0 only when every demo that ran failed a named check with its mistake in place."""
    if as_json:
        print(json.dumps([r.to_dict() for r in runs], indent=1))
    else:
        for result in runs:
            status = "SKIP" if result.skipped else ("CAUGHT" if result.caught else "MISSED")
            detail = result.skipped or result.error or ", ".join(result.failed_checks) or "every check still passed"
            print(f"{status:6s} {result.id:36s} {detail}")
    return 0 if all(r.caught for r in runs if not r.skipped) else 1


if __name__ == "__main__":
    sys.exit(main())
