"""Check bank files: schema, ids, topics, and that every code and demo link resolves."""

from __future__ import annotations

from pathlib import Path

from qa_bank.links import exercise_sources, known_demo_checks, resolve_code_ref
from qa_bank.loader import BankProblem, CollectedBank, collect_bank


def lint(paths: list[Path] | None = None) -> list[BankProblem]:
    """Every problem in the given bank files (default: the whole bank, and the exercises'
    links into it), in file order."""
    collected = collect_bank(paths)
    exercise_problems = _exercise_link_problems(collected) if paths is None else []
    return [*collected.problems, *_link_problems(collected), *exercise_problems]


def _exercise_link_problems(collected: CollectedBank) -> list[BankProblem]:
    """Exercises name the items they practise; each name must be a bank item."""
    known = {item.id for item in collected.bank.items}
    problems = []
    for exercise, path, source in exercise_sources():
        for item_id in exercise.items:
            if item_id not in known:
                line = next((n for n, text in enumerate(source.splitlines(), start=1) if f'"{item_id}"' in text), 1)
                problems.append(BankProblem(path, line, f"exercise '{exercise.id}': items: unknown item '{item_id}'"))
    return problems


def _link_problems(collected: CollectedBank) -> list[BankProblem]:
    problems: list[BankProblem] = []
    resolved: dict[str, str | None] = {}
    for item in collected.bank.items:
        where = collected.locations[item.id]
        for ref in item.code_refs:
            if ref not in resolved:
                resolved[ref] = _reason_unresolved(ref)
            if resolved[ref]:
                problems.append(BankProblem(where.path, where.line_of("code_refs"), f"item '{item.id}': code_refs: {resolved[ref]}"))
    linked = [item for item in collected.bank.items if item.demo]
    if not linked:
        return problems
    try:
        demo_checks = known_demo_checks()
    except LookupError as error:
        demo_checks, registry_problem = {}, str(error)
    else:
        registry_problem = ""
    for item in linked:
        where = collected.locations[item.id]
        if item.demo not in demo_checks:
            reason = registry_problem or f"unknown demo id '{item.demo}'"
            problems.append(BankProblem(where.path, where.line_of("demo"), f"item '{item.id}': demo: {reason}"))
        elif item.claim_check is not None and item.claim_check not in demo_checks[item.demo]:
            names = ", ".join(repr(name) for name in demo_checks[item.demo]) or "none"
            message = f"item '{item.id}': claim_check: demo '{item.demo}' has no check {item.claim_check!r} (its checks: {names})"
            problems.append(BankProblem(where.path, where.line_of("claim_check"), message))
    return problems


def _reason_unresolved(ref: str) -> str | None:
    try:
        resolve_code_ref(ref)
    except LookupError as error:
        return str(error)
    return None
