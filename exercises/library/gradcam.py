"""Grad-CAM on a small CNN, checked against a reference built from hooks."""

from exercises.library import code
from exercises.model import Exercise, Mistake
from exercises.report import same


def _small_cnn():
    import torch
    from torch import nn

    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 5),
    ).eval()  # fmt: skip


def _check_grad_cam(learner, reference, report) -> None:
    import torch

    def heatmaps(fn, class_index: int):
        model = _small_cnn()
        image = torch.randn(1, 3, 16, 16, generator=torch.Generator().manual_seed(1))
        return report.call(fn, model, model[4], image, class_index)  # the last ReLU: the last conv block's output

    def case(name: str, class_index: int) -> None:
        def body():
            expected, got = heatmaps(reference, class_index), heatmaps(learner, class_index)
            got = got.detach() if isinstance(got, torch.Tensor) else got
            meaning = (
                "weight each feature map by the mean of the class score's gradient over that map, sum over channels, "
                "apply ReLU, and scale to a maximum of 1"
            )
            return same(got, expected, 1e-4), expected, got, meaning

        report.check(name, body)

    case("heatmap for class 0 matches the reference", 0)
    case("heatmap for class 3 matches the reference", 3)

    def shape_and_range():
        got = heatmaps(learner, 2)
        ok = isinstance(got, torch.Tensor) and tuple(got.shape) == (8, 8) and got.min() >= 0 and abs(got.max().item() - 1) < 1e-5
        shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
        return (
            ok,
            "(8, 8), values in [0, 1], maximum 1",
            shape,
            "return the layer's spatial size (8 x 8 here), after ReLU, divided by its maximum",
        )

    report.check("the heatmap is the layer's size and lies in [0, 1]", shape_and_range)


def _grad_cam_code(relu: str) -> str:
    return code(f'''
        import torch


        def grad_cam(model, layer, image, class_index):
            """(H, W) heatmap of where `layer`'s features raise the score of `class_index`."""
            saved = {{}}
            forward = layer.register_forward_hook(lambda module, inputs, output: saved.update(features=output))
            backward = layer.register_full_backward_hook(lambda module, grad_in, grad_out: saved.update(grads=grad_out[0]))
            try:
                model.zero_grad()
                model(image)[0, class_index].backward()
            finally:
                forward.remove()
                backward.remove()
            weights = saved["grads"].mean(dim=(2, 3), keepdim=True)  # (1, C, 1, 1): importance of each map
            cam = (weights * saved["features"]).sum(dim=1)[0]  # (H, W)
            cam = {relu}
            return (cam / cam.max().clamp(min=1e-12)).detach()
    ''')


GRAD_CAM = Exercise(
    id="grad-cam",
    title="Grad-CAM with hooks",
    function="grad_cam",
    prompt=code("""
        Write `grad_cam(model, layer, image, class_index)`: the Grad-CAM heatmap of `layer` for one image
        (1, 3, H, W). Record the layer's output and its gradient with hooks, weight each feature map by
        the spatial mean of its gradient, sum over channels, apply ReLU and divide by the maximum.
        Return a detached (h, w) tensor.
    """),
    starter=code('''
        import torch


        def grad_cam(model, layer, image, class_index):
            """(H, W) heatmap of where `layer`'s features raise the score of `class_index`."""
            raise NotImplementedError("hooks, weights, weighted sum, ReLU")
    '''),
    solution=_grad_cam_code("torch.relu(cam)  # only evidence for the class"),
    hint="register_forward_hook and register_full_backward_hook on the layer; backward from the class's logit.",
    checks=_check_grad_cam,
    mistakes=(Mistake("no ReLU on the weighted sum", _grad_cam_code("cam - cam.min()"), "ReLU"),),
    items=("keras-s9-q1-grad-cam-computing", "keras-s9-q9-limitations-grad-cam-task"),
)

EXERCISES = (GRAD_CAM,)
