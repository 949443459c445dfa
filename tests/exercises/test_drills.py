"""Each drill family's PyTorch-computed answer against an independent computation: the closed
formula a learner would use, over many seeds."""

import math
import re

import pytest

from exercises.drills import FAMILIES, grade_drill, make_drill

SEEDS = range(25)


def _ints(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", text)]


def _numbers(text: str) -> list[float]:
    return [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", text)]


def _bracketed(text: str) -> list[float]:
    return [float(v) for v in re.search(r"\[([^\]]*)\]", text).group(1).split(",")]


def _keyword(q, name):
    return int(re.search(rf"{name}=(\d+)", q).group(1))


def _conv_output(q):
    size = _ints(q)[0]
    kernel, stride, padding = _keyword(q, "kernel_size"), _keyword(q, "stride"), _keyword(q, "padding")
    return (size + 2 * padding - kernel) // stride + 1


def _pool_output(q):
    kernel, stride, size = _keyword(q, "kernel_size"), _keyword(q, "stride"), int(re.search(r"a (\d+)x", q).group(1))
    ceil = "ceil_mode=True" in q
    out = (math.ceil if ceil else math.floor)((size - kernel) / stride) + 1
    if ceil and (out - 1) * stride >= size:  # PyTorch: the last window must start inside the input
        out -= 1
    return out


def _conv_parameters(q):
    in_ch, out_ch, kernel = _ints(q.split("Conv2d")[1])[:3]
    return out_ch * in_ch * kernel * kernel + (out_ch if "bias=True" in q else 0)


def _block_parameters(q):
    in_ch, out_ch = _ints(q.split("Conv2d")[1])[:2]
    return out_ch * in_ch * 9 + 2 * out_ch


def _receptive_field(q):
    layers = [(int(k), int(s)) for k, s in re.findall(r"(\d)x\d stride (\d)", q)]
    field, jump = 1, 1
    for kernel, stride in layers:
        field += (kernel - 1) * jump
        jump *= stride
    return field


def _step_lr(q):
    step_size, gamma, base, epoch = _numbers(q.replace("StepLR", ""))[:4]
    return base * gamma ** (int(epoch) // int(step_size))


def _cosine_lr(q):
    total, _, base, step = _numbers(q.replace("CosineAnnealingLR", ""))[:4]
    return base * (1 + math.cos(math.pi * step / total)) / 2


def _one_cycle_lr(q):
    max_lr, total = _numbers(q)[:2]
    step = _numbers(q)[-1]
    initial, final = max_lr / 25, max_lr / 25 / 1e4
    up_end = 0.3 * total - 1
    cos = lambda a, b, f: b + (a - b) / 2 * (1 + math.cos(math.pi * f))  # noqa: E731
    return cos(initial, max_lr, step / up_end) if step <= up_end else cos(max_lr, final, (step - up_end) / (total - 1 - up_end))


def _warmup_lr(q):
    start, warmup, base, step = _numbers(q.replace("LinearLR", ""))[:4]
    return base * (start + (1 - start) * step / warmup)


def _tensor_memory(q):
    sizes = {"float32": 4, "float16": 2, "bfloat16": 2, "uint8": 1, "int64": 8}
    dtype = re.search(r"a (\w+) tensor", q).group(1)
    return math.prod(_ints(q.split("shape")[1])) * sizes[dtype]


def _softmax(q):
    logits, k = _bracketed(q), _ints(q.split("class")[1])[0]
    return math.exp(logits[k]) / sum(math.exp(v) for v in logits)


def _cross_entropy(q):
    logits, label = _bracketed(q), _ints(q.split("true class")[1])[0]
    return math.log(sum(math.exp(v) for v in logits)) - logits[label]


def _batchnorm_output(q):
    values, i = _bracketed(q), _ints(q.split("output")[1])[0]
    mean = sum(values) / 4
    var = sum((v - mean) ** 2 for v in values) / 4  # biased, as BatchNorm normalises
    return (values[i] - mean) / math.sqrt(var + 1e-5)


def _effective_batch(q):
    batch, accumulation, devices = _ints(q)[:3]
    return batch * accumulation * devices


def _steps_per_epoch(q):
    images, batch = int(q.split(" training")[0].replace(",", "")), _ints(q.split("batch size")[1])[0]
    return images // batch if "drop_last=True" in q else math.ceil(images / batch)


def _images_per_epoch(q):
    images, batch = int(q.split(" training")[0].replace(",", "")), _ints(q.split("batch size")[1])[0]
    return images // batch * batch


INDEPENDENT = {
    "conv-output": _conv_output, "pool-output": _pool_output, "conv-parameters": _conv_parameters,
    "block-parameters": _block_parameters, "receptive-field": _receptive_field, "step-lr": _step_lr, "cosine-lr": _cosine_lr,
    "one-cycle-lr": _one_cycle_lr, "warmup-lr": _warmup_lr, "tensor-memory": _tensor_memory, "softmax": _softmax,
    "cross-entropy": _cross_entropy, "batchnorm-output": _batchnorm_output, "effective-batch": _effective_batch,
    "steps-per-epoch": _steps_per_epoch, "images-per-epoch": _images_per_epoch,
}  # fmt: skip


def test_at_least_12_families_each_with_an_independent_oracle():
    assert len(FAMILIES) >= 12 and set(INDEPENDENT) == set(FAMILIES)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_the_computed_answer_matches_an_independent_computation(family):
    for seed in SEEDS:
        drill = make_drill(family, seed)
        expected = INDEPENDENT[family](drill.question)
        assert abs(drill.answer - expected) <= max(drill.tolerance, 1e-9) / 2 + 1e-6 * abs(expected), (
            seed,
            drill.question,
            drill.answer,
            expected,
        )


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_a_seed_reproduces_its_drill_and_seeds_vary(family):
    assert make_drill(family, 3) == make_drill(family, 3)
    assert len({make_drill(family, seed).question for seed in SEEDS}) > 3


def test_grading_uses_the_stated_tolerance():
    drill = make_drill("softmax", 2)
    assert grade_drill(drill, f"{drill.answer + drill.tolerance * 0.9:.6f}").correct
    assert not grade_drill(drill, f"{drill.answer + drill.tolerance * 1.5:.6f}").correct
    exact = make_drill("tensor-memory", 1)
    assert grade_drill(exact, f"{int(exact.answer):,} bytes").correct  # thousands separators and units are fine
    assert not grade_drill(exact, f"{int(exact.answer) + 1}").correct
    assert grade_drill(exact, "no idea").message == "type a number"
