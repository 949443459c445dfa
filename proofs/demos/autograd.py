"""Autograd: accumulation, the order of a training step, micro-batches, no_grad vs detach, what
no_grad saves, frozen layers, fine-tuning a torchvision ResNet, views."""

import copy
import warnings

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from cifar_core.models import SimpleCNN, torchvision_resnet
from cifar_core.train import collect_predictions, train_epoch
from proofs.registry import DemoResult, Param, demo


@demo(
    "grad-accumulates",
    "Gradients accumulate without zero_grad",
    "backward() adds into .grad: without optimizer.zero_grad() the previous batch's gradient is still in it.",
    mistake="forgetting optimizer.zero_grad() between batches",
)
def grad_accumulates(broken: bool = False) -> DemoResult:
    result = DemoResult()
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))
    alone, accumulated, summed = (copy.deepcopy(model) for _ in range(3))  # second routes
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    (x1, y1), (x2, y2) = [(torch.randn(16, 6), torch.randint(0, 3, (16,))) for _ in range(2)]
    loss_fn = nn.CrossEntropyLoss()
    loss_fn(model(x1), y1).backward()
    if not broken:
        optimizer.zero_grad()
    loss_fn(model(x2), y2).backward()
    loss_fn(alone(x2), y2).backward()
    gap = max((p.grad - q.grad).abs().max().item() for p, q in zip(model.parameters(), alone.parameters(), strict=True))
    result.check("after zero_grad, .grad holds only the current batch's gradient", gap < 1e-6, gap_to_batch_2_alone=gap)
    loss_fn(accumulated(x1), y1).backward()
    loss_fn(accumulated(x2), y2).backward()  # no zero_grad in between
    (loss_fn(summed(x1), y1) + loss_fn(summed(x2), y2)).backward()
    sum_gap = max((p.grad - q.grad).abs().max().item() for p, q in zip(accumulated.parameters(), summed.parameters(), strict=True))
    result.check("without zero_grad, .grad = previous + current gradient", sum_gap < 1e-6, gap_to_the_sum=sum_gap)
    return result


class _Recorder:
    """Records the events of a training step on a model and its optimizer, in order."""

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
        self.events: list[str] = []
        self.moved: list[float] = []
        model.register_forward_hook(lambda *_: self.events.append("forward"))
        model[0].weight.register_hook(lambda grad: self.events.append("backward"))  # the gradient reaches the first layer
        optimizer.register_step_pre_hook(lambda *_: self._before_step(model))
        optimizer.register_step_post_hook(lambda *_: self.moved.append((model[0].weight - self._weight).abs().max().item()))
        zero_grad = optimizer.zero_grad
        optimizer.zero_grad = lambda *a, **k: (self.events.append("zero_grad"), zero_grad(*a, **k))  # type: ignore[method-assign]

    def _before_step(self, model: nn.Module) -> None:
        self.events.append("step")
        self._weight = model[0].weight.detach().clone()


@demo(
    "train-epoch-step-order",
    "The order of a training step in train_epoch",
    "For every batch, cifar_core's train_epoch calls zero_grad, then the forward pass and loss, then backward, then step, "
    "and each step moves the weights.",
    mistake="zero_grad between backward and step (a hand loop), which wipes the gradient the step needs",
)
def train_epoch_step_order(broken: bool = False) -> DemoResult:
    result = DemoResult()
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    recorder = _Recorder(model, optimizer)
    data = TensorDataset(torch.randn(24, 6), torch.randint(0, 3, (24,)))
    loader, loss_fn = DataLoader(data, batch_size=8), nn.CrossEntropyLoss()
    if broken:
        model.train()
        for x, y in loader:
            loss_fn(model(x), y).backward()
            optimizer.zero_grad()
            optimizer.step()
    else:
        train_epoch(model, torch.device("cpu"), loader, loss_fn, optimizer)
    expected = ["zero_grad", "forward", "backward", "step"] * 3
    result.check(
        "each batch: zero_grad, forward, backward, step, and the step moves the weights",
        recorder.events == expected and min(recorder.moved) > 0,
        events=" ".join(recorder.events),
        smallest_weight_change=min(recorder.moved),
    )
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
    "no_grad stops tracking for a whole block; detach cuts one tensor from the graph, so the encoder behind it gets no "
    "gradient while the head still does.",
    mistake="detaching the head's output instead of the encoder's (and forgetting no_grad)",
)
def no_grad_vs_detach(broken: bool = False) -> DemoResult:
    result = DemoResult()
    encoder, head = nn.Linear(4, 4), nn.Linear(4, 1)
    x = torch.randn(2, 4)
    with torch.set_grad_enabled(broken):  # torch.no_grad() unless broken
        inside = head(encoder(x))
    features = encoder(x)
    out = head(features if broken else features.detach())
    if broken:
        out = out.detach().requires_grad_()  # the head's output cut instead of the encoder's
    out.sum().backward()
    result.check(
        "no_grad: nothing inside tracks; detach: the encoder gets no gradient, the head does",
        not inside.requires_grad and encoder.weight.grad is None and head.weight.grad is not None,
        inside_requires_grad=str(inside.requires_grad),
        encoder_has_grad=str(encoder.weight.grad is not None),
        head_has_grad=str(head.weight.grad is not None),
    )
    return result


def _saved_bytes(function, *args) -> int:
    """Bytes autograd saves for backward while `function` runs (saved_tensors_hooks sees every one)."""
    saved = [0]

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        saved[0] += tensor.nelement() * tensor.element_size()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        function(*args)
    return saved[0]


@demo(
    "no-grad-saves-memory",
    "What torch.no_grad() saves in evaluation",
    "Under torch.no_grad() (as in cifar_core's collect_predictions, which eval_model calls) autograd stores nothing for a "
    "backward pass; the same forward without it keeps every layer's activations alive.",
    Param("batch_size", 32, 1, 256),
    mistake="evaluating without torch.no_grad()",
)
def no_grad_saves_memory(batch_size: int, broken: bool = False) -> DemoResult:
    result = DemoResult()
    model, device = SimpleCNN(), torch.device("cpu")
    loader = DataLoader(TensorDataset(torch.randn(batch_size, 3, 32, 32), torch.zeros(batch_size, dtype=torch.long)), batch_size=batch_size)
    evaluate = collect_predictions.__wrapped__ if broken else collect_predictions  # the function without its @torch.no_grad()
    in_eval = _saved_bytes(evaluate, model, device, loader)
    with_graph = _saved_bytes(lambda: model.eval()(next(iter(loader))[0]))
    result.check(
        "evaluation stores no graph: 0 bytes saved for backward",
        in_eval == 0 and with_graph > 0,
        saved_MB_in_evaluation=in_eval / 1e6,
        saved_MB_without_no_grad=with_graph / 1e6,
    )
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
    grad_norm = frozen.weight.grad.norm().item() if frozen.weight.grad is not None else 0.0
    change = (frozen.weight - before).abs().max().item()
    result.check(
        "left out of the optimizer: .grad filled, weights unchanged",
        grad_norm > 0 and change == 0.0,
        grad_norm=grad_norm,
        weight_change=change,
    )
    return result


@demo(
    "resnet18-fine-tune",
    "Fine-tuning torchvision's ResNet-18",
    "Replace fc with Linear(fc.in_features, 10) (512 for ResNet-18), freeze the early layers with requires_grad=False, "
    "and one optimizer step changes only layer4 and fc; resnet18(pretrained=...) is deprecated for weights=.",
    mistake="'freezing' the early layers by putting them in eval mode instead of setting requires_grad=False",
)
def resnet18_fine_tune(broken: bool = False) -> DemoResult:
    result = DemoResult()
    model, _ = torchvision_resnet("resnet18", num_classes=10)  # weights=None: nothing is downloaded
    for name, module in model.named_children():
        if name not in ("layer4", "fc"):
            if broken:
                module.eval()
            else:
                module.requires_grad_(False)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(trainable, lr=0.1)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    loss = nn.functional.cross_entropy(model(torch.randn(4, 3, 64, 64)), torch.tensor([0, 1, 2, 3]))
    loss.backward()
    optimizer.step()
    changed = {name.split(".")[0] for name, p in model.named_parameters() if not torch.equal(p, before[name])}
    result.check(
        "one step changes only layer4 and the new fc; conv1 gets no gradient",
        changed == {"layer4", "fc"} and model.conv1.weight.grad is None,
        changed=" ".join(sorted(changed)),
        fc_in_features=model.fc.in_features,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from torchvision import models

        models.resnet18(pretrained=False)
    deprecated = any("deprecated" in str(w.message) for w in caught)
    result.check("resnet18(pretrained=...) warns that it is deprecated", deprecated, warnings=len(caught))
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
    view, copy_ = (original.view(2, 3).clone() if broken else original.view(2, 3)), original.clone()
    view[0, 0] = 7.0
    copy_[1] = 5.0
    result.check("the view's write shows in the original", original[0].item() == 7.0)
    result.check("the clone's write does not", original[1].item() == 0.0)
    result.check("view shares the data pointer", view.data_ptr() == original.data_ptr() and copy_.data_ptr() != original.data_ptr())
    source = torch.ones(3, requires_grad=True)
    (source.clone() * 2).sum().backward()
    result.check("clone is recorded by autograd: the gradient reaches the source", torch.equal(source.grad, torch.full((3,), 2.0)))
    transposed = torch.zeros(2, 3).t()
    try:
        transposed.view(-1)
        refused = "no"
    except RuntimeError:
        refused = "yes"
    copied = transposed.reshape(-1).data_ptr() != transposed.data_ptr()
    result.check("view needs a compatible layout; reshape copies when it cannot view", refused == "yes" and copied, view_raised=refused)
    return result
