"""Evaluation and interpretation: per-class metrics, calibration, Grad-CAM."""

import torch
from torch import nn

from cifar_core.gradcam import grad_cam
from cifar_core.metrics import expected_calibration_error, reliability_bins, report_from_logits
from proofs.registry import DemoResult, Param, demo


@demo(
    "per-class-metrics",
    "Confusion matrix, per-class precision, recall and F1",
    "Rows count true classes, columns predictions; recall = diagonal / row sum, precision = diagonal / column sum.",
    mistake="passing (predictions, targets) in swapped order, which transposes the confusion matrix",
)
def per_class_metrics(broken: bool = False) -> DemoResult:
    result = DemoResult()
    targets = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 2])
    predicted = torch.tensor([0, 0, 1, 1, 2, 2, 2, 2, 0])
    if broken:
        targets, predicted = predicted, targets
    logits = nn.functional.one_hot(predicted, 3).float() * 5
    report = report_from_logits(logits, targets, ("cat", "dog", "ship"))
    result.check("confusion matrix by hand", report.confusion == [[2, 1, 0], [0, 1, 1], [1, 0, 3]], confusion=str(report.confusion))
    result.check("recall of cat = 2/3", abs(report.per_class["cat"] - 2 / 3) < 1e-6)
    result.check("precision of ship = 3/4", abs(report.precision["ship"] - 0.75) < 1e-6)
    result.tables.append(
        [{"class": c, "recall": report.per_class[c], "precision": report.precision[c], "F1": report.f1[c]} for c in report.per_class]
    )
    return result


@demo(
    "calibration-ece",
    "Expected calibration error and temperature",
    "An overconfident classifier has a large ECE; dividing its logits by a fitted temperature lowers it without changing accuracy.",
    Param("overconfidence", 3.0, 1.0, 10.0),
    mistake="fitting the temperature by accuracy, which no temperature changes, so T stays at its first value",
)
def calibration_ece(overconfidence: float, broken: bool = False) -> DemoResult:
    result = DemoResult()
    torch.manual_seed(0)
    true_logits = torch.randn(3000, 10) * 1.5
    targets = torch.distributions.Categorical(logits=true_logits).sample()  # labels drawn from the model: calibrated
    calibrated = expected_calibration_error(true_logits.softmax(1), targets)
    sharp = true_logits * overconfidence
    overconfident = expected_calibration_error(sharp.softmax(1), targets)
    temperatures = torch.linspace(0.5, 12, 47)  # steps of 0.25
    nll = [nn.functional.cross_entropy(sharp / t, targets).item() for t in temperatures]
    if broken:  # -accuracy is the same for every T: min() keeps the first, T = 0.5
        nll = [-(sharp / t).argmax(1).eq(targets).float().mean().item() for t in temperatures]
    best_t = temperatures[min(range(len(nll)), key=nll.__getitem__)].item()
    fixed = expected_calibration_error((sharp / best_t).softmax(1), targets)
    result.check(
        "overconfident ECE > calibrated ECE", overconfident > calibrated + 0.05, calibrated=calibrated, overconfident=overconfident
    )
    result.check("temperature scaling lowers ECE", fixed < overconfident / 2, temperature=best_t, after=fixed)
    result.check("accuracy unchanged by temperature", torch.equal(sharp.argmax(1), (sharp / best_t).argmax(1)))
    result.tables.append([{"confidence": c, "accuracy": a, "count": n} for c, a, n in reliability_bins(sharp.softmax(1), targets, bins=10)])
    return result


@demo(
    "grad-cam",
    "Grad-CAM points at the evidence",
    "For a model that detects a bright square, the Grad-CAM heatmap peaks where the square is.",
    Param("row", 10, 0, 24),
    Param("col", 18, 0, 24),
    mistake="weighting the feature maps by the gradient of the wrong class's score",
)
def grad_cam_demo(row: int, col: int, broken: bool = False) -> DemoResult:
    result = DemoResult()
    features = nn.Sequential(nn.Conv2d(1, 4, 5, padding=2), nn.ReLU())
    with torch.no_grad():
        features[0].weight.zero_()
        features[0].weight[0, 0] = 1.0 / 25  # channel 0: local brightness; the rest stay silent
        features[0].bias.fill_(-0.2)
    model = nn.Sequential(features, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))
    with torch.no_grad():
        model[3].weight.copy_(torch.tensor([[5.0, 0, 0, 0], [-5.0, 0, 0, 0]]))
    image = torch.zeros(1, 1, 32, 32)
    image[0, 0, row : row + 6, col : col + 6] = 1.0
    cam = grad_cam(model, features, image, target=1 if broken else 0)
    peak = divmod(int(cam.argmax()), cam.shape[1])
    inside = row <= peak[0] < row + 6 and col <= peak[1] < col + 6
    result.check("heatmap peak lies on the square", inside, peak=str(peak), square=f"rows {row}-{row + 5}, cols {col}-{col + 5}")
    result.images.append((cam * 255).to(torch.uint8)[..., None].repeat(1, 1, 3).numpy())
    return result


@demo(
    "grad-cam-cold-regions",
    "A cold Grad-CAM region has little influence on the prediction",
    "Blanking the hottest Grad-CAM region of an image drops the class score far more than blanking an equally large "
    "cold region: cold means the model's decision does not use that part of the image.",
    mistake="occluding by the inverted heatmap (coldest region taken for the hottest)",
)
def grad_cam_cold_regions(broken: bool = False) -> DemoResult:
    result = DemoResult()
    features = nn.Sequential(nn.Conv2d(1, 4, 5, padding=2), nn.ReLU())
    with torch.no_grad():
        features[0].weight.zero_()
        features[0].weight[0, 0] = 1.0 / 25
        features[0].bias.fill_(-0.2)
    model = nn.Sequential(features, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))
    with torch.no_grad():
        model[3].weight.copy_(torch.tensor([[5.0, 0, 0, 0], [-5.0, 0, 0, 0]]))
    image = torch.zeros(1, 1, 32, 32)
    image[0, 0, 6:12, 20:26] = 1.0
    cam = grad_cam(model, features, image, target=0)
    heat = -cam if broken else cam
    hot = heat >= heat.flatten().kthvalue(heat.numel() - 63).values  # the 64 hottest pixels
    cold = cam <= cam.flatten().kthvalue(64).values  # 64 of the coldest

    def score_without(mask: torch.Tensor) -> float:
        with torch.no_grad():
            return model(image * ~mask)[0, 0].item()

    full = model(image)[0, 0].item()
    hot_drop, cold_drop = full - score_without(hot), full - score_without(cold)
    result.check(
        "blanking the hot region drops the score far more than blanking a cold one",
        hot_drop > 5 * max(cold_drop, 1e-6),
        hot_drop=hot_drop,
        cold_drop=cold_drop,
    )
    return result
