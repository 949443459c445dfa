"""A terminal shows a progress bar within each epoch; piped output keeps plain per-epoch lines."""

import fcntl
import io
import os
import pty
import struct
import subprocess
import sys
import termios
from types import SimpleNamespace

from cifar_core.progress import StepBar, epoch_bar, is_terminal
from tests.conftest import REPO_ROOT

CLASSIC = ["--dataset", "synthetic", "--synthetic-size", "1200", "--epochs", "2", "--num-workers", "0"]
BUDGETED = ["--dataset", "synthetic", "--synthetic-size", "1200", "--time-budget", "6", "--batch-size", "64"]


def run_cli(args: list[str], tmp_path, terminal: bool) -> str:
    command = [sys.executable, "-m", "cifar_core.train", *args, "--checkpoint-dir", str(tmp_path / "checkpoints")]
    env = {**os.environ, "TERM": "xterm"}
    if not terminal:
        done = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT, env=env, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout
    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # a terminal 120 columns wide
    process = subprocess.Popen(command, stdout=child, stderr=child, cwd=REPO_ROOT, env=env)
    os.close(child)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the child closed its end
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    assert process.wait(timeout=300) == 0, b"".join(chunks).decode(errors="replace")[-2000:]
    return b"".join(chunks).decode(errors="replace")


def test_the_seed_script_shows_a_bar_with_rate_and_eta_on_a_terminal_only(tmp_path):
    shown = run_cli(CLASSIC, tmp_path, terminal=True)
    assert "epoch 1/2" in shown and "batch/s" in shown and "<" in shown  # tqdm's "elapsed<remaining, rate"
    assert "Epoch 2/2 - train_loss" in shown
    piped = run_cli(CLASSIC, tmp_path, terminal=False)
    assert "\r" not in piped and "batch/s" not in piped
    assert [line.split(" - ")[0] for line in piped.splitlines() if line.startswith("Epoch")] == ["Epoch 1/2", "Epoch 2/2"]


def test_a_budgeted_run_shows_steps_per_second_and_the_runs_eta_on_a_terminal_only(tmp_path):
    shown = run_cli(BUDGETED, tmp_path, terminal=True)
    assert "step/s" in shown and "run ETA" in shown
    piped = run_cli(BUDGETED, tmp_path, terminal=False)
    assert "\r" not in piped and "run ETA" not in piped and "epoch 1: train_loss" in piped


def test_no_terminal_means_no_bar():
    batches = [1, 2, 3]
    assert not is_terminal(io.StringIO())
    assert epoch_bar(batches, 1, 1, stream=io.StringIO()) is batches
    bar = StepBar(io.StringIO())
    bar(SimpleNamespace(step=1, steps_per_epoch=3, loss=1.0, image_size=32, eta=5.0))
    assert bar.bar is None


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_each_epoch_opens_its_own_bar_wherever_its_first_step_falls(monkeypatch):
    # A budgeted run's calibration steps come before the first epoch's, so epochs do not start at
    # multiples of steps_per_epoch: the bar follows the epoch summaries' close(), not the step count.
    monkeypatch.setenv("TERM", "xterm")
    stream = _Terminal()
    bar = StepBar(stream)
    steps = [SimpleNamespace(step=n, steps_per_epoch=3, loss=1.0, image_size=16, eta=5.0) for n in range(1, 12)]
    for info in steps[:7]:  # 7 steps: calibration and then the first epoch
        bar(info)
    bar.close()
    bar(steps[7])
    assert bar.epochs_shown == 2 and bar.bar is not None and bar.bar.n == 1
    assert "epoch 2" in stream.getvalue()
