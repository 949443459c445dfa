"""Round 11b's attacks on keras-s10-q1 (preprocessing-not-size), each of which must FAIL the item's claim check (the
demo reads the real CIFAR-10 images and the weights pretrained offline; skipped without the images).

The claim (the note's): a pretrained net keeps much of what its weights give at the wrong input size, but nothing
with the notebook's preprocessing, and matching the size does not rescue it. So: the seed answer's fix (size matched,
preprocessing kept), weights that know nothing, and a net that preprocessing cannot hurt must all fail."""

import pytest
import torch
from torch import nn

from proofs import pretraining
from proofs.catalogue import get_demo
from proofs.demos import transfer
from proofs.registry import run

CHECK = (
    "the net's own preprocessing recovers what pretraining gives even at the wrong size (at least a third of its "
    "accuracy above chance, fed 32-pixel images or 8-pixel ones resized up), while the right size with the "
    "notebook's preprocessing stays within 0.05 of chance"
)


@pytest.fixture(autouse=True)
def _real_images(real_cifar10):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


class PerImageStandardised(nn.Module):
    """Standardises each image per channel before the net: any affine preprocessing, the wrong one included, gives
    the same input, so preprocessing cannot matter to it (a world where the note's claim is false)."""

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return (inputs - inputs.mean(dim=(2, 3), keepdim=True)) / (inputs.std(dim=(2, 3), keepdim=True) + 1e-8)


def test_as_written_passes_and_the_mistake_fails_the_claim_check():
    demo = get_demo("preprocessing-not-size")
    assert run(demo).claim_verdict(CHECK) == "passed"
    broken = run(demo, broken=True)
    assert broken.claim_verdict(CHECK) == "failed" and broken.error is None


@pytest.mark.parametrize("sample_seed", [0, 1])
def test_the_notebooks_preprocessing_scores_chance_at_every_size(sample_seed):
    figures = transfer.pipeline_accuracies(pretraining.stored_pretrained(), sample_seed)
    assert all(abs(figures[name] - transfer.CHANCE) <= 0.01 for name in figures if name.startswith("scaled_twice_"))
    assert not transfer.preprocessing_claim_holds(figures, fix="size")


@pytest.mark.parametrize("sample_seed", [0, 1])
def test_random_weights_fail(sample_seed):
    figures = transfer.pipeline_accuracies(pretraining.small_convnet(len(pretraining.SOURCE_CLASSES), 500), sample_seed)
    assert not transfer.preprocessing_claim_holds(figures)


def test_weights_pretrained_on_shuffled_labels_fail():
    from proofs.dataset import training_sample

    model, source = pretraining.pretrained(training_sample(seed=0), 0, shuffle_labels=True)
    figures = transfer.pipeline_accuracies(model, 0, keep=source.test)  # images it was not trained on
    assert not transfer.preprocessing_claim_holds(figures)


@pytest.mark.parametrize("sample_seed", [0, 1])
def test_a_net_blind_to_preprocessing_fails(sample_seed):
    figures = transfer.pipeline_accuracies(nn.Sequential(PerImageStandardised(), *pretraining.stored_pretrained()), sample_seed)
    assert figures["scaled_twice_expected"] > 0.4  # it still knows the classes, so only the check's second half fails it
    assert not transfer.preprocessing_claim_holds(figures)


def test_a_size_that_costs_everything_fails():
    """4-pixel images given as they are (not resized to 16) leave little: the size half is a measurement, not a given."""
    figures = transfer.pipeline_accuracies(pretraining.stored_pretrained(), 0, large=4)
    assert not transfer.preprocessing_claim_holds(figures)


def test_keras_resnet50_accepts_32_pixels_and_refuses_smaller():
    """The note's other fact, through Keras 3 itself: include_top=False takes any input of 32x32 or more."""
    import proofs.demos.keras3  # noqa: F401 - sets KERAS_BACKEND=torch before Keras is imported

    keras = pytest.importorskip("keras")
    with pytest.raises(ValueError, match="at least 32x32"):
        keras.applications.ResNet50(include_top=False, weights=None, input_shape=(31, 31, 3))
    base = keras.applications.ResNet50(include_top=False, weights=None, input_shape=(32, 32, 3))
    assert tuple(base.output_shape) == (None, 1, 1, 2048)
