"""Losses: BCE with logits, the double-softmax pitfall, ln(10), label smoothing, mixup."""

import math

import torch
import torch.nn.functional as F
from torch import nn

from cifar_core.models import SimpleCNN
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
    "Softmax before CrossEntropyLoss",
    "CrossEntropyLoss applies log-softmax itself; adding a softmax first squashes the logits so the loss can never approach 0.",
    Param("classes", 10, 2, 100),
    mistake="a softmax as the model's last layer, feeding probabilities to CrossEntropyLoss",
)
def ce_double_softmax(classes: int, broken: bool = False) -> DemoResult:
    result = DemoResult()
    perfect = torch.full((1, classes), -20.0)
    perfect[0, 0] = 20.0
    target = torch.tensor([0])
    right = F.cross_entropy(perfect.softmax(1) if broken else perfect, target).item()
    double = F.cross_entropy(perfect.softmax(1), target).item()
    floor = -math.log(math.e / (math.e + classes - 1))  # best case once probabilities are fed as logits
    result.check("logits: a perfect prediction has loss ~0", right < 1e-6, loss=right)
    result.check("double softmax: loss stuck at its floor", abs(double - floor) < 1e-4, loss=double, floor=floor)
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
    result.check("initial loss within 0.3 of ln(10)", abs(loss - math.log(10)) < 0.3, loss=loss, ln10=math.log(10))
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


@demo(
    "mixup-loss",
    "Mixup's loss is cross-entropy against mixed labels",
    "lam * CE(out, y_a) + (1 - lam) * CE(out, y_b) equals CE against the mixed soft target lam * y_a + (1 - lam) * y_b.",
    Param("lam", 0.7, 0.0, 1.0),
    mistake="weighting the second image's label by lam instead of 1 - lam",
)
def mixup_loss(lam: float, broken: bool = False) -> DemoResult:
    result = DemoResult()
    logits, y_a, y_b = torch.randn(8, 10), torch.randint(0, 10, (8,)), torch.randint(0, 10, (8,))
    weight_a = 1 - lam if broken else lam
    pair = weight_a * F.cross_entropy(logits, y_a) + (1 - weight_a) * F.cross_entropy(logits, y_b)
    soft = lam * F.one_hot(y_a, 10).float() + (1 - lam) * F.one_hot(y_b, 10).float()
    mixed = F.cross_entropy(logits, soft)
    result.check("the two forms agree", abs(pair.item() - mixed.item()) < 1e-5, pair_form=pair, soft_form=mixed)
    return result
