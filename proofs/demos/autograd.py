"""Autograd: accumulation, micro-batches, no_grad vs detach, frozen layers, views."""

import torch
from torch import nn

from proofs.registry import DemoResult, Param, demo


@demo(
    "grad-accumulates",
    "Gradients accumulate without zero_grad",
    "Calling backward twice without zero_grad adds the gradients.",
    mistake="forgetting zero_grad between batches",
)
def grad_accumulates(broken: bool = False) -> DemoResult:
    result = DemoResult()
    w = torch.tensor([2.0], requires_grad=True)
    (w * 3).sum().backward()
    first = w.grad.clone()
    (w * 3).sum().backward()
    result.check("second backward doubles .grad", torch.equal(w.grad, 2 * first), first=first, after_second=w.grad)
    if not broken:
        w.grad = None  # what optimizer.zero_grad() does
    (w * 3).sum().backward()
    result.check("after zeroing, .grad is one batch's gradient again", torch.equal(w.grad, first))
    return result


@demo(
    "grad-accumulation-equals-large-batch",
    "Gradient accumulation simulates a large batch",
    "Summing the gradients of k micro-batches, each loss divided by k, equals the gradient of the whole batch.",
    Param("micro_batches", 4, 2, 32),
    mistake="not dividing each micro-batch loss by the number of micro-batches",
)
def grad_accumulation(micro_batches: int, broken: bool = False) -> DemoResult:
    result = DemoResult()
    model = nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 3))
    x, y = torch.randn(micro_batches * 8, 10), torch.randint(0, 3, (micro_batches * 8,))
    loss_fn = nn.CrossEntropyLoss()
    loss_fn(model(x), y).backward()
    full = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    for xs, ys in zip(x.chunk(micro_batches), y.chunk(micro_batches), strict=True):
        (loss_fn(model(xs), ys) / (1 if broken else micro_batches)).backward()
    gap = max((p.grad - g).abs().max().item() for p, g in zip(model.parameters(), full, strict=True))
    result.check("accumulated gradient equals large-batch gradient", gap < 1e-6, max_abs_difference=gap)
    return result


@demo(
    "no-grad-vs-detach",
    "no_grad vs detach",
    "no_grad stops tracking for a whole block; detach cuts one tensor from the graph.",
    mistake="detaching the head's output instead of the encoder's (and forgetting no_grad)",
)
def no_grad_vs_detach(broken: bool = False) -> DemoResult:
    result = DemoResult()
    encoder, head = nn.Linear(4, 4), nn.Linear(4, 1)
    x = torch.randn(2, 4)
    with torch.set_grad_enabled(broken):  # torch.no_grad() unless broken
        inside = head(encoder(x))
    result.check("inside no_grad nothing requires grad", not inside.requires_grad)
    features = encoder(x)
    head(features if broken else features.detach()).sum().backward()
    result.check("detach: encoder gets no gradient", encoder.weight.grad is None)
    result.check("detach: head still gets a gradient", head.weight.grad is not None)
    return result


@demo(
    "frozen-layer-not-in-optimizer",
    "A layer left out of the optimizer does not update",
    "Its .grad is still computed (wasting memory) but optimizer.step() never touches it.",
    mistake="passing model.parameters() (every layer) to the optimizer",
)
def frozen_layer(broken: bool = False) -> DemoResult:
    result = DemoResult()
    frozen, trained = nn.Linear(4, 4), nn.Linear(4, 1)
    given = [*frozen.parameters(), *trained.parameters()] if broken else trained.parameters()
    optimizer = torch.optim.SGD(given, lr=0.5)
    before = frozen.weight.detach().clone()
    trained(frozen(torch.randn(8, 4))).pow(2).mean().backward()
    optimizer.step()
    result.check("its .grad was filled", frozen.weight.grad is not None and frozen.weight.grad.abs().sum().item() > 0)
    result.check("its weights did not change", torch.equal(frozen.weight, before))
    return result


@demo(
    "view-shares-storage",
    "view shares storage, clone copies",
    "Writing through a view changes the original; writing to a clone does not.",
    mistake="taking reshape(...).clone() for a view",
)
def view_shares_storage(broken: bool = False) -> DemoResult:
    result = DemoResult()
    original = torch.zeros(6)
    view, copy = (original.view(2, 3).clone() if broken else original.view(2, 3)), original.clone()
    view[0, 0] = 7.0
    copy[1] = 5.0
    result.check("the view's write shows in the original", original[0].item() == 7.0)
    result.check("the clone's write does not", original[1].item() == 0.0)
    result.check("view shares the data pointer", view.data_ptr() == original.data_ptr() and copy.data_ptr() != original.data_ptr())
    return result
