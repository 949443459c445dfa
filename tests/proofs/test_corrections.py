"""Correction notes on items without a demo, pinned where code can check them (the notes on items
with a demo are checked by that demo's claim check)."""

import pytest
import torch
from torch import nn
from torchvision.models import resnet18


def test_freezing_layer1_and_layer2_leaves_the_stem_trainable_and_bn_statistics_moving():
    # interview-03: the answer's loop freezes layer1 and layer2 only.
    model = resnet18(weights=None)
    for param in model.layer1.parameters():
        param.requires_grad = False
    for param in model.layer2.parameters():
        param.requires_grad = False
    assert model.conv1.weight.requires_grad and model.bn1.weight.requires_grad
    frozen_bn = model.layer1[0].bn1
    before = frozen_bn.running_mean.clone()
    model.train()
    with torch.no_grad():
        model(torch.randn(2, 3, 64, 64))
    assert not torch.equal(frozen_bn.running_mean, before)  # requires_grad=False does not stop the statistics
    frozen_bn.eval()
    settled = frozen_bn.running_mean.clone()
    with torch.no_grad():
        model(torch.randn(2, 3, 64, 64))
    assert torch.equal(frozen_bn.running_mean, settled)  # eval mode does


def test_pytorch_early_stopping_with_patience_5_and_best_epoch_25_stops_at_epoch_30(tmp_path, monkeypatch, capsys):
    # keras-s7-q6: best at epoch 25 of 30 means five epochs without improvement, so patience 5 runs out at 30.
    from cifar_core import train as script
    from cifar_core.config import DataOptions, TrainConfig

    accuracies = iter([10.0 + epoch if epoch <= 25 else 30.0 for epoch in range(1, 31)])
    monkeypatch.setattr(script, "eval_model", lambda *_args, **_kwargs: (1.0, next(accuracies)))
    monkeypatch.setattr(script, "plot_curves", lambda history, out_dir: None)
    monkeypatch.setattr(script, "train_epoch", lambda *_args, **_kwargs: (1.0, 50.0))
    cfg = TrainConfig(
        data=DataOptions(dataset="synthetic", synthetic_size=40), epochs=30, batch_size=32, num_workers=0,
        scheduler="none", early_stopping_patience=5, checkpoint_dir=str(tmp_path),
    )  # fmt: skip
    summary = script.main(cfg)
    assert summary.epochs_run == 30 and summary.stop_reason.startswith("early stopping")
    assert max(summary.history["val_acc"]) == summary.history["val_acc"][24] == summary.best_acc


@pytest.mark.parametrize("side", [32, 64])
def test_a_headless_resnet50_accepts_inputs_of_any_size_from_32_pixels(side):
    # keras-s10-q1: input size is not a hard requirement of the network without its top.
    from torchvision.models import resnet50

    with torch.device("meta"):
        model = resnet50(weights=None)
    model.fc = nn.Identity()
    assert model.eval()(torch.empty(1, 3, side, side, device="meta")).shape == (1, 2048)
