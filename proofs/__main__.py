"""`python -m proofs list|run|run-all [--broken] [--json]|coverage`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from proofs.catalogue import all_demos, get_demo
from proofs.claims import ItemProof, prove_bank_items, run_both
from proofs.registry import Demo, DemoRun, run


def _describe(demo: Demo) -> dict[str, object]:
    params = [
        {"name": p.name, "default": p.default, "low": p.low, "high": p.high, "choices": list(p.choices), "help": p.help}
        for p in demo.params
    ]
    return {
        "id": demo.id, "title": demo.title, "claim": demo.claim, "family": demo.family,
        "params": params, "mistake": demo.mistake, "needs_cuda": demo.needs_cuda, "needs_dataset": demo.needs_dataset,
        "needs_free_cores": demo.needs_free_cores,
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
    all_parser.add_argument(
        "--broken", action="store_true",
        help="run each demo as written and with its mistake; each bank item's claim check must pass, then fail",
    )  # fmt: skip
    coverage_parser = commands.add_parser("coverage", help="items proved under the strict rule, partial and unlinked, by source document")
    coverage_parser.add_argument("--report", help="a saved `run-all --broken --json` output, instead of running every demo")
    coverage_parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    if args.command == "list":
        demos = all_demos()
        print(json.dumps([_describe(d) for d in demos], indent=1) if args.json else "\n".join(f"{d.id:36s} {d.claim}" for d in demos))
        return 0
    if args.command == "coverage":
        return _report_coverage(args.report, args.json)
    if args.command == "run-all" and args.broken:
        return _report_broken(run_both(), args.json)
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


def _report_broken(runs: dict[str, tuple[DemoRun, DemoRun]], as_json: bool) -> int:
    """Per bank item: CAUGHT when its own claim check passed as written and failed with the mistake.

    Exit 0 only when no item is MISSED and every demo, linked or not, failed a named check with
    its mistake."""
    items = prove_bank_items(runs)
    demos = [{**broken.to_dict(), "normal_passed": normal.passed} for normal, broken in runs.values()]
    if as_json:
        print(json.dumps({"items": [i.to_dict() for i in items], "demos": demos, "summary": _summary(items, runs)}, indent=1))
    else:
        _print_broken(items, runs)
    missed_items = any(item.status == "MISSED" for item in items)
    missed_demos = any(not broken.caught for _, broken in runs.values() if not broken.skipped)
    return 1 if missed_items or missed_demos else 0


def _summary(items: list[ItemProof], runs: dict[str, tuple[DemoRun, DemoRun]]) -> dict[str, int]:
    return {
        "items_caught": sum(i.status == "CAUGHT" for i in items),
        "items_missed": sum(i.status == "MISSED" for i in items),
        "items_skipped": sum(i.status == "SKIP" for i in items),
        "demos_caught": sum(broken.caught for _, broken in runs.values()),
        "demos_skipped": sum(bool(broken.skipped) for _, broken in runs.values()),
    }


def _print_broken(items: list[ItemProof], runs: dict[str, tuple[DemoRun, DemoRun]]) -> None:
    for item in items:
        print(f"{item.status:6s} {item.id:58s} {item.demo} :: {item.claim_check}" + (f"  ({item.detail})" if item.detail else ""))
    linked = {item.demo for item in items}
    for demo_id, (_, broken) in runs.items():
        if demo_id not in linked:
            status = "SKIP" if broken.skipped else ("CAUGHT" if broken.caught else "MISSED")
            detail = broken.skipped or broken.error or ", ".join(broken.failed_checks) or "every check still passed"
            print(f"{status:6s} (demo no item links) {demo_id:36s} {detail}")
    counts = _summary(items, runs)
    caught, missed, skipped = counts["items_caught"], counts["items_missed"], counts["items_skipped"]
    print(f"items: {caught} caught by their own claim check, {missed} missed, {skipped} skipped")


def _report_coverage(report_path: str | None, as_json: bool) -> int:
    from proofs.coverage import audit_verdicts, caught_from_report, coverage
    from qa_bank.loader import load_bank

    if report_path:
        report = json.loads(Path(report_path).read_text(encoding="utf-8"))
    else:
        report = {"items": [item.to_dict() for item in prove_bank_items(run_both())]}
    table = coverage(load_bank(), caught_from_report(report), audit_verdicts())
    print(json.dumps(table.to_dict(), indent=1) if as_json else table.markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
