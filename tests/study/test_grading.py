"""Typed answers in the learner's own words: good > partial > wrong, and wrong never passes."""

import json
import subprocess
import sys

import pytest

from study.grading import grade

# (item id, good, partial, confidently wrong); written for this test, not copied from the bank.
EXAMPLES = [
    (
        "viva-02-models-classifier-nn-linear-128",
        "Three 2x2 max pools halve the 32 pixel image to 16, then 8, then 4; the last block has 128 channels, so flattening gives 128*4*4 = 2048.",
        "Each max pool halves the size: 32 to 16 to 8 to 4.",
        "It is the batch size of 128 times the 16 classes.",
    ),
    (
        "viva-16-optimizer-zero-grad-required-before",
        "Because PyTorch accumulates gradients into .grad by default: without zeroing, old gradients add to the new ones and the update is incorrect.",
        "Otherwise gradients from earlier batches accumulate.",
        "It resets the learning rate to its initial value before each epoch.",
    ),
    (
        "viva-31-crossentropyloss-input-expectations-common-pitfall",
        "CrossEntropyLoss takes raw logits and applies log-softmax internally, so adding a softmax before it is a mistake.",
        "It expects raw logits.",
        "You must apply sigmoid to get probabilities and pass one-hot vectors.",
    ),
    (
        "interview-04-batch-normalizations-effect-during-training",
        "In training BN normalises with the batch mean and variance and updates running statistics with momentum 0.1; at inference it uses "
        "the running statistics, then applies learnable gamma and beta. Forgetting model.eval() gives inconsistent predictions.",
        "It uses batch statistics while training.",
        "It randomly drops neurons during training to avoid overfitting.",
    ),
    (
        "fundamentals-04-pytorch-accumulates-gradients-default-optimizer",
        "Gradient accumulation: run forward and backward on several small batches, let the gradients add up, then do one optimizer.step, "
        "simulating a larger effective batch size than fits in memory.",
        "To get a larger effective batch size than memory allows.",
        "When you use dropout at test time for uncertainty.",
    ),
    (
        "fundamentals-07-initializing-all-weights-neural-network",
        "With all-zero weights every neuron computes the same output and receives the same gradient, so they stay identical forever; random "
        "initialisation like Kaiming or Xavier breaks the symmetry.",
        "All neurons would receive the same gradient.",
        "Zero weights make the loss NaN because of division by zero.",
    ),
    (
        "fundamentals-08-nn-bcewithlogitsloss-preferred-over-combining",
        "BCEWithLogitsLoss fuses the sigmoid and the log using the log-sum-exp trick so it is numerically stable; a separate sigmoid "
        "saturates to exactly 0 or 1 and log of 0 gives inf or NaN.",
        "It is numerically stable because it fuses sigmoid and log.",
        "It trains faster because it uses the GPU better.",
    ),
    (
        "resnet-03-skip-connections-help-gradient-flow",
        "For y = F(x) + x the derivative is dF/dx + 1, so the +1 passes the gradient unchanged through the skip path and the signal is "
        "preserved even when dF/dx is small.",
        "The gradient gets a +1 term through the skip path.",
        "They reduce the number of parameters so there is less to train.",
    ),
    (
        "resnet-19-remove-bias-conv2d-using-batchnorm",
        "BatchNorm subtracts the batch mean, so a constant conv bias just shifts the mean and is cancelled: BN(Wx + b) = BN(Wx); BN has its "
        "own beta anyway.",
        "BatchNorm subtracts the mean, which cancels the bias.",
        "Biases cause exploding gradients when combined with ReLU.",
    ),
    (
        "resnet-21-resnet-block-use-two-3",
        "Two stacked 3x3 convs see a 5x5 receptive field with 18 instead of 25 weights per channel pair, and add two non-linearities instead of one.",
        "Two 3x3 convs use 18 weights instead of 25.",
        "A 5x5 kernel cannot be computed on a GPU.",
    ),
    (
        "keras-s4-q2-horizontal-flip-but-vertical-flip",
        "Real photos of cars, animals and ships appear upright, so a vertical flip creates unrealistic images; only label-preserving transforms help.",
        "A vertical flip gives unrealistic images.",
        "Vertical flips are too slow to compute on the GPU.",
    ),
    (
        "viva-27-torch-no-grad-used-eval",
        "no_grad disables gradient computation, so no computation graph is stored and validation uses less memory.",
        "It stops the computation graph being stored.",
        "It turns dropout off and switches BatchNorm to running statistics.",
    ),
]


@pytest.mark.parametrize(("item_id", "good", "partial", "wrong"), EXAMPLES, ids=[e[0][:30] for e in EXAMPLES])
def test_good_beats_partial_beats_wrong(items, item_id, good, partial, wrong):
    item = items[item_id]
    good_result, partial_result, wrong_result = grade(item, good), grade(item, partial), grade(item, wrong)
    assert good_result.score > partial_result.score > wrong_result.score, (good_result, partial_result, wrong_result)
    assert good_result.score >= 0.7 and good_result.suggested_rating in ("Good", "Easy")
    assert wrong_result.suggested_rating == "Again"  # a confidently wrong answer never passes
    assert set(good_result.matched) | set(good_result.missed) == set(item.key_points)


def test_grade_cli_prints_json(items):
    item_id, good, _, _ = EXAMPLES[0]
    result = subprocess.run([sys.executable, "-m", "study", "grade", item_id, "--answer", good, "--json"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert {"score", "matched", "missed", "contradicted", "misconceptions", "points", "suggested_rating"} <= set(payload)
    assert payload["score"] >= 0.7 and payload["contradicted"] == []


def test_labelled_set_meets_the_grading_targets():
    # The figures `python -m bench grading` prints for the tuned set (docs/grading.md); floors a
    # little under the measured values, so a change that loses ground on any kind fails here.
    from bench.grading import GRADING_SET, evaluate, load_labelled

    evaluation = evaluate(load_labelled(GRADING_SET))
    assert len({g.labelled.item for g in evaluation.graded}) >= 60
    floors = {
        "correct_paraphrase": 0.88, "correct_negation": 0.95, "numeric_equivalent": 0.95, "partial": 0.80, "term_list": 1.0,
        "off_topic": 0.97, "reversed_negation": 0.95, "reversed_antonym": 0.95, "role_swap": 0.95, "value_flip": 0.95, "misconception": 0.95,
    }  # fmt: skip
    below = {kind: evaluation.share_accepted(kind) for kind, floor in floors.items() if evaluation.share_accepted(kind) < floor}
    assert not below, below


def test_dev_set_a_keeps_its_ground():
    # Blind set A, tuned on since issue 28's second round (its header): floors a little under the
    # figures docs/grading.md reports as dev-A, so a change that loses ground on unseen wording fails.
    # Round 6's calibration (fitted on every set, dev-A included) raises a misconception the bank does
    # not list and a value flip from Hard to Good here (32/38, 20/26), while gaining 17 correct answers;
    # left out of its fit, it raises only the value flip (docs/grading.md, Round 6).
    from bench.grading import DEV_SET, evaluate, load_labelled

    evaluation = evaluate(load_labelled(DEV_SET))
    floors = {
        "correct_paraphrase": 0.72, "correct_negation": 0.45, "numeric_equivalent": 0.58, "partial": 0.88, "term_list": 1.0,
        "off_topic": 1.0, "reversed_negation": 0.8, "reversed_antonym": 0.95, "role_swap": 0.8, "value_flip": 0.76, "misconception": 0.8,
    }  # fmt: skip
    below = {kind: evaluation.share_accepted(kind) for kind, floor in floors.items() if evaluation.share_accepted(kind) < floor}
    assert not below, below
