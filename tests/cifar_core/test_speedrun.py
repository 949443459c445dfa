"""The GPU speedrun recipe, exercised on the CPU at small widths on generated data."""

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from torch import nn

from cifar_core.data import DataOptions, load_splits
from cifar_core.fast import DeviceData
from cifar_core.models import FrozenScaleBatchNorm
from cifar_core.speedrun import (
    Lookahead,
    SpeedrunConfig,
    _optimizer,
    build_speednet,
    compute_dtype,
    epoch_view,
    lr_factor,
    speedrun,
    summary,
    train_speednet,
    tta_logits,
)
from tests.cifar_core.test_data import write_tree  # an image-folder tree of random PNGs

REPO_ROOT = Path(__file__).resolve().parents[2]
TINY = SpeedrunConfig(widths=(8, 16, 16), batch_size=128, epochs=6)


@pytest.fixture(scope="module")
def splits():
    return load_splits(DataOptions(dataset="synthetic", synthetic_size=2000, val_split=0.2))


def device_split(dataset):
    return DeviceData.from_arrays(dataset.images, dataset.labels, torch.device("cpu"))


def stats(splits):
    return torch.tensor(splits.mean).view(1, 3, 1, 1), torch.tensor(splits.std).view(1, 3, 1, 1)


def test_tiny_speedrun_learns_and_reports_each_run(splits):
    seen = []
    results = speedrun(TINY, splits, runs=2, on_result=lambda index, result: seen.append(index))
    assert seen == [0, 1]
    for result in results:
        assert result.accuracy > 0.6 and result.accuracy_no_tta > 0.6  # chance is 0.1; measured ~0.8
        assert result.steps == 6 * (1600 // 128) and result.epochs == pytest.approx(6.0)
        assert result.epoch_losses[-1] < result.epoch_losses[0]
        assert result.train_images == 1600 and result.val_images == 400
        assert result.device == (torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU")
    stats_ = summary(results)
    assert stats_["runs"] == 2 and stats_["accuracy_min"] <= stats_["accuracy_mean"] <= stats_["accuracy_max"]


def test_whitening_weights_stay_frozen_and_its_bias_freezes_after_its_epochs(splits):
    mean, std = stats(splits)
    train = device_split(splits.train)
    cfg = replace(TINY, epochs=2, whiten_bias_epochs=1)
    initial = build_speednet(cfg, train.images, mean, std, 10)  # same seed: the same filters
    trained = train_speednet(cfg, train, mean, std, 10).model
    assert torch.equal(trained.whiten.weight, initial.whiten.weight)
    assert not trained.whiten.weight.requires_grad and not trained.whiten.bias.requires_grad
    assert trained.whiten.bias.abs().sum() > 0  # it trained during the first epoch (it starts at zero)
    scales = [m.weight for m in trained.modules() if isinstance(m, FrozenScaleBatchNorm)]
    assert all(torch.equal(w, torch.ones_like(w)) for w in scales)


def test_optimizer_gives_batchnorm_shifts_64x_the_rate_and_leaves_frozen_weights_out(splits):
    mean, std = stats(splits)
    model = build_speednet(TINY, device_split(splits.train).images, mean, std, 10)
    bn_group, other_group = _optimizer(model, TINY).param_groups
    assert bn_group["lr"] == pytest.approx(64 * other_group["lr"])
    # decoupled: the decay per step is the same for both groups once PyTorch multiplies by the lr
    assert bn_group["lr"] * bn_group["weight_decay"] == pytest.approx(other_group["lr"] * other_group["weight_decay"])
    in_optimizer = {id(p) for group in (bn_group, other_group) for p in group["params"]}
    assert id(model.whiten.weight) not in in_optimizer and id(model.whiten.bias) in in_optimizer
    assert not any(id(m.weight) in in_optimizer for m in model.modules() if isinstance(m, FrozenScaleBatchNorm))


def test_lr_schedule_is_triangular():
    assert lr_factor(0, 100, 0.23) == pytest.approx(0.2)
    assert lr_factor(23, 100, 0.23) == pytest.approx(1.0)
    assert lr_factor(100, 100, 0.23) == pytest.approx(0.07)
    factors = [lr_factor(step, 100, 0.23) for step in range(101)]
    assert factors.index(max(factors)) == 23


def test_lookahead_pulls_the_average_towards_the_weights_and_resets_them_to_it():
    model = nn.Linear(2, 1, bias=False)
    nn.init.zeros_(model.weight)
    lookahead = Lookahead(model)
    with torch.no_grad():
        model.weight.fill_(4.0)
    lookahead.update(0.75)  # average 0 -> 0 + 0.25 * (4 - 0)
    assert torch.equal(model.weight, torch.full((1, 2), 1.0))
    with torch.no_grad():
        model.weight.fill_(9.0)
    lookahead.update(1.0)  # decay 1: the weights go back to the average, which does not move
    assert torch.equal(model.weight, torch.full((1, 2), 1.0))


def test_flips_alternate_between_epochs_and_translations_stay_in_the_image():
    images = torch.randn(6, 3, 8, 8)
    base = torch.tensor([True, False, True, False, False, True])
    generator = torch.Generator().manual_seed(0)
    even, odd = epoch_view(images, base, 0, 0, generator), epoch_view(images, base, 1, 0, generator)
    assert torch.equal(odd, even.flip(3))  # every image shows the other orientation next epoch
    assert torch.equal(even[~base], images[~base]) and torch.equal(even[base], images[base].flip(3))
    moved = epoch_view(images, base, 0, 2, generator)
    assert moved.shape == images.shape and not torch.equal(moved, even)


class TopLeftPixel(nn.Module):
    """Reads the top-left pixel's three channels as three logits: an oracle for the TTA views."""

    def forward(self, x):
        return x[:, :, 0, 0]


def test_tta_level_2_averages_mirrors_and_one_pixel_translations():
    x = torch.randn(2, 3, 6, 6)
    last = x.shape[-1] - 1
    # mirror: top-right pixel; reflect-padded shifts put pixel (1, 1) (and its mirror (1, last - 1)) top-left
    expected = 0.25 * (x[:, :, 0, 0] + x[:, :, 0, last] + x[:, :, 1, 1] + x[:, :, 1, last - 1])
    assert torch.allclose(tta_logits(TopLeftPixel(), x, 2), expected)
    assert torch.allclose(tta_logits(TopLeftPixel(), x, 1), 0.5 * (x[:, :, 0, 0] + x[:, :, 0, last]))
    assert torch.equal(tta_logits(TopLeftPixel(), x, 0), x[:, :, 0, 0])


def test_half_precision_only_on_cuda():
    assert compute_dtype(torch.device("cuda")) is torch.float16
    assert compute_dtype(torch.device("cpu")) is torch.float32


def test_bad_configuration_lists_every_problem(splits):
    with pytest.raises(ValueError) as caught:
        speedrun(replace(TINY, epochs=0, tta_level=5), splits)
    assert "epochs must be > 0" in str(caught.value) and "tta_level must be 0, 1 or 2" in str(caught.value)


def test_a_diverging_run_stops_with_a_clear_error(splits):
    with pytest.raises(FloatingPointError, match="lower --lr"):
        speedrun(replace(TINY, lr=1e30, epochs=2), splits)


def test_cli_prints_json_and_rejects_bad_input_in_one_line(tmp_path):
    def cli(*args):
        command = [sys.executable, "-m", "cifar_core.speedrun", *args]
        return subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)

    ok = cli("--dataset", "synthetic", "--width", "8", "--epochs", "1", "--runs", "2", "--json")
    assert ok.returncode == 0, ok.stderr
    payload = json.loads(ok.stdout)
    assert payload["summary"]["runs"] == 2 and len(payload["runs"]) == 2 and payload["config"]["widths"] == [8, 32, 32]
    assert 0.0 <= payload["summary"]["accuracy_mean"] <= 1.0
    for args, message in (
        (("--dataset", "synthetic", "--epochs", "0"), "epochs must be > 0"),
        (("--data-dir", str(tmp_path / "missing")), "not a dataset directory"),
    ):
        bad = cli(*args)
        assert bad.returncode == 2 and message in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    diverged = cli("--dataset", "synthetic", "--width", "8", "--epochs", "1", "--runs", "1", "--lr", "1e30")
    assert diverged.returncode == 1 and "lower --lr" in diverged.stderr and len(diverged.stderr.strip().splitlines()) == 1


def test_on_test_trains_on_every_training_image_and_reports_on_the_test_folder(tmp_path):
    write_tree(tmp_path, per_class=40)
    write_tree(tmp_path, per_class=15, split="test")
    command = [sys.executable, "-m", "cifar_core.speedrun", "--data-dir", str(tmp_path), "--width", "8", "--epochs", "1", "--runs", "1"]
    official = subprocess.run([*command, "--on-test", "--json"], capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)
    assert official.returncode == 0, official.stderr
    payload = json.loads(official.stdout)
    assert payload["evaluated_on"] == "test"
    assert payload["runs"][0]["train_images"] == 80 and payload["runs"][0]["val_images"] == 30  # train + val; the test folder
    held_out = subprocess.run([*command, "--json"], capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)
    assert held_out.returncode == 0, held_out.stderr
    assert json.loads(held_out.stdout)["runs"][0]["train_images"] == 72  # 10% of train held out; test untouched
    (tmp_path / "test" / "dog").rename(tmp_path / "test" / "bird")
    mismatched = subprocess.run([*command, "--on-test"], capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)
    assert mismatched.returncode == 2 and "test classes" in mismatched.stderr and len(mismatched.stderr.strip().splitlines()) == 1


def test_on_test_without_a_test_split_says_so_in_one_line():
    from cifar_core.data import DataSourceError, train_on_all_report_on_test

    with pytest.raises(DataSourceError, match="no test split"):
        train_on_all_report_on_test(load_splits(DataOptions(dataset="synthetic", synthetic_size=1000)))
