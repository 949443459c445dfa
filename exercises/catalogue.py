"""Every exercise, by id, in the order the Exercises page lists them."""

from __future__ import annotations

import importlib

from exercises.model import Exercise

TOPIC_MODULES = ("training", "layers", "losses", "schedules", "sizes", "data", "gradcam")


class UnknownExercise(KeyError):
    def __str__(self) -> str:
        return f"no exercise '{self.args[0]}' (python -m exercises list shows them)"


def all_exercises() -> dict[str, Exercise]:
    exercises: dict[str, Exercise] = {}
    for name in TOPIC_MODULES:
        for exercise in importlib.import_module(f"exercises.library.{name}").EXERCISES:
            exercises[exercise.id] = exercise
    return exercises


def get_exercise(exercise_id: str) -> Exercise:
    try:
        return all_exercises()[exercise_id]
    except KeyError:
        raise UnknownExercise(exercise_id) from None


def exercises_for_item(item_id: str) -> list[Exercise]:
    """The exercises that practise a bank item (the flashcard links to them)."""
    return [exercise for exercise in all_exercises().values() if item_id in exercise.items]
