"""Sizes a viva asks for: a convolution's output size, a layer's parameters, a model's count."""

from exercises.library import code
from exercises.library.kit import cases_check, draw_seed, variant
from exercises.model import Exercise, Mistake
from exercises.report import Check, values

# ---------------------------------------------------------------- conv output size


def _conv_size_no_plus_one(size, kernel, stride, padding, dilation=1):
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride


def _conv_size_no_dilation(size, kernel, stride, padding, dilation=1):
    return (size + 2 * padding - kernel) // stride + 1


def _conv_size_ceil(size, kernel, stride, padding, dilation=1):
    return -(-(size + 2 * padding - dilation * (kernel - 1) - 1) // stride) + 1


def _conv_size_one_padding(size, kernel, stride, padding, dilation=1):
    return (size + padding - dilation * (kernel - 1) - 1) // stride + 1


def _conv_size_checks(rng):
    meaning = "out = floor((size + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1"
    mistakes = (
        variant(_conv_size_no_plus_one, "add 1 (+ 1): the kernel's first position counts too"),
        variant(_conv_size_no_dilation, "a dilated kernel spans dilation * (kernel - 1) + 1 pixels: use that instead of kernel"),
        variant(_conv_size_ceil, "round down (floor), as Conv2d does: a window that does not fit is dropped"),
        variant(_conv_size_one_padding, "padding is added on both sides: 2 * padding"),
    )

    def layers(count: int, strides: tuple, dilations: tuple, default_dilation: bool = False) -> list[tuple]:
        drawn = []
        while len(drawn) < count:
            size, kernel, stride, padding, dilation = (
                rng.randint(5, 65),
                rng.choice([1, 2, 3, 5, 7]),
                rng.choice(strides),
                rng.randint(0, 3),
                rng.choice(dilations),
            )
            if dilation * (kernel - 1) + 1 <= size + 2 * padding and (
                stride == 1 or (size + 2 * padding - dilation * (kernel - 1) - 1) % stride
            ):
                drawn.append((size, kernel, stride, padding) if default_dilation else (size, kernel, stride, padding, dilation))
        return drawn

    return [
        cases_check("8 layers with stride 1", "conv_output_size", layers(8, (1,), (1,)), meaning, variants=mistakes),
        cases_check(
            "8 layers with stride 2 or 3, where the floor matters", "conv_output_size", layers(8, (2, 3), (1,)), meaning, variants=mistakes
        ),
        cases_check("6 dilated layers", "conv_output_size", layers(6, (1, 2), (2, 3)), meaning, variants=mistakes),
        cases_check(
            "4 layers with dilation left at its default",
            "conv_output_size",
            layers(4, (1, 2), (1,), default_dilation=True),
            meaning,
            variants=mistakes,
        ),
        cases_check("a kernel as large as the input", "conv_output_size", [(7, 7, 1, 0), (5, 5, 2, 0)], meaning, variants=mistakes),
    ]


CONV_OUTPUT_SIZE = Exercise(
    id="conv-output-size",
    title="A convolution's output size",
    function="conv_output_size",
    prompt="Write `conv_output_size(size, kernel, stride, padding, dilation=1)`: the height (or width) a `Conv2d` produces from a `size` x `size` input.\n",
    starter=code("""
        def conv_output_size(size, kernel, stride, padding, dilation=1):
            raise NotImplementedError("the output size")
    """),
    solution=code("""
        def conv_output_size(size, kernel, stride, padding, dilation=1):
            effective_kernel = dilation * (kernel - 1) + 1  # the span a dilated kernel covers
            return (size + 2 * padding - effective_kernel) // stride + 1
    """),
    hint="How many stride steps fit in (size + 2 * padding - kernel span), plus the first position.",
    checks=_conv_size_checks,
    mistakes=(
        Mistake(
            "forgetting the + 1",
            code("""
            def conv_output_size(size, kernel, stride, padding, dilation=1):
                return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride
        """),
            "+ 1",
        ),
    ),
    items=("viva-02-models-classifier-nn-linear-128", "resnet-34-tensor-shape-flow-first-layers", "resnet-33-use-conv2d-stride-2-instead"),
)


# ---------------------------------------------------------------- a conv layer's parameters


def _conv_params_no_groups(in_channels, out_channels, kernel, bias, groups=1):
    return out_channels * in_channels * kernel * kernel + (out_channels if bias else 0)


def _conv_params_bias_always(in_channels, out_channels, kernel, bias, groups=1):
    return out_channels * (in_channels // groups) * kernel * kernel + out_channels


def _conv_params_both_divided(in_channels, out_channels, kernel, bias, groups=1):
    return (out_channels // groups) * (in_channels // groups) * kernel * kernel + (out_channels if bias else 0)


def _conv_params_kernel_once(in_channels, out_channels, kernel, bias, groups=1):
    return out_channels * (in_channels // groups) * kernel + (out_channels if bias else 0)


def _conv_params_checks(rng):
    meaning = "weights: out_channels * (in_channels / groups) * kernel * kernel, plus out_channels biases when bias=True"
    mistakes = (
        variant(_conv_params_bias_always, "bias=False means no bias: add out_channels only when bias is True"),
        variant(_conv_params_no_groups, "with groups, each filter sees in_channels / groups input channels"),
        variant(_conv_params_both_divided, "divide only the input channels by groups: there are still out_channels filters"),
        variant(_conv_params_kernel_once, "a kernel x kernel filter has kernel * kernel weights per input channel"),
    )

    def layer(bias: bool, grouped: bool) -> tuple:
        groups = rng.choice([2, 4, 8]) if grouped else 1
        in_channels, out_channels = groups * rng.randint(1, 16), groups * rng.randint(1, 24)
        return (in_channels, out_channels, rng.choice([1, 3, 5, 7]), bias, groups)

    depthwise = rng.choice([16, 32, 64])
    return [
        cases_check("5 layers with a bias", "conv_parameters", [layer(True, False) for _ in range(5)], meaning, variants=mistakes),
        cases_check(
            "5 layers without bias (before BatchNorm)",
            "conv_parameters",
            [layer(False, False) for _ in range(5)],
            meaning,
            variants=mistakes,
        ),
        cases_check("5 grouped layers", "conv_parameters", [layer(rng.random() < 0.5, True) for _ in range(5)], meaning, variants=mistakes),
        cases_check(
            "a depthwise layer (groups = channels)",
            "conv_parameters",
            [(depthwise, depthwise, 3, True, depthwise)],
            meaning,
            variants=mistakes,
        ),
        cases_check(
            "groups left at its default",
            "conv_parameters",
            [layer(rng.random() < 0.5, False)[:4] for _ in range(3)],
            meaning,
            variants=mistakes,
        ),
    ]


CONV_PARAMETERS = Exercise(
    id="conv-parameters",
    title="Parameters of a convolution",
    function="conv_parameters",
    prompt="Write `conv_parameters(in_channels, out_channels, kernel, bias, groups=1)`: the number of learnable parameters of that `nn.Conv2d`.\n",
    starter=code("""
        def conv_parameters(in_channels, out_channels, kernel, bias, groups=1):
            raise NotImplementedError("count the parameters")
    """),
    solution=code("""
        def conv_parameters(in_channels, out_channels, kernel, bias, groups=1):
            weights = out_channels * (in_channels // groups) * kernel * kernel  # each filter sees in_channels / groups
            return weights + (out_channels if bias else 0)
    """),
    hint="One kernel x kernel filter per (output channel, input channel of its group), plus one bias per output channel.",
    checks=_conv_params_checks,
    mistakes=(
        Mistake(
            "counting the bias even when bias=False",
            code("""
            def conv_parameters(in_channels, out_channels, kernel, bias, groups=1):
                return out_channels * (in_channels // groups) * kernel * kernel + out_channels
        """),
            "bias=False",
        ),
    ),
    items=("resnet-19-remove-bias-conv2d-using-batchnorm", "resnet-57-parameter-count-resnet9"),
)


# ---------------------------------------------------------------- a model's trainable parameters


def _count_model(kind: str, seed: int):
    import torch
    from torch import nn

    torch.manual_seed(seed)
    width = 4 + seed % 5
    if kind == "own parameter":

        class Scaled(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Sequential(nn.Linear(5, width), nn.ReLU(), nn.Linear(width, 3))
                self.scale = nn.Parameter(torch.ones(3))  # the model's own, not a child layer's

            def forward(self, x):
                return self.body(x) * self.scale

        return Scaled()
    net = nn.Sequential(
        nn.Conv2d(3, width, 3),
        nn.BatchNorm2d(width),
        nn.ReLU(),
        nn.Sequential(nn.Conv2d(width, 6, 3), nn.ReLU()),
        nn.Flatten(),
        nn.Linear(6 * 4 * 4, 10),
    )
    if kind == "frozen extractor":
        for p in net[:4].parameters():
            p.requires_grad = False
    elif kind == "frozen bias":
        net[5].bias.requires_grad = False
        net[1].weight.requires_grad = False
    return net


def _count_modules(model):
    return sum(p.numel() for module in model.modules() for p in module.parameters() if p.requires_grad)


def _count_children(model):
    return sum(p.numel() for child in model.children() for p in child.parameters() if p.requires_grad)


def _count_checks(rng):
    meaning = "sum p.numel() over model.parameters() with p.requires_grad: frozen parameters do not train, and buffers (BatchNorm's running statistics) are not parameters"
    mistakes = (
        variant(
            lambda model: sum(p.numel() for p in model.parameters()),
            "frozen parameters (requires_grad False) are not trained: count only those with requires_grad",
        ),
        variant(
            lambda model: sum(t.numel() for t in model.state_dict().values()),
            "the state_dict holds buffers too (BatchNorm's running statistics): count model.parameters()",
        ),
        variant(
            _count_modules,
            "model.modules() includes the containers, whose parameters() repeat their children's: iterate model.parameters() once",
        ),
        variant(
            _count_children, "a module's own parameters (not in a child layer) are missed by model.children(): iterate model.parameters()"
        ),
    )
    compare = values(meaning, variants=mistakes)
    seeds = [draw_seed(rng) for _ in range(4)]
    names = {"every parameter trainable": "every parameter trainable (BatchNorm's buffers are not parameters)", "frozen extractor": "a frozen feature extractor",
             "frozen bias": "one bias and one BatchNorm weight frozen", "own parameter": "a module with an nn.Parameter of its own beside a child layer"}  # fmt: skip
    return [
        Check(names[kind], lambda fn, kind=kind, seed=seed: fn(_count_model(kind, seed)), compare)
        for kind, seed in zip(names, seeds, strict=True)
    ]


COUNT_TRAINABLE = Exercise(
    id="count-trainable",
    title="Count a model's trainable parameters",
    function="count_trainable",
    prompt="Write `count_trainable(model)`: the number of parameters the optimizer will update (frozen ones excluded).\n",
    starter=code("""
        def count_trainable(model):
            raise NotImplementedError("count them")
    """),
    solution=code("""
        def count_trainable(model):
            return sum(p.numel() for p in model.parameters() if p.requires_grad)
    """),
    hint="model.parameters() and requires_grad.",
    checks=_count_checks,
    mistakes=(
        Mistake(
            "counting frozen parameters too",
            code("""
            def count_trainable(model):
                return sum(p.numel() for p in model.parameters())
        """),
            "requires_grad",
        ),
        Mistake(
            "counting the state_dict (buffers included)",
            code("""
            def count_trainable(model):
                return sum(t.numel() for t in model.state_dict().values())
        """),
            "buffers",
        ),
    ),
    items=("fundamentals-06-freezing-example-set-param-requires",),
)

EXERCISES = (CONV_OUTPUT_SIZE, CONV_PARAMETERS, COUNT_TRAINABLE)
