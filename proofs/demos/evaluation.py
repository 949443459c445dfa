"""Evaluation and interpretation: accuracy in train_epoch and eval_model, the confusion matrix and
per-class scores of cifar_core.metrics, F1 against precision and recall, calibration, and Grad-CAM
on torchvision's ResNet-18.

Expected values come from a second route: counts taken sample by sample in plain Python against
cifar_core's tensor code, and the class activation map computed from the fc layer's weights
against cifar_core.gradcam's gradients."""

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from cifar_core.gradcam import grad_cam
from cifar_core.metrics import expected_calibration_error, reliability_bins, report_from_logits
from proofs.registry import DemoResult, Param, demo


def _ten_class_predictions(seed: int = 0, count: int = 400) -> tuple[torch.Tensor, torch.Tensor]:
    """(logits, targets) of a classifier that is right about 60% of the time, with class-dependent errors."""
    generator = torch.Generator().manual_seed(seed)
    targets = torch.randint(0, 10, (count,), generator=generator)
    logits = torch.randn(count, 10, generator=generator)
    logits[torch.arange(count), targets] += 1.5 + 0.2 * targets.float()  # some classes easier than others
    return logits, targets


@demo(
    "per-class-metrics",
    "Confusion matrix and per-class accuracy",
    "cifar_core's confusion matrix puts true classes on the rows and predictions on the columns (cell (i, j) counts "
    "class i predicted as j); its per-class accuracy (recall) is the diagonal over the row sums, the same figures as "
    "counting correct predictions per class with class_correct / class_total counters.",
    mistake="passing (predictions, targets) in swapped order, which transposes the confusion matrix",
)
def per_class_metrics(broken: bool = False) -> DemoResult:
    result = DemoResult()
    logits, targets = _ten_class_predictions()
    predictions = logits.argmax(1)
    if broken:  # the arguments swapped: predictions taken for the labels and back
        logits, targets = nn.functional.one_hot(targets, 10).float(), predictions
    report = report_from_logits(logits, targets, tuple(f"class-{i}" for i in range(10)))
    true_labels, predicted = _ten_class_predictions()[1].tolist(), predictions.tolist()
    counted = [[0] * 10 for _ in range(10)]
    class_correct, class_total = [0] * 10, [0] * 10
    for truth, guess in zip(true_labels, predicted, strict=True):  # sample by sample, in plain Python
        counted[truth][guess] += 1
        class_total[truth] += 1
        class_correct[truth] += int(truth == guess)
    result.check(
        "cell (i, j) counts samples of class i predicted as j",
        report.confusion == counted,
        cell_0_1=report.confusion[0][1],
        counted_0_1=counted[0][1],
    )
    counters = [c / t for c, t in zip(class_correct, class_total, strict=True)]
    gap = max(abs(a - b) for a, b in zip(report.per_class.values(), counters, strict=True))
    result.check("per-class accuracy equals class_correct / class_total counters", gap < 1e-6, largest_difference=gap)
    result.tables.append(
        [{"class": c, "recall": report.per_class[c], "precision": report.precision[c], "F1": report.f1[c]} for c in report.per_class]
    )
    return result


@demo(
    "accuracy-in-train-and-eval",
    "How train_epoch and eval_model count accuracy",
    "Both take the predicted class as the arg-max over the class dimension (outputs.max(1)), count predictions "
    "equal to the targets, and report 100 * correct / total over every sample, so a short last batch weighs what "
    "its samples weigh.",
    mistake="averaging the per-batch accuracies, which over-weights the short last batch",
    threads=1,
)
def accuracy_in_train_and_eval(broken: bool = False) -> DemoResult:
    from cifar_core.train import eval_model, train_epoch

    result = DemoResult()
    torch.manual_seed(0)
    images, labels = torch.randn(70, 12), torch.randint(0, 4, (70,))  # 70 = two batches of 32 and one of 6
    model = nn.Linear(12, 4)
    loader = DataLoader(TensorDataset(images, labels), batch_size=32)
    _, evaluated = eval_model(model, torch.device("cpu"), loader, nn.CrossEntropyLoss())
    frozen = torch.optim.SGD(model.parameters(), lr=0.0)  # lr 0: the model train_epoch scores never changes
    _, trained = train_epoch(model, torch.device("cpu"), loader, nn.CrossEntropyLoss(), frozen)
    with torch.no_grad():
        hits = [[int(row.argmax() == label) for row, label in zip(model(x), y, strict=True)] for x, y in loader]  # per sample
    if broken:
        by_hand = 100.0 * sum(sum(batch) / len(batch) for batch in hits) / len(hits)
    else:
        by_hand = 100.0 * sum(map(sum, hits)) / sum(map(len, hits))
    result.check(
        "eval_model and train_epoch report 100 * correct / total over every sample",
        abs(evaluated - by_hand) < 1e-4 and abs(trained - by_hand) < 1e-4,
        eval_model=evaluated,
        train_epoch=trained,
        counted=by_hand,
    )
    return result


@demo(
    "f1-low-with-high-precision",
    "A low F1 does not mean precision and recall are both low",
    "F1 is the harmonic mean of precision and recall, so one low value drags it down: a class the model rarely "
    "predicts, but correctly when it does, has precision above 0.9, recall 0.12 and F1 about 0.21.",
    mistake="taking F1 for the plain average of precision and recall (which stays high when only recall is low)",
)
def f1_low_with_high_precision(broken: bool = False) -> DemoResult:
    result = DemoResult()
    # 100 cats, 12 predicted cat; one dog also predicted cat; the other 88 cats predicted dog.
    targets = torch.tensor([0] * 100 + [1] * 100)
    predictions = torch.tensor([0] * 12 + [1] * 88 + [0] * 1 + [1] * 99)
    report = report_from_logits(nn.functional.one_hot(predictions, 2).float(), targets, ("cat", "dog"))
    precision, recall = report.precision["cat"], report.per_class["cat"]
    f1 = (precision + recall) / 2 if broken else report.f1["cat"]
    counted = 2 * 12 / (2 * 12 + 1 + 88)  # 2TP / (2TP + FP + FN), from the counts
    result.check(
        "cat: precision over 0.9, recall 0.12, F1 about 0.21 (2TP / (2TP + FP + FN))",
        precision > 0.9 and abs(recall - 0.12) < 1e-6 and abs(f1 - counted) < 1e-6,
        precision=precision,
        recall=recall,
        f1=f1,
        counted_f1=counted,
    )
    return result


@demo(
    "calibration-ece",
    "Expected calibration error and temperature",
    "ECE compares softmax confidence with accuracy bin by bin: about 0 for a classifier whose labels are drawn from "
    "its own probabilities (calibrated), large for the same classifier with its logits sharpened; dividing the logits "
    "by a temperature fitted on the NLL brings it back without changing accuracy.",
    Param("overconfidence", 3.0, 1.0, 10.0),
    mistake="feeding the logits to the ECE as if they were probabilities (no softmax)",
)
def calibration_ece(overconfidence: float, broken: bool = False) -> DemoResult:
    result = DemoResult()
    torch.manual_seed(0)
    true_logits = torch.randn(3000, 10) * 1.5
    targets = torch.distributions.Categorical(logits=true_logits).sample()  # labels drawn from the model: calibrated
    sharp = true_logits * overconfidence

    def probabilities(logits: torch.Tensor) -> torch.Tensor:
        return logits if broken else logits.softmax(1)

    calibrated, overconfident = (
        expected_calibration_error(probabilities(true_logits), targets),
        expected_calibration_error(probabilities(sharp), targets),
    )
    result.check(
        "ECE: under 0.03 for the calibrated classifier, over 0.2 sharpened",
        calibrated < 0.03 and overconfident > 0.2,
        calibrated=calibrated,
        overconfident=overconfident,
    )
    temperatures = torch.linspace(0.5, 12, 47)  # steps of 0.25
    nll = [nn.functional.cross_entropy(sharp / t, targets).item() for t in temperatures]
    best_t = temperatures[min(range(len(nll)), key=nll.__getitem__)].item()
    fixed = expected_calibration_error((sharp / best_t).softmax(1), targets)
    result.check("temperature scaling lowers ECE", fixed < overconfident / 2, temperature=best_t, after=fixed)
    result.check("accuracy unchanged by temperature", torch.equal(sharp.argmax(1), (sharp / best_t).argmax(1)))
    result.tables.append([{"confidence": c, "accuracy": a, "count": n} for c, a, n in reliability_bins(sharp.softmax(1), targets, bins=10)])
    return result


def _resnet_cam() -> tuple[nn.Module, torch.Tensor, int, torch.Tensor]:
    """torchvision's ResNet-18 (random weights, 10 classes, eval mode), one 96x96 image, a target class whose
    class activation map has cells of both signs, and that map: fc's weights for the class times layer4's maps."""
    from torchvision.models import resnet18

    from cifar_core.data import make_synthetic

    torch.manual_seed(0)
    model = resnet18(weights=None, num_classes=10).eval()
    image = torch.from_numpy(make_synthetic(1, seed=3).images).permute(0, 3, 1, 2).float() / 255
    image = nn.functional.interpolate((image - 0.5) / 0.25, size=96, mode="bilinear")
    stored = {}
    hook = model.layer4.register_forward_hook(lambda _m, _i, output: stored.update(maps=output))
    with torch.no_grad():
        model(image)
    hook.remove()
    maps = stored["maps"][0]  # (512, 3, 3)
    cams = torch.einsum("ck,khw->chw", model.fc.weight.detach(), maps)  # one map per class
    target = next(c for c in range(10) if cams[c].max() > 0 > cams[c].min())
    return model, image, target, cams[target]


@demo(
    "grad-cam",
    "Grad-CAM weights the last conv maps by their averaged gradients",
    "Grad-CAM averages the class score's gradients over each of the last conv layer's maps to get one weight per "
    "channel, sums the weighted maps and applies ReLU. On torchvision's ResNet-18, whose layer4 feeds a global average "
    "pool and one fc layer, that is exactly the class activation map built from fc's weights; the gradients "
    "alone are the same at every position and show nothing.",
    mistake="taking the gradient map itself (averaged over channels) as the heatmap, without weighting the activations",
)
def grad_cam_demo(broken: bool = False) -> DemoResult:
    result = DemoResult()
    model, image, target, cam_from_fc = _resnet_cam()
    if broken:
        stored = {}
        hook = model.layer4.register_forward_hook(lambda _m, _i, output: stored.update(maps=output))
        score = model(image)[0, target]
        hook.remove()
        (gradients,) = torch.autograd.grad(score, stored["maps"])
        raw = gradients[0].mean(0)
        heatmap = torch.relu(raw) / torch.relu(raw).max().clamp(min=1e-12)
    else:
        heatmap = grad_cam(model, model.layer4, image, target).detach()
    expected = torch.relu(cam_from_fc) / torch.relu(cam_from_fc).max()
    gap = (heatmap - expected).abs().max().item()
    result.check(
        "cifar_core's Grad-CAM equals ReLU of fc's class weights times layer4's maps, scaled to max 1",
        gap < 1e-4,
        max_abs_difference=gap,
        map_side=heatmap.shape[-1],
    )
    result.images.append((heatmap * 255).to(torch.uint8)[..., None].repeat(1, 1, 3).numpy())
    return result


@demo(
    "grad-cam-relu-normalise",
    "The Grad-CAM heatmap: ReLU, then divide by the maximum",
    "cifar_core's grad_cam sets every cell whose weighted sum is negative (evidence against the class) to 0, then "
    "divides by the largest value, so the map lies in [0, 1] with its peak at 1. A cold cell is therefore one with no "
    "evidence for the class, not one without influence: zeroing a cell the ReLU clipped raises the class score.",
    mistake="min-max scaling the weighted sum without the ReLU, which paints evidence against the class as lukewarm",
)
def grad_cam_relu_normalise(broken: bool = False) -> DemoResult:
    result = DemoResult()
    model, image, target, cam_from_fc = _resnet_cam()
    if broken:
        heatmap = (cam_from_fc - cam_from_fc.min()) / (cam_from_fc.max() - cam_from_fc.min())
    else:
        heatmap = grad_cam(model, model.layer4, image, target).detach()
    negative = cam_from_fc < 0
    result.check(
        "cells with negative evidence are exactly 0; the rest are value / max, peak 1",
        bool((heatmap[negative] == 0).all()) and torch.allclose(heatmap[~negative], cam_from_fc[~negative] / cam_from_fc.max(), atol=1e-4),
        negative_cells=int(negative.sum()),
        cells=negative.numel(),
        peak=heatmap.max(),
    )
    coldest = divmod(int(cam_from_fc.argmin()), cam_from_fc.shape[1])

    def score_without(cell: tuple[int, int]) -> float:
        def blank(_module, _inputs, output):
            output = output.clone()
            output[..., cell[0], cell[1]] = 0
            return output

        hook = model.layer4.register_forward_hook(blank)
        with torch.no_grad():
            score = model(image)[0, target].item()
        hook.remove()
        return score

    with torch.no_grad():
        full = model(image)[0, target].item()
    rise = score_without(coldest) - full
    result.check("a cold cell still acts: zeroing its features raises the class score", rise > 0, score=full, rise=rise)
    return result
