"""The checking process: the verdict comes from a separate interpreter with limits, and a
learner's infinite loop, huge allocation, exception or exit gives a clear result."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from exercises.catalogue import get_exercise
from exercises.runner import CodingExercisesOff, check_in_sandbox

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_the_reference_passes_in_the_checking_process():
    result = check_in_sandbox("accuracy", get_exercise("accuracy").solution, timeout_s=60)
    assert result.passed and len(result.checks) == 3


@pytest.mark.parametrize(
    ("source", "name", "says"),
    [
        ("def accuracy(logits, labels):\n    while True:\n        pass\n", "your code finishes in time", "stopped after 3 s"),
        (
            "import torch\ndef accuracy(logits, labels):\n    return torch.empty(10**11).sum().item()\n",
            "a batch of 64",
            "can't allocate memory",
        ),
        (
            "def accuracy(logits, labels):\n    print('noise ' * 10000)\n    raise ValueError('my bug')\n",
            "a batch of 64",
            "ValueError: my bug",
        ),
        ("import os\nos._exit(3)\n", "your code runs", "ended with code 3"),
    ],
    ids=["infinite loop", "huge allocation", "exception", "exit"],
)
def test_hostile_or_broken_code_gives_a_clear_result(source, name, says):
    timeout = 3 if "while True" in source else 60
    result = check_in_sandbox("accuracy", source, timeout_s=timeout, keep_spare=False)
    assert not result.passed
    assert result.checks[0].name == name and says in result.checks[0].message, result.checks[0]


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
    assert check_in_sandbox("accuracy", get_exercise("accuracy").solution, timeout_s=60, keep_spare=False).passed
    monkeypatch.setenv("VIVA_HOSTED_CODE", "off")
    with pytest.raises(CodingExercisesOff, match="VIVA_HOSTED_CODE=off"):
        check_in_sandbox("accuracy", "")


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "exercises", *args], capture_output=True, text=True, cwd=REPO_ROOT, timeout=120)


def test_cli_check_exit_codes_and_json(tmp_path):
    solution, starter = tmp_path / "solution.py", tmp_path / "starter.py"
    solution.write_text(_cli("solution", "step-lr").stdout)
    starter.write_text(_cli("starter", "step-lr").stdout)
    passed = _cli("check", "step-lr", str(solution), "--json")
    assert passed.returncode == 0 and json.loads(passed.stdout)["passed"] is True
    failed = _cli("check", "step-lr", str(starter), "--json")
    payload = json.loads(failed.stdout)
    assert failed.returncode == 1 and payload["passed"] is False
    assert {"name", "status", "expected", "got", "message"} <= set(payload["checks"][0])
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


def test_a_background_child_does_not_turn_a_check_into_a_timeout(monkeypatch):
    monkeypatch.setenv("VIVA_NO_BWRAP", "1")  # the layer below bwrap, where the pipes stay open
    source = "import subprocess\nsubprocess.Popen(['sleep', '30'])\n" + get_exercise("accuracy").solution
    started = time.perf_counter()
    result = check_in_sandbox("accuracy", source, timeout_s=20, keep_spare=False)
    assert result.passed and time.perf_counter() - started < 15  # the verdict is the main process's exit
