"""Round 9d's measurements on the weights pretrained here (proofs/pretraining.py: keras-s6-q6 and keras-s7-q4, both
left partial): the linear probe standardises away the features' scale, each block's probe reads that block's
width, and the unfreezing comparison steps only the blocks it names."""

import pytest
import torch

from proofs import pretraining
from tests.conftest import require_real_cifar10


@pytest.fixture
def sample(monkeypatch):
    monkeypatch.setenv("CIFAR10_DIR", str(require_real_cifar10()))
    from proofs.dataset import training_sample

    return training_sample()


def test_a_standardised_probe_ignores_the_features_scale_and_a_raw_one_does_not(sample):
    """The features squeezed 255-fold (as the scaled-twice inputs squeeze them) score the same once standardised:
    why round 9d reports both heads."""
    target = pretraining.task(sample, pretraining.TARGET_CLASSES, 150, seed=0)
    features = pretraining._frozen(pretraining.small_convnet(5, seed=3)[:-1], target.inputs)
    as_given = pretraining.linear_probe(features, target, seed=0)
    squeezed = pretraining.linear_probe(features / 255, target, seed=0)
    assert as_given > 0.3 and abs(as_given - squeezed) < 0.02
    assert pretraining.linear_probe(features / 255, target, seed=0, standardise=False, steps=300, lr=1e-3) < as_given - 0.05


def test_each_block_probe_reads_that_block_width(sample):
    model = pretraining.small_convnet(5, seed=0)
    inputs = pretraining.task(sample, pretraining.TARGET_CLASSES, 20, seed=0).inputs[:8]
    widths = [pretraining._frozen(model, inputs, upto).shape for upto in (2, 4, 6)]
    assert widths == [(8, model[0].out_channels), (8, model[2].out_channels), (8, model[4].out_channels)]


def test_unfreezing_steps_only_the_blocks_named(sample, monkeypatch):
    """The last block (and the head), or the last two: the first conv never moves, the middle one only in the second."""
    trained = []
    real_fit = pretraining.fit

    def recording_fit(model, data, steps, lr, seed=0, **kwargs):
        before = [layer.weight.detach().clone() for layer in (model[0], model[2], model[4], model[-1])]
        curve = real_fit(model, data, 5, lr, seed, **kwargs)
        trained.append(
            [not torch.equal(b, layer.weight) for b, layer in zip(before, (model[0], model[2], model[4], model[-1]), strict=True)]
        )
        return curve

    monkeypatch.setattr(pretraining, "pretrained", lambda sample, seed: (pretraining.small_convnet(5, seed), None))
    monkeypatch.setattr(pretraining, "fit", recording_fit)
    figures = pretraining.unfreeze_depth(sample, seed=0, steps=5)
    assert trained == [[False, False, True, True], [False, True, True, True]]
    assert {"last_gap", "last_two_gap", "last_test", "last_two_test"} <= set(figures)
