"""Layers written by hand and checked against torch.nn: BatchNorm in both modes, dropout with
rescaling, a residual block with its projection shortcut, Kaiming initialisation."""

from exercises.library import code
from exercises.model import Exercise, Mistake
from exercises.report import same

# ---------------------------------------------------------------- BatchNorm forward

_BN_SIGNATURE = "def batchnorm_forward(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):"


def _check_batchnorm(learner, reference, report) -> None:
    import torch

    def inputs(batch: int):
        generator = torch.Generator().manual_seed(batch)
        x = 3 + 2 * torch.randn(batch, 4, 5, 5, generator=generator)
        gamma, beta = torch.rand(4, generator=generator) + 0.5, torch.randn(4, generator=generator)
        return x, gamma, beta, torch.randn(4, generator=generator), torch.rand(4, generator=generator) + 0.5

    def run(fn, training: bool, batch: int = 8):
        x, gamma, beta, running_mean, running_var = inputs(batch)
        y = report.call(fn, x, gamma, beta, running_mean, running_var, training)
        return y, running_mean, running_var

    def case(name: str, training: bool, part: int, meaning: str, batch: int = 8) -> None:
        def body():
            expected, got = run(reference, training, batch)[part], run(learner, training, batch)[part]
            return same(got, expected, 1e-4), expected, got, meaning

        report.check(name, body)

    case(
        "train mode: normalised with the batch statistics",
        True,
        0,
        "in train mode normalise each channel with the batch's mean and biased variance over (N, H, W), then scale by gamma and shift by beta",
    )
    case(
        "train mode: running mean updated with momentum",
        True,
        1,
        "update running_mean in place: (1 - momentum) * running_mean + momentum * batch mean",
    )
    case(
        "train mode: running variance updated with the unbiased variance",
        True,
        2,
        "update running_var in place with the unbiased batch variance (divide by n - 1), as PyTorch does",
    )
    case(
        "eval mode: normalised with the running statistics",
        False,
        0,
        "in eval mode use running_mean and running_var, not the batch statistics: a prediction must not depend on the batch",
    )
    case("eval mode: running statistics unchanged", False, 1, "eval mode must not update the running statistics")
    case("eval mode: a batch of one", False, 0, "eval mode must work on a single image (the running statistics need no batch)", batch=1)


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
    checks=_check_batchnorm,
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


def _check_dropout(learner, reference, report) -> None:
    import torch

    x = torch.ones(200_000)

    def train_output(fn, p: float):
        torch.manual_seed(0)
        return report.call(fn, x.clone(), p, True)

    def keeps_expectation():
        got = train_output(learner, 0.3)
        mean = got.mean().item()
        return (
            abs(mean - 1.0) < 0.01,
            1.0,
            mean,
            "the mean changed: scale the kept units by 1 / (1 - p) (inverted dropout), so eval needs no rescaling",
        )

    def drops_fraction_p():
        got = train_output(learner, 0.3)
        zeros = (got == 0).float().mean().item()
        return abs(zeros - 0.3) < 0.01, 0.3, zeros, "zero each unit with probability p"

    def survivors_scaled():
        got = train_output(learner, 0.3)
        kept = got[got != 0]
        value = kept.unique().tolist()
        return same(value, [1 / 0.7], 1e-5), [1 / 0.7], value, "a kept unit must be multiplied by exactly 1 / (1 - p)"

    def eval_identity():
        got = report.call(learner, x[:10].clone() * 3, 0.3, False)
        return same(got, x[:10] * 3), x[:10] * 3, got, "in eval mode dropout is the identity: return x unchanged"

    report.check("train mode: a fraction p of the units is zeroed", drops_fraction_p)
    report.check("train mode: the expected value is kept", keeps_expectation)
    report.check("train mode: kept units are scaled by 1 / (1 - p)", survivors_scaled)
    report.check("eval mode: the identity", eval_identity)


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
    checks=_check_dropout,
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


def _check_residual(learner, reference, report) -> None:
    import torch

    def output_shape(in_channels: int, out_channels: int, stride: int) -> None:
        def body():
            block = report.call(learner, in_channels, out_channels, stride)
            got = tuple(report.call(block, torch.randn(2, in_channels, 8, 8)).shape)
            expected = (2, out_channels, 8 // stride, 8 // stride)
            return got == expected, expected, got, projection

        projection = "when the stride or the channel count changes, the shortcut needs a 1x1 convolution (with BatchNorm) of that stride to match shapes"
        report.check(f"{in_channels} -> {out_channels} channels, stride {stride}: output shape", body, if_error=projection)

    def parameter_count():
        count = lambda block: sum(p.numel() for p in block.parameters())  # noqa: E731
        expected, got = count(reference(16, 32, 2)), count(report.call(learner, 16, 32, 2))
        meaning = "two 3x3 convolutions without bias (BatchNorm follows each), two BatchNorms, and a 1x1 projection with its BatchNorm"
        return got == expected, expected, got, meaning

    def identity_shortcut():
        block = report.call(learner, 8, 8, 1)
        with torch.no_grad():
            for module in block.modules():
                if isinstance(module, torch.nn.BatchNorm2d):
                    module.weight.zero_()  # the residual branch now adds nothing
        block.eval()
        x = torch.randn(2, 8, 8, 8)
        got = report.call(block, x)
        return (
            same(got, torch.relu(x)),
            torch.relu(x),
            got,
            "with the residual branch silenced the block must give relu(x): add the input back (x + F(x)) before the final ReLU",
        )

    output_shape(16, 16, 1)
    output_shape(16, 32, 2)
    report.check("parameter count of a 16 -> 32, stride 2 block", parameter_count)
    report.check("the shortcut adds the input itself when shapes match", identity_shortcut)


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
    checks=_check_residual,
    mistakes=(Mistake("no projection when the shapes change", _block_code("self.shortcut = nn.Identity()"), "1x1 convolution"),),
    items=(
        "resnet-02-residual-block-work-mathematically",
        "resnet-22-happens-dimensions-skip-connection",
        "resnet-42-residual-logic-f-x-vs",
    ),
)


# ---------------------------------------------------------------- Kaiming initialisation


def _check_kaiming(learner, reference, report) -> None:
    import math

    import torch
    from torch import nn

    def model():
        torch.manual_seed(0)
        return nn.Sequential(nn.Conv2d(64, 128, 3), nn.ReLU(), nn.Conv2d(128, 128, 3), nn.ReLU(), nn.Flatten(), nn.Linear(512, 10))

    def initialised():
        net = model()
        report.call(learner, net)
        return net

    def conv_std(index: int, fan_in: int) -> None:
        def body():
            got = initialised()[index].weight.std().item()
            expected = math.sqrt(2.0 / fan_in)
            return (
                abs(got - expected) < 0.05 * expected,
                expected,
                got,
                "Kaiming (He) normal for ReLU: std = sqrt(2 / fan_in), fan_in = in_channels * kernel area",
            )

        report.check(f"conv {index}: weight std is sqrt(2 / {fan_in})", body)

    def biases_zero():
        net = initialised()
        biases = [m.bias for m in net.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
        largest = max(b.abs().max().item() for b in biases)
        return largest == 0.0, 0.0, largest, "set every bias to zero"

    conv_std(0, 64 * 9)
    conv_std(2, 128 * 9)
    report.check("biases start at zero", biases_zero)


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
    checks=_check_kaiming,
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
