"""The training script: the document's behaviours and every option it adds, on small synthetic data."""

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import cifar_core.checkpoint as checkpoint_module
from cifar_core.checkpoint import CheckpointError, load_checkpoint
from cifar_core.config import ConfigError, TrainConfig
from cifar_core.data import DataOptions
from cifar_core.fast import FAST_RECIPE
from cifar_core.models import SimpleCNN
from cifar_core.reproducibility import seed_everything
from cifar_core.train import eval_model, main, parse_args, save_checkpoint, train_epoch

REPO_ROOT = Path(__file__).resolve().parents[2]
TINY_DATA = DataOptions(dataset="synthetic", synthetic_size=400, val_split=0.25)


def tiny_config(tmp_path: Path, **changes) -> TrainConfig:
    base = TrainConfig(data=TINY_DATA, epochs=2, batch_size=50, num_workers=0, checkpoint_dir=str(tmp_path / "ck"))
    return replace(base, **changes)


def test_train_epoch_overfits_ten_samples():
    # The first document's Q37: a correct train_epoch drives the loss on 10 samples towards zero.
    torch.manual_seed(0)
    inputs, targets = torch.randn(10, 3, 32, 32), torch.arange(10)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(inputs, targets), batch_size=10)
    model, criterion = SimpleCNN(), nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    first_loss, _ = train_epoch(model, torch.device("cpu"), loader, criterion, optimizer)
    for _ in range(60):
        train_epoch(model, torch.device("cpu"), loader, criterion, optimizer)
    eval_loss, eval_acc = eval_model(model, torch.device("cpu"), loader, criterion)
    assert first_loss > 1.5 and eval_loss < 0.05 and eval_acc == 100.0


def test_main_writes_checkpoints_history_plot_and_report(tmp_path):
    summary = main(tiny_config(tmp_path))
    out = tmp_path / "ck"
    for name in ("checkpoint.pth", "best.pth", "history.npz", "training_curves.png", "eval_report.json"):
        assert (out / name).is_file(), name
    with np.load(out / "history.npz") as history:
        assert set(history.files) >= {"train_loss", "val_loss", "train_acc", "val_acc"} and len(history["val_acc"]) == 2
    state = load_checkpoint(out / "checkpoint.pth")
    assert state["epoch"] == 2 and state["config"]["batch_size"] == 50 and len(state["classes"]) == 10
    report = json.loads((out / "eval_report.json").read_text())
    assert set(report) >= {"accuracy", "per_class", "confusion", "ece"}
    assert summary.report is not None and summary.report.accuracy > 0.2  # chance is 0.1


def test_resume_reproduces_the_uninterrupted_run(tmp_path):
    # deterministic=True so the comparison also holds on CUDA, whose fastest kernels vary run to run
    full = main(tiny_config(tmp_path / "full", epochs=3, deterministic=True))
    main(tiny_config(tmp_path / "part", epochs=2, deterministic=True))
    resumed = main(tiny_config(tmp_path / "part", epochs=3, deterministic=True, resume=str(tmp_path / "part" / "ck" / "checkpoint.pth")))
    assert resumed.epochs_run == 1
    for key in ("train_loss", "val_loss", "train_acc", "val_acc"):
        assert resumed.history[key][2] == pytest.approx(full.history[key][2], rel=1e-5, abs=1e-6), key


def test_interrupted_checkpoint_write_keeps_the_previous_one(tmp_path, monkeypatch):
    save_checkpoint({"state_dict": {"w": torch.ones(2)}, "epoch": 1}, True, tmp_path)

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("killed between temp file and replace")

    monkeypatch.setattr(checkpoint_module.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint({"state_dict": {"w": torch.zeros(2)}, "epoch": 2}, True, tmp_path)
    state = load_checkpoint(tmp_path / "checkpoint.pth")
    assert state["epoch"] == 1 and torch.equal(state["state_dict"]["w"], torch.ones(2))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.pth", "checkpoint.pth"]  # no temp file left


class _RunsCode:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_crafted_pickle_checkpoint_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "code-ran"
    crafted = tmp_path / "evil.pth"
    torch.save({"state_dict": {}, "payload": _RunsCode(marker)}, crafted)
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(crafted)
    assert not marker.exists()
    message = str(caught.value)
    assert "\n" not in message and "refused to load" in message and "posix.system" in message


@pytest.mark.parametrize("content", [b"", b"not a checkpoint at all", None])
def test_truncated_or_foreign_file_is_one_line_error(tmp_path, content):
    path = tmp_path / "bad.pth"
    if content is None:  # a real checkpoint cut in half
        torch.save({"state_dict": {"w": torch.randn(1000)}}, path)
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    else:
        path.write_bytes(content)
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(path)
    assert "\n" not in str(caught.value) and str(path) in str(caught.value)


@pytest.mark.parametrize(
    "changes",
    [
        {"grad_clip": 1.0},
        {"label_smoothing": 0.1},
        {"mixup_alpha": 0.4},
        {"optimizer": "sgd", "lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 5e-4},
        {"scheduler": "onecycle", "optimizer": "sgd", "lr": 0.1},
        {"scheduler": "cosine", "warmup_epochs": 1},
        {"scheduler": "none", "warmup_epochs": 1},
        {"amp": "bf16"},
        {"padding_mode": "reflect", "flip": False},
        {"model": "fastnet", "optimizer": "sgd", "lr": 0.2},
        {"deterministic": True},
    ],
)
def test_each_option_trains(tmp_path, changes):
    summary = main(tiny_config(tmp_path, **changes))
    assert summary.stop_reason == "completed" and all(np.isfinite(summary.history["train_loss"]))


def test_a_deterministic_run_does_not_leave_later_runs_deterministic(tmp_path):
    # The switch is global to the process and the app trains many runs in one process.
    main(tiny_config(tmp_path / "a", epochs=1, deterministic=True))
    assert torch.are_deterministic_algorithms_enabled()
    main(tiny_config(tmp_path / "b", epochs=1))
    assert not torch.are_deterministic_algorithms_enabled()
    seed_everything(1)  # seeding alone (the demos) leaves the switch as it is
    assert not torch.are_deterministic_algorithms_enabled()
    seed_everything(1, deterministic=True)
    seed_everything(2)
    assert torch.are_deterministic_algorithms_enabled()


def test_schedules_change_the_learning_rate_as_configured(tmp_path):
    step = main(tiny_config(tmp_path / "a", epochs=3, step_size=2, gamma=0.1))
    assert step.history["lr"] == pytest.approx([1e-3, 1e-3, 1e-4])
    warm = main(tiny_config(tmp_path / "b", epochs=3, scheduler="none", warmup_epochs=2))
    assert warm.history["lr"][0] == pytest.approx(1e-4) and warm.history["lr"][2] == pytest.approx(1e-3)


def test_early_stopping_stops_when_validation_stalls(tmp_path):
    # lr so small that nothing improves after the first epoch's accuracy
    summary = main(tiny_config(tmp_path, epochs=10, lr=1e-9, early_stopping_patience=2))
    assert summary.stop_reason.startswith("early stopping") and summary.epochs_run < 10


def test_a_resumed_run_stops_early_at_the_epoch_the_uninterrupted_run_does(tmp_path):
    # lr so small that accuracy stalls: the uninterrupted run stops with patience 2 after epoch 4
    # (its best is epoch 2's); a run cut after epoch 3 already has one epoch without a gain.
    full = main(tiny_config(tmp_path / "full", epochs=8, lr=1e-9, early_stopping_patience=2, deterministic=True))
    assert full.epochs_run == 4 and full.stop_reason.startswith("early stopping")
    main(tiny_config(tmp_path / "part", epochs=3, lr=1e-9, early_stopping_patience=2, deterministic=True))
    checkpoint = str(tmp_path / "part" / "ck" / "checkpoint.pth")
    resumed = main(tiny_config(tmp_path / "part", epochs=8, lr=1e-9, early_stopping_patience=2, deterministic=True, resume=checkpoint))
    assert resumed.epochs_run == 1 and resumed.stop_reason == full.stop_reason


def test_optional_extras_explain_missing_packages(tmp_path, capsys, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def without_extras(name, *args, **kwargs):
        if name.split(".")[0] in ("onnx", "onnxscript", "tensorboard") or name == "torch.utils.tensorboard":
            raise ImportError(f"No module named '{name}'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_extras)
    main(tiny_config(tmp_path, epochs=1, export_onnx=True, tensorboard=True))
    printed = capsys.readouterr().out
    assert "ONNX export skipped" in printed and "pip install onnx onnxscript" in printed
    assert "TensorBoard logging skipped" in printed


def test_impossible_configuration_is_rejected_before_training(tmp_path):
    with pytest.raises(ConfigError) as caught:
        main(tiny_config(tmp_path, epochs=0, lr=-1.0, optimizer="rmsprop"))
    assert len(caught.value.problems) >= 3
    assert not (tmp_path / "ck").exists()


def test_parse_args_uses_the_document_defaults_and_the_fast_recipe_with_a_budget():
    plain = parse_args(["--dataset", "synthetic"])
    assert (plain.model, plain.optimizer, plain.lr, plain.batch_size, plain.scheduler) == ("simplecnn", "adam", 1e-3, 128, "step")
    assert (plain.step_size, plain.gamma, plain.num_workers) == (10, 0.1, 2)
    assert (plain.crop_padding, plain.tta, plain.whiten) == (4, False, False)
    fast = parse_args(["--dataset", "synthetic", "--time-budget", "30", "--lr", "0.2"])
    assert fast.model == "fastnet" and fast.optimizer == "muon" and fast.lr == 0.2
    # Every recipe value reaches the config, or the CLI would train a different recipe than the one measured.
    for name, value in FAST_RECIPE.items():
        assert getattr(fast, name) == (0.2 if name == "lr" else value), name


def test_parse_args_honours_every_recipe_option_given_explicitly():
    cfg = parse_args(["--dataset", "synthetic", "--time-budget", "30", "--crop-padding", "2", "--no-tta", "--no-whiten"])
    assert (cfg.crop_padding, cfg.tta, cfg.whiten) == (2, False, False)
    assert parse_args(["--dataset", "synthetic", "--crop-padding", "0"]).crop_padding == 0


def test_fast_only_options_without_a_budget_are_one_line_errors(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "cifar_core.train", "--dataset", "synthetic", "--whiten", "--tta", "--checkpoint-dir", str(tmp_path)],
        capture_output=True, text=True, cwd=REPO_ROOT,
    )  # fmt: skip
    assert result.returncode == 1
    expected = "error: invalid training configuration: --tta and --whiten need the fast trainer: add --time-budget SECONDS"
    assert result.stderr.strip() == expected


def test_cli_bad_data_dir_is_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "cifar_core.train", "--data-dir", str(tmp_path), "--epochs", "1"],
        capture_output=True, text=True, cwd=REPO_ROOT,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip().startswith("error: ") and result.stderr.strip().count("\n") == 0


def test_cli_time_budget_uses_the_fast_recipe_and_saves_a_checkpoint(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "cifar_core.train", "--dataset", "synthetic", "--synthetic-size", "1000",
         "--time-budget", "6", "--checkpoint-dir", str(tmp_path)],
        capture_output=True, text=True, cwd=REPO_ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert " steps in " in result.stdout and "validation accuracy" in result.stdout
    state = load_checkpoint(tmp_path / "best.pth")
    assert state["config"]["time_budget"] == 6 and state["config"]["model"] == "fastnet"


def test_a_time_budget_checkpoint_cannot_be_resumed_but_says_why(tmp_path):
    budgeted = tiny_config(tmp_path / "fast", time_budget=5.0, model="fastnet", optimizer="sgd", lr=0.2)
    main(budgeted)
    with pytest.raises(CheckpointError, match="keeps no optimizer state; it can be evaluated, not resumed"):
        main(tiny_config(tmp_path, resume=str(tmp_path / "fast" / "ck" / "best.pth")))


def test_ddp_with_two_cpu_processes_trains(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29533",
         "-m", "cifar_core.train", "--dataset", "synthetic", "--synthetic-size", "400", "--epochs", "2",
         "--batch-size", "25", "--num-workers", "0", "--device", "cpu", "--checkpoint-dir", str(tmp_path)],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.count("Epoch 2/2") == 1  # only rank 0 reports
    state = load_checkpoint(tmp_path / "checkpoint.pth")
    assert not any(key.startswith("module.") for key in state["state_dict"])  # saved unwrapped
    # 360 training images (10% of 400 held out), split over 2 processes: 180 each, 8 steps of
    # up to 25 per epoch. A single process would have taken 15 steps per epoch.
    assert state["optimizer"]["state"][0]["step"].item() == 16
