"""Measuring the learner's model in the contained runner: parameter counts and learning rates
against PyTorch itself, and hostile or awkward model code contained, reported, and leaving
nothing running."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from project_viva.analysis import analyse
from project_viva.measure import measure
from project_viva.plan import Plan
from project_viva.sources import load_path
from sandbox.process import Limits
from tests.project_viva.scripts import PARTS, kinds, run, script

FIXTURES = Path(__file__).parent / "fixtures"


def trainable(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def test_a_resnet_from_a_models_package_counts_exactly_as_pytorch_does(monkeypatch):
    monkeypatch.syspath_prepend(str(FIXTURES / "modules"))
    from models.resnet import ResNet18  # the fixture's own code: the oracle builds what the script builds

    analysis = analyse(load_path(FIXTURES / "modules"))
    assert analysis.facts["params"] == trainable(ResNet18()) == 11_173_962
    assert analysis.facts["model_class"] == "ResNet"
    rows = {row["name"]: row for row in analysis.layers if row["depth"] == 1}
    assert rows["layer3"]["output_shape"] == [1, 256, 8, 8] and rows["linear"]["params"] == 512 * 10 + 10
    assert analysis.extra["flops"] > 1e9  # ResNet18 at 32x32: about 0.56 GMACs, 1.1 GFLOPs
    for name in [n for n in sys.modules if n == "models" or n.startswith("models.")]:
        monkeypatch.delitem(sys.modules, name)


def test_a_new_head_and_frozen_layers_count_as_the_script_leaves_them():
    model = """\
    model = torchvision.models.resnet18(weights=None)
    for param in model.parameters():
        param.requires_grad = False
    model.fc = nn.Linear(model.fc.in_features, 10)
    model.layer4.requires_grad_(True)
    """
    analysis = run(script(model=model), measure=True)
    import torchvision

    oracle = torchvision.models.resnet18(weights=None)
    oracle.requires_grad_(False)
    oracle.fc = torch.nn.Linear(512, 10)
    oracle.layer4.requires_grad_(True)
    assert analysis.facts["params"] == trainable(oracle) == 8_398_858
    assert analysis.facts["model_class"] == "resnet18" and analysis.findings == []


def oracle_rates(make_scheduler, epochs: int, per_batch: int = 0, step_first: bool = False) -> list[float]:
    parameter = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([parameter], lr=0.1, momentum=0.9, weight_decay=5e-4)
    scheduler = make_scheduler(optimizer)
    rates = []
    for _ in range(epochs):
        if step_first:
            scheduler.step()
        rates.append(optimizer.param_groups[0]["lr"])
        for _ in range(per_batch or (0 if step_first else 1)):
            optimizer.step()
            scheduler.step()
    return rates


def test_learning_rates_per_epoch_match_pytorch_for_a_step_schedule():
    analysis = run(script(), measure=True)
    assert analysis.facts["lr_by_epoch"] == pytest.approx(oracle_rates(lambda o: torch.optim.lr_scheduler.StepLR(o, 10, 0.1), 30))


def test_a_step_schedule_stepped_every_batch_collapses_as_pytorch_says():
    train = PARTS["train"].replace("        optimizer.step()\n", "        optimizer.step()\n        scheduler.step()\n")
    loop = "for epoch in range(30):\n    train_epoch()\n    print(evaluate(testloader))\n"
    analysis = run(script(train=train, loop=loop), measure=True)
    expected = oracle_rates(lambda o: torch.optim.lr_scheduler.StepLR(o, 10, 0.1), 30, per_batch=391)  # 50,000 / 128 -> 391 batches
    assert analysis.facts["lr_by_epoch"][:3] == pytest.approx(expected[:3], rel=1e-6)
    assert analysis.facts["lr_by_epoch"][1] < 1e-30


def test_a_function_that_sets_the_rate_each_epoch_is_replayed():
    setup = """\
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)


    def adjust_learning_rate(optimizer, epoch, base=0.1):
        lr = base * (0.5 ** (epoch // 10))
        for group in optimizer.param_groups:
            group["lr"] = lr
    """
    loop = "for epoch in range(30):\n    adjust_learning_rate(optimizer, epoch)\n    train_epoch()\n    print(evaluate(testloader))\n"
    analysis = run(script(setup=setup, loop=loop), measure=True)
    assert analysis.facts["lr_by_epoch"] == pytest.approx([0.1 * 0.5 ** (e // 10) for e in range(30)])


def test_model_code_that_runs_a_shell_command_is_blocked_and_said(tmp_path):
    marker = tmp_path / "escaped"
    model = f"""\
    import os


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            os.system("touch {marker}")
            self.fc = nn.Linear(10, 10)


    model = Net().to(device)
    """
    analysis = run(script(model=model), measure=True)
    assert not marker.exists()
    code = script(model=model)
    line = code.splitlines().index(f'        os.system("touch {marker}")') + 1
    assert kinds(analysis)["blocked_in_runner"] == [line]
    assert analysis.facts["params"] is None
    assert any("building it failed" in reason and "blocked by the project analyser: os.system" in reason for reason in analysis.unmeasured)


def test_a_socket_opened_at_import_never_runs_and_the_model_is_still_measured():
    helper = (
        "import socket\nimport torch.nn as nn\n\nsocket.create_connection(('example.com', 80))\n\n\n"
        "class Tiny(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(4, 2)\n"
    )
    code = script(model="from tinymodel import Tiny\n\nmodel = Tiny()\n")
    analysis = run(code, measure=True, tinymodel=helper)
    assert analysis.facts["params"] == 4 * 2 + 2
    assert kinds(analysis) == {"code_at_import": [4]}


NEEDS_CLASSES = (
    PARTS["model"]
    .replace("def __init__(self):", "def __init__(self, num_classes):")
    .replace("nn.Linear(16 * 16 * 16, 10)", "nn.Linear(16 * 16 * 16, num_classes)")
)


def test_a_model_that_needs_a_value_computed_at_run_time_says_what_was_not_measured():
    model = NEEDS_CLASSES.replace(
        "model = Net().to(device)", "n_classes = int(max(trainset.targets)) + 1\nmodel = Net(n_classes).to(device)"
    )
    code = script(model=model)
    analysis = run(code, measure=True)
    line = code.splitlines().index("model = Net(n_classes).to(device)") + 1
    assert analysis.facts["params"] is None
    assert f"model: not measured, `Net(n_classes)` at train.py:{line} needs a value the script computes at run time" in analysis.unmeasured


def test_the_class_count_of_a_torchvision_dataset_is_known_without_the_data():
    analysis = run(
        script(model=NEEDS_CLASSES.replace("model = Net().to(device)", "model = Net(len(trainset.classes)).to(device)")), measure=True
    )
    assert analysis.facts["params"] == 3 * 16 * 9 + 16 + 2 * 16 + 16 * 16 * 16 * 10 + 10


def _children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_a_model_that_never_finishes_is_stopped_and_leaves_nothing_running():
    plan = Plan(
        modules={
            "hang": (
                "import time\nimport torch.nn as nn\n\n\nclass Hang(nn.Module):\n"
                "    def __init__(self):\n        super().__init__()\n        while True:\n            time.sleep(0.1)\n"
            )
        },
        packages=[],
        paths={"hang": "hang.py"},
        model="_project('hang', 'Hang')()",
    )
    started = time.perf_counter()
    measurement = measure(plan, Limits(wall_s=20.0, cpu_s=60, memory_mb=3072, threads=1))
    assert time.perf_counter() - started < 60
    assert measurement.params is None and measurement.unmeasured == ["model: not measured, the runner stopped it after 20 s"]
    assert _children_of(os.getpid()) == [] or all(_is_zombie_free(pid) for pid in _children_of(os.getpid()))


def _is_zombie_free(pid: int) -> bool:
    """A child of the test process that is not the runner (pytest's own helpers)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True
    return b"project-viva" not in command and b"measure_child" not in command and b"@@project-viva@@" not in command


def test_the_cli_prints_the_fields_the_checks_rely_on():
    out = subprocess.run(
        [sys.executable, "-m", "project_viva", "analyse", str(FIXTURES / "notebook" / "cifar_cnn.ipynb"), "--json", "--no-measure"],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[2],
    )
    import json

    result = json.loads(out.stdout)
    required = {
        "entry", "framework", "model_class", "params", "optimizer", "scheduler", "loss", "batch_size_train", "epochs", "augmentations",
        "normalization", "uses_batchnorm", "uses_dropout", "mixed_precision", "eval_mode_used", "no_grad_in_eval", "selection_on_test_set",
        "lr_by_epoch", "findings", "questions", "unmeasured",
    }  # fmt: skip
    assert required <= set(result)
    assert set(result["optimizer"]) == {"name", "lr", "momentum", "weight_decay"} and set(result["scheduler"]) == {"name", "stepped"}
    assert all({"kind", "file", "line", "message", "items"} <= set(f) for f in result["findings"])


def test_the_cli_refuses_a_missing_path_in_one_line():
    out = subprocess.run(
        [sys.executable, "-m", "project_viva", "analyse", "/nonexistent/x.py"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    assert out.returncode == 2 and out.stderr == "error: /nonexistent/x.py: no such file or folder\n"


def test_hosted_without_bubblewrap_reads_the_code_and_measures_nothing(monkeypatch):
    monkeypatch.setenv("HOSTED", "1")
    monkeypatch.setenv("VIVA_NO_BWRAP", "1")
    analysis = run(script(), measure=True)
    assert analysis.facts["params"] is None and analysis.facts["optimizer"]["name"] == "SGD"
    assert any(
        reason.startswith("model and learning rate: not measured, bubblewrap (bwrap) is not available") for reason in analysis.unmeasured
    )


def test_the_bench_scores_a_labelled_project(tmp_path):
    from bench.project_viva import Case, Score, score_case

    project = tmp_path / "p"
    project.mkdir()
    (project / "train.py").write_text(script())
    labels = {
        "entry": "train.py",
        "epochs": 30,
        "optimizer": {"name": "SGD", "lr": 0.1},
        "findings": [{"kind": "missing_zero_grad", "file": "train.py", "line": 3}],
    }
    score = Score()
    score_case(Case("p", project, labels), score, measure_model=False)
    assert (score.facts_right, score.facts_total) == (3, 3)
    assert (score.true_positive, score.false_positive, score.false_negative) == (0, 0, 1)
    assert score.misses == ["p: missed missing_zero_grad at train.py:3"]


def test_an_optimizer_rebuilt_every_epoch_with_a_computed_rate_is_replayed():
    setup = """\
    criterion = nn.CrossEntropyLoss()


    def learning_rate(init, epoch):
        return init * 0.2 ** ((epoch >= 10) + (epoch >= 20))
    """
    train = PARTS["train"].replace(
        "def train_epoch():\n",
        "def train_epoch(epoch):\n    optimizer = optim.SGD(model.parameters(), lr=learning_rate(0.1, epoch), momentum=0.9)\n",
    )
    loop = "for epoch in range(30):\n    train_epoch(epoch)\n    print(evaluate(testloader))\n"
    analysis = run(script(setup=setup, train=train, loop=loop), measure=True)
    assert analysis.facts["lr_by_epoch"] == pytest.approx([0.1 * 0.2 ** ((e >= 10) + (e >= 20)) for e in range(30)])
    assert analysis.facts["optimizer"]["lr"] == 0.1 and analysis.unmeasured == []


def test_a_rate_set_inline_in_the_epoch_loop_is_said_not_guessed():
    loop = """\
    for epoch in range(30):
        if epoch == 15:
            for group in optimizer.param_groups:
                group["lr"] = 0.01
        train_epoch()
        print(evaluate(testloader))
    """
    code = script(setup=PARTS["setup"].replace("scheduler = ", "# scheduler = "), loop=loop)
    analysis = run(code, measure=True)
    line = code.splitlines().index('            group["lr"] = 0.01') + 1
    assert analysis.facts["lr_by_epoch"] is None
    assert f"learning rate by epoch: set at train.py:{line} inside the epoch loop, which is not replayed" in analysis.unmeasured
