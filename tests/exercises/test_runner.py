"""The checking process, as the app and the CLI use it: the verdict comes from a judge that never
runs learner code, on a descriptor no learner process holds. Hostile or broken code gets its
own verdict per check, the other checks still run, and nothing it started and no temporary
folder is left behind."""

import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from exercises.catalogue import get_exercise
from exercises.runner import CodingExercisesOff, check_in_sandbox
from tests.processes import processes_with

REPO_ROOT = Path(__file__).resolve().parents[2]
ACCURACY = get_exercise("accuracy").solution
FORGED = json.dumps({"passed": True, "checks": [{"name": "x", "status": "passed", "expected": "", "got": "", "message": ""}], "seed": 0})


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """The checks' temporary folders go here, so the test can see that none is left."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder
    assert list(folder.iterdir()) == [], "a temporary folder was left behind"


@pytest.fixture
def marker():
    """A sleep length no other process uses, so /proc shows exactly the learner's sleepers."""
    return f"{1000 + uuid.uuid4().int % 1000 / 1000:.3f}"


def _check(source: str, timeout_s: float = 30, exercise: str = "accuracy"):
    return check_in_sandbox(exercise, source, timeout_s=timeout_s, keep_spare=False)


def test_the_reference_passes_in_the_checking_process(private_tmp):
    result = _check(ACCURACY)
    assert result.passed and len(result.checks) == 4 and result.seed is not None


@pytest.mark.parametrize(
    ("source", "says"),
    [
        (
            "def accuracy(logits, labels):\n    (logits.argmax(1) == labels).float().mean().item()\n",
            "returned None: did you forget `return`?",
        ),
        (
            "def accuracy(logits, labels):\n    return (logits.argmax(1) == labels).float().mean()\n",
            "returned a tensor: return a Python float (`.item()`)",
        ),
        ("import sys\ndef accuracy(logits, labels):\n    sys.exit(0)\n", "your code called sys.exit() or exit()"),
        (
            "def accuracy(logits, labels):\n    raise ValueError('my bug')\n",
            "line 2, in accuracy: raise ValueError('my bug')\nValueError: my bug",
        ),
        ("import os\ndef accuracy(logits, labels):\n    os._exit(0)\n", "it ended the process (exit code 0"),
        (
            "import os, signal\ndef accuracy(logits, labels):\n    os.kill(os.getpid(), signal.SIGKILL)\n",
            "killed (SIGKILL): most often for using more memory",
        ),
        ("import torch\ndef accuracy(logits, labels):\n    return torch.empty(10**11).sum().item()\n", "more memory than the checks allow"),
    ],
    ids=["None", "tensor", "sys.exit(0)", "exception", "os._exit", "killed", "huge allocation"],
)
def test_every_outcome_is_a_verdict_on_every_check(source, says, private_tmp):
    result = _check(source)
    assert not result.passed and len(result.checks) == 4  # each check got its own verdict
    assert all(says in c.message for c in result.checks), result.checks[0]
    assert not any(s in c.message for c in result.checks for s in ("harness.py", "report.py", "torch/", "Traceback"))


def test_an_infinite_loop_costs_the_checks_it_reaches_and_the_rest_are_told_why(private_tmp):
    started = time.perf_counter()
    result = _check("def accuracy(logits, labels):\n    while True:\n        pass\n", timeout_s=3)
    assert time.perf_counter() - started < 20
    assert [c.message.split(" after")[0].split(":")[0] for c in result.checks] == ["stopped"] * 2 + ["not run"] * 2
    assert "your code used up its time on the checks before" in result.checks[-1].message


# The hostile snippets below return an accuracy of -1, which no batch has, so every check must fail
# unless the verdict is forged (0.5 was right on some seeds' batches).
def test_a_forged_verdict_on_stdout_is_just_output(private_tmp):
    source = (
        f"print({FORGED!r})\nimport os\nos.write(1, b'ready\\n' + {FORGED!r}.encode() + b'\\n')\n"
        f"def accuracy(logits, labels):\n    print({FORGED!r})\n    return -1.0\n"
    )
    result = _check(source)
    assert not result.passed and {c.status for c in result.checks} == {"failed"}


def test_patching_the_checkers_objects_changes_nothing(private_tmp):
    source = (
        "import exercises.report as report, exercises.harness as harness\n"
        "report.mismatch = lambda *a, **k: None\n"
        "harness.CheckResult.passed = True\n"
        "harness._Judging.verdict = lambda self, index, got: report.CheckOutcome('x', 'passed')\n"
        "def accuracy(logits, labels):\n    return -1.0\n"
    )
    result = _check(source)
    assert not result.passed and {c.status for c in result.checks} == {"failed"}


def test_writing_to_the_judges_descriptors_through_proc_is_refused(private_tmp):
    source = (
        "import os\nfor fd in range(12):\n    try:\n"
        f"        w = os.open(f'/proc/{{os.getppid()}}/fd/{{fd}}', os.O_WRONLY)\n        os.write(w, {FORGED!r}.encode() + b'\\n')\n"
        "    except OSError:\n        pass\n"
        "def accuracy(logits, labels):\n    return -1.0\n"
    )
    result = _check(source)
    assert not result.passed and {c.status for c in result.checks} == {"failed"}


def test_a_background_sleep_neither_outlives_the_check_nor_costs_its_verdict(private_tmp, marker):
    escapes = (
        f"import subprocess, os\nsubprocess.Popen(['sleep', '{marker}'])\n"
        f"subprocess.Popen(['sleep', '{marker}'], start_new_session=True)\n"
        f"if os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        os.execvp('sleep', ['sleep', '{marker}'])\n    os._exit(0)\n"
    )
    started = time.perf_counter()
    result = _check(escapes + ACCURACY)
    assert result.passed and time.perf_counter() - started < 20  # the verdict is the processes' exit, not pipes closing
    assert processes_with(f"sleep {marker}") == []


def test_a_syntax_error_and_a_missing_function_are_one_clear_outcome(private_tmp):
    syntax = _check("def accuracy(logits, labels:\n    return 1\n")
    assert [c.message for c in syntax.checks] == ["SyntaxError on line 1: '(' was never closed"]
    renamed = _check("def acc(logits, labels):\n    return 1.0\n")
    assert [c.message for c in renamed.checks] == ["your code defines no `accuracy`: keep the name from the starter"]


def test_the_warm_spare_is_contained_and_leaves_nothing(private_tmp, marker):
    from exercises.runner import _CHECKER, warm_up

    warm_up()
    result = check_in_sandbox("accuracy", f"import subprocess\nsubprocess.Popen(['sleep', '{marker}'])\n" + ACCURACY, timeout_s=30)
    assert result.passed and _CHECKER._spare is not None  # the next check's process is already starting
    assert os.getsid(_CHECKER._spare.pid) == _CHECKER._spare.pid  # its own session, like every contained run
    _CHECKER.close()
    assert processes_with(f"sleep {marker}") == []


def test_hosted_mode_without_bwrap_turns_coding_exercises_off(monkeypatch):
    monkeypatch.setenv("HOSTED", "1")
    monkeypatch.setenv("VIVA_NO_BWRAP", "1")
    with pytest.raises(CodingExercisesOff, match="HOSTED=1.*bubblewrap"):
        check_in_sandbox("accuracy", "")


def test_hosted_mode_with_bwrap_checks_code_unless_the_deployer_turns_it_off(monkeypatch):
    from sandbox.bwrap import bwrap_usable

    if not bwrap_usable():
        pytest.skip("bubblewrap is not usable here (apt-get install bubblewrap)")
    monkeypatch.setenv("HOSTED", "1")
    assert check_in_sandbox("accuracy", ACCURACY, timeout_s=60, keep_spare=False).passed
    monkeypatch.setenv("VIVA_HOSTED_CODE", "off")
    with pytest.raises(CodingExercisesOff, match="VIVA_HOSTED_CODE=off"):
        check_in_sandbox("accuracy", "")


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "exercises", *args], capture_output=True, text=True, cwd=REPO_ROOT, timeout=180)


def test_cli_check_exit_codes_and_json(tmp_path):
    solution, starter = tmp_path / "solution.py", tmp_path / "starter.py"
    solution.write_text(_cli("solution", "step-lr").stdout)
    starter.write_text(_cli("starter", "step-lr").stdout)
    passed = _cli("check", "step-lr", str(solution), "--json")
    assert passed.returncode == 0 and json.loads(passed.stdout)["passed"] is True
    failed = _cli("check", "step-lr", str(starter), "--json", "--seed", "7")
    payload = json.loads(failed.stdout)
    assert failed.returncode == 1 and payload["passed"] is False and payload["seed"] == 7
    assert all({"name", "status", "expected", "got", "message"} <= set(check) for check in payload["checks"])
    assert _cli("check", "no-such-exercise", str(solution)).returncode == 2
    missing = _cli("check", "step-lr", str(tmp_path / "absent.py"))
    assert missing.returncode == 2 and missing.stderr.startswith("error: cannot read")
    assert _cli("check", "step-lr").returncode == 2  # argparse: a missing argument


def test_cli_list_and_drills():
    listed = json.loads(_cli("list", "--json").stdout)
    assert len(listed) >= 25 and {"id", "title", "items"} <= set(listed[0])
    families = json.loads(_cli("drills", "--json").stdout)
    assert len(families) >= 12
    first, again = (json.loads(_cli("drill", "conv-output", "--seed", "5", "--json").stdout) for _ in range(2))
    assert first == again and {"question", "answer", "tolerance"} <= set(first)
    assert _cli("drill", "nonsense").returncode == 2
