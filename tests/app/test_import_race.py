"""Several sessions drawing their first chart at once must not see a half-imported pandas."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).with_name("import_race_probe.py")


def failures(mode: str) -> int:
    done = subprocess.run([sys.executable, str(PROBE), mode], cwd=ROOT, env={"PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split()[0])


def test_the_probe_reproduces_the_race_with_a_plain_plotly_import():
    # Without this the fixed run below would prove nothing: the race must be there to avoid.
    assert failures("raw") > 0


def test_plotly_from_ui_charts_waits_for_pandas():
    assert [failures("fixed") for _ in range(3)] == [0, 0, 0]
