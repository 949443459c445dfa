"""Reproducibility: seeds and checkpoints."""

import io

import torch
from torch import nn

from cifar_core.reproducibility import seed_everything
from proofs.registry import DemoResult, Param, demo


def _model_after_steps(seed: int, steps: int = 3, reseed: bool = True) -> nn.Module:
    if reseed:
        seed_everything(seed)
    model = nn.Sequential(nn.Linear(8, 16), nn.Dropout(0.5), nn.Linear(16, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(steps):
        optimizer.zero_grad()
        model(torch.randn(4, 8)).sum().backward()
        optimizer.step()
    return model


@demo(
    "same-seed-same-weights",
    "The same seed gives the same run",
    "Seeding before building and training gives bit-identical weights; another seed does not.",
    Param("seed", 0, 0, 10_000),
    mistake="seeding once at the start of the script instead of before each run, so the second run continues the stream",
)
def same_seed(seed: int, broken: bool = False) -> DemoResult:
    result = DemoResult()
    a, b = _model_after_steps(seed), _model_after_steps(seed, reseed=not broken)
    c = _model_after_steps(seed + 1)
    same = all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    different = not all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters(), strict=True))
    result.check("same seed: identical weights", same)
    result.check("other seed: different weights", different)
    return result


@demo(
    "save-resume-next-step",
    "Saving model and optimizer gives the same next step",
    "Restoring both state dicts (momentum included) makes the next update identical; the model alone does not.",
    mistake="a checkpoint with the model's state_dict only",
)
def save_resume(broken: bool = False) -> DemoResult:
    result = DemoResult()
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = torch.randn(8, 4)

    def step(m, o):
        o.zero_grad()
        m(x).pow(2).mean().backward()
        o.step()

    step(model, optimizer)
    buffer = io.BytesIO()
    saved = {"model": model.state_dict()} if broken else {"model": model.state_dict(), "optimizer": optimizer.state_dict()}
    torch.save(saved, buffer)
    step(model, optimizer)
    expected = model.weight.detach().clone()
    buffer.seek(0)
    state = torch.load(buffer, weights_only=True)
    for restore_optimizer in (True, False):
        fresh = nn.Linear(4, 1)
        fresh.load_state_dict(state["model"])
        fresh_optimizer = torch.optim.SGD(fresh.parameters(), lr=0.1, momentum=0.9)
        if restore_optimizer and "optimizer" in state:
            fresh_optimizer.load_state_dict(state["optimizer"])
        step(fresh, fresh_optimizer)
        same = torch.allclose(fresh.weight, expected, atol=1e-7)
        if restore_optimizer:
            result.check("model + optimizer: identical next step", same)
        else:
            result.check("model only: the momentum is lost, the step differs", not same)
    return result
