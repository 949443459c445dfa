"""Issue 28, tenth round: a negation distributes over "or"; a clause that says one member of a point's list
is absent denies the point; flips do not cancel across clauses; "get the same" is "receive the same". Each
test holds a reversed answer the rule catches and a correct one it keeps (each fails with its rule removed:
checked, see docs/grading.md, round 10)."""

from study.grading import grade
from study.grading.grader import PointStatus
from tests.study.grading_points import point

WORKERS = "viva-18-code-uses-num-workers-2"
COST = "more CPU and memory use"


def test_a_negation_before_or_denies_both_things_it_joins(items):
    # "doesn't use more CPU or memory" is "not (CPU or memory)": the memory is denied as well as the CPU.
    item = items[WORKERS]
    wrong = grade(item, "extra workers raise throughput and they don't take more CPU or memory; past the cores they contend")
    assert point(wrong, COST).status is PointStatus.CONTRADICTED
    right = grade(item, "extra workers raise throughput but they take more CPU and memory; past the cores they contend")
    assert point(right, COST).status is PointStatus.MATCHED


CHECKPOINTS = "viva-11-checkpointing-scheme-used-save-checkpoint"
STATE = "state holds epoch, state_dict, best_acc and optimizer state"
PRINTED = "viva-28-script-print-epoch-statistics-included"


def test_a_clause_saying_a_listed_thing_is_absent_denies_the_list(items):
    said = "checkpoint.pth every epoch, best.pth when is_best by validation accuracy; the state has epoch, state_dict and best_acc{}"
    wrong = grade(items[CHECKPOINTS], said.format(", but the optimizer state is not saved"))
    assert point(wrong, STATE).status is PointStatus.CONTRADICTED
    # The same clause with nothing denied lists it.
    right = grade(items[CHECKPOINTS], said.format(", and the optimizer state is saved too"))
    assert point(right, STATE).status is not PointStatus.CONTRADICTED
    # A bare noun-phrase point ("validation loss and accuracy") is denied by "... aren't printed".
    printed = "after each checkpoint it prints the epoch number and the train loss and accuracy; the validation loss and accuracy {}"
    assert point(grade(items[PRINTED], printed.format("aren't printed")), "validation loss and accuracy").status is PointStatus.CONTRADICTED
    assert point(grade(items[PRINTED], printed.format("are printed too")), "validation loss and accuracy").status is PointStatus.MATCHED


SYMMETRY = "fundamentals-07-initializing-all-weights-neural-network"
GRADIENT = "all receive the same gradient"


def test_a_clause_that_denies_the_point_is_not_turned_round_by_its_neighbour(items):
    # "they don't get the same gradient" denies the point; "so only some of them learn" reverses "all" in
    # the next clause: two flips in two clauses are two claims, not a double negative.
    item = items[SYMMETRY]
    wrong = grade(item, "every neuron computes the same output, but they don't get the same gradient, so only some of them learn")
    assert point(wrong, GRADIENT).status is PointStatus.CONTRADICTED
    right = grade(item, "every neuron computes the same output and they all get the same gradient, so they stay identical")
    assert point(right, GRADIENT).status is PointStatus.MATCHED


EVALUATION = "viva-08-evaluation-different-training-eval-model"
EVAL_MODE = "model.eval() switches dropout and BatchNorm to inference"


def test_flips_in_two_clauses_do_not_cancel_into_a_statement(items):
    # "no_grad ... disables dropout" credits nothing of model.eval(): the clause that names dropout reads the
    # point reversed ("disables" for "switches ... to inference"), and joining it to the next clause ("different
    # from training", training for inference) must not cancel that flip against another.
    item = items[EVALUATION]
    said = "it runs under torch.no_grad(), which turns off the gradients and also disables dropout and the batchnorm updates"
    wrong = grade(item, said + ", that's how it differs from training")
    assert point(wrong, EVAL_MODE).status is not PointStatus.MATCHED
    right = grade(item, "model.eval() switches dropout and batchnorm to inference mode, and torch.no_grad() turns off the gradients")
    assert point(right, EVAL_MODE).status is PointStatus.MATCHED


def _status(items, item_id: str, answer: str, key_point: str) -> PointStatus:
    return point(grade(items[item_id], answer), key_point).status


def test_just_under_a_round_number_is_about_it(items):
    # "just under fifty minutes" approximates 49 (the share an approximation allows); forty does not.
    said = "phase 2 took just under {} minutes for its 30 epochs"
    assert _status(items, "keras-s7-q7-long-phase-2-training-take", said.format("fifty"), "about 49 minutes") is PointStatus.MATCHED
    assert _status(items, "keras-s7-q7-long-phase-2-training-take", said.format("forty"), "about 49 minutes") is PointStatus.CONTRADICTED
    # The point's own 49.0 allows nothing: "just under" makes the learner's fifty the approximation.
    best = "just under {} percent validation accuracy, at epoch 25, restored by EarlyStopping"
    point_49 = "49.0 percent validation accuracy"
    assert _status(items, "keras-s7-q5-was-best-validation-accuracy-achieved", best.format("fifty"), point_49) is PointStatus.MATCHED
    assert _status(items, "keras-s7-q5-was-best-validation-accuracy-achieved", best.format("sixty"), point_49) is PointStatus.CONTRADICTED


def test_a_spoken_ordinal_is_its_number(items):
    # "the twenty fifth epoch" is epoch 25 (not twenty fifths, 4).
    said = "0.49 validation accuracy at the twenty {} epoch, restored by EarlyStopping"
    best = "keras-s7-q5-was-best-validation-accuracy-achieved"
    assert _status(items, best, said.format("fifth"), "at epoch 25") is PointStatus.MATCHED
    assert _status(items, best, said.format("third"), "at epoch 25") is PointStatus.CONTRADICTED


def test_a_percent_at_the_end_of_a_range_holds_for_both_ends(items):
    # The key point writes "from 10.5 to 49 percent": 10.5 is a percent too, so 0.105 states it.
    said = "it rose 4.7x, from 0.105 to 0.49 validation accuracy, a gain of 38.5 points"
    improvement = "keras-s7-q8-was-improvement-phase-1-phase"
    assert _status(items, improvement, said, "from 10.5 to 49 percent validation accuracy") is PointStatus.MATCHED


def test_a_calls_second_argument_is_no_value_of_the_first(items):
    # "Linear(in_features, 10)": 10 is the output size, not a number of features ("takes 512 features").
    said = "load resnet18 with pretrained weights; model.fc becomes Linear(512, {}) since its fc takes 512 features"
    head = "replace model.fc with Linear(in_features, 10)"
    transfer = "viva-24-incorporate-transfer-learning-using-torchvisions"
    assert _status(items, transfer, said.format("10"), head) is PointStatus.MATCHED
    assert _status(items, transfer, said.format("100"), head) is PointStatus.CONTRADICTED


def test_regularisation_against_a_thing_prevents_it(items):
    co_adaptation = "prevents co-adaptation in the dense layer"
    dropout = "viva-49-dropout-rate-0-5-may"
    right = "dropout 0.5 is strong regularisation, a regularisation against co-adaptation in the dense layer"
    assert _status(items, dropout, right, co_adaptation) is PointStatus.MATCHED
    wrong = "dropout 0.5 is strong regularisation; it causes co-adaptation in the dense layer"
    assert _status(items, dropout, wrong, co_adaptation) is PointStatus.CONTRADICTED


def test_a_range_shares_its_percent_only_across_a_range_link():
    from study.grading.lexicon import load_lexicon
    from study.grading.text import tokenize

    def percents(text: str) -> list[bool]:
        return [t.percent for t in tokenize(text, load_lexicon()) if t.kind == "number"]

    for linked in ("10.5 to 49%", "10.5-49%", "10.5 - 49%", "0.105 -> 0.49%", "10.5 \u2192 49%"):
        assert percents(linked) == [True, True], linked
    for apart in ("8000 images and 20%", "it went 10.5, then 49%"):
        assert percents(apart) == [False, True], apart
