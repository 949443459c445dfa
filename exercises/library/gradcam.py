"""Grad-CAM on a small CNN, checked against a reference built from hooks."""

from exercises.library import code
from exercises.library.kit import draw_seed, variant
from exercises.model import Exercise, Mistake
from exercises.report import Check, values


def _cam_model(config: dict):
    import torch
    from torch import nn

    torch.manual_seed(config["seed"])
    c1, c2 = config["c1"], config["c2"]
    side = config["size"] // 4
    return nn.Sequential(
        nn.Conv2d(3, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(),  # the layer: its gradient varies over space, as the head below is not a plain average
        nn.Conv2d(c2, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(c2 * side * side, config["classes"]),
    ).eval()  # fmt: skip


def _cam_run(fn, config: dict):
    import torch

    model = _cam_model(config)
    image = torch.randn(1, 3, config["size"], config["size"], generator=torch.Generator().manual_seed(config["seed"] + 1))
    return fn(model, model[4], image, config["class"])  # the last ReLU: the last conv block's output


def _cam_variant(weigh, finish):
    """A wrong grad_cam from how it weighs the maps and how it finishes the sum."""

    def grad_cam(model, layer, image, class_index):
        saved = {}
        forward = layer.register_forward_hook(lambda module, inputs, output: saved.update(features=output))
        backward = layer.register_full_backward_hook(lambda module, grad_in, grad_out: saved.update(grads=grad_out[0]))
        try:
            model.zero_grad()
            model(image)[0, class_index].backward()
        finally:
            forward.remove()
            backward.remove()
        cam = (weigh(saved["grads"]) * saved["features"]).sum(dim=1)[0]
        return finish(cam).detach()

    return grad_cam


def _grad_cam_checks(rng):

    meaning = "weight each feature map by the spatial mean of the class score's gradient over it, sum over channels, apply ReLU, divide by the maximum"
    mean = lambda g: g.mean(dim=(2, 3), keepdim=True)  # noqa: E731
    scaled = lambda cam: cam.relu() / cam.relu().max().clamp(min=1e-12)  # noqa: E731
    mistakes = (
        variant(
            _cam_variant(mean, lambda cam: (cam - cam.min()) / (cam - cam.min()).max()),
            "apply ReLU to the weighted sum: only evidence for the class counts",
        ),
        variant(
            _cam_variant(lambda g: g.amax(dim=(2, 3), keepdim=True), scaled),
            "each map's weight is the mean of its gradient over the spatial positions, not the max",
        ),
        variant(
            _cam_variant(lambda g: g.abs().mean(dim=(2, 3), keepdim=True), scaled),
            "keep the gradient's sign: a map whose gradient is negative counts against the class",
        ),
        variant(_cam_variant(mean, lambda cam: cam.relu() / cam.relu().sum()), "divide by the maximum, so the heatmap peaks at 1"),
        variant(_cam_variant(mean, lambda cam: cam.relu()), "divide by the maximum, so the heatmap peaks at 1"),
    )
    compare = values(meaning, rtol=1e-4, atol=1e-5, variants=mistakes)

    def config() -> dict:
        return {
            "seed": draw_seed(rng),
            "c1": rng.choice([4, 6, 8]),
            "c2": rng.choice([8, 12, 16]),
            "classes": rng.randint(4, 8),
            "size": rng.choice([12, 16, 20]),
        }

    first, second, third = config(), config(), config()
    first["class"], second["class"], third["class"] = 0, rng.randint(1, second["classes"] - 1), rng.randint(0, third["classes"] - 1)
    side = lambda c: c["size"] // 2  # noqa: E731
    return [
        Check(f"class 0 of {first['classes']}, a {side(first)}x{side(first)} layer", lambda fn: _cam_run(fn, first), compare),
        Check(
            f"class {second['class']} of {second['classes']}, a {side(second)}x{side(second)} layer",
            lambda fn: _cam_run(fn, second),
            compare,
        ),
        Check(
            f"class {third['class']} of {third['classes']}, a {side(third)}x{side(third)} layer", lambda fn: _cam_run(fn, third), compare
        ),
    ]


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
    checks=_grad_cam_checks,
    mistakes=(Mistake("no ReLU on the weighted sum", _grad_cam_code("cam - cam.min()"), "ReLU"),),
    items=("keras-s9-q1-grad-cam-computing", "keras-s9-q9-limitations-grad-cam-task"),
)

EXERCISES = (GRAD_CAM,)
