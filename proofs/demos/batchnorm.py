"""BatchNorm: its formula, train vs eval mode on SimpleCNN, running statistics, bias cancellation,
folding, batch noise, and an eval-mode accuracy drop that BatchNorm causes and dropout does not."""

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode
from torch.utils.data import DataLoader, TensorDataset

from cifar_core.models import SimpleCNN
from cifar_core.steps import training_step
from cifar_core.train import collect_predictions, train_epoch
from proofs.registry import DemoResult, Param, demo


@demo(
    "bn-train-vs-eval",
    "BatchNorm's formula in train mode",
    "In train mode BatchNorm2d computes gamma * (x - mean) / sqrt(var + eps) + beta per channel, with the mean and biased "
    "variance over the batch and the spatial positions; gamma and beta are learned.",
    Param("batch_size", 64, 2, 512),
    mistake="normalising each image over its own channels (per-sample statistics), as if BatchNorm were a per-image norm",
)
def bn_train_vs_eval(batch_size: int, broken: bool = False) -> DemoResult:
    result = DemoResult()
    bn = nn.BatchNorm2d(3).train()
    with torch.no_grad():  # non-trivial gamma and beta, so the formula is tested in full
        bn.weight.uniform_(0.5, 2.0)
        bn.bias.uniform_(-1.0, 1.0)
    x = torch.randn(batch_size, 3, 8, 8) * 5 + 3  # (B, C, H, W), far from mean 0, std 1
    out = bn(x)
    over = (1, 2, 3) if broken else (0, 2, 3)  # per channel: batch and positions; broken: per image
    mean, var = x.mean(over, keepdim=True), x.var(over, unbiased=False, keepdim=True)
    by_hand = bn.weight.view(1, 3, 1, 1) * (x - mean) / torch.sqrt(var + bn.eps) + bn.bias.view(1, 3, 1, 1)
    gap = (out - by_hand).abs().max().item()
    result.check("train mode: output = gamma * (x - batch mean) / sqrt(batch var + eps) + beta", gap < 1e-4, max_abs_difference=gap)
    out.sum().backward()
    learned = isinstance(bn.weight, nn.Parameter) and bn.weight.grad is not None and bn.bias.grad is not None
    result.check("gamma and beta are parameters that receive gradients", learned, beta_grad_norm=bn.bias.grad.norm())
    return result


def _spread(model: nn.Module, first: torch.Tensor, second: torch.Tensor, evaluate) -> tuple[float, float]:
    """(max change between two passes on the same batch, max change of image 0 between two batches)."""
    a, b = evaluate(model, first), evaluate(model, first)
    other = evaluate(model, torch.cat([first[:1], second]))
    return (a - b).abs().max().item(), (a[0] - other[0]).abs().max().item()


def _loader(images: torch.Tensor) -> DataLoader:
    return DataLoader(TensorDataset(images, torch.zeros(len(images), dtype=torch.long)), batch_size=len(images))


def _running_mean(model: SimpleCNN) -> torch.Tensor:
    return model.features[1].running_mean.clone()


@demo(
    "model-eval-vs-no-grad",
    "model.eval() vs torch.no_grad() on SimpleCNN",
    "model.eval() switches SimpleCNN's Dropout off and its BatchNorm layers to running statistics, so a prediction repeats "
    "exactly and does not depend on the rest of the batch; torch.no_grad() only stops gradient tracking and leaves both "
    "layers in training behaviour.",
    mistake="evaluating under torch.no_grad() without model.eval(), as if no_grad switched dropout and BatchNorm to inference",
    threads=1,
)
def model_eval_vs_no_grad(broken: bool = False) -> DemoResult:
    result = DemoResult()
    model = SimpleCNN()
    first, second = torch.randn(16, 3, 32, 32), torch.randn(15, 3, 32, 32)

    def project_eval(m, images):  # cifar_core's evaluation: model.eval() inside torch.no_grad()
        return collect_predictions(m, torch.device("cpu"), _loader(images))[0]

    def no_grad_only(m, images):
        with torch.no_grad():
            return m.train()(images)

    before = _running_mean(model)
    repeat, batch_effect = _spread(model, first, second, no_grad_only if broken else project_eval)
    moved = (_running_mean(model) - before).abs().max().item()
    result.check(
        "evaluation: a prediction repeats exactly, ignores the rest of the batch, and leaves the running statistics alone",
        repeat < 1e-5 and batch_effect < 1e-5 and moved == 0.0,
        change_between_passes=repeat, change_with_other_batch=batch_effect, running_mean_moved=moved,
    )  # fmt: skip
    repeat_ng, batch_ng = _spread(model, first, second, no_grad_only)
    result.check(
        "torch.no_grad() alone: dropout still active and BatchNorm still uses the batch",
        repeat_ng > 1e-3 and batch_ng > 1e-3,
        change_between_passes=repeat_ng,
        change_with_other_batch=batch_ng,
    )
    with torch.no_grad():
        grad_free = not project_eval(model, first).requires_grad
    result.check("collect_predictions' outputs carry no graph", grad_free)
    return result


@demo(
    "train-after-eval",
    "model.train() after evaluating",
    "After an evaluation pass (model.eval()), training must switch back with model.train(): cifar_core's train_epoch does, "
    "so dropout drops units again and BatchNorm's running statistics update.",
    mistake="training after evaluation without calling model.train() again (a hand loop over training_step)",
    threads=1,
)
def train_after_eval(broken: bool = False) -> DemoResult:
    result = DemoResult()
    model = SimpleCNN()
    images, labels = torch.randn(16, 3, 32, 32) * 2 + 1, torch.randint(0, 10, (16,))
    loader = DataLoader(TensorDataset(images, labels), batch_size=8)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    collect_predictions(model, torch.device("cpu"), loader)  # evaluation: leaves the model in eval mode
    dropped: list[float] = []  # per batch: the share of the dropout layer's non-zero inputs it zeroed

    def record(_module, inputs, out):
        alive = inputs[0] != 0
        dropped.append(((out == 0) & alive).sum().item() / max(alive.sum().item(), 1))

    model.classifier[3].register_forward_hook(record)
    before = _running_mean(model)
    if broken:
        for x, y in loader:
            training_step(model, x, y, nn.CrossEntropyLoss(), optimizer)
    else:
        train_epoch(model, torch.device("cpu"), loader, nn.CrossEntropyLoss(), optimizer)
    moved = (_running_mean(model) - before).abs().max().item()
    result.check(
        "training after evaluation: dropout drops units again and BatchNorm's running mean moves",
        moved > 1e-3 and min(dropped) > 0.3,
        running_mean_moved=moved,
        share_dropped=min(dropped),
    )
    return result


@demo(
    "bn-running-mean-momentum",
    "BatchNorm in training vs at inference",
    "In training BatchNorm1d normalises with the batch's mean and biased variance, and after each batch moves "
    "running_mean = 0.9 * old + 0.1 * batch mean and running_var = 0.9 * old + 0.1 * the unbiased batch variance "
    "(momentum 0.1); at inference (eval mode) it normalises with those running statistics, so even a single example works.",
    Param("momentum", 0.1, 0.01, 1.0),
    mistake="reading momentum the Keras way (new = momentum * old + (1 - momentum) * batch) with the biased variance",
)
def bn_running_mean_momentum(momentum: float, broken: bool = False) -> DemoResult:
    result = DemoResult()
    bn = nn.BatchNorm1d(4, momentum=momentum).train()
    with torch.no_grad():  # non-trivial gamma and beta, so both formulas are tested in full
        bn.weight.uniform_(0.5, 2.0)
        bn.bias.uniform_(-1.0, 1.0)
    gamma, beta = bn.weight.detach(), bn.bias.detach()
    expected_mean, expected_var = torch.zeros(4), torch.ones(4)  # PyTorch's starting running statistics
    train_gap = 0.0
    keep = momentum if broken else 1 - momentum  # PyTorch's momentum weights the new batch
    for _ in range(3):  # three training batches (B, C) = (32, 4)
        x = torch.randn(32, 4) * 2 + 5
        out = bn(x)
        by_hand = gamma * (x - x.mean(0)) / torch.sqrt(x.var(0, unbiased=False) + bn.eps) + beta
        train_gap = max(train_gap, (out - by_hand).abs().max().item())
        expected_mean = keep * expected_mean + (1 - keep) * x.mean(0)
        expected_var = keep * expected_var + (1 - keep) * x.var(0, unbiased=not broken)
    running_gap = max((bn.running_mean - expected_mean).abs().max().item(), (bn.running_var - expected_var).abs().max().item())
    one = torch.randn(1, 4) * 2 + 5
    inference = bn.eval()(one)
    inference_gap = (inference - (gamma * (one - expected_mean) / torch.sqrt(expected_var + bn.eps) + beta)).abs().max().item()
    result.check(
        "training: batch statistics, running stats (1 - momentum) * old + momentum * batch (unbiased var); "
        "inference: the running stats",
        train_gap < 1e-4 and running_gap < 1e-4 and inference_gap < 1e-4,
        train_output_gap=train_gap, running_stats_gap=running_gap, inference_output_gap=inference_gap,
    )  # fmt: skip
    try:
        nn.BatchNorm1d(4).train()(torch.randn(1, 4))
        refused = "no"
    except ValueError:
        refused = "yes"
    single = nn.BatchNorm1d(4).eval()(torch.randn(1, 4))
    result.check(
        "train mode refuses a batch of one (one value per channel); eval mode accepts it",
        refused == "yes" and single.shape == (1, 4),
        train_mode_raised=refused,
    )
    return result


@demo(
    "bn-running-stats-at-inference",
    "running_mean is used at inference",
    "running_mean and running_var average the training batches' statistics; in eval mode even a single example is "
    "normalised with them, not with its own statistics.",
    Param("batches", 100, 30, 1000),
    mistake="taking running_mean for the mean of the current batch",
    threads=1,
)
def bn_running_stats_at_inference(batches: int, broken: bool = False) -> DemoResult:
    result = DemoResult()
    bn = nn.BatchNorm1d(4).train()
    with torch.no_grad():
        for _ in range(batches):
            bn(torch.randn(32, 4) * 2 + 5)  # training data: mean 5, variance 4
    one = torch.randn(1, 4) * 2 + 5
    out = bn.eval()(one)
    mean, var = (one.mean(0), one.var(0, unbiased=False)) if broken else (bn.running_mean, bn.running_var)
    gap = (out - (one - mean) / torch.sqrt(var + bn.eps)).abs().max().item()
    tracks = (bn.running_mean - 5).abs().max().item() < 0.5 and (bn.running_var - 4).abs().max().item() < 1.0
    result.check(
        "eval: one example normalised with running_mean/var, which track the training data (mean 5, var 4)",
        gap < 1e-4 and tracks,
        max_abs_difference=gap,
        running_mean=bn.running_mean.mean(),
        running_var=bn.running_var.mean(),
    )
    return result


@demo(
    "bn-cancels-conv-bias",
    "A conv bias before BatchNorm is cancelled",
    "BN(Wx + b) = BN(Wx): the batch mean subtraction removes any constant bias, so the conv bias is wasted.",
    Param("bias_scale", 3.0, 0.0, 100.0),
    mistake="normalising with fixed (running) statistics instead of the batch's, which keeps the bias",
)
def bn_cancels_conv_bias(bias_scale: float, broken: bool = False) -> DemoResult:
    result = DemoResult()
    with_bias = nn.Conv2d(3, 8, 3, padding=1, bias=True)
    without_bias = nn.Conv2d(3, 8, 3, padding=1, bias=False)
    with torch.no_grad():
        without_bias.weight.copy_(with_bias.weight)
        with_bias.bias.copy_(torch.randn(8) * bias_scale)
    bn = nn.BatchNorm2d(8).train(not broken)
    x = torch.randn(16, 3, 16, 16)
    gap = (bn(with_bias(x)) - bn(without_bias(x))).abs().max().item()
    result.check("outputs identical with and without the bias", gap < 1e-4, max_abs_difference=gap)
    return result


class _CalledFunctions(TorchFunctionMode):
    """Records the torch functions a forward pass actually calls (conv2d, batch_norm, ...)."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.names.append(getattr(func, "__name__", str(func)))
        return func(*args, **(kwargs or {}))


@demo(
    "bn-fold-into-conv",
    "Folding BatchNorm into the conv at inference",
    "At inference BatchNorm is a per-channel affine map that torch's fuse_conv_bn_eval folds exactly into the preceding "
    "conv; model.eval() alone does not fold it: its forward still calls batch_norm after the conv (the functions each "
    "forward calls are recorded with a TorchFunctionMode).",
    Param("channels", 16, 1, 128),
    mistake="taking model.eval() for the fold, as if eval mode removed BatchNorm's work",
)
def bn_fold_into_conv(channels: int, broken: bool = False) -> DemoResult:
    result = DemoResult()
    conv, bn = nn.Conv2d(3, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels)
    with torch.no_grad():  # give BN non-trivial statistics and affine parameters
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-1, 1)
    model = nn.Sequential(conv, bn).eval()
    x = torch.randn(4, 3, 16, 16)
    with torch.no_grad(), _CalledFunctions() as eval_calls:
        reference = model(x)
    inference = model if broken else nn.Sequential(torch.nn.utils.fusion.fuse_conv_bn_eval(conv, bn))
    with torch.no_grad(), _CalledFunctions() as inference_calls:
        gap = (inference(x) - reference).abs().max().item()
    kernels = [name for name in inference_calls.names if name in ("conv2d", "batch_norm")]
    result.check(
        "the folded model runs one conv and no batch_norm, with the same outputs",
        kernels == ["conv2d"] and gap < 1e-4,
        functions_called=" ".join(kernels), max_abs_difference=gap,
    )  # fmt: skip
    # Second route: w' = w * gamma / s and b' = beta - mean * gamma / s, with s = sqrt(running_var + eps).
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    fused = torch.nn.utils.fusion.fuse_conv_bn_eval(conv, bn)
    closed = (fused.weight - conv.weight * scale.view(-1, 1, 1, 1)).abs().max().item() + (
        fused.bias - (bn.bias - bn.running_mean * scale)
    ).abs().max().item()
    result.check("the fused weights follow the closed form", closed < 1e-5, max_abs_difference=closed)
    eval_kernels = [name for name in eval_calls.names if name in ("conv2d", "batch_norm")]
    result.check(
        "model.eval() alone still calls batch_norm after the conv",
        eval_kernels == ["conv2d", "batch_norm"],
        functions=" ".join(eval_kernels),
    )
    return result


@demo(
    "bn-batch-noise",
    "BatchNorm adds batch-dependent noise",
    "In train mode the same image gives different outputs in different batches (noise that regularises); in eval mode "
    "it gives the same output.",
    Param("batch_size", 8, 2, 256),
    mistake="training with BatchNorm's statistics frozen (eval mode), which removes the batch noise",
)
def bn_batch_noise(batch_size: int, broken: bool = False) -> DemoResult:
    result = DemoResult()
    bn = nn.BatchNorm1d(16)
    sample = torch.randn(1, 16)
    batch_a = torch.cat([sample, torch.randn(batch_size - 1, 16)])
    batch_b = torch.cat([sample, torch.randn(batch_size - 1, 16)])
    bn.train(not broken)
    train_gap = (bn(batch_a)[0] - bn(batch_b)[0]).abs().mean().item()
    bn.eval()
    eval_gap = (bn(batch_a)[0] - bn(batch_b)[0]).abs().max().item()
    result.check("train mode: output depends on the rest of the batch", train_gap > 1e-3, mean_abs_difference=train_gap)
    result.check("eval mode: output independent of the batch", eval_gap < 1e-6, max_abs_difference=eval_gap)
    return result


def _eval_drop(middle: nn.Module) -> tuple[float, float]:
    """Train Linear-middle-ReLU-Linear on a 2-class task; then (train-mode, eval-mode) accuracy on shifted inputs."""
    torch.manual_seed(0)
    x = torch.randn(1024, 20)
    y = (x[:, :5].sum(1) > 0).long()
    model = nn.Sequential(nn.Linear(20, 64), middle, nn.ReLU(), nn.Linear(64, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(150):
        index = torch.randint(0, 1024, (32,))
        optimizer.zero_grad()
        F.cross_entropy(model(x[index]), y[index]).backward()
        optimizer.step()
    shifted = x[:256] * 3 + 2  # inputs scaled and shifted after training (a preprocessing change)
    with torch.no_grad():
        train_mode = (model.train()(shifted).argmax(1) == y[:256]).float().mean().item()
        eval_mode = (model.eval()(shifted).argmax(1) == y[:256]).float().mean().item()
    return train_mode, eval_mode


@demo(
    "eval-drop-from-batchnorm",
    "An accuracy drop after model.eval(): BatchNorm, not Dropout",
    "When the data no longer match BatchNorm's running statistics, switching to eval() costs accuracy that the same net "
    "had in train mode (which renormalises each batch); a net with Dropout in BatchNorm's place loses nothing at eval().",
    mistake="blaming Dropout: the net under suspicion has Dropout where the BatchNorm was",
    threads=1,
)
def eval_drop_from_batchnorm(broken: bool = False) -> DemoResult:
    result = DemoResult()
    suspect = _eval_drop(nn.Dropout(0.5) if broken else nn.BatchNorm1d(64))
    dropout_net = _eval_drop(nn.Dropout(0.5))
    drop = suspect[0] - suspect[1]
    result.check(
        "the eval() drop comes from BatchNorm: over 15 points lost on the same inputs",
        drop > 0.15,
        train_mode_accuracy=suspect[0],
        eval_mode_accuracy=suspect[1],
    )
    result.check(
        "Dropout net: eval() changes accuracy by under 5 points",
        abs(dropout_net[0] - dropout_net[1]) < 0.05,
        train_mode_accuracy=dropout_net[0],
        eval_mode_accuracy=dropout_net[1],
    )
    return result
