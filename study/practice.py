"""Scheduling practice like cards: a coding exercise and a drill family each have one FSRS card,
rated from how the attempt went (tries, and whether the hint or the solution was revealed)."""

from __future__ import annotations

from fsrs import Rating

EXERCISE_KIND, DRILL_KIND = "exercise", "drill"


def exercise_card_id(exercise_id: str) -> str:
    return f"exercise:{exercise_id}"


def drill_card_id(family_id: str) -> str:
    return f"drill:{family_id}"


def exercise_rating(passed: bool, tries: int, hint_shown: bool, solution_shown: bool) -> Rating:
    """The suggested rating of an exercise attempt: revealing the solution is not recall, a hint
    or many tries is a hard recall, a first-time pass is easy."""
    if solution_shown or not passed:
        return Rating.Again
    if hint_shown or tries > 2:
        return Rating.Hard
    return Rating.Easy if tries == 1 else Rating.Good


def drill_rating(correct: bool) -> Rating:
    return Rating.Good if correct else Rating.Again
