"""Every demo's claim holds (so CI proves it), and broken variants make the checks fail."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from cifar_core.demos import all_demos, batchnorm, data, demo_ids, get_demo, gradients, losses, run_demo

REPO_ROOT = Path(__file__).resolve().parents[2]
CPU_DEMOS = [d.id for d in all_demos() if not d.needs_cuda]


def test_at_least_forty_cpu_demos_with_claims_and_source():
    assert len(CPU_DEMOS) >= 40
    for demo in all_demos():
        assert demo.claim.endswith(".") and demo.title
        assert f"def {demo.function.__name__}" in demo.source


@pytest.mark.parametrize("demo_id", CPU_DEMOS)
def test_demo_claim_holds(demo_id):
    result = run_demo(demo_id)
    failed = [(c.name, c.measured) for c in result.result.checks if not c.passed]
    assert result.result.checks and not failed, failed


def test_gpu_demos_say_why_they_skip_without_cuda():
    for demo in all_demos():
        if demo.needs_cuda and not torch.cuda.is_available():
            outcome = run_demo(demo.id)
            assert outcome.skipped and "CUDA" in outcome.skipped


def _failed_checks(demo_id: str) -> list[str]:
    return [c.name for c in run_demo(demo_id).result.checks if not c.passed]


def test_broken_bn_folding_is_caught(monkeypatch):
    real = batchnorm.fold_bn_into_conv

    def forgets_beta(conv, bn):
        folded = real(conv, bn)
        with torch.no_grad():
            folded.bias.sub_(bn.bias)
        return folded

    monkeypatch.setattr(batchnorm, "fold_bn_into_conv", forgets_beta)
    assert _failed_checks("bn-fold-into-conv") == ["folded conv equals conv + BN"]


def test_broken_softmax_gradient_formula_is_caught(monkeypatch):
    monkeypatch.setattr(gradients, "softmax_ce_grad", lambda p, targets: p / p.shape[0])  # forgot "- y"
    assert "autograd equals (p - y) / N" in _failed_checks("softmax-ce-gradient")


def test_broken_linear_backward_is_caught(monkeypatch):
    def wrong_backward(ctx, grad_out):
        x, w = ctx.saved_tensors
        return grad_out @ w, grad_out.T @ x * 2, grad_out.sum(0)  # weight gradient doubled

    monkeypatch.setattr(gradients.LinearFn, "backward", staticmethod(wrong_backward))
    assert _failed_checks("gradcheck-linear") == ["gradcheck passes"]


def test_broken_unnormalise_is_caught(monkeypatch):
    monkeypatch.setattr(data, "unnormalise", lambda x, mean, std: x * torch.tensor(mean).view(-1, 1, 1) + torch.tensor(std).view(-1, 1, 1))
    assert _failed_checks("unnormalise-for-display") == ["un-normalised image equals the original"]


def test_broken_label_smoothing_target_is_caught(monkeypatch):
    monkeypatch.setattr(losses, "smoothed_targets", lambda t, k, eps: (1 - eps) * F.one_hot(t, k).float() + eps / (k - 1))
    assert _failed_checks("label-smoothing-target") == ["built-in equals the smoothed-target formula"]


def test_dropout_without_rescaling_is_caught(monkeypatch):
    real_dropout = F.dropout

    def no_rescale(x, p=0.5, training=True, inplace=False):
        return real_dropout(x, p, training, inplace) * (1 - p) if training else x

    monkeypatch.setattr(F, "dropout", no_rescale)
    failed = _failed_checks("dropout-train-vs-eval")
    assert "survivors scaled by 1/(1-p)" in failed


def test_parameters_are_checked_and_coerced():
    assert run_demo("dropout-train-vs-eval", p="0.2").passed
    with pytest.raises(ValueError, match=r"p must be in \[0.05, 0.95\]"):
        run_demo("dropout-train-vs-eval", p="1.5")
    with pytest.raises(ValueError, match="has no parameter 'q'"):
        run_demo("dropout-train-vs-eval", q="1")


def test_cli_list_run_and_errors():
    listed = subprocess.run([sys.executable, "-m", "cifar_core.demos", "list", "--json"], capture_output=True, text=True, cwd=REPO_ROOT)
    assert len(json.loads(listed.stdout)) == len(demo_ids())
    ran = subprocess.run(
        [sys.executable, "-m", "cifar_core.demos", "run", "bn-train-vs-eval", "--param", "batch_size=16", "--json"],
        capture_output=True, text=True, cwd=REPO_ROOT,
    )  # fmt: skip
    payload = json.loads(ran.stdout)
    assert ran.returncode == 0 and payload["passed"] and payload["checks"]
    bad = subprocess.run([sys.executable, "-m", "cifar_core.demos", "run", "no-such-demo"], capture_output=True, text=True, cwd=REPO_ROOT)
    assert bad.returncode == 1 and bad.stderr.startswith("error: no demo 'no-such-demo'") and bad.stderr.count("\n") == 1


def test_every_bank_demo_link_resolves():
    from qa_bank.loader import load_bank

    linked = [item for item in load_bank().items if item.demo]
    assert all(get_demo(item.demo) for item in linked)
