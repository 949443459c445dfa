"""Sizes a viva asks for: a convolution's output size, a layer's parameters, a model's count."""

from exercises.library import code
from exercises.model import Exercise, Mistake

# ---------------------------------------------------------------- conv output size


def _check_conv_size(learner, _reference, report) -> None:
    import torch
    from torch import nn

    meaning = "out = floor((size + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1"

    def case(size: int, kernel: int, stride: int, padding: int, dilation: int = 1) -> None:
        def body():
            layer = nn.Conv2d(1, 1, kernel, stride, padding, dilation)
            expected = layer(torch.zeros(1, 1, size, size)).shape[-1]  # torch itself is the oracle
            got = report.call(learner, size, kernel, stride, padding, dilation)
            return got == expected, expected, got, meaning

        report.check(f"size {size}, kernel {kernel}, stride {stride}, padding {padding}, dilation {dilation}", body, if_error=meaning)

    case(32, 3, 1, 1)
    case(32, 3, 2, 1)  # an odd remainder: the floor matters
    case(7, 7, 1, 0)  # down to one pixel
    case(28, 5, 3, 2, 2)


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
    checks=_check_conv_size,
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


def _check_conv_params(learner, _reference, report) -> None:
    from torch import nn

    meaning = "weights: out_channels * (in_channels / groups) * kernel * kernel, plus out_channels biases when bias=True"

    def case(in_channels: int, out_channels: int, kernel: int, bias: bool, groups: int = 1) -> None:
        def body():
            layer = nn.Conv2d(in_channels, out_channels, kernel, bias=bias, groups=groups)
            expected = sum(p.numel() for p in layer.parameters())
            got = report.call(learner, in_channels, out_channels, kernel, bias, groups)
            return got == expected, expected, got, meaning

        report.check(f"Conv2d({in_channels}, {out_channels}, {kernel}, bias={bias}, groups={groups})", body, if_error=meaning)

    case(3, 64, 3, True)
    case(64, 128, 3, False)  # before BatchNorm: no bias
    case(32, 32, 3, True, groups=32)  # depthwise


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
    checks=_check_conv_params,
    mistakes=(
        Mistake(
            "counting the bias even when bias=False",
            code("""
            def conv_parameters(in_channels, out_channels, kernel, bias, groups=1):
                return out_channels * (in_channels // groups) * kernel * kernel + out_channels
        """),
            "bias=True",
        ),
    ),
    items=("resnet-19-remove-bias-conv2d-using-batchnorm", "resnet-57-parameter-count-resnet9"),
)


# ---------------------------------------------------------------- a model's trainable parameters


def _check_count(learner, _reference, report) -> None:
    from torch import nn

    def model(freeze: bool):
        net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 30 * 30, 10))
        if freeze:
            for p in net[:2].parameters():
                p.requires_grad = False  # a frozen feature extractor
        return net

    meaning = "sum p.numel() over model.parameters() with p.requires_grad: frozen parameters do not train, and buffers (BatchNorm's running statistics) are not parameters"

    def case(name: str, freeze: bool) -> None:
        def body():
            net = model(freeze)
            expected = sum(p.numel() for p in net.parameters() if p.requires_grad)
            got = report.call(learner, net)
            return got == expected, expected, got, meaning

        report.check(name, body, if_error=meaning)

    case("every parameter trainable", False)
    case("the first conv and its BatchNorm frozen", True)


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
    checks=_check_count,
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
