"""Losses: BCE with logits, the double-softmax pitfall, ln(10), label smoothing, mixup."""

import math

import torch
import torch.nn.functional as F
from torch import nn

from cifar_core.augment import mixup_batch
from cifar_core.models import SimpleCNN
from cifar_core.steps import StepOptions, training_step
from proofs.registry import DemoResult, Param, demo


@demo(
    "bce-with-logits-stable",
    "BCEWithLogits vs Sigmoid + BCELoss at extreme logits",
    "At large logits sigmoid rounds to exactly 1, so Sigmoid + BCELoss clamps the loss and loses the gradient; BCEWithLogits stays exact.",
    Param("logit", 40.0, 20.0, 200.0),
    mistake="a sigmoid in the model followed by BCEWithLogitsLoss (two sigmoids)",
)
def bce_with_logits_stable(logit: float, broken: bool = False) -> DemoResult:
    result = DemoResult()
    z = torch.tensor([logit], requires_grad=True)
    target = torch.tensor([0.0])  # confidently wrong: the exact loss is about `logit`
    fused = F.binary_cross_entropy_with_logits(torch.sigmoid(z) if broken else z, target)
    fused.backward()
    fused_grad = z.grad.item()
    z.grad = None
    split = F.binary_cross_entropy(torch.sigmoid(z), target)
    split.backward()
    split_grad = z.grad.item()
    result.check("fused loss equals the exact value", abs(fused.item() - logit) < 1e-3, fused_loss=fused, exact=logit)
    result.check("sigmoid saturates to exactly 1.0 in float32", torch.sigmoid(z).item() == 1.0)
    result.check(
        "split loss is clamped at 100 (log(0) guarded)", split.item() == 100.0 or not math.isfinite(split.item()), split_loss=split
    )
    result.check(
        "split gradient vanishes, fused gradient is 1", split_grad == 0.0 and abs(fused_grad - 1) < 1e-6, split=split_grad, fused=fused_grad
    )
    return result


@demo(
    "ce-double-softmax",
    "CrossEntropyLoss takes logits: softmax before it is the pitfall",
    "CrossEntropyLoss applies log-softmax itself: on raw logits it equals nll_loss(log_softmax(z)) = -log softmax(z)[y]. "
    "Feeding it softmax probabilities applies softmax twice and the loss can never approach 0; feeding log_softmax "
    "output is merely redundant (log-softmax of log-probabilities changes nothing).",
    Param("classes", 10, 2, 100),
    mistake="a softmax as the model's last layer, feeding probabilities to CrossEntropyLoss",
)
def ce_double_softmax(classes: int, broken: bool = False) -> DemoResult:
    result = DemoResult()
    logits, targets = torch.randn(16, classes) * 3, torch.randint(0, classes, (16,))
    fed = logits.softmax(1) if broken else logits
    loss = F.cross_entropy(fed, targets)
    by_definition = -logits.softmax(1)[torch.arange(16), targets].log().mean()  # second route: -log p_y
    nll = F.nll_loss(F.log_softmax(logits, 1), targets)
    gap = max(abs(loss.item() - by_definition.item()), abs(loss.item() - nll.item()))
    result.check(
        "CrossEntropyLoss(input) = nll_loss(log_softmax(logits)) = -log softmax(logits)[y]",
        gap < 1e-5,
        loss=loss,
        minus_log_p_y=by_definition,
    )
    redundant = abs(F.cross_entropy(F.log_softmax(logits, 1), targets).item() - nll.item())
    result.check("log_softmax first: the same loss (redundant, not wrong)", redundant < 1e-5, difference=redundant)
    perfect = torch.full((1, classes), -20.0)
    perfect[0, 0] = 20.0
    double = F.cross_entropy(perfect.softmax(1), torch.tensor([0])).item()
    floor = -math.log(math.e / (math.e + classes - 1))  # best case once probabilities are fed as logits
    result.check(
        "softmax first: a perfect prediction's loss is stuck at its floor, not 0", abs(double - floor) < 1e-4, loss=double, floor=floor
    )
    z = logits[:1].clone().requires_grad_(True)
    F.cross_entropy(z, targets[:1]).backward()
    raised = (z - 0.5 * z.grad).softmax(1)[0, targets[0]].item() > z.softmax(1)[0, targets[0]].item()
    result.check("one gradient step raises the correct class's probability", raised)
    return result


@demo(
    "initial-loss-ln10",
    "The first loss of a 10-class classifier is about ln(10) = 2.303",
    "A freshly initialised network predicts near-uniform probabilities, so its cross-entropy is close to -ln(1/10).",
    mistake="a last layer initialised with N(0, 1) weights, so the first predictions are confident and the loss starts far above ln(10)",
)
def initial_loss_ln10(broken: bool = False) -> DemoResult:
    result = DemoResult()
    model = SimpleCNN().eval()
    if broken:
        nn.init.normal_(model.classifier[-1].weight, std=1.0)
    with torch.no_grad():
        loss = F.cross_entropy(model(torch.randn(256, 3, 32, 32)), torch.randint(0, 10, (256,))).item()
    uniform = F.cross_entropy(torch.zeros(256, 10), torch.randint(0, 10, (256,))).item()  # random guessing: p = 1/10 each
    result.check(
        "random guessing scores ln(10) = 2.303; a fresh SimpleCNN starts within 0.3 of it",
        abs(uniform - math.log(10)) < 1e-6 and abs(loss - math.log(10)) < 0.3,
        uniform_guess=uniform,
        fresh_simplecnn=loss,
    )
    return result


def smoothed_targets(targets: torch.Tensor, classes: int, eps: float, spread_over_others: bool = False) -> torch.Tensor:
    """(1 - eps) * onehot + eps / classes (spread_over_others: the eps / (K - 1) slip)."""
    return (1 - eps) * F.one_hot(targets, classes).float() + eps / (classes - 1 if spread_over_others else classes)


@demo(
    "label-smoothing-target",
    "Label smoothing's target distribution",
    "CrossEntropyLoss(label_smoothing=eps) equals cross-entropy against (1 - eps) * y + eps / K.",
    Param("eps", 0.1, 0.0, 0.9),
    mistake="spreading eps over the K - 1 wrong classes only (eps / (K - 1)), which is not what PyTorch does",
)
def label_smoothing_target(eps: float, broken: bool = False) -> DemoResult:
    result = DemoResult()
    logits, targets = torch.randn(8, 10), torch.randint(0, 10, (8,))
    built_in = nn.CrossEntropyLoss(label_smoothing=eps)(logits, targets)
    by_hand = -(smoothed_targets(targets, 10, eps, spread_over_others=broken) * logits.log_softmax(1)).sum(1).mean()
    gap = (built_in - by_hand).abs().item()
    result.check("built-in equals the smoothed-target formula", gap < 1e-5, built_in=built_in, by_hand=by_hand)
    return result


def _partners(images: torch.Tensor, mixed: torch.Tensor, lam: float) -> list[int]:
    """For each mixed image, the partner j with mixed[i] = lam * images[i] + (1 - lam) * images[j] (-1: none)."""
    found = []
    for i in range(len(images)):
        gaps = (mixed[i] - lam * images[i] - (1 - lam) * images).flatten(1).abs().amax(1)
        found.append(int(gaps.argmin()) if gaps.min() < 1e-5 else -1)
    return found


@demo(
    "mixup-loss",
    "MixUp in cifar_core: mixed images, mixed labels",
    "cifar_core's mixup_batch blends each image with a shuffled partner by lam ~ Beta(alpha, alpha), and training_step "
    "(called from train_epoch before the forward pass) weights the two labels by the same lam: "
    "lam * CE(out, y_a) + (1 - lam) * CE(out, y_b).",
    Param("alpha", 0.4, 0.1, 2.0),
    mistake="mixing the images but keeping the original labels",
)
def mixup_loss(alpha: float, broken: bool = False) -> DemoResult:
    result = DemoResult()
    images, targets = torch.randn(8, 3, 4, 4), torch.randint(0, 10, (8,))
    model, loss_fn = nn.Sequential(nn.Flatten(), nn.Linear(48, 10)), nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)  # lr 0: the step leaves the model as it was
    options = StepOptions(mixup_alpha=alpha, generator=torch.Generator().manual_seed(1))
    loss, _ = training_step(model, images, targets, loss_fn, optimizer, options)
    mixed, y_a, y_b, lam = mixup_batch(images, targets, alpha, torch.Generator().manual_seed(1))  # the same draw
    partners = _partners(images, mixed, lam)
    with torch.no_grad():
        out = model(mixed)
        expected = loss_fn(out, targets) if broken else lam * loss_fn(out, y_a) + (1 - lam) * loss_fn(out, y_b)
    labels_follow = -1 not in partners and torch.equal(y_b, targets[partners])
    result.check(
        "training_step's loss = lam * CE(out, y_a) + (1 - lam) * CE(out, y_b), labels mixed with the images",
        labels_follow and abs(loss.item() - expected.item()) < 1e-5,
        step_loss=loss, expected=expected, lam=lam,
    )  # fmt: skip
    generator = torch.Generator().manual_seed(2)
    lams = torch.tensor([mixup_batch(images[:2], targets[:2], alpha, generator)[3] for _ in range(2000)])
    beta_var = 1 / (4 * (2 * alpha + 1))  # variance of Beta(alpha, alpha)
    result.check(
        "lam follows Beta(alpha, alpha): mean 0.5, variance 1 / (4 (2 alpha + 1))",
        abs(lams.mean().item() - 0.5) < 0.03 and abs(lams.var().item() - beta_var) < 0.15 * beta_var,
        mean=lams.mean(), variance=lams.var(), beta_variance=beta_var,
    )  # fmt: skip
    return result


@demo(
    "nan-loss-detection",
    "Detecting a NaN loss",
    "One NaN in a batch makes the loss NaN and, after the step, the weights too; NaN is not equal to itself, so "
    "`loss == float('nan')` is always False and only torch.isnan (or not torch.isfinite) catches it.",
    mistake="testing the loss with `loss == float('nan')`",
)
def nan_loss_detection(broken: bool = False) -> DemoResult:
    result = DemoResult()
    model = SimpleCNN()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    images, targets = torch.randn(4, 3, 32, 32), torch.randint(0, 10, (4,))
    images[0, 0, 0, 0] = float("nan")  # one corrupt pixel
    loss, _ = training_step(model, images, targets, nn.CrossEntropyLoss(), optimizer)
    flagged = bool(loss == float("nan")) if broken else bool(torch.isnan(loss))
    result.check(
        "the NaN check flags the NaN loss",
        flagged,
        loss=str(loss.item()),
        equals_nan=str(bool(loss == float("nan"))),
        isnan=str(bool(torch.isnan(loss))),
    )
    poisoned = any(torch.isnan(p).any().item() for p in model.parameters())
    result.check("after that step the weights are NaN too", poisoned)
    return result
