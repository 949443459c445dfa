"""Issue 28, fifth round: what a learner chose against, a degree said twice, values bound by
"for", and the other readings of this round. Each test holds a learner's answer whose verdict
depends on the rule it names, and the answer the rule must still credit."""

from study.grading import grade
from tests.study.grading_points import point


def test_a_thing_named_only_as_what_was_chosen_against_is_swapped(items):
    # "X rather than Y" asserts X in Y's place: the point's Y, said only after "rather than", is reversed.
    item = items["resnet-27-model-eval-doing"]
    against = grade(item, "at test time batchnorm uses each batch's own mean and var instead of the running mean and var")
    assert point(against, "BatchNorm uses running").status.value == "contradicted"
    assert point(against, "BatchNorm uses running").why == "roles"
    chosen = grade(item, "at test time batchnorm uses the running mean and var instead of each batch's own")
    assert point(chosen, "BatchNorm uses running").status.value == "matched"


def test_a_point_that_replaces_one_thing_by_another_may_name_the_old_one(items):
    # "replace the final layer with Linear(in, 1)": naming the old layer as what goes is no swap.
    item = items["resnet-49-can-use-resnet-regression"]
    said = grade(item, "yes, replace it with a Linear(in, 1) in place of the final layer and train with MSE loss")
    assert point(said, "replace the final layer").status.value != "contradicted"


def test_a_degree_qualified_by_its_opposite_is_the_opposite(items):
    # "a lower peak learning rate": "peak" is a degree word too, but here a noun that "lower" qualifies.
    item = items["resnet-14-benefits-fit-one-cycle"]
    lowered = grade(item, "the catch is that you need much lower peak learning rates so it does not diverge")
    assert point(lowered, "much higher maximum").status.value == "contradicted"
    raised = grade(item, "you can use a much higher peak learning rate without it diverging")
    assert point(raised, "much higher maximum").status.value == "matched"


def test_a_negation_typed_without_its_apostrophe_is_a_negation(items):
    # "dont", "doesnt", "wont": the same reading as "don't", so "dont underflow" avoids underflow.
    item = items["interview-06-implement-mixed-precision-training-scratch"]
    for typed in ("dont", "don't"):
        said = grade(item, f"the GradScaler multiplies the loss up so tiny fp16 gradients {typed} underflow to zero")
        assert point(said, "GradScaler scales").status.value == "matched", typed
    wrong = grade(item, "the GradScaler multiplies the loss up so tiny fp16 gradients underflow to zero")
    assert point(wrong, "GradScaler scales").status.value != "matched"


def test_failure_to_learn_is_stated_by_does_not_learn(items):
    item = items["keras-s3-q4-happen-skipped-normalization"]
    said = grade(item, "with 0-255 inputs it converges very slowly or doesn't learn at all")
    assert point(said, "slow convergence or failure").status.value == "matched"


def test_neither_nor_is_one_negation_over_both(items):
    # "neither A nor B" denies both: said of the test loader it mirrors "train loader shuffles and
    # augments" (two flips, subject and negation); said of the train loader it reverses it.
    item = items["resnet-38-test-loader-differ-train-loader"]
    mirrored = grade(item, "the eval loader neither shuffles nor augments anything")
    assert point(mirrored, "train loader shuffles").status.value != "contradicted"
    denied = grade(item, "the training loader neither shuffles nor augments anything")
    assert point(denied, "train loader shuffles").status.value == "contradicted"


def test_a_call_with_its_arguments_exchanged_swaps_their_roles(items):
    # Linear(in, out): names and numbers in a call keep their places, like a shape's entries.
    item = items["viva-24-incorporate-transfer-learning-using-torchvisions"]
    flipped = grade(item, "load resnet18 pretrained and set model.fc = nn.Linear(10, in_features)")
    assert point(flipped, "replace model.fc").status.value == "contradicted"
    assert point(flipped, "replace model.fc").why == "roles"
    kept = grade(item, "load resnet18 pretrained and set model.fc = nn.Linear(in_features, 10)")
    assert point(kept, "replace model.fc").status.value == "matched"


def test_powers_and_a_range_from_zero_are_numbers():
    from study.grading.numbers import number_spans

    def values(text):
        return [round(span.value, 9) for span in number_spans(text)]

    assert values("a byte holds 2^8 = 256 levels") == [256, 256]
    assert values("that is 2**10 entries") == [1024]
    assert values("intensities from zero to two fifty five") == [0, 255]
    assert values("zero the gradients, pad with zero") == []  # zero as a verb or a padding mode is no number


def test_without_x_you_cannot_y_states_that_x_is_needed(items):
    # Two negations, the condition's and the impossible consequence's, cancel.
    item = items["resnet-56-images-device-non-blocking-true"]
    needed = grade(item, "without pinned memory you can't get a truly async copy")
    assert point(needed, "needs pinned memory").status.value == "matched"
    needed = grade(item, "without page-locked memory the copy wont overlap with compute")
    assert point(needed, "needs pinned memory").status.value != "contradicted"
    # A consequence that is possible after all keeps the condition's negation: pinned memory is denied.
    denied = grade(item, "it works without pinned memory, you still get an async copy")
    assert point(denied, "needs pinned memory").status.value == "contradicted"


def test_numbers_exchanged_around_instead_of_swap_their_roles(items):
    item = items["resnet-21-resnet-block-use-two-3"]
    fewer = grade(item, "it has a single non-linearity instead of two")
    assert point(fewer, "two non-linearities").status.value == "contradicted"
    more = grade(item, "there are two non-linearities instead of only one")
    assert point(more, "two non-linearities").status.value == "matched"
    # A passed-over number shares its noun: "25 weights" is not a denial of weights.
    kept = grade(item, "two stacked 3x3 convs use 18 instead of 25 weights per channel pair")
    assert point(kept, "18 weights").status.value == "matched"


def test_a_clause_stating_another_point_does_not_reverse_this_one_through_that_points_word(items):
    # "frozen" is the other point's own word; the clause says nothing of the trainable head.
    item = items["keras-s5-q5-many-parameters-trainable-frozen-base"]
    said = grade(item, "the count is 527,114, all in the new head, and the 23.6M resnet50 weights are frozen")
    assert point(said, "527,114 trainable").status.value != "contradicted"
    # Said of this point's own subject, the other point's word still reverses it.
    swapped = grade(item, "the 527,114 parameters are frozen")
    assert point(swapped, "527,114 trainable").status.value == "contradicted"


def test_keeps_it_from_is_a_prevention(items):
    # "keeps it from diverging" = "without divergence", as "prevents it diverging" is.
    item = items["resnet-14-benefits-fit-one-cycle"]
    said = grade(item, "you can use much higher maximum learning rates since the schedule keeps it from diverging")
    assert point(said, "much higher maximum").status.value == "matched"


def test_values_given_for_two_things_the_other_way_round_are_swapped(items):
    # "N for X": each number is the value for the thing after "for".
    item = items["resnet-53-pytorch-handle-rgb-vs-grayscale"]
    swapped = grade(item, "the channel count C is 3 for grayscale and 1 for RGB")
    assert point(swapped, "C=3 for RGB").status.value == "contradicted"
    kept = grade(item, "the channel count C is 1 for grayscale and 3 for RGB")
    assert point(kept, "C=3 for RGB").status.value != "contradicted"


def test_the_points_call_with_another_number_is_a_wrong_value(items):
    item = items["keras-s5-q4-custom-head-architecture"]
    wrong = grade(item, "the hidden layer is Dense(256, softmax) and the output is Dense(10, relu)")
    assert point(wrong, "Dense(256, ReLU)").status.value == "contradicted"
    assert point(wrong, "Dense(256, ReLU)").why == "value"
    # The other layer's call is no wrong value for this one, and writing the point's own call clears it.
    right = grade(item, "Dense(256, ReLU) then Dropout(0.3) then Dense(10, softmax)")
    assert point(right, "Dense(256, ReLU)").status.value == "matched"
    regression = grade(items["resnet-49-can-use-resnet-regression"], "yes: swap the final Linear(512, 10) for Linear(512, 1) and use MSE")
    assert point(regression, "replace the final layer").status.value != "contradicted"
