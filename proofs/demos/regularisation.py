"""Dropout: what it zeroes, how it rescales, and what eval mode does."""

import torch
from torch import nn

from proofs.registry import DemoResult, Param, demo


@demo(
    "dropout-train-vs-eval",
    "Dropout in train vs eval mode",
    "In train mode dropout zeroes a fraction p of activations and scales the rest by 1/(1-p); in eval mode it is the identity.",
    Param("p", 0.5, 0.05, 0.95),
    mistake="dropout without the 1/(1-p) rescaling, so the expected activation shrinks at training time",
)
def dropout_train_vs_eval(p: float, broken: bool = False) -> DemoResult:
    result = DemoResult()
    layer = nn.Dropout(p)
    x = torch.ones(200_000)
    out = layer.train()(x) * ((1 - p) if broken else 1)
    zero_fraction = (out == 0).float().mean().item()
    survivors = out[out != 0]
    result.check("fraction zeroed is about p", abs(zero_fraction - p) < 0.01, zero_fraction=zero_fraction, p=p)
    result.check(
        "survivors scaled by 1/(1-p)", torch.allclose(survivors, torch.full_like(survivors, 1 / (1 - p))), survivor_value=survivors[0]
    )
    result.check("expected activation unchanged", abs(out.mean().item() - 1) < 0.02, mean=out.mean())
    eval_a, eval_b = layer.eval()(x), layer.eval()(x)
    result.check("eval mode is the identity and deterministic", torch.equal(eval_a, x) and torch.equal(eval_a, eval_b))
    return result


@demo(
    "dropout-zeroes-activations-not-weights",
    "Dropout zeroes activations, not weights",
    "A dropout layer after a Linear leaves the Linear's weights untouched and zeroes whole output activations.",
    Param("p", 0.5, 0.05, 0.95),
    mistake="dropping weights instead of activations (DropConnect), which is not what nn.Dropout does",
)
def dropout_zeroes_activations(p: float, broken: bool = False) -> DemoResult:
    result = DemoResult()
    model = nn.Sequential(nn.Linear(16, 32), nn.Dropout(p)).train()
    weights_before = model[0].weight.detach().clone()
    if broken:
        with torch.no_grad():
            model[0].weight.mul_(torch.rand_like(model[0].weight) > p)
    out = model(torch.randn(4, 16))
    zero_weights = (model[0].weight == 0).sum().item()
    result.check("no weight was zeroed", zero_weights == 0 and torch.equal(weights_before, model[0].weight), zero_weights=zero_weights)
    result.check("activations were zeroed", (out == 0).float().mean().item() > 0.1, zero_activation_fraction=(out == 0).float().mean())
    return result


@demo(
    "train-loss-above-eval-loss",
    "Why validation can beat training early on",
    "With dropout active in train mode, the same model on the same data has a higher loss than in eval mode; and "
    "the training loss is a running average over an epoch in which the model improved, while validation is "
    "measured at the end.",
    mistake="measuring the 'training' loss in eval mode too, after the epoch",
    threads=1,
)
def train_loss_above_eval_loss(broken: bool = False) -> DemoResult:
    result = DemoResult()
    torch.manual_seed(0)
    x = torch.randn(512, 20)
    y = (x[:, :3].sum(1) > 0).long()
    model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.2)
    running = []
    for batch in range(16):  # one epoch of 16 batches
        xs, ys = x[batch * 32 : (batch + 1) * 32], y[batch * 32 : (batch + 1) * 32]
        model.train(not broken)
        loss = nn.functional.cross_entropy(model(xs), ys)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        running.append(loss.item())
    with torch.no_grad():
        model.train(not broken)
        train_mode = sum(nn.functional.cross_entropy(model(x), y).item() for _ in range(20)) / 20  # over dropout masks
        model.eval()
        eval_mode = nn.functional.cross_entropy(model(x), y).item()
    epoch_average = sum(running) / len(running)
    result.check(
        "dropout on: loss above eval mode on the same data", train_mode > eval_mode * 1.03, train_mode=train_mode, eval_mode=eval_mode
    )
    result.check(
        "running epoch average above the end-of-epoch loss",
        epoch_average > eval_mode * 1.05,
        running_average=epoch_average,
        end_of_epoch=eval_mode,
    )
    return result
