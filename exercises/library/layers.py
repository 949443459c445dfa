"""Layers written by hand and checked against torch.nn: BatchNorm in both modes, dropout with
rescaling, a residual block with its projection shortcut, Kaiming initialisation."""

from exercises.library import code
from exercises.library.kit import draw_seed, learner_call, need_tensor, variant
from exercises.model import Exercise, Mistake
from exercises.observe import Raised, WrongResult
from exercises.report import Check, Finding, error_finding, mismatch, relative_error, values

# ---------------------------------------------------------------- BatchNorm forward

_BN_SIGNATURE = "def batchnorm_forward(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):"


def _bn_run(fn, config: dict, training: bool, batch: int | None = None, defaults: bool = False) -> dict:
    """fn on a drawn (N, C, H, W) batch with drawn momentum and eps: the output, the running
    statistics it was handed (after the call: they must change in place in training), and in
    training the gradients of a weighted sum of the output."""
    import torch

    generator = torch.Generator().manual_seed(config["seed"])
    n, c, h, w = batch or config["n"], config["c"], config["h"], config["w"]
    x = (config.get("center", 3.0) + config.get("spread", 2.0) * torch.randn(n, c, h, w, generator=generator)).requires_grad_(training)
    gamma = (torch.rand(c, generator=generator) + 0.5).requires_grad_(training)
    beta = torch.randn(c, generator=generator).requires_grad_(training)
    running_mean, running_var = torch.randn(c, generator=generator), torch.rand(c, generator=generator) + 0.5
    weight = torch.randn(n, c, h, w, generator=generator)
    initial = running_mean.clone()
    extra = () if defaults else (config["momentum"], config["eps"])  # defaults: the signature's momentum=0.1, eps=1e-5
    y = fn(x, gamma, beta, running_mean, running_var, training, *extra)
    observed = {"output": y, "running_mean": running_mean, "running_var": running_var, "initial_mean": initial}
    if training:
        need_tensor(y, "the output", (n, c, h, w))
        if not y.requires_grad:
            raise WrongResult(
                "no gradient reaches x, gamma or beta: build the output from differentiable torch operations (no .detach(), .data or torch.no_grad())"
            )
        (y * weight).sum().backward()
        observed["grads"] = [None if t.grad is None else t.grad for t in (x, gamma, beta)]
    return observed


def _bn_unbiased_normalise(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    import torch

    shape = (1, -1, 1, 1)
    if training:
        mean, var = x.mean(dim=(0, 2, 3)), x.var(dim=(0, 2, 3))
        with torch.no_grad():
            running_mean.mul_(1 - momentum).add_(momentum * mean)
            running_var.mul_(1 - momentum).add_(momentum * var)
    else:
        mean, var = running_mean, running_var
    return gamma.view(shape) * (x - mean.view(shape)) / torch.sqrt(var.view(shape) + eps) + beta.view(shape)


def _bn_swapped_momentum(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    import torch

    shape = (1, -1, 1, 1)
    if training:
        mean, var = x.mean(dim=(0, 2, 3)), x.var(dim=(0, 2, 3), unbiased=False)
        n = x.numel() / x.shape[1]
        with torch.no_grad():
            running_mean.mul_(momentum).add_((1 - momentum) * mean)
            running_var.mul_(momentum).add_((1 - momentum) * var * n / (n - 1))
    else:
        mean, var = running_mean, running_var
    return gamma.view(shape) * (x - mean.view(shape)) / torch.sqrt(var.view(shape) + eps) + beta.view(shape)


def _bn_eps_outside(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    import torch

    shape = (1, -1, 1, 1)
    if training:
        mean, var = x.mean(dim=(0, 2, 3)), x.var(dim=(0, 2, 3), unbiased=False)
        n = x.numel() / x.shape[1]
        with torch.no_grad():
            running_mean.mul_(1 - momentum).add_(momentum * mean)
            running_var.mul_(1 - momentum).add_(momentum * var * n / (n - 1))
    else:
        mean, var = running_mean, running_var
    return gamma.view(shape) * (x - mean.view(shape)) / (torch.sqrt(var.view(shape)) + eps) + beta.view(shape)


def _batchnorm_checks(rng):
    def config() -> dict:
        return {"seed": draw_seed(rng), "n": rng.randint(3, 9), "c": rng.randint(2, 6), "h": rng.choice([3, 5, 7]), "w": rng.choice([4, 5, 6]),
                "momentum": round(rng.uniform(0.05, 0.4), 3), "eps": rng.choice([1e-3, 1e-2, 0.1])}  # fmt: skip

    def part(key: str, meaning: str, variants: tuple = ()):
        compare = values(meaning, rtol=1e-4, atol=1e-5, variants=variants)

        def check(expected, got, context):
            if isinstance(got, Raised):
                return error_finding(got, meaning)
            if (
                key == "running_mean"
                and key in got
                and mismatch(expected[key], got[key], 1e-4, 1e-5)
                and mismatch(expected["initial_mean"], got[key], 0, 0) is None
            ):
                return Finding("failed", "running_mean changed", "running_mean unchanged",
                               "the running statistics must be updated in place (running_mean.mul_(...).add_(...), or running_mean[:] = ...): assigning a new tensor to the name changes nothing for the caller")  # fmt: skip
            return compare(expected[key], got[key], context.narrowed(lambda observation: observation[key]))

        return check

    normalise = "in train mode normalise each channel with the batch's mean and biased variance over (N, H, W), with the eps you are given inside the square root, then scale by gamma and shift by beta"
    mistakes = (
        variant(
            _bn_unbiased_normalise, "normalise with the biased batch variance (unbiased=False); only running_var gets the unbiased one"
        ),
        variant(_bn_eps_outside, "eps goes inside the square root: (x - mean) / sqrt(var + eps)"),
        variant(
            _bn_swapped_momentum, "momentum is the weight of the new batch statistic: running = (1 - momentum) * running + momentum * batch"
        ),
    )
    train, stats, grads, evaluation, one, defaults = config(), config(), config(), config(), config(), config()
    return [
        Check("train mode: normalised with the batch statistics", lambda fn: _bn_run(fn, train, True), part("output", normalise, mistakes)),
        Check("train mode: running_mean updated in place with momentum", lambda fn: _bn_run(fn, stats, True),
              part("running_mean", "update running_mean in place: (1 - momentum) * running_mean + momentum * batch mean", mistakes)),
        Check("train mode: running_var updated with the unbiased variance", lambda fn: _bn_run(fn, stats, True),
              part("running_var", "update running_var in place with the unbiased batch variance (divide by n - 1), as PyTorch does", mistakes)),
        Check("train mode: gradients reach x, gamma and beta", lambda fn: _bn_run(fn, grads, True),
              part("grads", "the output must be built with differentiable torch operations from x, gamma and beta (the batch statistics included)", mistakes)),
        Check("eval mode: normalised with the running statistics", lambda fn: _bn_run(fn, evaluation, False),
              part("output", "in eval mode use running_mean and running_var, not the batch statistics: a prediction must not depend on the batch")),
        Check("eval mode: the running statistics are left alone", lambda fn: _bn_run(fn, evaluation, False),
              part("running_var", "eval mode must not update the running statistics")),
        Check("eval mode: a batch of one image", lambda fn: _bn_run(fn, one, False, batch=1),
              part("output", "eval mode must work on a single image: the running statistics need no batch")),
        Check("train mode with the default momentum", lambda fn: _bn_run(fn, defaults, True, defaults=True),
              part("running_var", "keep the signature's default momentum=0.1", mistakes)),
        Check("the default eps, on a batch of tiny variance", lambda fn: _bn_run(fn, {**defaults, "center": 0.0, "spread": 0.003}, True, defaults=True),
              part("output", "keep the signature's default eps=1e-5, inside the square root", mistakes)),
    ]  # fmt: skip


def _bn_code(train_stats: str, eval_stats: str = "running_mean, running_var") -> str:
    return code(f'''
        import torch


        {_BN_SIGNATURE}
            """x: (N, C, H, W); gamma, beta and the running statistics: (C,), updated in place in training."""
            shape = (1, -1, 1, 1)  # broadcast per channel
            if training:
                mean = x.mean(dim=(0, 2, 3))
                var = x.var(dim=(0, 2, 3), unbiased=False)  # biased variance normalises
                n = x.numel() / x.shape[1]
                with torch.no_grad():
                    running_mean.mul_(1 - momentum).add_(momentum * mean)
                    running_var.mul_(1 - momentum).add_(momentum * {train_stats})
            else:
                mean, var = {eval_stats}
            x_hat = (x - mean.view(shape)) / torch.sqrt(var.view(shape) + eps)
            return gamma.view(shape) * x_hat + beta.view(shape)
    ''')


BATCHNORM_FORWARD = Exercise(
    id="batchnorm-forward",
    title="BatchNorm forward in train and eval mode",
    function="batchnorm_forward",
    prompt=code(f"""
        Write BatchNorm2d's forward pass as a function (no `nn.BatchNorm2d`, no `F.batch_norm`):

        `{_BN_SIGNATURE.removeprefix("def ").removesuffix(":")}`

        `x` is (N, C, H, W). In training, normalise with the batch's statistics per channel and update
        the running statistics in place (PyTorch stores the unbiased variance there); in eval mode
        normalise with the running statistics. Return the output.
    """),
    starter=code(f'''
        import torch


        {_BN_SIGNATURE}
            """x: (N, C, H, W); gamma, beta and the running statistics: (C,), updated in place in training."""
            raise NotImplementedError("normalise, scale and shift")
    '''),
    solution=_bn_code("var * n / (n - 1)"),
    hint="Statistics over dims (0, 2, 3). Training: batch mean and biased variance to normalise; unbiased variance into running_var.",
    checks=_batchnorm_checks,
    mistakes=(
        Mistake(
            "BN using the batch statistics in eval mode",
            _bn_code("var * n / (n - 1)", "x.mean(dim=(0, 2, 3)), x.var(dim=(0, 2, 3), unbiased=False)"),
            "running_mean and running_var",
        ),
        Mistake("the biased variance in running_var", _bn_code("var"), "unbiased"),
    ),
    items=(
        "resnet-08-batch-normalization-batchnorm",
        "resnet-39-running-mean-batchnorm",
        "interview-04-batch-normalizations-effect-during-training",
        "fundamentals-15-model-trained-successfully-but-run",
    ),
)


# ---------------------------------------------------------------- dropout


def _dropout_run(fn, seed: int, p: float, training: bool = True, grad: bool = False) -> dict:
    """fn on a (64, 300) batch of nonzero values: the input before and after, and the output
    (with the input's gradient of output.sum() when `grad`)."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    x = 0.5 + torch.rand(64, 300, generator=generator) * torch.randn(64, 300, generator=generator).sign()  # never exactly 0
    given = x.clone().requires_grad_(grad)
    torch.manual_seed(seed)
    y = fn(given, p, training)
    observed = {"x": x, "y": y, "x_after": given.detach().clone(), "p": p}
    if grad:
        need_tensor(y, "the output", tuple(x.shape))
        if not y.requires_grad:
            raise WrongResult("no gradient reaches x: build the output with torch operations on x (no .data, no torch.no_grad())")
        y.sum().backward()
        observed["grad"] = given.grad
    return observed


def _dropout_output(expected: dict, got: dict, meaning: str):
    """The learner's output as a tensor of the input's shape, or the finding that says why not."""
    import torch

    if isinstance(got, Raised):
        return None, error_finding(got, meaning)
    found = mismatch(expected["y"], got["y"]) if not isinstance(got["y"], torch.Tensor) else None
    if found is None and tuple(got["y"].shape) != tuple(expected["y"].shape):
        found = mismatch(expected["y"], got["y"])
    if found:
        return None, Finding("failed", found.expected, found.got, found.message)
    return got["y"].detach().double(), None


def _dropout_checks(rng):
    meaning = "in training: mask = torch.rand_like(x) >= p, return x * mask / (1 - p); in eval mode return x"

    def fraction(expected, got, context):
        y, found = _dropout_output(expected, got, meaning)
        if found:
            return found
        p, zeroed = got["p"], float((y == 0).double().mean())
        spread = 6 * (p * (1 - p) / y.numel()) ** 0.5 + 1e-3
        if abs(zeroed - p) <= spread:
            return None
        message = (
            "a unit must survive with probability 1 - p: this kept it with probability p (use rand >= p for the mask)"
            if abs(zeroed - (1 - p)) <= spread
            else "zero each element with probability p"
        )
        return Finding("failed", f"about {p:.0%} zeros (p = {p})", f"{zeroed:.1%} zeros", message)

    def scale(expected, got, context):
        y, found = _dropout_output(expected, got, meaning)
        if found:
            return found
        x, p = got["x"].double(), got["p"]
        kept = y != 0
        if not kept.any():
            return Finding(
                "failed",
                f"kept units times {1 / (1 - p):.6g}",
                "every unit zeroed",
                "zero each element with probability p, not all of them",
            )
        ratios = y[kept] / x[kept]
        target = 1 / (1 - p)
        worst = float(ratios[(ratios - target).abs().argmax()])
        if abs(worst - target) <= 1e-5 * target:
            return None
        named = {1.0: "kept units must be divided by (1 - p) (inverted dropout), so the expected value is unchanged and eval needs no rescaling",
                 1 - p: "multiply the kept units by 1 / (1 - p), not by (1 - p)", 1 / p: "scale by 1 / (1 - p), the keep probability, not by 1 / p"}  # fmt: skip
        message = next(
            (text for value, text in named.items() if abs(worst - value) <= 1e-5 * value),
            "a kept unit must be multiplied by exactly 1 / (1 - p)",
        )
        return Finding(
            "failed", f"kept units times {target:.7g}", f"times {worst:.7g} (relative error {relative_error(target, worst):.1e})", message
        )

    def own_masks(expected, got, context):
        y, found = _dropout_output(expected, got, meaning)
        if found:
            return found
        zeros = y == 0
        rows = {tuple(row.tolist()) for row in zeros}
        if len(rows) == 1 and zeros.any():
            return Finding(
                "failed",
                "a different mask in each row",
                "the same mask in every row",
                "the mask is shared by the whole batch: draw it with the input's full shape (torch.rand_like(x))",
            )
        per_row = zeros.double().mean(dim=1)
        if bool(((per_row == 0) | (per_row == 1)).all()) and zeros.any():
            return Finding(
                "failed", "each element dropped on its own", "whole rows dropped", "drop each element independently, not whole rows"
            )
        return None

    def identity(expected, got, context):
        y, found = _dropout_output(expected, got, meaning)
        if found:
            return found
        mism = mismatch(got["x"].double(), y, 0, 0)
        return Finding("failed", mism.expected, mism.got, "in eval mode dropout is the identity: return x unchanged") if mism else None

    def untouched(expected, got, context):
        if isinstance(got, Raised):
            return error_finding(got, meaning)
        mism = mismatch(got["x"], got["x_after"], 0, 0)
        return (
            Finding(
                "failed",
                "the input unchanged",
                "the input was modified",
                "do not modify x in place (x.mul_, x[...] = 0): the caller still needs it; return a new tensor",
            )
            if mism
            else None
        )

    def gradient(expected, got, context):
        y, found = _dropout_output(expected, got, meaning)
        if found:
            return found
        wanted = (y != 0).double() / (1 - got["p"])
        mism = mismatch(wanted, got["grad"], 1e-5, 1e-7)
        return (
            Finding(
                "failed",
                mism.expected,
                mism.got,
                "the gradient must be 1 / (1 - p) where a unit was kept and 0 where it was dropped: multiply x by the mask",
            )
            if mism
            else None
        )

    p = rng.choice([0.2, 0.25, 0.3, 0.35, 0.65, 0.7, 0.8])
    seeds = [draw_seed(rng) for _ in range(6)]
    return [
        Check(f"train mode: a fraction p of the units is zeroed (p = {p})", lambda fn: _dropout_run(fn, seeds[0], p), fraction),
        Check("train mode: kept units are scaled by exactly 1 / (1 - p)", lambda fn: _dropout_run(fn, seeds[1], p), scale),
        Check("train mode: every row of the batch gets its own mask", lambda fn: _dropout_run(fn, seeds[2], p), own_masks),
        Check("train mode: the input tensor is not modified", lambda fn: _dropout_run(fn, seeds[3], p), untouched),
        Check("train mode: the gradient is the mask over (1 - p)", lambda fn: _dropout_run(fn, seeds[4], p, grad=True), gradient),
        Check("eval mode: the identity", lambda fn: _dropout_run(fn, seeds[5], p, training=False), identity),
    ]


DROPOUT = Exercise(
    id="dropout",
    title="Inverted dropout",
    function="dropout",
    prompt="Write `dropout(x, p, training)` as `nn.Dropout` does it: in training zero each element with probability p and scale the rest so the expected value is unchanged; in eval mode return x.\n",
    starter=code("""
        import torch


        def dropout(x, p, training):
            raise NotImplementedError("drop and rescale")
    """),
    solution=code("""
        import torch


        def dropout(x, p, training):
            if not training or p == 0:
                return x
            keep = (torch.rand_like(x) >= p).to(x.dtype)  # each unit survives with probability 1 - p
            return x * keep / (1 - p)  # rescaled now, so evaluation needs nothing
    """),
    hint="A random mask from torch.rand_like(x) >= p; divide by the keep probability.",
    checks=_dropout_checks,
    mistakes=(
        Mistake(
            "dropout without rescaling",
            code("""
            import torch


            def dropout(x, p, training):
                if not training:
                    return x
                return x * (torch.rand_like(x) >= p).to(x.dtype)
        """),
            "1 / (1 - p)",
        ),
        Mistake(
            "dropping at evaluation too",
            code("""
            import torch


            def dropout(x, p, training):
                return x * (torch.rand_like(x) >= p).to(x.dtype) / (1 - p)
        """),
            "eval mode",
        ),
    ),
    items=("viva-49-dropout-rate-0-5-may", "resnet-10-can-remove-dropout-use-batchnorm"),
)


# ---------------------------------------------------------------- residual block


def _layer_calls(block, x) -> list:
    """(module, input, output) of each leaf module, in the order the forward pass calls them."""
    calls, handles = [], []
    for module in block.modules():
        if module is not block and not list(module.children()):
            handles.append(module.register_forward_hook(lambda m, inputs, output: calls.append((m, inputs[0] if inputs else None, output))))
    try:
        learner_call(block, x)
    finally:
        for handle in handles:
            handle.remove()
    return calls


def _describe_layer(module) -> str:
    from torch import nn

    if isinstance(module, nn.Conv2d):
        return f"Conv2d({module.in_channels}, {module.out_channels}, {module.kernel_size[0]}, stride={module.stride[0]}, padding={module.padding[0]})"
    return type(module).__name__


def _roles(block, x, needs_projection: bool) -> dict:
    """Which of the block's layers is which, from the order the forward pass calls them and the
    tensors they pass on: conv1 is the first 3x3 conv called, bn1 the BatchNorm fed conv1's
    output... Raises WrongResult naming what is missing."""
    from torch import nn

    calls = _layer_calls(block, x)
    layers = ", ".join(_describe_layer(m) for m, _, _ in calls)

    def after(output):
        return next((m for m, given, _ in calls if isinstance(m, nn.BatchNorm2d) and given is output), None)

    convs = [(m, out) for m, _, out in calls if isinstance(m, nn.Conv2d)]
    three = [(m, out) for m, out in convs if m.kernel_size == (3, 3)]
    one = [(m, out) for m, out in convs if m.kernel_size == (1, 1)]
    if len(three) != 2 or len({id(m) for m, _ in three}) != 2:
        raise WrongResult(f"the block must call two different 3x3 convolutions; its forward pass called: {layers}")
    roles = {"conv1": three[0][0], "bn1": after(three[0][1]), "conv2": three[1][0], "bn2": after(three[1][1])}
    if roles["bn1"] is None or roles["bn2"] is None:
        raise WrongResult(f"each 3x3 convolution must be followed directly by its own BatchNorm2d; the forward pass called: {layers}")
    if needs_projection:
        if len(one) != 1 or after(one[0][1]) is None:
            raise WrongResult(
                f"the shapes change here, so the shortcut must be a 1x1 convolution followed by BatchNorm2d; the forward pass called: {layers}"
            )
        roles.update(projection=one[0][0], bn_projection=after(one[0][1]))
    elif one:
        raise WrongResult(
            "the shapes do not change here (stride 1, same channels): the shortcut must be the identity, with no 1x1 convolution"
        )
    if len({id(m) for m in roles.values()}) != len(roles):
        raise WrongResult("each convolution needs its own BatchNorm2d: one BatchNorm module is used twice")
    return roles


def _set_weights(roles: dict, seed: int) -> None:
    """The same drawn weights for the same roles, in the reference's block and the learner's."""
    import torch
    from torch import nn

    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name in sorted(roles):
            module = roles[name]
            if isinstance(module, nn.Conv2d):
                module.weight.copy_(torch.randn(module.weight.shape, generator=generator) * 0.3)
                if module.bias is not None:
                    module.bias.zero_()  # a bias before BatchNorm is redundant, not wrong
            else:
                c = module.num_features
                module.weight.copy_(torch.rand(c, generator=generator) + 0.5)
                module.bias.copy_(torch.randn(c, generator=generator) * 0.2)
                module.running_mean.copy_(torch.randn(c, generator=generator) * 0.1)
                module.running_var.copy_(torch.rand(c, generator=generator) + 0.5)


def _residual_run(cls, config: dict) -> dict:
    """Build the block, find its layers' roles, give them drawn weights, and observe train and
    eval outputs, the running mean after a train pass, and gradients through a small network."""
    import torch

    cin, cout, stride, size, seed = config["in"], config["out"], config["stride"], config["size"], config["seed"]
    block = cls(cin, cout, stride) if stride != 1 else cls(cin, cout)  # stride 1: the default
    generator = torch.Generator().manual_seed(seed)
    x, x2 = (torch.randn(3, cin, size, size, generator=generator) for _ in range(2))
    expected_shape = (3, cout, (size - 1) // stride + 1, (size - 1) // stride + 1)
    block.train()
    need_tensor(learner_call(block, x.clone()), "forward's output", expected_shape)
    roles = _roles(block, x.clone(), stride != 1 or cin != cout)
    _set_weights(roles, seed)
    train_out = learner_call(block, x.clone())
    running = roles["bn1"].running_mean.clone()
    block.eval()
    eval_out = learner_call(block, x2.clone())
    block.train()
    given = x.clone().requires_grad_(True)
    head = torch.randn(expected_shape, generator=generator)
    (learner_call(block, given) * head).sum().backward()
    return {"train": train_out, "running_mean": running, "eval": eval_out, "grad_x": given.grad, "grad_conv1": roles["conv1"].weight.grad,
            "layers": [_describe_layer(roles[name]) for name in sorted(roles)]}  # fmt: skip


def _residual_checks(rng):
    order = (("train", "train mode: the output differs from the reference's with the same weights"),
             ("running_mean", "train mode: the first BatchNorm's running mean differs: each BatchNorm sees its own conv's output"),
             ("eval", "eval mode: the output differs from the reference's with the same weights and running statistics"),
             ("grad_x", "the gradient with respect to the input differs"), ("grad_conv1", "the first convolution's weight gradient differs"))  # fmt: skip
    shape = "out = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), the stride on conv1 and on the 1x1 shortcut"

    def compare(expected, got, context):
        if isinstance(got, Raised):
            return error_finding(
                got,
                f"{shape}; when the stride or the channel count changes, the shortcut is a 1x1 convolution with that stride, then BatchNorm",
            )
        if got["layers"] != expected["layers"]:
            return Finding(
                "failed", "; ".join(expected["layers"]), "; ".join(got["layers"]), _layer_problem(expected["layers"], got["layers"])
            )
        for key, what in order:
            mism = mismatch(expected[key], got[key], 1e-4, 1e-5)
            if mism:
                return Finding("failed", mism.expected, mism.got, f"{what}: {shape} (the final ReLU after the addition)")
        return None

    def config(cin: int, cout: int, stride: int) -> dict:
        return {"in": cin, "out": cout, "stride": stride, "size": rng.choice([7, 9, 8]), "seed": draw_seed(rng)}

    c = rng.choice([4, 6, 8])
    cases_ = [config(c, c, 1), config(c, 2 * c, 2), config(c, c, 2), config(c, 2 * c, 1)]
    names = ["same channels, stride 1: the identity shortcut", "channels doubled, stride 2: a projection shortcut",
             "same channels, stride 2: a projection shortcut all the same", "channels doubled, stride 1: a projection shortcut"]  # fmt: skip
    hint = f"{shape}; when the stride or the channel count changes, the shortcut is a 1x1 convolution with that stride, then BatchNorm"
    return [
        Check(f"{name} ({k['in']} -> {k['out']}, {k['size']}x{k['size']})", lambda cls, k=k: _residual_run(cls, k), compare, hint)
        for name, k in zip(names, cases_, strict=True)
    ]


def _layer_problem(expected: list[str], got: list[str]) -> str:
    """The difference between the reference's layers and the learner's, in words."""
    for want, have in zip(expected, got, strict=False):
        if want != have and "stride" in want:
            if want.split("stride=")[1] != have.split("stride=")[1]:
                return f"{have} has the wrong stride: the stride goes on the first 3x3 convolution and on the 1x1 shortcut, {want}"
            if want.split("padding=")[1] != have.split("padding=")[1]:
                return f"{have}: a 3x3 convolution needs padding=1 to keep the size"
            return f"expected {want}, found {have}"
    return "the block's layers differ from the prompt's: two 3x3 convolutions (the first with the stride), each followed by BatchNorm2d"


def _block_code(shortcut: str) -> str:
    return code(f"""
        from torch import nn


        class ResidualBlock(nn.Module):
            def __init__(self, in_channels, out_channels, stride=1):
                super().__init__()
                self.branch = nn.Sequential(
                    nn.Conv2d(in_channels, out_channels, 3, stride, padding=1, bias=False),  # BN's shift replaces the bias
                    nn.BatchNorm2d(out_channels),
                    nn.ReLU(inplace=True),
                    nn.Conv2d(out_channels, out_channels, 3, 1, padding=1, bias=False),
                    nn.BatchNorm2d(out_channels),
                )
                {shortcut}

            def forward(self, x):
                return nn.functional.relu(self.branch(x) + self.shortcut(x))
    """)


_PROJECTION = """self.shortcut = nn.Identity()
                if stride != 1 or in_channels != out_channels:  # shapes differ: project with a 1x1 conv
                    self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride, bias=False), nn.BatchNorm2d(out_channels))"""

RESIDUAL_BLOCK = Exercise(
    id="residual-block",
    title="A residual block with a projection shortcut",
    function="ResidualBlock",
    prompt=code("""
        Write `ResidualBlock(in_channels, out_channels, stride=1)`, an `nn.Module`: two 3x3 convolutions
        (the first with the stride), each followed by BatchNorm, a ReLU between them, the input added
        back, and a ReLU at the end. When the stride or the number of channels changes, the shortcut is
        a 1x1 convolution with that stride, followed by BatchNorm.
    """),
    starter=code("""
        from torch import nn


        class ResidualBlock(nn.Module):
            def __init__(self, in_channels, out_channels, stride=1):
                super().__init__()
                raise NotImplementedError("build the two branches")

            def forward(self, x):
                raise NotImplementedError
    """),
    solution=_block_code(_PROJECTION),
    hint="out = relu(branch(x) + shortcut(x)); the shortcut is nn.Identity() unless the shapes differ.",
    checks=_residual_checks,
    mistakes=(Mistake("no projection when the shapes change", _block_code("self.shortcut = nn.Identity()"), "1x1 convolution"),),
    items=(
        "resnet-02-residual-block-work-mathematically",
        "resnet-22-happens-dimensions-skip-connection",
        "resnet-42-residual-logic-f-x-vs",
    ),
)


# ---------------------------------------------------------------- Kaiming initialisation


def _kaiming_model(config: dict):
    """Convolutions and Linear layers of drawn sizes, one conv nested a level down, a BatchNorm,
    every weight and bias first set to a marker value so a layer left alone shows."""
    import torch
    from torch import nn

    c0, c1, c2, size = config["c0"], config["c1"], config["c2"], config["size"]
    out = size - 4
    model = nn.Sequential(
        nn.Conv2d(c0, c1, 3), nn.BatchNorm2d(c1), nn.ReLU(),
        nn.Sequential(nn.Conv2d(c1, c2, 3), nn.ReLU()),
        nn.Flatten(), nn.Linear(c2 * out * out, config["hidden"]), nn.ReLU(), nn.Linear(config["hidden"], 10),
    )  # fmt: skip
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Conv2d | nn.Linear):
                module.weight.fill_(0.05)
                module.bias.fill_(0.25)
            elif isinstance(module, nn.BatchNorm2d):
                module.weight.fill_(1.5)
                module.bias.fill_(0.3)
    return model


def _kaiming_run(fn, config: dict) -> dict:
    """fn(model), then each layer's weight statistics against Kaiming-normal's, its largest
    bias, and whether the BatchNorm kept its values."""
    import math

    import torch
    from torch import nn

    model = _kaiming_model(config)
    torch.manual_seed(config["seed"])
    fn(model)
    layers = []
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d | nn.Linear):
            untouched = bool((module.weight == 0.05).all())
            w = module.weight.detach().double().reshape(-1)
            fan_in, fan_out = module.weight[0].numel(), module.weight.shape[0] * module.weight[0][0].numel()
            std = float(w.std())
            layers.append({"name": f"{name} {_describe_layer(module) if isinstance(module, nn.Conv2d) else f'Linear({module.in_features}, {module.out_features})'}",
                           "kind": "conv" if isinstance(module, nn.Conv2d) else "linear", "n": w.numel(), "fan_in": fan_in, "fan_out": fan_out,
                           "std": std, "mean": float(w.mean()), "tails": float((w.abs() > 2 * math.sqrt(2 / fan_in)).double().mean()),
                           "untouched": untouched, "bias": float(module.bias.detach().abs().max())})  # fmt: skip
    bn = model[1]
    return {"layers": layers, "bn_kept": bool((bn.weight == 1.5).all() and (bn.bias == 0.3).all())}


def _kaiming_layer_problem(layer: dict) -> str | None:
    """What is wrong with one layer's weights, or None when they look Kaiming-normal (fan_in,
    ReLU): std within 6 standard errors of sqrt(2 / fan_in), about 4.6% beyond two of them."""
    import math

    n, std, fan_in, fan_out = layer["n"], layer["std"], layer["fan_in"], layer["fan_out"]
    target = math.sqrt(2 / fan_in)
    if layer["untouched"]:
        return "it kept its old weights: reach every layer, nested ones too (model.modules() or model.apply, not model.children())"
    if abs(std / target - 1) > 6 / math.sqrt(2 * n) + 0.01:
        for value, message in ((math.sqrt(2 / fan_out), "std sqrt(2 / fan_out): use mode='fan_in'"), (1.0, "std 1: nn.init.normal_ is not Kaiming's sqrt(2 / fan_in); use nn.init.kaiming_normal_"),
                               (math.sqrt(1 / fan_in), "std sqrt(1 / fan_in): the ReLU gain sqrt(2) is missing (nonlinearity='relu')"),
                               (1 / math.sqrt(3 * fan_in), "that is PyTorch's default initialisation: the weights were not re-initialised")):  # fmt: skip
            if abs(std / value - 1) <= 6 / math.sqrt(2 * n) + 0.01:
                return message
        return f"weight std {std:.4g}, expected sqrt(2 / fan_in) = {target:.4g}"
    if abs(layer["mean"]) > 6 * target / math.sqrt(n) + 1e-3:
        return f"the weights' mean is {layer['mean']:.3g}, expected 0"
    expected_tails = 0.0455
    if abs(layer["tails"] - expected_tails) > 6 * math.sqrt(expected_tails * (1 - expected_tails) / n) + 0.005:
        return "the right std, but not normally distributed (kaiming_uniform_?): use nn.init.kaiming_normal_"
    return None


def _kaiming_checks(rng):
    def config() -> dict:
        return {"seed": draw_seed(rng), "c0": rng.choice([3, 8, 16]), "c1": rng.choice([32, 48, 64]), "c2": rng.choice([40, 64, 96]), "size": rng.choice([7, 8]),
                "hidden": rng.choice([128, 200, 256])}  # fmt: skip

    def weights_of(kind: str):
        def compare(expected, got, context):
            if isinstance(got, Raised):
                return error_finding(
                    got,
                    "for each nn.Conv2d and nn.Linear in model.modules(): nn.init.kaiming_normal_(weight, mode='fan_in', nonlinearity='relu'), nn.init.zeros_(bias)",
                )
            for layer in got["layers"]:
                problem = layer["kind"] == kind and _kaiming_layer_problem(layer)
                if problem:
                    import math

                    return Finding(
                        "failed",
                        f"{layer['name']}: std {math.sqrt(2 / layer['fan_in']):.4g}, normal",
                        f"std {layer['std']:.4g}",
                        f"{layer['name']}: {problem}",
                    )
            return None

        return compare

    def biases(expected, got, context):
        if isinstance(got, Raised):
            return error_finding(got, "nn.init.zeros_(module.bias) for each conv and linear layer")
        layer = next((layer for layer in got["layers"] if layer["bias"] != 0), None)
        return (
            Finding("failed", "every bias 0", f"{layer['name']}: a bias of {layer['bias']:.3g}", "set every bias to zero (nn.init.zeros_)")
            if layer
            else None
        )

    def batchnorm(expected, got, context):
        if isinstance(got, Raised):
            return error_finding(got, "initialise only nn.Conv2d and nn.Linear")
        if got["bn_kept"]:
            return None
        return Finding(
            "failed",
            "BatchNorm weight 1.5, bias 0.3 as given",
            "changed",
            "leave BatchNorm alone: initialise only nn.Conv2d and nn.Linear (their weights are 4-D and 2-D)",
        )

    first, second = config(), config()
    return [
        Check("every Conv2d gets Kaiming-normal weights, std sqrt(2 / fan_in)", lambda fn: _kaiming_run(fn, first), weights_of("conv")),
        Check("every Linear layer too", lambda fn: _kaiming_run(fn, second), weights_of("linear")),
        Check("biases start at zero", lambda fn: _kaiming_run(fn, second), biases),
        Check("BatchNorm layers are left as they were", lambda fn: _kaiming_run(fn, first), batchnorm),
    ]


KAIMING_INIT = Exercise(
    id="kaiming-init",
    title="Kaiming initialisation for a ReLU network",
    function="init_weights",
    prompt="Write `init_weights(model)`: every `nn.Conv2d` and `nn.Linear` gets Kaiming-normal weights for ReLU (fan_in mode) and zero biases, in place.\n",
    starter=code("""
        from torch import nn


        def init_weights(model):
            raise NotImplementedError("initialise the weights")
    """),
    solution=code("""
        from torch import nn


        def init_weights(model):
            for module in model.modules():
                if isinstance(module, (nn.Conv2d, nn.Linear)):
                    nn.init.kaiming_normal_(module.weight, mode="fan_in", nonlinearity="relu")  # std sqrt(2 / fan_in)
                    nn.init.zeros_(module.bias)
    """),
    hint="nn.init.kaiming_normal_ with nonlinearity='relu'; nn.init.zeros_ for the bias.",
    checks=_kaiming_checks,
    mistakes=(
        Mistake(
            "standard normal weights (std 1)",
            code("""
            from torch import nn


            def init_weights(model):
                for module in model.modules():
                    if isinstance(module, (nn.Conv2d, nn.Linear)):
                        nn.init.normal_(module.weight)
                        nn.init.zeros_(module.bias)
        """),
            "sqrt(2 / fan_in)",
        ),
    ),
    items=("interview-09-effect-different-initialization-schemes", "fundamentals-07-initializing-all-weights-neural-network"),
)

EXERCISES = (BATCHNORM_FORWARD, DROPOUT, RESIDUAL_BLOCK, KAIMING_INIT)
