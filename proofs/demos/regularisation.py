"""Dropout: what it zeroes, how it rescales, and what eval mode does."""

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from cifar_core.train import eval_model, train_epoch
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


def _accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, passes: int = 1) -> float:
    """Accuracy in %, averaged over `passes` forward passes (dropout masks differ between passes in train mode)."""
    with torch.no_grad():
        return 100 * sum((model(x).argmax(1) == y).float().mean().item() for _ in range(passes)) / passes


@demo(
    "train-loss-above-eval-loss",
    "Why validation can beat training early on",
    "After one epoch of cifar_core's train_epoch on a small dropout net, the validation accuracy (eval_model) is far above "
    "the training accuracy train_epoch reports, for the answer's two reasons, both measured on the training data: dropout "
    "is on in train mode (the end-of-epoch model scores lower in train mode than in eval mode), and the reported figure "
    "is a running average over an epoch in which the model improved (it is lower than the end-of-epoch model's). "
    "Augmentation, also on only in training, acts like dropout here.",
    mistake="measuring the training accuracy like the validation one: in eval mode, after the epoch",
    threads=1,
)
def train_loss_above_eval_loss(broken: bool = False) -> DemoResult:
    result = DemoResult()
    x = torch.randn(1024, 20)
    y = (x[:, :3].sum(1) > 0).long()
    train, validation = TensorDataset(x[:512], y[:512]), TensorDataset(x[512:], y[512:])
    model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, 2))
    optimizer, loss_fn, cpu = torch.optim.SGD(model.parameters(), lr=0.2), nn.CrossEntropyLoss(), torch.device("cpu")
    loader = DataLoader(train, batch_size=32, shuffle=True, generator=torch.Generator().manual_seed(0))
    train_loss, reported = train_epoch(model, cpu, loader, loss_fn, optimizer)  # one epoch: 16 batches, dropout on
    val_loss, val_accuracy = eval_model(model, cpu, DataLoader(validation, batch_size=512), loss_fn)
    if broken:
        train_loss, reported = eval_model(model, cpu, DataLoader(train, batch_size=512), loss_fn)
    eval_mode = _accuracy(model.eval(), x[:512], y[:512])
    train_mode = _accuracy(model.train(), x[:512], y[:512], passes=20)
    result.check(
        "validation accuracy 5+ points above the reported training accuracy; dropout and the running average each cost 3+ points",
        val_accuracy > reported + 5 and eval_mode > train_mode + 3 and train_mode > reported + 3,
        reported_train_accuracy=reported, validation_accuracy=val_accuracy, end_of_epoch_eval_mode=eval_mode,
        end_of_epoch_train_mode=train_mode, reported_train_loss=train_loss, validation_loss=val_loss,
    )  # fmt: skip
    return result
