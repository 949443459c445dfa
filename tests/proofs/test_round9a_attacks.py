"""Attacks on keras-s5-q8's claim check as rebuilt in round 9a (proofs12), after the round-6b audit: a "dropout" that
adds noise only at scoring, dropout that changes nothing in training (the variants' trained weights bit-identical), and
a head fitted in eval mode. Each builds a world where the two dropouts do not regularise, and the claim check must
then fail; the project as written must pass."""

import pytest
import torch

from tests.proofs.test_attacks import claim_passes

TWO_DROPOUTS_ITEM = "keras-s5-q8-two-dropout-layers"
DROPOUT_ITEM = "viva-49-dropout-rate-0-5-may"


def test_the_project_as_written_passes(real_cifar10):
    assert claim_passes(TWO_DROPOUTS_ITEM)


@pytest.mark.parametrize("item", [TWO_DROPOUTS_ITEM, DROPOUT_ITEM])
def test_noise_only_at_scoring(real_cifar10, monkeypatch, item):
    """The audit's fake: each Dropout passes its input through in training and drops units at evaluation, so it
    trains nothing and only blurs the scores (it passed 9 of 10 seeds when the gap was scored through the layers)."""

    def noise_at_scoring(self, inputs):
        return inputs if self.training else torch.nn.functional.dropout(inputs, self.p, training=True)

    monkeypatch.setattr(torch.nn.Dropout, "forward", noise_at_scoring)
    assert not claim_passes(item)


def test_dropout_that_changes_nothing_in_training(real_cifar10, monkeypatch):
    """Every variant trains to the same weights, bit for bit: the gaps agree and the weights are 0% apart."""
    monkeypatch.setattr(torch.nn.Dropout, "forward", lambda self, inputs: inputs)
    assert not claim_passes(TWO_DROPOUTS_ITEM)


def test_every_head_fitted_in_eval_mode(real_cifar10, monkeypatch):
    """A training step that leaves the model in eval mode (model.eval() after a validation pass, no model.train()
    back): no variant's dropout acts, whatever the demo asked for."""
    from cifar_core import steps

    step = steps.training_step

    def step_in_eval_mode(model, *args, **kwargs):
        model.eval()
        return step(model, *args, **kwargs)

    monkeypatch.setattr(steps, "training_step", step_in_eval_mode)
    assert not claim_passes(TWO_DROPOUTS_ITEM)


def test_one_dropout_taken_for_two(real_cifar10, monkeypatch):
    """Round 8b's mistake, kept as an attack: the head's first Dropout left out, so the 'both' head is a single one."""
    from proofs.demos import cifar10

    head = cifar10._notebook_head

    def first_left_out(inputs, first, second, seed=0):
        return head(inputs, first if second == 0 else 0.0, second, seed)  # only the two-dropout head loses its first

    monkeypatch.setattr(cifar10, "_notebook_head", first_left_out)
    assert not claim_passes(TWO_DROPOUTS_ITEM)


class _MasksDrawnNoneApplied(torch.nn.Dropout):
    """Still an nn.Dropout (so scoring takes it out), drawing its masks in training as dropout would (so the other
    dropout's masks change with it) but applying none: a second dropout that adds nothing."""

    def forward(self, inputs):
        if self.training and self.p > 0:
            torch.empty_like(inputs).bernoulli_(1 - self.p)
        return inputs


@pytest.mark.parametrize("inert", [0, 3], ids=["first-inert", "second-inert"])
def test_a_second_dropout_that_adds_nothing(real_cifar10, monkeypatch, inert):
    """The round-7a audit's claim-false world: in the two-dropout head one of its dropouts does nothing, so it is a
    single-dropout head run with other masks. On one seed it passed a 1-point bar one time in six (two runs of one
    head differ by about 1.4 points); averaged over three seeds at 2.5 points it must fail."""
    from proofs.demos import cifar10

    head = cifar10._notebook_head

    def one_inert(inputs, first, second, seed=0):
        built = head(inputs, first, second, seed)
        if first and second:
            built[inert] = _MasksDrawnNoneApplied(built[inert].p)
        return built

    monkeypatch.setattr(cifar10, "_notebook_head", one_inert)
    assert not claim_passes(TWO_DROPOUTS_ITEM)
