"""The checks must tell a reference from its mutants (tests/exercises/mutants.py): for every
exercise at least 90% of the viable mutants that are not equivalent fail a check (the mutation
score), and each one that passes is listed in tests/exercises/mutation_survivors.toml with the
reason it behaves like the reference (an equivalent mutant). A survivor that is not listed
fails the test, and so does a listed one that no longer survives."""

import tomllib
from pathlib import Path

import pytest

from exercises.catalogue import all_exercises
from exercises.checker import check_source
from tests.exercises.mutants import mutants

EXERCISES = all_exercises()
SURVIVORS_FILE = Path(__file__).with_name("mutation_survivors.toml")
SEED = 0


def _listed(exercise_id: str) -> dict[str, str]:
    entries = tomllib.loads(SURVIVORS_FILE.read_text())["survivor"]
    return {e["mutant"]: e["why"].strip() for e in entries if e["exercise"] == exercise_id}


def survivors(exercise_id: str) -> tuple[list[str], int]:
    exercise, cache = EXERCISES[exercise_id], {}
    found = mutants(exercise.solution)
    alive = [
        m.name
        for m in found
        if check_source(exercise, m.source, seed=SEED, timeout_s=6, stop_at_first_failure=True, reference_cache=cache).passed
    ]
    return alive, len(found)


@pytest.mark.slow
@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_the_checks_kill_the_references_mutants(exercise_id):
    alive, viable = survivors(exercise_id)
    listed = _listed(exercise_id)
    unexplained = [name for name in alive if not listed.get(name)]
    assert not unexplained, f"{len(unexplained)} mutants pass every check and are not explained in {SURVIVORS_FILE.name}: {unexplained}"
    stale = sorted(set(listed) - set(alive))
    assert not stale, f"listed in {SURVIVORS_FILE.name} but killed now: {stale}"
    killed, equivalent = viable - len(alive), len(listed)
    assert killed >= 0.9 * (viable - equivalent), f"{killed} of {viable - equivalent} mutants killed ({equivalent} equivalent)"
