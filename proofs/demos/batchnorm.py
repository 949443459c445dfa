"""BatchNorm: batch vs running statistics, the momentum update, bias cancellation, folding, noise."""

import torch
from torch import nn

from proofs.registry import DemoResult, Param, demo


@demo(
    "bn-train-vs-eval",
    "BatchNorm in train vs eval mode",
    "In train mode BatchNorm normalises with the batch's statistics; in eval mode it uses its running statistics.",
    Param("batch_size", 64, 2, 512),
    mistake="evaluating with the BatchNorm layer still in train mode",
)
def bn_train_vs_eval(batch_size: int, broken: bool = False) -> DemoResult:
    result = DemoResult()
    bn = nn.BatchNorm2d(3)
    x = torch.randn(batch_size, 3, 8, 8) * 5 + 3  # far from mean 0, std 1
    train_out = bn.train()(x)
    eval_out = (bn.train() if broken else bn.eval())(x)
    mean_train, std_train = train_out.mean().item(), train_out.std().item()
    result.check(
        "train output has batch mean ~0 and std ~1", abs(mean_train) < 1e-4 and abs(std_train - 1) < 0.02, mean=mean_train, std=std_train
    )
    expected_eval = (x - bn.running_mean.view(1, 3, 1, 1)) / torch.sqrt(bn.running_var.view(1, 3, 1, 1) + bn.eps)
    gap = (eval_out - expected_eval).abs().max().item()
    result.check("eval output uses running statistics", gap < 1e-4, max_abs_difference=gap)
    result.check("train and eval outputs differ", (train_out - eval_out).abs().mean().item() > 0.1)
    return result


@demo(
    "bn-running-mean-momentum",
    "Running statistics update with momentum 0.1",
    "After one training batch, running_mean = 0.9 * old + 0.1 * batch mean, and running_var uses the unbiased batch variance.",
    Param("momentum", 0.1, 0.01, 1.0),
    mistake="reading momentum the Keras way (new = momentum * old + (1 - momentum) * batch) with the biased variance",
)
def bn_running_mean_momentum(momentum: float, broken: bool = False) -> DemoResult:
    result = DemoResult()
    bn = nn.BatchNorm1d(4, momentum=momentum).train()
    x = torch.randn(32, 4) * 2 + 5
    bn(x)
    keep = momentum if broken else 1 - momentum  # PyTorch's momentum weights the new batch
    expected_mean = keep * 0 + (1 - keep) * x.mean(0)
    expected_var = keep * 1 + (1 - keep) * x.var(0, unbiased=not broken)
    mean_gap = (bn.running_mean - expected_mean).abs().max().item()
    var_gap = (bn.running_var - expected_var).abs().max().item()
    result.check("running_mean follows the momentum update", mean_gap < 1e-5, max_abs_difference=mean_gap)
    result.check("running_var uses the unbiased variance", var_gap < 1e-4, max_abs_difference=var_gap)
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


def fold_bn_into_conv(conv: nn.Conv2d, bn: nn.BatchNorm2d, forget_shift: bool = False) -> nn.Conv2d:
    """An inference conv equal to conv followed by BN in eval mode: w' = w * g / s, b' = (b - mu) * g / s + beta."""
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    folded = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, bias=True)
    with torch.no_grad():
        folded.weight.copy_(conv.weight * scale.view(-1, 1, 1, 1))
        bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
        folded.bias.copy_((bias - bn.running_mean) * scale + (0 if forget_shift else bn.bias))
    return folded


@demo(
    "bn-fold-into-conv",
    "Folding BatchNorm into the conv at inference",
    "At inference, BatchNorm is an affine map per channel and folds exactly into the preceding conv's weights and bias.",
    Param("channels", 16, 1, 128),
    mistake="forgetting BatchNorm's shift beta in the folded bias",
)
def bn_fold_into_conv(channels: int, broken: bool = False) -> DemoResult:
    result = DemoResult()
    conv, bn = nn.Conv2d(3, channels, 3, padding=1), nn.BatchNorm2d(channels)
    with torch.no_grad():  # give BN non-trivial statistics and affine parameters
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-1, 1)
    bn.eval()
    x = torch.randn(4, 3, 16, 16)
    with torch.no_grad():
        gap = (fold_bn_into_conv(conv, bn, forget_shift=broken)(x) - bn(conv(x))).abs().max().item()
    result.check("folded conv equals conv + BN", gap < 1e-4, max_abs_difference=gap)
    result.text.append("Folding removes BN's cost at inference: one conv instead of conv + normalise + scale.")
    return result


@demo(
    "bn-batch-noise",
    "BatchNorm adds batch-dependent noise",
    "In train mode the same image gives different outputs in different batches; in eval mode it gives the same output.",
    Param("batch_size", 8, 2, 256),
    mistake="predicting with the model in train mode, so one image's output depends on its batch",
)
def bn_batch_noise(batch_size: int, broken: bool = False) -> DemoResult:
    result = DemoResult()
    bn = nn.BatchNorm1d(16)
    sample = torch.randn(1, 16)
    batch_a = torch.cat([sample, torch.randn(batch_size - 1, 16)])
    batch_b = torch.cat([sample, torch.randn(batch_size - 1, 16)])
    bn.train()
    train_gap = (bn(batch_a)[0] - bn(batch_b)[0]).abs().mean().item()
    bn.train(broken)
    eval_gap = (bn(batch_a)[0] - bn(batch_b)[0]).abs().max().item()
    result.check("train mode: output depends on the rest of the batch", train_gap > 1e-3, mean_abs_difference=train_gap)
    result.check("eval mode: output independent of the batch", eval_gap < 1e-6, max_abs_difference=eval_gap)
    return result
