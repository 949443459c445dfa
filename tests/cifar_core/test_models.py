import warnings

import pytest
import torch

from cifar_core.models import FastNet, ResNet9, SimpleCNN, build_model, count_parameters, torchvision_resnet


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
    model = FastNet((16, 32, 64))
    assert model(torch.randn(4, 3, 32, 32)).shape == (4, 10)
    assert count_parameters(model) < count_parameters(SimpleCNN())


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
