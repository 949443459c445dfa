from cifar_core.early_stopping import EarlyStopping


def run(patience, accuracies):
    stopping = EarlyStopping(patience)
    return [(stopping.update(accuracy), stopping.should_stop) for accuracy in accuracies]


def test_the_first_validated_epoch_is_a_best_even_at_zero_accuracy():
    assert run(2, [0.0]) == [(True, False)]


def test_a_tie_is_not_an_improvement_and_patience_counts_epochs_without_one():
    assert run(2, [50.0, 50.0, 60.0, 55.0, 60.0]) == [(True, False), (False, False), (True, False), (False, False), (False, True)]


def test_an_epoch_without_validation_neither_improves_nor_counts():
    assert run(1, [40.0, None, None]) == [(True, False), (False, False), (False, False)]


def test_without_patience_it_never_stops():
    assert run(None, [10.0, 5.0, 5.0, 5.0])[-1] == (False, False)


def test_replayed_history_carries_the_count_of_epochs_without_a_gain():
    stopping = EarlyStopping.replayed(3, [20.0, 30.0, 25.0, 30.0])
    assert (stopping.best, stopping.epochs_without_gain) == (30.0, 2)
    stopping.update(29.0)
    assert stopping.should_stop
