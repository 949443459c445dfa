"""Issue 28, thirteenth round: a negation that reaches another one's head composes with it ("you don't
see upside-down trucks" = "objects appear upright"); "inference mode" typed in words is eval's wording,
not torch.inference_mode's; and "per-batch statistics" is BatchNorm's batch statistics, not a rate per
iteration. Each test fails with its rule removed."""

from study.grading import grade
from study.grading.grader import PointStatus
from tests.study.grading_points import point

FLIPS = "keras-s4-q2-horizontal-flip-but-vertical-flip"
UPRIGHT = "objects appear upright in real photos"
EVAL_VS_NO_GRAD = "viva-08-evaluation-different-training-eval-model"
EVAL_POINT = "model.eval() switches dropout and BatchNorm to inference"
EVAL_MODE = "resnet-27-model-eval-doing"
RUNNING = "BatchNorm uses running mean and variance"


def test_a_negation_over_a_negated_word_composes_with_it(items):
    # "don't see" reaches "upside down" (= not upright): the two negations cancel.
    said = grade(items[FLIPS], "you dont see upside down trucks or cats in real pictures, so vertical flips give unrealistic images")
    assert point(said, UPRIGHT).status is PointStatus.MATCHED
    # The inner negation alone still reverses the point.
    reversed_ = grade(items[FLIPS], "you see upside down trucks or cats in real pictures all the time")
    assert point(reversed_, UPRIGHT).status is PointStatus.CONTRADICTED


def test_inference_mode_in_words_is_what_eval_switches_to(items):
    said = grade(items[EVAL_VS_NO_GRAD], "model.eval() isnt what stops gradients - it only changes dropout and BN to inference mode")
    assert point(said, EVAL_POINT).status is not PointStatus.CONTRADICTED
    # The same predicate said of torch.no_grad() still swaps the two roles.
    swapped = grade(items[EVAL_VS_NO_GRAD], "torch.no_grad() switches dropout and BN to inference mode")
    graded = point(swapped, EVAL_POINT)
    assert graded.status is PointStatus.CONTRADICTED
    assert graded.why == "roles"


def test_per_batch_statistics_are_batchnorms_batch_statistics(items):
    # "stops using" batch statistics is using the running ones (a negated counterpart agrees).
    stopped = grade(items[EVAL_MODE], "in eval batchnorm stops using per-batch statistics")
    assert point(stopped, RUNNING).status is PointStatus.MATCHED
    possessive = grade(items[EVAL_MODE], "in eval batchnorm stops using the current batch's statistics")
    assert point(possessive, RUNNING).status is PointStatus.MATCHED
    used = grade(items[EVAL_MODE], "in eval batchnorm uses per-batch statistics")
    graded = point(used, RUNNING)
    assert graded.status is PointStatus.CONTRADICTED
    assert graded.why == "roles"


WORKERS = "fundamentals-11-gpu-utilization-low-20-but"
SPLIT_SIZES = "keras-s3-q6-much-total-memory-normalized-dataset"
DROPOUT_OR_BN = "resnet-10-can-remove-dropout-use-batchnorm"
BN_NOT_DROPOUT = "ResNets use BatchNorm and no dropout"


def test_a_key_point_stated_in_full_is_a_weak_recall_not_nothing(items):
    # One short sentence, typos and all, that states one point in full: Hard, though most of its
    # words are not the item's.
    result = grade(items[WORKERS], "id increase num_workers in teh DataLoader so loading happens in several processes")
    assert result.suggested_rating == "Hard"


def test_an_answer_to_another_question_stays_again_though_it_brushes_a_point(items):
    result = grade(
        items["resnet-54-inductive-bias"],
        "positional encodings add sinusoids of different frequencies to token embeddings so the transformer knows word order",
    )
    assert result.suggested_rating == "Again"


def test_a_list_of_numbers_without_their_names_is_a_term_list(items):
    listed = grade(items[SPLIT_SIZES], "93.8 MB, 23.5 MB, 117.2 MB, 235 MB, float32")
    assert listed.listed_terms
    assert listed.suggested_rating in ("Again", "Hard")
    assert point(listed, "train 93.8 MB").status is PointStatus.PARTIAL  # the number, not which split it is
    # Each number under its label says which split it is.
    labelled = grade(items[SPLIT_SIZES], "Train: 93.8 MB, Val: 23.5 MB, Test: 117.2 MB. Total ~235 MB.")
    assert not labelled.listed_terms
    assert labelled.suggested_rating in ("Good", "Easy")


def test_two_denials_of_different_things_swap_what_is_denied(items):
    swapped = grade(
        items[DROPOUT_OR_BN], "Often yes. ResNets typically use Dropout and no BatchNorm, since dropout gives enough regularisation"
    )
    graded = point(swapped, BN_NOT_DROPOUT)
    assert graded.status is PointStatus.CONTRADICTED
    assert graded.why == "roles" and graded.swapped == ("dropout", "batchnorm")
    said = grade(items[DROPOUT_OR_BN], "Often yes. ResNets typically use BatchNorm and no dropout, since BN already regularises")
    assert point(said, BN_NOT_DROPOUT).status is PointStatus.MATCHED


def test_mu_and_sigma_are_the_mean_and_the_std(items):
    item = items["resnet-05-normalize-inputs-using-dataset-mean"]
    formula = "x' = (x - mean) / std"
    assert point(grade(item, "we normalise with x' = (x - mu)/sigma per channel"), formula).status is PointStatus.MATCHED
    swapped = point(grade(item, "we normalise with x' = (x - sigma)/mu per channel"), formula)
    assert swapped.status is PointStatus.CONTRADICTED


def test_a_number_counts_the_name_after_a_copula(items):
    # "527K were trainable": the count is of the trainable weights, so it answers "15.5M trainable".
    item = items["keras-s7-q3-many-parameters-became-trainable-after"]
    after_unfreezing = "15.5M trainable after unfreezing"
    swapped = point(grade(item, "After unfreezing only 527K were trainable, versus 15.5M before"), after_unfreezing)
    assert swapped.status is PointStatus.CONTRADICTED
    assert swapped.why == "number"
    said = point(grade(item, "After unfreezing 15.5M were trainable, up from 527K before"), after_unfreezing)
    assert said.status is PointStatus.MATCHED


def test_synchronous_is_the_opposite_of_asynchronous(items):
    item = items["resnet-56-images-device-non-blocking-true"]
    copy = "asynchronous host to device copy"
    assert point(grade(item, "it makes the host-to-device copy asynchronous, from pinned memory"), copy).status is PointStatus.MATCHED
    reversed_ = point(grade(item, "it makes the host-to-device copy synchronous, from pinned memory"), copy)
    assert reversed_.status is PointStatus.CONTRADICTED
    assert reversed_.why == "antonym"


def test_undersized_is_the_opposite_of_oversized(items):
    item = items["keras-s5-q1-use-resnet50-cifar-10"]
    oversized = "ResNet50 is oversized for 32x32 images"
    assert point(grade(item, "ResNet50 is oversized for 32x32 images"), oversized).status is PointStatus.MATCHED
    assert point(grade(item, "ResNet50 is actually undersized for 32x32 images"), oversized).status is PointStatus.CONTRADICTED


def test_without_it_typed_without_its_comma_is_still_the_bare_condition(items):
    item = items["keras-s2-q2-stratified-splitting-important"]
    bias = "avoids bias towards majority classes"
    said = grade(
        item,
        "stratify keeps class proportions the same in every split. "
        "Without it a random split can skew classes and bias things toward majority classes",
    )
    assert point(said, bias).status is PointStatus.MATCHED
    denied = grade(
        item, "stratify keeps class proportions the same in every split. Without it there is still no bias toward majority classes"
    )
    assert point(denied, bias).status is PointStatus.CONTRADICTED


def test_a_reversal_of_the_half_the_credit_leaves_unsaid_reverses_the_point(items):
    item = items["viva-30-purpose-model-train-model-eval"]
    train_mode = "model.train() enables dropout and BatchNorm batch statistics"
    half_reversed = grade(item, "model.train() enables dropout, but BatchNorm doesn't use batch statistics in training")
    assert point(half_reversed, train_mode).status is PointStatus.CONTRADICTED
    both_halves = grade(item, "model.train() enables dropout, and BatchNorm uses batch statistics in training")
    assert point(both_halves, train_mode).status is PointStatus.MATCHED


def test_a_very_fine_heatmap_is_the_opposite_of_a_coarse_one(items):
    item = items["keras-s9-q9-limitations-grad-cam-task"]
    coarse = "coarse 7x7 heatmap"
    assert point(grade(item, "the 7x7 heatmap is coarse on 32x32 images"), coarse).status is PointStatus.MATCHED
    assert point(grade(item, "the 7x7 heatmap is very fine on 32x32 images"), coarse).status is PointStatus.CONTRADICTED


def test_a_list_of_typed_names_is_a_term_list(items):
    item = items["viva-05-cifar-10-dataset-loaded"]
    listed = grade(item, "torchvision.datasets.CIFAR10, get_data_loaders, download=True, DataLoader, shuffle")
    assert listed.listed_terms
    assert listed.suggested_rating in ("Again", "Hard")
    said = grade(
        item,
        "It is loaded inside get_data_loaders with torchvision.datasets.CIFAR10(download=True), and a DataLoader batches and shuffles it",
    )
    assert not said.listed_terms


def test_a_split_between_two_counterparts_keeps_the_negation_with_its_verb(items):
    # "large" and "hurt" are up and down: the sentence is split between them, and "don't" goes with "hurt".
    item = items["interview-07-trade-off-between-batch-size"]
    hurt = "very large batches can hurt generalisation"
    assert point(grade(item, "very large batches can hurt generalisation"), hurt).status is PointStatus.MATCHED
    assert point(grade(item, "very large batches don't hurt generalisation"), hurt).status is not PointStatus.MATCHED


def test_lighter_augmentation_is_the_opposite_of_stronger(items):
    item = items["viva-23-suggest-three-small-model-changes"]
    stronger = "stronger augmentation like cutout or random erasing"
    said = grade(item, "bigger classifier, resnet18 fine-tuning, and stronger augmentation like cutout or random erasing")
    assert point(said, stronger).status is PointStatus.MATCHED
    lighter = grade(item, "bigger classifier, resnet18 fine-tuning, and lighter augmentation like cutout or random erasing")
    assert point(lighter, stronger).status is PointStatus.CONTRADICTED


def test_a_degree_after_a_linking_verb_qualifies_the_noun_before_it(items):
    item = items["resnet-11-weight-decay"]
    small = "keeps weights small"
    assert point(grade(item, "the penalty keeps the weights small"), small).status is PointStatus.MATCHED
    larger = point(grade(item, "the penalty pushes the weights to become larger"), small)
    assert larger.status is PointStatus.CONTRADICTED
    assert larger.swapped == ("small", "larger")


def test_a_list_of_bare_numbers_is_told_to_say_which_is_which(items):
    result = grade(items[SPLIT_SIZES], "93.8 MB, 23.5 MB, 117.2 MB, 235 MB, float32")
    assert result.hint == "You listed the numbers; say which is which: which one is the train?"
