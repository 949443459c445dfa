"""Round 10's attacks on its two items, each of which must FAIL the item's claim check (the two demos read the real
CIFAR-10 images and the weights pretrained offline, proofs/weights/source_convnet.pt; skipped without the images).

resnet-29 (pretrained-start-transfers): starts that carry no knowledge of other classes but look like pretrained
weights must not pass: the same values shuffled within each tensor, random weights scaled to the pretrained ones'
norms, the pretrained biases under freshly drawn weights. keras-s7-q2 (lower-lr-keeps-pretrained): a "fine-tune"
that does not fine-tune (no Phase 2 steps, or the body frozen) keeps every prediction and must not pass, nor may a
body with nothing to forget (random weights), nor 1e-3 on the second sample of the images."""

import copy

import pytest
import torch

from proofs import pretraining
from proofs.demos import transfer

pytestmark = pytest.mark.usefixtures("real_cifar10_one_thread")


def _stored_with(change) -> torch.nn.Sequential:
    model = pretraining.stored_pretrained()
    generator = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            parameter.copy_(change(name, parameter, generator))
    return model


def test_the_stored_weights_saw_none_of_the_demos_images():
    # Oracle: the source-class files in train/ minus those of the samples of seeds 0-2, counted from the listing.
    import os

    from proofs.dataset import cifar10_dir, training_sample

    saved = torch.load(pretraining.STORED_WEIGHTS, weights_only=True)
    train = cifar10_dir() / "train"
    excluded = {path for seed in saved["excluded_sample_seeds"] for path in training_sample(seed=seed).files}
    source_files = {train / name / file for name in pretraining.SOURCE_CLASSES for file in os.listdir(train / name)}
    assert saved["images"] == len(source_files - excluded) < len(source_files)
    assert tuple(saved["classes"]) == pretraining.SOURCE_CLASSES and saved["excluded_sample_seeds"] == [0, 1, 2]
    assert saved["held_out_accuracy"] > 0.6  # five classes, chance 0.2


def test_resnet_29_claim_holds_as_written():
    assert transfer.transfer_claim_holds(transfer.fine_tuned_against_scratch(pretraining.stored_pretrained()))


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda name, p, g: p.flatten()[torch.randperm(p.numel(), generator=g)].view_as(p), id="values-permuted"),
        pytest.param(lambda name, p, g: (lambda r: r / r.norm() * p.norm())(torch.randn(p.shape, generator=g)), id="norm-matched-random"),
        pytest.param(
            lambda name, p, g: p if name.endswith("bias") else torch.empty_like(p).uniform_(-1, 1, generator=g) * p.abs().max(),
            id="pretrained-biases-only",
        ),
    ],
)
def test_resnet_29_starts_without_knowledge_fail(change):
    figures = transfer.fine_tuned_against_scratch(_stored_with(change))
    assert not transfer.transfer_claim_holds(figures), figures


def test_resnet_29_fails_on_the_second_sample_only_if_the_start_is_random():
    assert transfer.transfer_claim_holds(transfer.fine_tuned_against_scratch(pretraining.stored_pretrained(), seed=3, sample_seed=1))
    random_start = pretraining.small_convnet(len(pretraining.TARGET_CLASSES), 503)
    assert not transfer.transfer_claim_holds(transfer.fine_tuned_against_scratch(random_start, seed=3, sample_seed=1))


def test_keras_s7_q2_claim_holds_at_1e4_and_fails_at_1e3_on_the_second_sample():
    assert transfer.gentle_fine_tune_holds(transfer.fine_tuned_at(1e-4, seed=4, sample_seed=1))
    assert not transfer.gentle_fine_tune_holds(transfer.fine_tuned_at(1e-3, seed=4, sample_seed=1))


def test_keras_s7_q2_no_phase_2_fails():
    # lr 0: Adam moves nothing, every source prediction is kept, and nothing adapted.
    figures = transfer.fine_tuned_at(0.0)
    assert figures["source_predictions_kept"] == 1.0
    assert not transfer.gentle_fine_tune_holds(figures)


def test_keras_s7_q2_a_frozen_body_fails(monkeypatch):
    # Phase 2 trains the head alone (requires_grad_ never turned back on for the body): predictions kept, no adaptation.
    real_fit = pretraining.fit

    def head_only_fit(model, data, steps, lr, seed=0, **kwargs):
        if isinstance(model, torch.nn.Sequential):  # round 11's frozen-body control trains a bare Linear head
            model[:-1].requires_grad_(False)
        return real_fit(model, data, steps, lr, seed, **kwargs)

    monkeypatch.setattr(pretraining, "fit", head_only_fit)
    figures = transfer.fine_tuned_at(1e-4)
    assert figures["body_moved"] == 0.0
    assert not transfer.gentle_fine_tune_holds(figures)


def test_keras_s7_q2_nothing_to_forget_fails():
    random_body = pretraining.small_convnet(len(pretraining.SOURCE_CLASSES), 77)
    figures = transfer.fine_tuned_at(1e-4, start=copy.deepcopy(random_body))
    assert not transfer.gentle_fine_tune_holds(figures), figures
