import warnings

import pytest
import torch

from cifar_core.models import FastNet, GlobalMaxPool, ResNet9, SimpleCNN, SpeedNet, build_model, count_parameters, torchvision_resnet


def test_simplecnn_matches_the_document():
    model = SimpleCNN()
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    linear = model.classifier[1]
    assert (linear.in_features, linear.out_features) == (128 * 4 * 4, 256)
    assert model.classifier[3].p == 0.5
    # 3 conv-BN blocks (32/64/128) + Linear(2048, 256) + Linear(256, 10)
    assert count_parameters(model) == 620_810


def test_resnet9_has_about_6_5_million_parameters():
    model = ResNet9()
    assert 6.4e6 < count_parameters(model) < 6.7e6
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_fastnet_forward_and_size():
    model = FastNet()
    assert model(torch.randn(4, 3, 32, 32)).shape == (4, 10)
    assert count_parameters(model) < count_parameters(SimpleCNN())


def test_fastnet_stem_has_no_batchnorm_so_a_frozen_stem_needs_no_input_gradient():
    model = FastNet((16, 32, 64))
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.net[0].modules())
    model.net[0][0].weight.requires_grad_(False)  # the whitened, frozen stem of the fast recipe
    seen = []
    model.net[1].register_forward_hook(lambda module, inputs, output: seen.append(inputs[0].requires_grad))
    model(torch.randn(2, 3, 32, 32)).sum().backward()
    assert seen == [False]  # so autograd skips the next conv's input gradient
    assert model.net[1][0].weight.grad is not None


def test_fastnet_convs_after_the_stem_start_as_the_identity_on_their_shared_channels():
    model = FastNet((16, 32, 64))
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    x = torch.randn(1, 16, 8, 8)
    first = convs[1]  # 16 -> 32 channels: the first 16 outputs copy the input
    assert torch.allclose(torch.nn.functional.conv2d(x, first.weight[:16], padding=1), x)
    assert first.weight[16:].abs().sum() > 0  # the other outputs start random
    assert not torch.equal(convs[0].weight[:3], torch.nn.init.dirac_(torch.empty_like(convs[0].weight))[:3])  # the stem is not


def test_global_max_pool_matches_adaptive_max_pool_and_its_gradient():
    x = torch.randn(3, 5, 7, 6, requires_grad=True)
    reference = torch.nn.AdaptiveMaxPool2d(1)(x)
    pooled = GlobalMaxPool()(x)
    assert torch.equal(pooled, reference)
    (grad,) = torch.autograd.grad(pooled.sum(), x)
    (reference_grad,) = torch.autograd.grad(reference.sum(), x)
    assert torch.equal(grad, reference_grad)  # random inputs: no ties, so one 1 per channel


def test_speednet_shapes_identity_init_and_frozen_batchnorm_scales():
    model = SpeedNet((8, 16, 16))
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    assert model.whiten.out_channels == 24 and model.whiten.kernel_size == (2, 2)
    widening = model.blocks[2][0].weight.detach()  # 8 -> 16 channels: the first 8 filters pass their channel through
    identity = torch.zeros(8, 8, 3, 3)
    identity[range(8), range(8), 1, 1] = 1
    assert torch.equal(widening[:8], identity) and widening[8:].abs().sum() > 0
    scales = [m.weight for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(scales) == 6 and not any(w.requires_grad for w in scales)


def test_pretrained_weights_absent_offline_fall_back_with_message(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model, message = torchvision_resnet("resnet18", pretrained=True)
    assert "not in the local cache" in message and "nothing is downloaded" in message
    assert any("not in the local cache" in str(w.message) for w in caught)
    assert model.fc.out_features == 10


def test_pretrained_weights_load_from_the_local_cache(tmp_path, monkeypatch):
    from torchvision import models

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    reference = models.resnet18(weights=None)
    cached = tmp_path / "checkpoints" / models.ResNet18_Weights.DEFAULT.url.rsplit("/", 1)[-1]
    cached.parent.mkdir(parents=True)
    torch.save(reference.state_dict(), cached)
    model, message = torchvision_resnet("resnet18", pretrained=True)
    assert "local cache" in message and "random" not in message
    assert torch.equal(model.conv1.weight, reference.conv1.weight)


def test_unknown_model_is_rejected():
    with pytest.raises(ValueError, match="unknown model 'vgg'"):
        build_model("vgg")
