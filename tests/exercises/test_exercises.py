"""Every exercise: its reference passes its checks, its starter fails them clearly, and each
typical mistake fails a check whose message names the mistake. In this process: the checking
process runs exactly this code (tests/exercises/test_runner.py shows it)."""

import io
from contextlib import redirect_stdout

import pytest

from exercises.catalogue import all_exercises, exercises_for_item
from exercises.checker import check_source
from exercises.cli import main
from qa_bank.loader import load_bank

EXERCISES = all_exercises()
MISTAKES = [(exercise.id, mistake.name) for exercise in EXERCISES.values() for mistake in exercise.mistakes]


def test_there_are_at_least_25_exercises_and_each_practises_bank_items():
    known = {item.id for item in load_bank().items}
    assert len(EXERCISES) >= 25
    for exercise in EXERCISES.values():
        assert exercise.items and set(exercise.items) <= known, exercise.id
    assert [e.id for e in exercises_for_item("viva-07-train-epoch-core-steps-per")] == ["train-step"]


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_the_reference_solution_passes_every_check(exercise_id):
    result = check_source(EXERCISES[exercise_id], EXERCISES[exercise_id].solution)
    assert result.passed, result.first_failure
    assert len(result.checks) >= 2


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_the_starter_as_printed_fails_with_a_clear_message(exercise_id):
    printed = io.StringIO()
    with redirect_stdout(printed):
        assert main(["starter", exercise_id]) == 0
    result = check_source(EXERCISES[exercise_id], printed.getvalue())
    assert not result.passed
    assert all(c.status == "error" and "NotImplementedError" in c.message for c in result.checks if not c.passed)
    assert "line " in result.checks[0].message  # the learner's own line, not the checker's


@pytest.mark.parametrize(("exercise_id", "mistake_name"), MISTAKES)
def test_a_typical_mistake_fails_with_a_message_that_names_it(exercise_id, mistake_name):
    exercise = EXERCISES[exercise_id]
    mistake = next(m for m in exercise.mistakes if m.name == mistake_name)
    result = check_source(exercise, mistake.code)
    assert not result.passed, f"{mistake_name} passes every check"
    messages = " ".join(c.message for c in result.checks if not c.passed)
    assert mistake.named_by in messages, f"no failing check names '{mistake.named_by}': {messages}"


def test_every_exercise_has_a_mistake_and_the_required_topics_are_covered():
    assert all(exercise.mistakes for exercise in EXERCISES.values())
    required = {"train-step", "evaluate", "accuracy", "batchnorm-forward", "dropout", "label-smoothing", "mixup", "step-lr",
                "one-cycle-lr", "early-stopping", "clip-grad-norm", "residual-block", "conv-output-size", "conv-parameters",
                "count-trainable", "checkpoint-resume", "grad-cam", "seed-everything", "overfit-one-batch"}  # fmt: skip
    assert required <= set(EXERCISES)


def test_code_problems_are_one_clear_outcome():
    exercise = EXERCISES["accuracy"]
    syntax = check_source(exercise, "def accuracy(logits, labels:\n    return 1\n")
    assert [c.message for c in syntax.checks] == ["SyntaxError on line 1: '(' was never closed"]
    renamed = check_source(exercise, "def acc(logits, labels):\n    return 1.0\n")
    assert renamed.checks[0].message == "your code defines no `accuracy`: keep the name from the starter"
    raised = check_source(exercise, "def accuracy(logits, labels):\n    return {}[labels]\n")
    message = raised.checks[0].message
    assert message.startswith("line 2, in accuracy: return {}[labels]") and "checker" not in message and "report.py" not in message


def test_a_failed_check_shows_the_failing_call_expected_and_got():
    result = check_source(
        EXERCISES["conv-output-size"], "def conv_output_size(size, kernel, stride, padding, dilation=1):\n    return size\n", seed=3
    )
    first = result.checks[0]
    call, expected = first.expected.split(" → ")
    size, kernel, stride, padding, dilation = (int(n) for n in call.removeprefix("conv_output_size(").removesuffix(")").split(", "))
    assert first.status == "failed" and int(first.got) == size  # the stub's answer for the call shown
    assert int(expected) == (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def test_hidden_cases_change_with_the_seed():
    exercise = EXERCISES["conv-output-size"]
    cases = {tuple(c.name for c in exercise.build_checks(seed)) for seed in range(3)}
    calls = {str(exercise.build_checks(seed)[0].probe(lambda *args: 0)) for seed in range(3)}
    assert len(cases) == 1 and len(calls) == 3  # the same checks, other inputs: a table of printed cases does not pass
