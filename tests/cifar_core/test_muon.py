"""Muon against its oracles: the SVD for the orthogonalisation, torch's SGD for the other parameters."""

from dataclasses import replace

import pytest
import torch
from torch import nn

import cifar_core.fast as fast
from cifar_core.config import TrainConfig
from cifar_core.data import DataOptions
from cifar_core.muon import Muon, muon_for, orthogonalize
from cifar_core.optim import build_optimizer, build_scheduler
from cifar_core.pace import BUDGET_WARMUP, BudgetPace


# Conv banks are wide (out_channels < in_channels * 9), so no singular value is near zero; a square
# random matrix has one, which five iterations cannot lift (nor need to: it is a direction of no gradient).
@pytest.mark.parametrize("shape", [(32, 288), (288, 32), (64, 576)])
def test_orthogonalize_keeps_the_directions_and_brings_singular_values_near_one(shape):
    matrix = torch.randn(*shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    u, _, vh = torch.linalg.svd(matrix, full_matrices=False)
    exact = u @ vh  # the nearest semi-orthogonal matrix
    approx = orthogonalize(matrix)
    singular_values = torch.linalg.svdvals(approx)
    assert singular_values.min() > 0.6 and singular_values.max() < 1.25, singular_values
    cosine = (approx * exact).sum() / (approx.norm() * exact.norm())
    assert cosine > 0.97, float(cosine)


def test_orthogonalize_is_scale_free():
    matrix = torch.randn(16, 144, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(orthogonalize(matrix), orthogonalize(1000 * matrix), atol=1e-5)


def _bn_conv_net() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 3, bias=False), nn.BatchNorm2d(8), nn.Flatten(), nn.Linear(8 * 4 * 4, 10))


def _step(model: nn.Module, optimizer: torch.optim.Optimizer, seed: int) -> None:
    inputs = torch.randn(4, 3, 6, 6, generator=torch.Generator().manual_seed(seed))
    optimizer.zero_grad()
    model(inputs).square().mean().backward()
    optimizer.step()


def test_non_filter_parameters_take_exactly_torch_nesterov_sgd_steps():
    muon_net, sgd_net = _bn_conv_net(), _bn_conv_net()
    muon = muon_for(muon_net.parameters(), lr=0.1, filter_lr=0.05, momentum=0.9, filter_momentum=0.85, weight_decay=5e-4)
    others = [p for p in sgd_net.parameters() if p.ndim != 4]
    sgd = torch.optim.SGD(others, lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    for seed in range(3):
        sgd_net[0].weight.data.copy_(muon_net[0].weight.data)  # same filters, so the same gradients
        _step(muon_net, muon, seed)
        _step(sgd_net, sgd, seed)
    for mine, reference in zip(muon_net.parameters(), sgd_net.parameters(), strict=True):
        if mine.ndim != 4:
            assert torch.allclose(mine, reference, atol=1e-6)


def test_a_filter_step_has_the_learning_rate_as_its_size_and_keeps_the_bank_norm():
    net = _bn_conv_net()
    filters = net[0].weight
    optimizer = muon_for(net.parameters(), lr=0.1, filter_lr=0.05, momentum=0.0, filter_momentum=0.0, weight_decay=0.0)
    for seed in range(3):
        before = filters.detach().clone() * (8**0.5 / filters.norm())  # the norm Muon restores before stepping
        _step(net, optimizer, seed)
        step = filters.detach() - before
        # An orthogonalised (8, 27) update has 8 singular values near 1: its norm is about sqrt(8).
        assert 0.6 * 0.05 * 8**0.5 < step.norm() < 1.25 * 0.05 * 8**0.5
    assert abs(float(filters.detach().norm()) - 8**0.5) < 0.05 * 8**0.5 * 1.25 + 1e-6  # renormalised, then one step


def test_frozen_parameters_stay_out_and_groups_keep_their_own_settings():
    net = _bn_conv_net()
    net[0].weight.requires_grad_(False)
    optimizer = muon_for(net.parameters(), lr=0.3, filter_lr=0.05, momentum=0.9, filter_momentum=0.85, weight_decay=1e-3)
    assert isinstance(optimizer, Muon)
    assert len(optimizer.param_groups) == 1 and not optimizer.param_groups[0]["orthogonalize"]
    assert optimizer.param_groups[0]["lr"] == 0.3 and optimizer.param_groups[0]["weight_decay"] == 1e-3


def test_one_cycle_peaks_each_group_at_its_own_rate():
    cfg = TrainConfig(optimizer="muon", lr=0.5, muon_lr=0.08, scheduler="onecycle", epochs=2, nesterov=True)
    optimizer = build_optimizer(_bn_conv_net(), cfg)
    scheduler, per_step = build_scheduler(optimizer, cfg, steps_per_epoch=10)
    peaks = {group["orthogonalize"]: 0.0 for group in optimizer.param_groups}
    for _ in range(20):
        for group in optimizer.param_groups:
            peaks[group["orthogonalize"]] = max(peaks[group["orthogonalize"]], group["lr"])
        optimizer.step()
        scheduler.step()
    assert per_step and peaks[True] == pytest.approx(0.08, rel=0.02) and peaks[False] == pytest.approx(0.5, rel=0.02)


def test_the_recipe_trains_with_muon_and_a_budget_schedules_each_group_from_its_peak():
    cfg = TrainConfig(data=DataOptions(dataset="synthetic", synthetic_size=1200), epochs=3, **fast.FAST_RECIPE)
    assert cfg.optimizer == "muon"
    result = fast.train(replace(cfg, batch_size=64))
    assert result.report is not None and result.report.accuracy > 0.8
    run = fast.prepare_run(replace(cfg, time_budget=60), None)
    pace = BudgetPace(run.optimizer, budget=60)
    sgd_group, filter_group = run.optimizer.param_groups
    pace.set_lr(run.optimizer, BUDGET_WARMUP)  # the end of the warm-up: each group at its own peak
    assert sgd_group["lr"] == pytest.approx(cfg.lr) and filter_group["lr"] == pytest.approx(cfg.muon_lr)
    assert TrainConfig(optimizer="muon", muon_lr=0.0).problems() == ["muon_lr must be in (0, 1], not 0.0"]
