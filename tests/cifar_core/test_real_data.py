"""Short runs on the real CIFAR-10 training set beside the checkout (skipped with the reason when
it is absent; CI has it): the document's script, the fast trainer with its recipe, and the
evaluation CLI agreeing with the training run on the same held-out split."""

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import cifar_core.fast as fast
from cifar_core.config import TrainConfig
from cifar_core.data import CIFAR10_CLASSES, DataOptions
from cifar_core.train import main
from tests.conftest import require_real_cifar10

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_document_script_trains_on_real_cifar10_and_evaluate_agrees(tmp_path):
    root = require_real_cifar10()
    data = DataOptions(data_dir=str(root), subset=5000)  # 5,000 training images; the full 5,000-image validation split
    cfg = TrainConfig(data=data, epochs=1, num_workers=0, checkpoint_dir=str(tmp_path / "ck"))
    summary = main(cfg)
    assert "real CIFAR-10" in summary.data_description
    assert summary.report is not None and summary.report.accuracy > 0.2  # chance is 0.1; one short epoch
    assert sorted(summary.report.per_class) == sorted(CIFAR10_CLASSES)
    result = subprocess.run(
        [sys.executable, "-m", "cifar_core.evaluate", "--checkpoint", str(tmp_path / "ck" / "best.pth"),
         "--data-dir", str(root), "--split", "val", "--json"],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    evaluated = json.loads(result.stdout)
    # Same weights, same seeded split, same normalisation: the same accuracy to the image.
    assert round(evaluated["accuracy"] * 5000) == round(summary.report.accuracy * 5000)
    assert sum(map(sum, evaluated["confusion"])) == 5000


def test_fast_recipe_learns_real_cifar10_in_a_few_epochs():
    root = require_real_cifar10()
    cfg = TrainConfig(data=DataOptions(data_dir=str(root), subset=5000), epochs=3, **fast.FAST_RECIPE)
    result = fast.train(replace(cfg, scheduler="onecycle"))
    assert result.stop_reason == "completed" and result.steps == 3 * (5000 // cfg.batch_size)
    assert result.report is not None and result.report.accuracy > 0.4, result.report.accuracy  # chance is 0.1
    assert 0.0 <= result.report.ece <= 1.0
