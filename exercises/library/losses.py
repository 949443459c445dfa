"""Losses by hand, checked against torch: cross-entropy from logits that does not overflow,
label smoothing, and the MixUp loss."""

from exercises.library import code
from exercises.library.kit import draw_seed, learner_call, need_tensor, variant
from exercises.model import Exercise, Mistake
from exercises.observe import Raised, WrongResult
from exercises.report import Check, error_finding, kind_of, values


def _logits(n: int, classes: int, seed: int, scale: float = 1.0, spread_rows: bool = False):
    import torch

    generator = torch.Generator().manual_seed(seed)
    logits = scale * torch.randn(n, classes, generator=generator)
    if spread_rows:  # rows of very different size: one around 1000, the others around 1
        logits[0] += 1000
    return logits, torch.randint(0, classes, (n,), generator=generator)


def _loss_value(fn, n: int, classes: int, seed: int, *extra, scale: float = 1.0, spread_rows: bool = False):
    return fn(*_logits(n, classes, seed, scale, spread_rows), *extra)


def _loss_gradient(fn, n: int, classes: int, seed: int, *extra):
    """The gradient of fn's loss with respect to the logits."""
    logits, labels = _logits(n, classes, seed)
    logits.requires_grad_(True)
    loss = need_tensor(learner_call(fn, logits, labels, *extra), "the loss", ())
    if not loss.requires_grad:
        raise WrongResult(
            "the loss does not depend on the logits through autograd: compute it with torch operations, no .item(), .detach() or .data"
        )
    loss.backward()
    return logits.grad


def _ce_sum(logits, labels):
    import torch

    shifted = logits - logits.max(dim=1, keepdim=True).values
    log_probs = shifted - shifted.exp().sum(dim=1, keepdim=True).log()
    return -log_probs[torch.arange(len(labels)), labels].sum()


def _ce_global_max(logits, labels):
    import torch

    shifted = logits - logits.max()
    log_probs = shifted - shifted.exp().sum(dim=1, keepdim=True).log()
    return -log_probs[torch.arange(len(labels)), labels].mean()


def _ce_softmax_first(logits, labels):
    import torch

    probs = logits.softmax(dim=1)
    shifted = probs - probs.max(dim=1, keepdim=True).values
    log_probs = shifted - shifted.exp().sum(dim=1, keepdim=True).log()
    return -log_probs[torch.arange(len(labels)), labels].mean()


def _cross_entropy_checks(rng):
    stable = "per row -(z_label - max(z) - log(sum(exp(z - max(z))))), the log-sum-exp with each row shifted by its own max, averaged over the batch; raw logits in, no softmax first"
    mistakes = (
        variant(_ce_sum, "that is the batch's sum: the loss is the mean over the batch"),
        variant(_ce_softmax_first, "softmax was applied before the loss: cross-entropy takes raw logits"),
        variant(
            _ce_global_max,
            "subtract each row's own max (max(dim=1, keepdim=True)), not the max of the whole batch: rows far below it underflow",
        ),
    )
    compare = values(stable, rtol=1e-5, atol=1e-5, variants=mistakes)
    n, classes = rng.randint(9, 40), rng.choice([5, 7, 10])
    square = rng.randint(4, 8)
    seeds = [draw_seed(rng) for _ in range(6)]
    return [
        Check(f"{n} rows, {classes} classes", lambda fn: _loss_value(fn, n, classes, seeds[0]), compare),
        Check(
            "logits around 1000 stay finite",
            lambda fn: _loss_value(fn, 8, classes, seeds[1], scale=1000.0),
            values(stable, rtol=1e-5, atol=1e-3, variants=mistakes),
        ),
        Check(
            "one row around 1000, the others around 1",
            lambda fn: _loss_value(fn, 6, classes, seeds[2], spread_rows=True),
            values(stable, rtol=1e-5, atol=1e-3, variants=mistakes),
        ),
        Check("a batch of one", lambda fn: _loss_value(fn, 1, classes, seeds[3]), compare),
        Check("as many rows as classes", lambda fn: _loss_value(fn, square, square, seeds[4]), compare),
        Check(
            "the gradient with respect to the logits",
            lambda fn: _loss_gradient(fn, 5, classes, seeds[5]),
            values(
                "the gradient must be (softmax - one_hot) / N: compute the loss with differentiable torch operations", variants=mistakes
            ),
        ),
    ]


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
    checks=_cross_entropy_checks,
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


def _smoothing_above(logits, labels, smoothing):
    import torch

    log_probs = logits.log_softmax(dim=1)
    target = torch.full_like(log_probs, smoothing / logits.shape[1])
    target[torch.arange(len(labels)), labels] += 1
    return -(target * log_probs).sum(dim=1).mean()


def _smoothing_sum(logits, labels, smoothing):
    import torch

    log_probs = logits.log_softmax(dim=1)
    target = torch.full_like(log_probs, smoothing / logits.shape[1])
    target[torch.arange(len(labels)), labels] += 1 - smoothing
    return -(target * log_probs).sum()


def _smoothing_others(logits, labels, smoothing):
    import torch

    log_probs = logits.log_softmax(dim=1)
    target = torch.full_like(log_probs, smoothing / (logits.shape[1] - 1))
    target[torch.arange(len(labels)), labels] = 1 - smoothing
    return -(target * log_probs).sum(dim=1).mean()


def _smoothing_checks(rng):
    meaning = "the target is (1 - smoothing) on the label plus smoothing / C on every class, the label's included; loss = -(target * log_softmax(logits)).sum(1).mean()"
    mistakes = (
        variant(
            _smoothing_others,
            "spread the smoothing as smoothing / C over all C classes, the label included, as nn.CrossEntropyLoss(label_smoothing=...) does",
        ),
        variant(_smoothing_above, "the label's weight is 1 - smoothing + smoothing / C: take smoothing away from the label"),
        variant(_smoothing_sum, "that is the batch's sum: average over the batch"),
    )
    compare = values(meaning, variants=mistakes)
    smoothing = round(rng.uniform(0.05, 0.35), 3)
    n, classes = rng.randint(8, 30), rng.choice([4, 6, 10])
    seeds = [draw_seed(rng) for _ in range(4)]
    return [
        Check(f"smoothing {smoothing}, {n} rows, {classes} classes", lambda fn: _loss_value(fn, n, classes, seeds[0], smoothing), compare),
        Check("smoothing 0 is plain cross-entropy", lambda fn: _loss_value(fn, n, classes, seeds[1], 0.0), compare),
        Check("a batch of one, two classes", lambda fn: _loss_value(fn, 1, 2, seeds[2], smoothing), compare),
        Check("the gradient with respect to the logits", lambda fn: _loss_gradient(fn, 6, classes, seeds[3], smoothing), compare),
    ]


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
    checks=_smoothing_checks,
    mistakes=(
        Mistake("spreading the smoothing over the C - 1 other classes", _smoothing_code("smoothing / (classes - 1)"), "smoothing / C"),
    ),
    items=("viva-38-add-label-smoothing-crossentropyloss",),
)


# ---------------------------------------------------------------- MixUp


def _mixup_run(fn, config: dict) -> dict:
    """fn on a small model with a drawn batch, lam and permutation: the mixed images, the loss,
    and the gradient the loss sends to the model's first layer."""
    import torch
    from torch import nn

    n, classes, seed, lam = config["n"], config["classes"], config["seed"], config["lam"]
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(16, classes))
    images = torch.randn(n, 3, 6, 6, generator=generator)
    labels = torch.randint(0, classes, (n,), generator=generator)
    permutation = torch.randperm(n, generator=generator)
    returned = learner_call(fn, model, images, labels, lam, permutation)
    if not isinstance(returned, tuple | list) or len(returned) != 2:
        raise WrongResult(f"returned {kind_of(returned)}: return the pair (mixed, loss)")
    mixed, loss = returned
    need_tensor(loss, "the loss", ())
    if not loss.requires_grad:
        raise WrongResult(
            "the loss does not reach the model's weights through autograd: return the loss tensor itself (no .item(), no .detach())"
        )
    loss.backward()
    return {"mixed": mixed, "loss": loss, "grad": model[0].weight.grad}


def _mixup_variant(mix, loss):
    """A wrong mixup_step from how it mixes the images and how it mixes the loss."""

    def mixup_step(model, images, labels, lam, permutation):
        from torch import nn

        mixed = mix(images, lam, permutation)
        return mixed, loss(nn.functional.cross_entropy, model(mixed), labels, lam, permutation)

    return mixup_step


def _mix(images, lam, permutation):
    return lam * images + (1 - lam) * images[permutation]


def _mixup_two_forwards(model, images, labels, lam, permutation):
    from torch import nn

    mixed = lam * images + (1 - lam) * images[permutation]
    logits = lam * model(images) + (1 - lam) * model(images[permutation])
    return mixed, nn.functional.cross_entropy(logits, labels)


def _mixup_checks(rng):
    images_meaning = "mixed = lam * images + (1 - lam) * images[permutation]"
    loss_meaning = "one forward pass on the mixed images; loss = lam * CE(logits, labels) + (1 - lam) * CE(logits, labels[permutation])"
    mistakes = (
        variant(
            _mixup_variant(_mix, lambda ce, z, y, lam, perm: (1 - lam) * ce(z, y) + lam * ce(z, y[perm])),
            "the loss weights are swapped: lam goes with the original labels, as it goes with the original images",
        ),
        variant(
            _mixup_variant(_mix, lambda ce, z, y, lam, perm: lam * ce(z, y) + (1 - lam) * ce(z, y)),
            "the second loss term must use the permuted labels, labels[permutation]",
        ),
        variant(_mixup_variant(_mix, lambda ce, z, y, lam, perm: ce(z, y)), "the loss must mix both label sets with the images' weights"),
        variant(
            _mixup_variant(
                lambda x, lam, perm: lam * x + (1 - lam) * x.flip(0),
                lambda ce, z, y, lam, perm: lam * ce(z, y) + (1 - lam) * ce(z, y.flip(0)),
            ),
            "use the permutation you are given, not a flipped batch",
        ),
        variant(
            _mixup_two_forwards, "mix the images before the model, then one forward pass on the mixed batch (not a mix of two outputs)"
        ),
    )

    def part(key: str, meaning: str):
        compare = values(meaning, rtol=1e-5, atol=1e-6, variants=mistakes)

        def check(expected, got, context):
            if isinstance(got, Raised):
                return error_finding(got, f"{images_meaning}; {loss_meaning}")
            return compare(expected[key], got[key], context.narrowed(lambda observation: observation[key]))

        return check

    def config() -> dict:
        return {
            "n": rng.randint(5, 12),
            "classes": rng.randint(3, 7),
            "seed": draw_seed(rng),
            "lam": round(rng.choice([rng.uniform(0.1, 0.4), rng.uniform(0.6, 0.9)]), 3),
        }

    first, second, third = config(), config(), config()
    return [
        Check(f"mixed images, lam {first['lam']}", lambda fn: _mixup_run(fn, first), part("mixed", images_meaning)),
        Check(f"mixed loss, lam {first['lam']}", lambda fn: _mixup_run(fn, first), part("loss", loss_meaning)),
        Check(f"mixed loss, lam {second['lam']}", lambda fn: _mixup_run(fn, second), part("loss", loss_meaning)),
        Check("the loss's gradient reaches the model", lambda fn: _mixup_run(fn, third), part("grad", loss_meaning)),
    ]


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
    checks=_mixup_checks,
    mistakes=(
        Mistake(
            "swapping the loss weights",
            _mixup_code("loss = (1 - lam) * criterion(logits, labels) + lam * criterion(logits, labels[permutation])"),
            "weights are swapped",
        ),
    ),
    items=("viva-21-show-minimal-code-snippet-add",),
)

EXERCISES = (CROSS_ENTROPY, LABEL_SMOOTHING, MIXUP)
