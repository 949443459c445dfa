"""The training script's pieces: one step, evaluation, the epoch's mean loss, overfitting one
batch, early stopping, gradient clipping, checkpoint and resume, seeding."""

from exercises.library import code
from exercises.model import Exercise, Mistake
from exercises.report import compare, same


def _tiny_model(seed: int = 0, dropout: bool = False):
    import torch
    from torch import nn

    torch.manual_seed(seed)
    layers = [nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU()] + ([nn.Dropout(0.5)] if dropout else []) + [nn.Linear(8, 3)]
    return nn.Sequential(*layers)


def _batch(seed: int = 1, size: int = 16):
    import torch

    generator = torch.Generator().manual_seed(seed)
    return torch.randn(size, 6, generator=generator), torch.randint(0, 3, (size,), generator=generator)


def _weights(model) -> list:
    return [p.detach().clone() for p in model.parameters()]


# ---------------------------------------------------------------- a training step


def _check_train_step(learner, reference, report) -> None:
    import torch
    from torch import nn

    def run(step, steps: int):
        model = _tiny_model()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        losses = [report.call(step, model, *_batch(seed), nn.CrossEntropyLoss(), optimizer) for seed in range(1, steps + 1)]
        return losses, _weights(model), model.training

    def first_loss():
        (got,), _, _ = run(learner, 1)
        (expected,), _, _ = run(reference, 1)
        return same(got, expected), expected, got, "return loss.item() of this batch, computed before the update"

    def one_step():
        _, got, _ = run(learner, 1)
        _, expected, _ = run(reference, 1)
        return (
            same(got, expected),
            expected[0],
            got[0],
            "the weights did not move as one SGD step moves them: call loss.backward() then optimizer.step()",
        )

    def three_steps():
        _, got, training = run(learner, 3)
        _, expected, _ = run(reference, 3)
        meaning = "the steps after the first differ: gradients piled up across steps, call optimizer.zero_grad() every step"
        return same(got, expected), expected[0], got[0], meaning

    def stays_in_train_mode():
        _, _, training = run(learner, 1)
        return training, True, training, "the step switched the model out of train mode: a training step must not call model.eval()"

    report.check("returns this batch's loss", first_loss)
    report.check("one step updates the weights like the reference", one_step)
    report.check("three steps in a row match the reference", three_steps)
    report.check("the model stays in train mode", stays_in_train_mode)


TRAIN_STEP = Exercise(
    id="train-step",
    title="One training step",
    function="train_step",
    prompt=code("""
        Write `train_step(model, images, labels, criterion, optimizer)`: one optimisation step on one
        batch, as `train_epoch` does for every batch. Return the batch's loss as a Python float.
        The hidden checks run one and three steps with SGD and momentum and compare the weights with
        the reference's.
    """),
    starter=code('''
        def train_step(model, images, labels, criterion, optimizer):
            """One step on one batch; returns the loss as a float."""
            raise NotImplementedError("write the training step")
    '''),
    solution=code('''
        def train_step(model, images, labels, criterion, optimizer):
            """One step on one batch; returns the loss as a float."""
            optimizer.zero_grad()  # gradients accumulate in .grad unless cleared
            loss = criterion(model(images), labels)
            loss.backward()
            optimizer.step()
            return loss.item()
    '''),
    hint="Four calls in order: clear the old gradients, forward and loss, backward, step.",
    checks=_check_train_step,
    mistakes=(
        Mistake(
            "forgetting optimizer.zero_grad()",
            code("""
            def train_step(model, images, labels, criterion, optimizer):
                loss = criterion(model(images), labels)
                loss.backward()
                optimizer.step()
                return loss.item()
        """),
            "zero_grad",
        ),
        Mistake(
            "forgetting optimizer.step()",
            code("""
            def train_step(model, images, labels, criterion, optimizer):
                optimizer.zero_grad()
                loss = criterion(model(images), labels)
                loss.backward()
                return loss.item()
        """),
            "optimizer.step()",
        ),
    ),
    items=(
        "viva-07-train-epoch-core-steps-per",
        "viva-16-optimizer-zero-grad-required-before",
        "fundamentals-04-pytorch-accumulates-gradients-default-optimizer",
    ),
)


# ---------------------------------------------------------------- evaluation


def _record_grad_mode(model) -> list[bool]:
    """Whether autograd was on during each forward pass of `model`, appended as it runs."""
    import torch

    seen: list[bool] = []
    model.register_forward_pre_hook(lambda *_: seen.append(torch.is_grad_enabled()))
    return seen


def _check_evaluate(learner, reference, report) -> None:
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    def loader():
        images, labels = _batch(seed=5, size=50)
        return DataLoader(TensorDataset(images, labels), batch_size=16)  # a short last batch of 2

    def trained_model():
        model = _tiny_model(dropout=True)
        model.train()
        with torch.no_grad():  # BatchNorm running statistics away from their start
            for _ in range(3):
                model(_batch(seed=9)[0] * 3 + 1)
        return model

    def same_result():
        expected = reference(trained_model(), loader())
        got = report.call(learner, trained_model(), loader())
        meaning = "accuracy or mean loss differ: call model.eval() (dropout off, BatchNorm running statistics), and weight each batch's loss by its size"
        return same(got, expected, 1e-5), expected, got, meaning

    def repeatable():
        model = trained_model()
        first, second = report.call(learner, model, loader()), report.call(learner, model, loader())
        return same(first, second, 0.0), first, second, "two evaluations differ: dropout is still on, call model.eval()"

    def without_autograd():
        model = trained_model()
        grad_modes = _record_grad_mode(model)
        report.call(learner, model, loader())
        recorded = any(grad_modes)
        return (
            not recorded,
            "no graph built",
            "autograd on during forward" if recorded else "no graph built",
            "wrap the loop in torch.no_grad(): evaluation needs no graph",
        )

    report.check("mean loss and accuracy match the reference", same_result)
    report.check("evaluating twice gives the same numbers", repeatable)
    report.check("no autograd graph is built", without_autograd)


EVALUATE = Exercise(
    id="evaluate",
    title="Evaluation: model.eval() and torch.no_grad()",
    function="evaluate",
    prompt=code("""
        Write `evaluate(model, loader)` like `eval_model`: return `(mean_loss, accuracy)` over the whole
        loader, with the mean loss per sample (cross-entropy) and accuracy as a fraction in [0, 1].
        The model has dropout and BatchNorm; the last batch is shorter than the others.
    """),
    starter=code('''
        import torch
        from torch import nn


        def evaluate(model, loader):
            """(mean loss per sample, accuracy in [0, 1]) over the loader."""
            raise NotImplementedError("write the evaluation loop")
    '''),
    solution=code('''
        import torch
        from torch import nn


        def evaluate(model, loader):
            """(mean loss per sample, accuracy in [0, 1]) over the loader."""
            model.eval()  # dropout off, BatchNorm uses its running statistics
            criterion = nn.CrossEntropyLoss(reduction="sum")
            total_loss, correct, seen = 0.0, 0, 0
            with torch.no_grad():  # no graph: less memory, faster
                for images, labels in loader:
                    logits = model(images)
                    total_loss += criterion(logits, labels).item()
                    correct += (logits.argmax(1) == labels).sum().item()
                    seen += len(labels)
            return total_loss / seen, correct / seen
    '''),
    hint="model.eval() first; loop under torch.no_grad(); sum the loss per sample and divide by the number of samples at the end.",
    checks=_check_evaluate,
    mistakes=(
        Mistake(
            "forgetting model.eval()",
            code("""
            import torch
            from torch import nn


            def evaluate(model, loader):
                criterion = nn.CrossEntropyLoss(reduction="sum")
                total_loss, correct, seen = 0.0, 0, 0
                with torch.no_grad():
                    for images, labels in loader:
                        logits = model(images)
                        total_loss += criterion(logits, labels).item()
                        correct += (logits.argmax(1) == labels).sum().item()
                        seen += len(labels)
                return total_loss / seen, correct / seen
        """),
            "model.eval()",
        ),
        Mistake(
            "forgetting torch.no_grad()",
            code("""
            from torch import nn


            def evaluate(model, loader):
                model.eval()
                criterion = nn.CrossEntropyLoss(reduction="sum")
                total_loss, correct, seen = 0.0, 0, 0
                for images, labels in loader:
                    logits = model(images)
                    total_loss += criterion(logits, labels).item()
                    correct += (logits.argmax(1) == labels).sum().item()
                    seen += len(labels)
                return total_loss / seen, correct / seen
        """),
            "no_grad",
        ),
    ),
    items=(
        "viva-08-evaluation-different-training-eval-model",
        "viva-27-torch-no-grad-used-eval",
        "viva-30-purpose-model-train-model-eval",
        "resnet-27-model-eval-doing",
        "resnet-52-torch-no-grad-used-validation",
    ),
)


# ---------------------------------------------------------------- accuracy


def _check_accuracy(learner, reference, report) -> None:
    import torch

    def logits(n: int, seed: int):
        generator = torch.Generator().manual_seed(seed)
        return torch.randn(n, 10, generator=generator), torch.randint(0, 10, (n,), generator=generator)

    meaning = "take the argmax over the class dimension (dim=1) and return the fraction of matches"
    compare(report, "a batch of 64", learner, reference, lambda: logits(64, 0), meaning)
    compare(report, "a batch of one", learner, reference, lambda: logits(1, 3), meaning + "; a batch of one must work too")
    compare(report, "a batch of 10 (as many rows as classes)", learner, reference, lambda: logits(10, 4), meaning)


ACCURACY = Exercise(
    id="accuracy",
    title="Accuracy from logits",
    function="accuracy",
    prompt="Write `accuracy(logits, labels)`: logits of shape (N, C), labels of shape (N,); return the fraction of correct predictions as a float.\n",
    starter=code('''
        def accuracy(logits, labels):
            """Fraction of rows whose largest logit is the label's."""
            raise NotImplementedError("compute the accuracy")
    '''),
    solution=code('''
        def accuracy(logits, labels):
            """Fraction of rows whose largest logit is the label's."""
            return (logits.argmax(dim=1) == labels).float().mean().item()
    '''),
    hint="argmax over dim=1 gives one predicted class per row.",
    checks=_check_accuracy,
    mistakes=(
        Mistake(
            "argmax over the batch dimension",
            code("""
            def accuracy(logits, labels):
                return (logits.argmax(dim=0) == labels).float().mean().item()
        """),
            "dim=1",
        ),
    ),
    items=("viva-15-accuracy-computed-train-epoch-eval",),
)


# ---------------------------------------------------------------- the epoch's mean loss


def _check_epoch_mean(learner, reference, report) -> None:
    meaning = "weight each batch's mean loss by its batch size: the mean of batch means over-weights a short last batch"
    compare(report, "equal batches", learner, reference, lambda: ([2.0, 1.0, 3.0], [32, 32, 32]), meaning)
    compare(report, "a short last batch", learner, reference, lambda: ([2.0, 1.0, 4.0], [128, 128, 4]), meaning)
    compare(report, "a single batch of one", learner, reference, lambda: ([0.5], [1]), meaning)


EPOCH_MEAN_LOSS = Exercise(
    id="epoch-mean-loss",
    title="The epoch's loss per sample",
    function="epoch_mean_loss",
    prompt="Write `epoch_mean_loss(batch_losses, batch_sizes)`: each entry of `batch_losses` is one batch's mean loss; return the mean loss per sample over the epoch.\n",
    starter=code('''
        def epoch_mean_loss(batch_losses, batch_sizes):
            """Mean loss per sample, from each batch's mean loss and size."""
            raise NotImplementedError("average the losses")
    '''),
    solution=code('''
        def epoch_mean_loss(batch_losses, batch_sizes):
            """Mean loss per sample, from each batch's mean loss and size."""
            running_loss = sum(loss * size for loss, size in zip(batch_losses, batch_sizes))  # back to sums
            return running_loss / sum(batch_sizes)
    '''),
    hint="Multiply each batch's mean by its size to get the batch's sum; divide the total by the number of samples.",
    checks=_check_epoch_mean,
    mistakes=(
        Mistake(
            "the mean of the batch means",
            code("""
            def epoch_mean_loss(batch_losses, batch_sizes):
                return sum(batch_losses) / len(batch_losses)
        """),
            "batch size",
        ),
    ),
    items=("viva-22-plot-curves-multiply-loss-batch",),
)


# ---------------------------------------------------------------- overfit one batch


def _check_overfit(learner, reference, report) -> None:
    import torch

    def run():
        model = _tiny_model()
        images, labels = _batch(seed=2, size=8)
        losses = report.call(learner, model, images, labels, steps=150)
        return model, images, labels, losses

    def falls_to_zero():
        _, _, _, losses = run()
        final = float(losses[-1]) if len(losses) else float("nan")
        return (
            final < 0.05,
            "final loss below 0.05",
            final,
            "the loss did not reach ~0 on 8 samples: each step needs zero_grad, backward and step, with the same batch",
        )

    def memorised():
        model, images, labels, _ = run()
        model.eval()
        with torch.no_grad():
            correct = (model(images).argmax(1) == labels).float().mean().item()
        return (
            correct == 1.0,
            1.0,
            correct,
            "the model does not classify its 8 training samples perfectly: a sound loop memorises one batch",
        )

    def losses_per_step():
        _, _, _, losses = run()
        return len(losses) == 150, 150, len(losses), "return one loss per step"

    report.check("returns one loss per step", losses_per_step)
    report.check("the loss falls below 0.05", falls_to_zero)
    report.check("the batch is memorised (100% on it)", memorised)


OVERFIT_ONE_BATCH = Exercise(
    id="overfit-one-batch",
    title="Overfit one batch: the first test of any training loop",
    function="overfit_one_batch",
    prompt=code("""
        Write `overfit_one_batch(model, images, labels, steps)`: train the model on this one batch for
        `steps` steps (Adam, lr 1e-2, cross-entropy) and return the list of losses. A correct loop
        drives the loss to about zero: if it cannot memorise 8 samples, it has a bug.
    """),
    starter=code('''
        import torch
        from torch import nn


        def overfit_one_batch(model, images, labels, steps):
            """Train on one batch; returns the loss of every step."""
            raise NotImplementedError("train on the one batch")
    '''),
    solution=code('''
        import torch
        from torch import nn


        def overfit_one_batch(model, images, labels, steps):
            """Train on one batch; returns the loss of every step."""
            model.train()
            optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
            criterion = nn.CrossEntropyLoss()
            losses = []
            for _ in range(steps):
                optimizer.zero_grad()
                loss = criterion(model(images), labels)
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
            return losses
    '''),
    hint="The usual four calls in a loop over the same batch; keep each loss.item().",
    checks=_check_overfit,
    mistakes=(
        Mistake(
            "forgetting optimizer.step()",
            code("""
            import torch
            from torch import nn


            def overfit_one_batch(model, images, labels, steps):
                optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
                criterion = nn.CrossEntropyLoss()
                losses = []
                for _ in range(steps):
                    optimizer.zero_grad()
                    loss = criterion(model(images), labels)
                    loss.backward()
                    losses.append(loss.item())
                return losses
        """),
            "step",
        ),
    ),
    items=("viva-37-show-minimal-test-confirm-train", "interview-05-debug-model-thats-learning"),
)


# ---------------------------------------------------------------- early stopping


def _check_early_stopping(learner, reference, report) -> None:
    def stops(cls, patience: int, accuracies: list[float]) -> list[bool]:
        stopper = report.call(cls, patience)
        return [bool(report.call(stopper.step, accuracy)) for accuracy in accuracies]

    def case(name: str, patience: int, accuracies: list[float], meaning: str) -> None:
        def body():
            expected, got = stops(reference, patience, accuracies), stops(learner, patience, accuracies)
            return got == expected, expected, got, meaning

        report.check(name, body)

    counter = "count the epochs since the best accuracy and reset the count only on a new best"
    case("stops after `patience` epochs without a new best", 2, [50, 60, 59, 58, 57], counter)
    case("an improvement resets the count", 2, [50, 49, 55, 54, 53, 52], counter)
    case(
        "a recovery that stays below the best does not reset the count",
        2,
        [60, 50, 55, 52],
        counter + ": compare with the best, not the last epoch",
    )
    case("a tie is not an improvement", 1, [50, 50, 50], counter + "; a tie is not a new best (use >, not >=)")


EARLY_STOPPING = Exercise(
    id="early-stopping",
    title="Early stopping with patience",
    function="EarlyStopping",
    prompt=code("""
        Write a class `EarlyStopping(patience)` with `step(val_acc) -> bool`, called once per epoch with
        the validation accuracy. It returns True when `patience` epochs in a row have passed without a
        new best accuracy, and False otherwise.
    """),
    starter=code('''
        class EarlyStopping:
            def __init__(self, patience):
                self.patience = patience

            def step(self, val_acc):
                """True when it is time to stop."""
                raise NotImplementedError("decide whether to stop")
    '''),
    solution=code('''
        class EarlyStopping:
            def __init__(self, patience):
                self.patience = patience
                self.best = float("-inf")
                self.epochs_without_gain = 0

            def step(self, val_acc):
                """True when it is time to stop."""
                if val_acc > self.best:  # only a new best resets the count
                    self.best, self.epochs_without_gain = val_acc, 0
                else:
                    self.epochs_without_gain += 1
                return self.epochs_without_gain >= self.patience
    '''),
    hint="Keep the best accuracy so far and a counter; reset the counter on a new best, else add one.",
    checks=_check_early_stopping,
    mistakes=(
        Mistake(
            "comparing with the previous epoch instead of the best",
            code("""
            class EarlyStopping:
                def __init__(self, patience):
                    self.patience, self.last, self.count = patience, float("-inf"), 0

                def step(self, val_acc):
                    self.count = 0 if val_acc > self.last else self.count + 1
                    self.last = val_acc
                    return self.count >= self.patience
        """),
            "best",
        ),
    ),
    items=("viva-20-early-stopping-implemented-currently-present",),
)


# ---------------------------------------------------------------- gradient clipping


def _check_clip(learner, reference, report) -> None:
    import torch

    def parameters_with_grads(scale: float):
        generator = torch.Generator().manual_seed(0)
        params = [torch.nn.Parameter(torch.randn(shape, generator=generator)) for shape in ((4, 3), (3,), (2, 2))]
        for p in params:
            p.grad = scale * torch.randn(p.shape, generator=generator)
        return params

    def clipped(fn, scale: float, max_norm: float):
        params = parameters_with_grads(scale)
        norm = report.call(fn, params, max_norm)
        return float(norm), [p.grad.clone() for p in params]

    meaning = "scale all gradients by one factor, max_norm / total norm, where the total norm is over all parameters together"

    def case(name: str, scale: float, max_norm: float, what: str) -> None:
        def body():
            expected, got = clipped(reference, scale, max_norm), clipped(learner, scale, max_norm)
            return same(got, expected, 1e-5), expected[1][0], got[1][0], what

        report.check(name, body)

    case("large gradients are scaled down to the total norm max_norm", 10.0, 1.0, meaning)
    case("small gradients are left alone", 0.01, 1.0, "gradients whose total norm is already below max_norm must not change")
    case("returns the total norm before clipping", 3.0, 0.5, meaning + "; return that total norm")


CLIP_GRAD_NORM = Exercise(
    id="clip-grad-norm",
    title="Gradient clipping by total norm",
    function="clip_grad_norm",
    prompt=code("""
        Write `clip_grad_norm(parameters, max_norm)` as `torch.nn.utils.clip_grad_norm_` does it: the total
        L2 norm of all gradients together; if it exceeds `max_norm`, scale every gradient in place by
        `max_norm / total_norm`. Return the total norm before clipping, as a float.
    """),
    starter=code('''
        import torch


        def clip_grad_norm(parameters, max_norm):
            """Clip in place; returns the total gradient norm before clipping."""
            raise NotImplementedError("clip the gradients")
    '''),
    solution=code('''
        import torch


        def clip_grad_norm(parameters, max_norm):
            """Clip in place; returns the total gradient norm before clipping."""
            grads = [p.grad for p in parameters if p.grad is not None]
            total_norm = torch.sqrt(sum((g ** 2).sum() for g in grads))  # one norm over all parameters
            if total_norm > max_norm:
                for g in grads:
                    g.mul_(max_norm / total_norm)  # the same factor for all: the direction is kept
            return total_norm.item()
    '''),
    hint="One norm over all gradients: the square root of the sum of every gradient's squared entries.",
    checks=_check_clip,
    mistakes=(
        Mistake(
            "clipping each parameter's gradient separately",
            code("""
            import torch


            def clip_grad_norm(parameters, max_norm):
                total = 0.0
                for p in parameters:
                    norm = p.grad.norm()
                    total += norm.item() ** 2
                    if norm > max_norm:
                        p.grad.mul_(max_norm / norm)
                return total ** 0.5
        """),
            "total norm",
        ),
    ),
    items=(
        "viva-32-implement-gradient-clipping-training-script",
        "resnet-12-gradient-clipping",
        "fundamentals-10-observe-models-loss-occasionally-spikes",
    ),
)


# ---------------------------------------------------------------- checkpoint and resume


def _check_checkpoint(learner, reference, report) -> None:
    import tempfile
    from pathlib import Path

    import torch
    from torch import nn

    def fresh():
        model = _tiny_model()
        return model, torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def step(model, optimizer, seed: int) -> None:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(_batch(seed)[0]), _batch(seed)[1]).backward()
        optimizer.step()

    def resumed_weights(save) -> tuple[list, dict]:
        model, optimizer = fresh()
        for seed in (1, 2):
            step(model, optimizer, seed)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "checkpoint.pth"
            report.call(save, path, model, optimizer, 2)
            state = torch.load(path, weights_only=True)
        model, optimizer = fresh()  # a new process: nothing survives but the file
        if "model" in state:
            model.load_state_dict(state["model"])
        if "optimizer" in state:
            optimizer.load_state_dict(state["optimizer"])
        step(model, optimizer, 3)
        return _weights(model), state

    def uninterrupted() -> list:
        model, optimizer = fresh()
        for seed in (1, 2, 3):
            step(model, optimizer, seed)
        return _weights(model)

    def has_keys():
        _, state = resumed_weights(learner)
        keys = sorted(state)
        return (
            {"epoch", "model", "optimizer"} <= set(keys),
            ["epoch", "model", "optimizer"],
            keys,
            "save a dict with the keys epoch, model and optimizer",
        )

    def resumes_exactly():
        got, state = resumed_weights(learner)
        expected = uninterrupted()
        meaning = "the step after resuming differs from an uninterrupted run: save optimizer.state_dict() too (SGD momentum lives there)"
        return same(got, expected, 1e-6), expected[0], got[0], meaning

    def epoch_saved():
        _, state = resumed_weights(learner)
        return state.get("epoch") == 2, 2, state.get("epoch"), "store the epoch just finished, so the run resumes at the next one"

    report.check("the file holds epoch, model and optimizer", has_keys)
    report.check("the epoch is stored", epoch_saved)
    report.check("resuming gives the same next step as never stopping", resumes_exactly)


CHECKPOINT_RESUME = Exercise(
    id="checkpoint-resume",
    title="Save a checkpoint you can resume from",
    function="save_checkpoint",
    prompt=code("""
        Write `save_checkpoint(path, model, optimizer, epoch)`: save a dict with the keys `epoch`, `model`
        and `optimizer` (state dicts) so that a new process can load it with
        `torch.load(path, weights_only=True)`, restore both, and continue exactly as if it had never stopped.
    """),
    starter=code('''
        import torch


        def save_checkpoint(path, model, optimizer, epoch):
            """Everything needed to resume at epoch + 1."""
            raise NotImplementedError("save the checkpoint")
    '''),
    solution=code('''
        import torch


        def save_checkpoint(path, model, optimizer, epoch):
            """Everything needed to resume at epoch + 1."""
            state = {"epoch": epoch, "model": model.state_dict(), "optimizer": optimizer.state_dict()}
            torch.save(state, path)
    '''),
    hint="The optimizer has state too (momentum buffers, Adam's moments): its state_dict belongs in the file.",
    checks=_check_checkpoint,
    mistakes=(
        Mistake(
            "saving the model only",
            code("""
            import torch


            def save_checkpoint(path, model, optimizer, epoch):
                torch.save({"epoch": epoch, "model": model.state_dict()}, path)
        """),
            "optimizer.state_dict()",
        ),
    ),
    items=(
        "viva-11-checkpointing-scheme-used-save-checkpoint",
        "viva-12-resume-training-saved-checkpoint-project",
        "viva-25-demonstrate-save-both-model-optimizer",
    ),
)


# ---------------------------------------------------------------- seeding


def _check_seeding(learner, reference, report) -> None:
    import random

    import numpy as np
    import torch

    def draws(seed_fn, seed: int) -> dict[str, list[float]]:
        report.call(seed_fn, seed)
        return {"random": [random.random() for _ in range(3)], "numpy": np.random.rand(3).tolist(), "torch": torch.rand(3).tolist()}

    def library(name: str, call: str) -> None:
        def body():
            expected = draws(reference, 7)[name]
            random.seed(0), np.random.seed(0), torch.manual_seed(0)  # leave no trace of the reference
            got = draws(learner, 7)[name]
            return got == expected, expected, got, f"{name}'s generator was not seeded: call {call}"

        report.check(f"{name} gives the same numbers after seeding", body)

    library("random", "random.seed(seed)")
    library("numpy", "np.random.seed(seed)")
    library("torch", "torch.manual_seed(seed)")


SEED_EVERYTHING = Exercise(
    id="seed-everything",
    title="Seed every generator",
    function="seed_everything",
    prompt="Write `seed_everything(seed)` so that Python's `random`, NumPy and torch all repeat the same numbers after it is called with the same seed.\n",
    starter=code("""
        import random

        import numpy as np
        import torch


        def seed_everything(seed):
            raise NotImplementedError("seed the generators")
    """),
    solution=code("""
        import random

        import numpy as np
        import torch


        def seed_everything(seed):
            random.seed(seed)  # Python's own: shuffles, random augment choices
            np.random.seed(seed)  # NumPy's global generator: many data pipelines
            torch.manual_seed(seed)  # CPU and every CUDA device
    """),
    hint="Three libraries, three generators, three calls.",
    checks=_check_seeding,
    mistakes=(
        Mistake(
            "seeding torch only",
            code("""
            import torch


            def seed_everything(seed):
                torch.manual_seed(seed)
        """),
            "np.random.seed",
        ),
    ),
    items=("viva-14-script-set-random-seeds-additional",),
)

EXERCISES = (TRAIN_STEP, EVALUATE, ACCURACY, EPOCH_MEAN_LOSS, OVERFIT_ONE_BATCH, EARLY_STOPPING, CLIP_GRAD_NORM, CHECKPOINT_RESUME,
             SEED_EVERYTHING)  # fmt: skip
