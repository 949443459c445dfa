"""Losses by hand, checked against torch: cross-entropy from logits that does not overflow,
label smoothing, and the MixUp loss."""

from exercises.library import code
from exercises.model import Exercise, Mistake
from exercises.report import compare, same


def _logits(n: int, classes: int, seed: int, scale: float = 1.0):
    import torch

    generator = torch.Generator().manual_seed(seed)
    return scale * torch.randn(n, classes, generator=generator), torch.randint(0, classes, (n,), generator=generator)


# ---------------------------------------------------------------- cross-entropy from logits


def _check_cross_entropy(learner, reference, report) -> None:

    stable = "subtract each row's max before exp (log-sum-exp), and never apply softmax to the input first: the loss takes raw logits"
    compare(report, "small logits", learner, reference, lambda: _logits(16, 10, 0), stable)
    compare(
        report, "large logits (around 1000) stay finite", learner, reference, lambda: _logits(8, 10, 1, scale=1000.0), stable, atol=1e-3
    )
    compare(report, "a batch of one", learner, reference, lambda: _logits(1, 10, 2), stable)

    def gradient():
        def grad(fn):
            logits, labels = _logits(4, 5, 3)
            logits.requires_grad_(True)
            report.call(fn, logits, labels).backward()
            return logits.grad

        expected, got = grad(reference), grad(learner)
        return (
            same(got, expected, 1e-5),
            expected,
            got,
            "the gradient must be (softmax - one_hot) / N: compute the loss with differentiable torch operations",
        )

    report.check("gradient with respect to the logits", gradient)


def _ce_code(body: str) -> str:
    return code(f'''
        import torch


        def cross_entropy(logits, labels):
            """Mean cross-entropy of (N, C) logits against (N,) class indices."""
            {body}
    ''')


CROSS_ENTROPY = Exercise(
    id="cross-entropy",
    title="Cross-entropy from raw logits",
    function="cross_entropy",
    prompt=code("""
        Write `cross_entropy(logits, labels)` without `F.cross_entropy` or `log_softmax`: the mean over
        the batch of `-log softmax(logits)[label]`. It must stay finite for logits around 1000, and
        take raw logits, as `nn.CrossEntropyLoss` does.
    """),
    starter=_ce_code('raise NotImplementedError("compute the loss")'),
    solution=_ce_code("""shifted = logits - logits.max(dim=1, keepdim=True).values  # exp of at most 0: no overflow
            log_probs = shifted - shifted.exp().sum(dim=1, keepdim=True).log()
            return -log_probs[torch.arange(len(labels)), labels].mean()"""),
    hint="log softmax(z)_k = z_k - max(z) - log(sum(exp(z - max(z)))).",
    checks=_check_cross_entropy,
    mistakes=(
        Mistake(
            "softmax before the loss (a softmax layer in the model)",
            _ce_code("""probs = logits.softmax(dim=1)
            shifted = probs - probs.max(dim=1, keepdim=True).values
            log_probs = shifted - shifted.exp().sum(dim=1, keepdim=True).log()
            return -log_probs[torch.arange(len(labels)), labels].mean()"""),
            "softmax",
        ),
        Mistake(
            "exp without subtracting the max",
            _ce_code("""probs = logits.exp() / logits.exp().sum(dim=1, keepdim=True)
            return -probs[torch.arange(len(labels)), labels].log().mean()"""),
            "log-sum-exp",
        ),
    ),
    items=(
        "viva-31-crossentropyloss-input-expectations-common-pitfall",
        "viva-09-loss-function-optimizer-used-they",
        "resnet-51-role-loss-function",
    ),
)


# ---------------------------------------------------------------- label smoothing


def _check_smoothing(learner, reference, report) -> None:
    from torch import nn

    def case(name: str, smoothing: float, seed: int) -> None:
        def body():
            logits, labels = _logits(12, 10, seed)
            expected = nn.functional.cross_entropy(logits, labels, label_smoothing=smoothing)
            got = report.call(learner, logits, labels, smoothing)
            meaning = (
                "the target is (1 - smoothing) on the label plus smoothing / C on every class, C included; "
                "compare nn.CrossEntropyLoss(label_smoothing=...)"
            )
            return same(got, expected, 1e-5), expected, got, meaning

        report.check(name, body)

    case("smoothing 0.1 matches nn.CrossEntropyLoss(label_smoothing=0.1)", 0.1, 0)
    case("smoothing 0 is plain cross-entropy", 0.0, 1)
    case("smoothing 0.3", 0.3, 2)


def _smoothing_code(off_target: str) -> str:
    return code(f'''
        import torch


        def smoothed_cross_entropy(logits, labels, smoothing):
            """Cross-entropy against targets smoothed towards the uniform distribution."""
            classes = logits.shape[1]
            log_probs = logits.log_softmax(dim=1)
            target = torch.full_like(log_probs, {off_target})
            target[torch.arange(len(labels)), labels] += 1 - smoothing
            return -(target * log_probs).sum(dim=1).mean()
    ''')


LABEL_SMOOTHING = Exercise(
    id="label-smoothing",
    title="Label-smoothing cross-entropy",
    function="smoothed_cross_entropy",
    prompt=code("""
        Write `smoothed_cross_entropy(logits, labels, smoothing)`: cross-entropy against a target that puts
        `1 - smoothing` on the label and spreads `smoothing` uniformly over all C classes, as
        `nn.CrossEntropyLoss(label_smoothing=smoothing)` does. `log_softmax` is allowed.
    """),
    starter=code('''
        import torch


        def smoothed_cross_entropy(logits, labels, smoothing):
            """Cross-entropy against targets smoothed towards the uniform distribution."""
            raise NotImplementedError("build the smoothed target")
    '''),
    solution=_smoothing_code("smoothing / classes"),
    hint="target = smoothing / C everywhere, plus 1 - smoothing at the label; loss = -(target * log_softmax).sum(1).mean().",
    checks=_check_smoothing,
    mistakes=(
        Mistake("spreading the smoothing over the C - 1 other classes", _smoothing_code("smoothing / (classes - 1)"), "smoothing / C"),
    ),
    items=("viva-38-add-label-smoothing-crossentropyloss",),
)


# ---------------------------------------------------------------- MixUp


def _check_mixup(learner, reference, report) -> None:
    import torch

    def inputs(lam: float):
        generator = torch.Generator().manual_seed(0)
        images = torch.randn(6, 3, 4, 4, generator=generator)
        labels = torch.randint(0, 5, (6,), generator=generator)
        return images, labels, lam, torch.tensor([3, 0, 5, 1, 2, 4])

    def model_loss(fn, lam: float):
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(48, 5))
        images, labels, lam, permutation = inputs(lam)
        mixed, loss = report.call(fn, model, images, labels, lam, permutation)
        return mixed, loss

    def case(name: str, lam: float, part: int, meaning: str) -> None:
        def body():
            expected, got = model_loss(reference, lam)[part], model_loss(learner, lam)[part]
            return same(got, expected, 1e-5), expected, got, meaning

        report.check(name, body)

    images_meaning = "mixed = lam * images + (1 - lam) * images[permutation]"
    loss_meaning = "loss = lam * CE(logits, labels) + (1 - lam) * CE(logits, labels[permutation]): the weights follow the images' weights"
    case("mixed images, lam 0.7", 0.7, 0, images_meaning)
    case("mixed loss, lam 0.7", 0.7, 1, loss_meaning)
    case("mixed loss, lam 0.2", 0.2, 1, loss_meaning)


def _mixup_code(loss_line: str) -> str:
    return code(f'''
        from torch import nn


        def mixup_step(model, images, labels, lam, permutation):
            """Mix the batch with a permutation of itself; returns (mixed images, loss)."""
            mixed = lam * images + (1 - lam) * images[permutation]
            logits = model(mixed)
            criterion = nn.CrossEntropyLoss()
            {loss_line}
            return mixed, loss
    ''')


MIXUP = Exercise(
    id="mixup",
    title="MixUp: mixed images, mixed loss",
    function="mixup_step",
    prompt=code("""
        Write `mixup_step(model, images, labels, lam, permutation)`: mix each image with the image at
        `permutation` using weight `lam`, run the model, and return `(mixed, loss)` where the loss mixes
        the cross-entropy of both label sets with the same weights. (In training, `lam` comes from
        Beta(alpha, alpha) and `permutation` from `torch.randperm`; here they are given, so the checks
        can compare.)
    """),
    starter=code('''
        from torch import nn


        def mixup_step(model, images, labels, lam, permutation):
            """Mix the batch with a permutation of itself; returns (mixed images, loss)."""
            raise NotImplementedError("mix the images and the loss")
    '''),
    solution=_mixup_code("loss = lam * criterion(logits, labels) + (1 - lam) * criterion(logits, labels[permutation])"),
    hint="Both the images and the loss are lam : (1 - lam) mixtures of the batch and its permutation.",
    checks=_check_mixup,
    mistakes=(
        Mistake(
            "swapping the loss weights",
            _mixup_code("loss = (1 - lam) * criterion(logits, labels) + lam * criterion(logits, labels[permutation])"),
            "the weights follow",
        ),
    ),
    items=("viva-21-show-minimal-code-snippet-add",),
)

EXERCISES = (CROSS_ENTROPY, LABEL_SMOOTHING, MIXUP)
