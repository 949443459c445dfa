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
    sides = {z: _split_bce(z) for z in (17.0, -17.0, -30.0, -89.0)}  # target 0 for z > 0 and 1 for z < 0: confidently wrong
    result.check(
        "the two sides differ: sigmoid is exactly 1 from about +16.6, exactly 0 only below about -88.7; the split gradient already "
        "shrinks at -30 (BCELoss's 1e-12 clamp)",
        sides[17.0][0] == 1.0 and sides[-17.0][0] > 0 and abs(sides[-17.0][1] - 17) < 1e-3 and abs(sides[-17.0][2] + 1) < 1e-5
        and -0.5 < sides[-30.0][2] < 0 and sides[-89.0][0] == 0.0,
        sigmoid_at_minus_17=sides[-17.0][0], split_loss_at_minus_17=sides[-17.0][1], split_grad_at_minus_30=sides[-30.0][2],
        sigmoid_at_minus_89=sides[-89.0][0],
    )  # fmt: skip
    return result


def _split_bce(logit: float) -> tuple[float, float, float]:
    """(sigmoid, Sigmoid + BCELoss loss, its gradient to the logit) for a confidently wrong logit."""
    z = torch.tensor([logit], requires_grad=True)
    probability = torch.sigmoid(z)
    loss = F.binary_cross_entropy(probability, torch.tensor([0.0 if logit > 0 else 1.0]))
    loss.backward()
    return probability.item(), loss.item(), z.grad.item()


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
    head = (lambda z: z.softmax(1)) if broken else (lambda z: z)  # the model's last layer
    fed = head(logits)
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
    as_fed, log_softmax_first = _loss_and_grad(logits, targets, head), _loss_and_grad(logits, targets, lambda z: F.log_softmax(z, 1))
    loss_gap, grad_gap = abs(as_fed[0] - log_softmax_first[0]), (as_fed[1] - log_softmax_first[1]).abs().max().item()
    result.check(
        "only softmax is the pitfall: log_softmax before CrossEntropyLoss gives the model's loss and gradients unchanged",
        loss_gap < 1e-5 and grad_gap < 1e-6,
        loss_as_fed=as_fed[0], loss_after_log_softmax=log_softmax_first[0], largest_gradient_difference=grad_gap,
    )  # fmt: skip
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


def _loss_and_grad(logits: torch.Tensor, targets: torch.Tensor, head) -> tuple[float, torch.Tensor]:
    """CrossEntropyLoss of head(logits) and its gradient to the logits (autograd)."""
    z = logits.clone().requires_grad_(True)
    loss = F.cross_entropy(head(z), targets)
    (grad,) = torch.autograd.grad(loss, z)
    return loss.item(), grad


def _uninformed_head(steps: int = 100) -> tuple[float, float]:
    """(held-out loss, held-out accuracy) of a linear head trained on features that say nothing about the labels."""
    features = torch.randn(4000, 4)  # like frozen features that do not help: independent of the labels
    labels = (torch.arange(4000) % 10)[torch.randperm(4000)]  # 10 balanced classes, as in the notebook's subset
    head = nn.Linear(4, 10)
    optimizer = torch.optim.Adam(head.parameters(), lr=1e-2)
    for _ in range(steps):
        optimizer.zero_grad()
        F.cross_entropy(head(features[:2000]), labels[:2000]).backward()
        optimizer.step()
    with torch.no_grad():
        out = head(features[2000:])
        return F.cross_entropy(out, labels[2000:]).item(), (out.argmax(1) == labels[2000:]).float().mean().item()


@demo(
    "initial-loss-ln10",
    "The loss of random guessing over 10 classes is ln(10) = 2.303",
    "Cross-entropy is in nats (natural log): a model that can only guess ends at -ln(1/10) = 2.303. Measured two ways: a "
    "linear head trained on features that carry no label information (the Keras notebook's Phase 1 when the frozen features "
    "do not help) settles at that loss on held-out data with 10% accuracy, and a freshly initialised SimpleCNN starts near it.",
    mistake="expecting the chance loss in log base 10 (log10(10) = 1), the 'random guessing scores 1' belief",
    threads=1,
)
def initial_loss_ln10(broken: bool = False) -> DemoResult:
    result = DemoResult()
    expected = math.log10(10) if broken else math.log(10)  # -log(1/10) in the base the belief uses
    held_out, accuracy = _uninformed_head()
    result.check(
        "a head that can only guess ends at the expected chance loss (within 0.05) with chance accuracy (10% +- 3)",
        abs(held_out - expected) < 0.05 and abs(accuracy - 0.1) < 0.03,
        held_out_loss=held_out, expected=expected, held_out_accuracy=accuracy,
    )  # fmt: skip
    model = SimpleCNN().eval()
    with torch.no_grad():
        loss = F.cross_entropy(model(torch.randn(256, 3, 32, 32)), torch.randint(0, 10, (256,))).item()
    result.check("a fresh SimpleCNN's first loss is within 0.3 of the chance loss", abs(loss - expected) < 0.3, fresh_simplecnn=loss)
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


def _unmix(images: torch.Tensor, mixed: torch.Tensor) -> tuple[list[int], float]:
    """Read the mix back from the pixels alone: for each mixed image the partner j and weight lam with
    mixed[i] = lam * images[i] + (1 - lam) * images[j] (least squares over every candidate j); -1 where none fits."""
    partners, weights = [], []
    for i in range(len(images)):
        if (mixed[i] - images[i]).abs().max() < 1e-5:  # mixed with itself (a fixed point of the shuffle)
            partners.append(i)
            continue
        own, others = (mixed[i] - images).flatten(1), (images[i] - images).flatten(1)
        lams = (own * others).sum(1) / others.pow(2).sum(1).clamp_min(1e-12)
        gaps = (own - lams[:, None] * others).abs().amax(1)
        gaps[i] = float("inf")
        j = int(gaps.argmin())
        partners.append(j if gaps[j] < 1e-4 else -1)
        weights.append(lams[j].item())
    lam = sum(weights) / len(weights) if weights else 1.0
    return partners, (lam if all(abs(w - lam) < 1e-4 for w in weights) else float("nan"))


@demo(
    "mixup-loss",
    "MixUp in cifar_core: mixed images, mixed labels",
    "cifar_core's mixup_batch blends each image with a shuffled partner by lam ~ Beta(alpha, alpha), and training_step "
    "(called from train_epoch before the forward pass) weights the two labels by the same lam: "
    "lam * CE(out, y_a) + (1 - lam) * CE(out, y_b). The expected loss is rebuilt from what the model was fed: lam and each "
    "image's partner are read back from the mixed pixels, the labels are the batch's own.",
    Param("alpha", 0.4, 0.1, 2.0),
    mistake="mixing the images but keeping the original labels (mixup_batch in the loop, training_step without mixup)",
)
def mixup_loss(alpha: float, broken: bool = False) -> DemoResult:
    result = DemoResult()
    images, targets = torch.randn(8, 3, 4, 4), torch.randint(0, 10, (8,))
    model, loss_fn = nn.Sequential(nn.Flatten(), nn.Linear(48, 10)), nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)  # lr 0: the step leaves the model as it was
    fed: list[torch.Tensor] = []
    model.register_forward_hook(lambda _module, inputs, out: fed.extend([inputs[0].detach(), out.detach()]))
    generator = torch.Generator().manual_seed(2)  # a draw with lam = 0.77: both labels weigh, unequally
    if broken:
        mixed, *_ = mixup_batch(images, targets, alpha, generator)
        loss, _ = training_step(model, mixed, targets, loss_fn, optimizer)
    else:
        loss, _ = training_step(model, images, targets, loss_fn, optimizer, StepOptions(mixup_alpha=alpha, generator=generator))
    partners, lam = _unmix(images, fed[0])
    found = -1 not in partners and math.isfinite(lam)
    own, partner = F.cross_entropy(fed[1], targets, reduction="none"), F.cross_entropy(fed[1], targets[partners], reduction="none")
    expected = (lam * own + (1 - lam) * partner).mean().item() if found else float("nan")
    result.check(
        "training_step's loss = lam * CE(out, y_a) + (1 - lam) * CE(out, y_b), labels mixed with the images",
        found and abs(loss.item() - expected) < 1e-5 and 0.05 < lam < 0.95,
        step_loss=loss, expected_from_pixels=expected, lam_from_pixels=lam, loss_with_own_labels=own.mean(),
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


def _overfit_one_batch(steps: int, zero_grad_before_step: bool) -> tuple[float, float, list[float]]:
    """(first loss, loss after the last step, gradient norm each step saw) of SimpleCNN trained on one batch."""
    model = SimpleCNN()
    images, labels = torch.randn(16, 3, 32, 32), torch.randint(0, 10, (16,))
    optimizer, loss_fn = torch.optim.Adam(model.parameters(), lr=1e-3), nn.CrossEntropyLoss()
    norms: list[float] = []

    def record(*_) -> None:  # a wiped gradient (None) counts as 0
        grads = [p.grad for p in model.parameters() if p.grad is not None]
        norms.append(nn.utils.get_total_norm(grads).item() if grads else 0.0)

    optimizer.register_step_pre_hook(record)
    with torch.no_grad():
        first = loss_fn(model.eval()(images), labels).item()
    model.train()
    for _ in range(steps):
        if zero_grad_before_step:  # the bug: gradients wiped between backward() and step()
            loss_fn(model(images), labels).backward()
            optimizer.zero_grad()
            optimizer.step()
        else:
            training_step(model, images, labels, loss_fn, optimizer)
    with torch.no_grad():
        return first, loss_fn(model.eval()(images), labels).item(), norms


@demo(
    "debug-checklist",
    "Debugging a model that does not learn: initial loss, gradient norms, overfitting one batch",
    "On cifar_core's SimpleCNN and training_step the checklist's measurable tests behave as the answer says: the first "
    "loss is about -ln(1/10) = 2.30; every step sees a gradient norm that is neither exploding (> 100) nor vanishing "
    "(< 1e-7); and 20 Adam steps on one batch of 16 drive its loss below a tenth of the start. A loop that cannot overfit "
    "one batch has a bug.",
    mistake="a training loop that calls optimizer.zero_grad() between loss.backward() and optimizer.step(), so it never learns",
    threads=1,
)
def debug_checklist(broken: bool = False) -> DemoResult:
    result = DemoResult()
    first, last, norms = _overfit_one_batch(20, zero_grad_before_step=broken)
    result.check(
        "the loop passes the checklist: first loss about ln(10), sane gradient norms, one batch overfitted (loss below 10%)",
        abs(first - math.log(10)) < 0.3 and min(norms) > 1e-7 and max(norms) < 100 and last < 0.1 * first,
        first_loss=first, ln_10=math.log(10), smallest_grad_norm=min(norms), largest_grad_norm=max(norms), loss_after_20_steps=last,
    )  # fmt: skip
    nan_loss = torch.tensor(float("nan"))
    result.check(
        "a NaN loss: `loss == nan` is False, torch.isnan(loss) is True",
        not bool(nan_loss == float("nan")) and bool(torch.isnan(nan_loss)),
        equals_nan=str(bool(nan_loss == float("nan"))),
    )
    return result
