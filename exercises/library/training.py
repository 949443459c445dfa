"""The training script's pieces: one step, evaluation, the epoch's mean loss, overfitting one
batch, early stopping, gradient clipping, checkpoint and resume, seeding."""

from exercises.library import code
from exercises.library.kit import call_check, cases_check, draw_seed, variant, weights
from exercises.model import Exercise, Mistake
from exercises.observe import Raised, WrongResult, capture
from exercises.report import Check, Finding, cases, error_finding, kind_of, mismatch, show, values


def _model(seed: int, features: int, hidden: int, classes: int, dropout: bool = False):
    import torch
    from torch import nn

    torch.manual_seed(seed)
    layers = (
        [nn.Linear(features, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU()]
        + ([nn.Dropout(0.3)] if dropout else [])
        + [nn.Linear(hidden, classes)]
    )
    return nn.Sequential(*layers)


def _data(seed: int, size: int, features: int, classes: int):
    import torch

    generator = torch.Generator().manual_seed(seed)
    return torch.randn(size, features, generator=generator), torch.randint(0, classes, (size,), generator=generator)


def _shape(rng) -> dict:
    """A small classifier's sizes and data, drawn: no two runs of the checks share them."""
    return {
        "seed": draw_seed(rng),
        "features": rng.randint(4, 9),
        "hidden": rng.randint(6, 12),
        "classes": rng.randint(3, 6),
        "batch": rng.randint(9, 20),
    }


def _instrument(optimizer, log: list, before: list) -> None:
    """Record each zero_grad() and step() of `optimizer`, with the gradients step() found and
    whether the weights had changed before it (an update by hand)."""
    params = [p for group in optimizer.param_groups for p in group["params"]]
    step, zero_grad = optimizer.step, optimizer.zero_grad

    def recorded_step(*args, **kwargs):
        moved = any(not bool((p.detach() == b).all()) for p, b in zip(params, before[0], strict=True))
        log.append({"call": "step", "grads": [None if p.grad is None else p.grad.detach().clone() for p in params], "moved": moved})
        return step(*args, **kwargs)

    def recorded_zero_grad(*args, **kwargs):
        log.append({"call": "zero_grad"})
        return zero_grad(*args, **kwargs)

    optimizer.step, optimizer.zero_grad = recorded_step, recorded_zero_grad


def _train_run(fn, config: dict, steps: int, smoothing: float = 0.0, dropout: bool = False) -> dict:
    """`steps` calls of fn on a fresh model and an instrumented SGD with momentum: what each call
    returned, which optimizer calls it made, the gradients each step() saw, the final weights."""
    import torch
    from torch import nn

    model = _model(config["seed"], config["features"], config["hidden"], config["classes"], dropout)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-3)
    criterion = nn.CrossEntropyLoss(label_smoothing=smoothing)
    log, before, calls, returns, moved_by_hand = [], [None], [], [], []
    _instrument(optimizer, log, before)
    for step in range(steps):
        images, labels = _data(config["seed"] + step + 1, config["batch"], config["features"], config["classes"])
        before[0] = weights(model)
        mark = len(log)
        torch.manual_seed(config["seed"] + 100 + step)  # the same dropout masks for the reference and the learner
        returns.append(capture(fn, model, images, labels, criterion, optimizer))
        made = [entry["call"] for entry in log[mark:]]
        calls.append(made)
        changed = any(not bool((p.detach() == b).all()) for p, b in zip(model.parameters(), before[0], strict=True))
        moved_by_hand.append(any(e.get("moved") for e in log[mark:]) or ("step" not in made and changed))
    steps_seen = [entry["grads"] for entry in log if entry["call"] == "step"]
    return {
        "returns": returns,
        "calls": calls,
        "grads": steps_seen,
        "weights": weights(model),
        "training": model.training,
        "by_hand": moved_by_hand,
    }


def _first_error(observation: dict, on_error: str):
    raised_here = next((r for r in observation["returns"] if isinstance(r, Raised)), None)
    return error_finding(raised_here, on_error) if raised_here else None


_STEP_MEANING = (
    "clear the gradients (optimizer.zero_grad()), compute criterion(model(images), labels), call loss.backward(), then optimizer.step()"
)


def _step_discipline(expected: dict, got: dict) -> str | None:
    """What is wrong with the optimizer calls themselves, when something is."""
    for index, made in enumerate(got["calls"]):
        steps = made.count("step")
        if got["by_hand"][index]:
            return "the weights changed outside optimizer.step(): let the optimizer update them (it applies momentum and weight decay)"
        if steps == 0:
            return "optimizer.step() was never called: the weights did not move"
        if steps > 1:
            return f"optimizer.step() ran {steps} times in one call: once per batch"
    for grads in got["grads"]:
        if all(g is None or not bool(g.any()) for g in grads):
            return (
                "the gradients were empty when optimizer.step() ran: zero_grad() goes before backward(), not between backward() and step()"
            )
    return None


def _train_step_checks(rng):
    def returns_loss(expected, got, context):
        found = _first_error(got, _STEP_MEANING)
        if found:
            return found
        mism = mismatch(expected["returns"][0], got["returns"][0], 1e-5, 1e-6)
        if mism is None:
            return None
        message = mism.message if mism.kind in ("none", "type") else "return loss.item() of this batch, computed before optimizer.step()"
        return Finding("failed", mism.expected, mism.got, message)

    def discipline(expected, got, context):
        found = _first_error(got, _STEP_MEANING)
        if found:
            return found
        problem = _step_discipline(expected, got)
        steps = lambda o: [made.count("step") for made in o["calls"]]  # noqa: E731
        return Finding("failed", f"optimizer.step() calls: {steps(expected)}", f"{steps(got)}", problem) if problem else None

    def gradients(first_only: bool, meaning: str):
        def compare(expected, got, context):
            found = _first_error(got, _STEP_MEANING)
            if found:
                return found
            problem = _step_discipline(expected, got)
            if problem:
                return Finding("failed", "one optimizer.step() per call, with this batch's gradients", "see message", problem)
            for index in range(1 if first_only else len(expected["grads"])):
                mism = mismatch(expected["grads"][index], got["grads"][index], 1e-4, 1e-6)
                if mism:
                    piled = (
                        index > 0
                        and mismatch(_sum_grads(expected["grads"][index], got["grads"][index - 1]), got["grads"][index], 1e-4, 1e-6) is None
                    )
                    message = (
                        "the gradients of the step before were still there: call optimizer.zero_grad() every step" if piled else meaning
                    )
                    return Finding("failed", f"step {index + 1}: {mism.expected}", mism.got, message)
            return None

        return compare

    def final_weights(expected, got, context):
        found = _first_error(got, _STEP_MEANING) or discipline(expected, got, context)
        if found:
            return found
        mism = mismatch(expected["weights"], got["weights"], 1e-4, 1e-6)
        return Finding("failed", mism.expected, mism.got, _STEP_MEANING) if mism else None

    def train_mode(expected, got, context):
        found = _first_error(got, _STEP_MEANING)
        if found:
            return found
        if got["training"]:
            return None
        return Finding(
            "failed",
            "model.training True",
            "False",
            "the step switched the model out of train mode: a training step must not call model.eval()",
        )

    configs = [_shape(rng) for _ in range(5)]
    criterion_meaning = (
        "the gradients differ from those of criterion(model(images), labels) on this batch: use the criterion you are given, on this batch"
    )
    return [
        Check("returns this batch's loss as a Python float", lambda fn, c=configs[0]: _train_run(fn, c, 1), returns_loss),
        Check("one optimizer.step() per call, after backward()", lambda fn, c=configs[1]: _train_run(fn, c, 2), discipline),
        Check("the optimizer steps with this batch's gradients (a label-smoothing criterion, dropout)",
              lambda fn, c=configs[2]: _train_run(fn, c, 1, smoothing=0.1, dropout=True), gradients(True, criterion_meaning)),
        Check("three steps in a row: each step's gradients are its own batch's", lambda fn, c=configs[3]: _train_run(fn, c, 3), gradients(False, criterion_meaning)),
        Check("the weights after three steps match the reference (SGD, momentum, weight decay)", lambda fn, c=configs[4]: _train_run(fn, c, 3, dropout=True), final_weights),
        Check("the model stays in train mode", lambda fn, c=configs[0]: _train_run(fn, c, 1), train_mode),
    ]  # fmt: skip


def _sum_grads(these: list, earlier: list) -> list:
    return [a if b is None else (b if a is None else a + b) for a, b in zip(these, earlier, strict=True)]


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
    checks=_train_step_checks,
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


def _evaluate_run(fn, config: dict, samples: int, batch: int) -> dict:
    """fn(model, loader) on a model with dropout and BatchNorm (handed over in train mode, with
    running statistics away from their start) and a loader whose last batch is short."""
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    model = _model(config["seed"], config["features"], config["hidden"], config["classes"], dropout=True)
    with torch.no_grad():
        for step in range(3):
            model(_data(config["seed"] + 50 + step, 16, config["features"], config["classes"])[0] * 3 + 1)
    images, labels = _data(config["seed"] + 1, samples, config["features"], config["classes"])
    autograd: list[bool] = []
    model.register_forward_pre_hook(lambda *_: autograd.append(torch.is_grad_enabled()))
    torch.manual_seed(config["seed"] + 2)  # the same dropout masks for every implementation run in train mode
    result = capture(fn, model, DataLoader(TensorDataset(images, labels), batch_size=batch))
    return {"result": result, "autograd": any(autograd)}


def _evaluate_no_eval(model, loader):
    import torch
    from torch import nn

    total, correct, seen = 0.0, 0, 0
    with torch.no_grad():
        for images, labels in loader:
            logits = model(images)
            total += nn.functional.cross_entropy(logits, labels, reduction="sum").item()
            correct += (logits.argmax(1) == labels).sum().item()
            seen += len(labels)
    return total / seen, correct / seen


def _evaluate_batch_means(model, loader):
    import torch
    from torch import nn

    model.eval()
    losses, accuracies = [], []
    with torch.no_grad():
        for images, labels in loader:
            logits = model(images)
            losses.append(nn.functional.cross_entropy(logits, labels).item())
            accuracies.append((logits.argmax(1) == labels).float().mean().item())
    return sum(losses) / len(losses), sum(accuracies) / len(accuracies)


def _evaluate_checks(rng):
    meaning = (
        "call model.eval() (dropout off, BatchNorm's running statistics), and average the loss and the accuracy over samples, not batches"
    )
    mistakes = (
        variant(
            _evaluate_no_eval, "the model was still in train mode: call model.eval() first (dropout off, BatchNorm's running statistics)"
        ),
        variant(
            _evaluate_batch_means,
            "that is the mean of the batch means: the short last batch counts as much as a full one; weight each batch by its size",
        ),
    )
    compare = values(meaning, variants=mistakes, percent=True)

    def result(expected, got, context):
        return compare(expected["result"], got["result"], context.narrowed(lambda observation: observation["result"]))

    def no_graph(expected, got, context):
        if isinstance(got["result"], Raised):
            return error_finding(got["result"], meaning)
        if not got["autograd"]:
            return None
        return Finding(
            "failed",
            "autograd off during the forward passes",
            "autograd on",
            "wrap the loop in torch.no_grad() (or torch.inference_mode()): evaluation needs no graph",
        )

    first, second = _shape(rng), _shape(rng)
    n1, b1 = rng.randint(35, 70), rng.choice([8, 16])
    n2, b2 = rng.randint(20, 40), rng.choice([6, 7, 9])
    n1 += 1 if n1 % b1 == 0 else 0
    n2 += 1 if n2 % b2 == 0 else 0
    return [
        Check(f"mean loss and accuracy: {n1} samples in batches of {b1}", lambda fn: _evaluate_run(fn, first, n1, b1), result),
        Check(f"mean loss and accuracy: {n2} samples in batches of {b2}", lambda fn: _evaluate_run(fn, second, n2, b2), result),
        Check("no autograd graph is built", lambda fn: _evaluate_run(fn, first, n1, b1), no_graph),
    ]


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
    checks=_evaluate_checks,
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


def _accuracy_wrong_dim(logits, labels):
    return (logits.argmax(dim=0) == labels).float().mean().item()


def _accuracy_count(logits, labels):
    return (logits.argmax(dim=1) == labels).sum().item()


def _accuracy_floor(logits, labels):
    return (logits.argmax(dim=1) == labels).sum().item() // len(labels)


def _accuracy_checks(rng):
    import torch

    def logits(n: int, classes: int, seed: int):
        generator = torch.Generator().manual_seed(seed)
        return lambda: (
            torch.randn(n, classes, generator=generator.manual_seed(seed)),
            torch.randint(0, classes, (n,), generator=generator),
        )

    meaning = "take the argmax over the class dimension (dim=1) and return the fraction of rows whose argmax is the label"
    mistakes = (
        variant(_accuracy_wrong_dim, "argmax over dim=0 picks a row per class: take it over the classes, dim=1"),
        variant(_accuracy_count, "that is the number of correct rows: divide by the number of rows for a fraction"),
        variant(_accuracy_floor, "integer division (//) rounds the fraction down to 0: divide with /"),
    )
    n, classes = rng.randint(40, 90), rng.choice([7, 10, 13])
    square = rng.randint(5, 12)
    return [
        call_check(f"a batch of {n} rows, {classes} classes", logits(n, classes, draw_seed(rng)), meaning, variants=mistakes, percent=True),
        call_check("a batch of one row", logits(1, rng.randint(3, 9), draw_seed(rng)), meaning, variants=mistakes, percent=True),
        call_check("as many rows as classes", logits(square, square, draw_seed(rng)), meaning, variants=mistakes, percent=True),
        call_check(
            "another batch", logits(rng.randint(15, 30), rng.choice([3, 5]), draw_seed(rng)), meaning, variants=mistakes, percent=True
        ),
    ]


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
    checks=_accuracy_checks,
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


def _epoch_weighted_then_count(batch_losses, batch_sizes):
    return sum(loss * size for loss, size in zip(batch_losses, batch_sizes, strict=True)) / len(batch_losses)


def _epoch_unweighted_over_samples(batch_losses, batch_sizes):
    return sum(batch_losses) / sum(batch_sizes)


def _epoch_mean_of_means(batch_losses, batch_sizes):
    return sum(batch_losses) / len(batch_losses)


def _epoch_checks(rng):
    meaning = "multiply each batch's mean loss by its size (back to a sum), add them up, and divide by the number of samples"
    mistakes = (
        variant(
            _epoch_mean_of_means, "that is the mean of the batch means: it over-weights a short last batch; weight each batch by its size"
        ),
        variant(_epoch_weighted_then_count, "the weighted sum must be divided by the number of samples, not the number of batches"),
        variant(
            _epoch_unweighted_over_samples,
            "each entry is a batch's mean: multiply it by the batch's size before dividing by the number of samples",
        ),
    )

    def epoch(batches: int, last_short: bool = True) -> tuple:
        size = rng.choice([16, 32, 64, 100])
        sizes = [size] * batches
        if last_short:
            sizes[-1] = rng.randint(1, size - 1)
        return [round(rng.uniform(0.2, 2.5), 3) for _ in sizes], sizes

    return [
        cases_check(
            "batches of equal size", "epoch_mean_loss", [epoch(rng.randint(2, 5), False) for _ in range(3)], meaning, variants=mistakes
        ),
        cases_check("a short last batch", "epoch_mean_loss", [epoch(rng.randint(2, 6)) for _ in range(4)], meaning, variants=mistakes),
        cases_check(
            "one batch only", "epoch_mean_loss", [epoch(1, False), ([round(rng.uniform(0.2, 2.5), 3)], [1])], meaning, variants=mistakes
        ),
    ]


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
    checks=_epoch_checks,
    mistakes=(
        Mistake(
            "the mean of the batch means",
            code("""
            def epoch_mean_loss(batch_losses, batch_sizes):
                return sum(batch_losses) / len(batch_losses)
        """),
            "by its size",
        ),
    ),
    items=("viva-22-plot-curves-multiply-loss-batch",),
)


# ---------------------------------------------------------------- overfit one batch


def _overfit_run(fn, config: dict, steps: int) -> dict:
    """fn on 8 samples for `steps` steps: the losses it returned, how many optimizer steps ran,
    and how well the model then classifies its batch."""
    import torch
    from torch.optim.optimizer import register_optimizer_step_post_hook

    model = _model(config["seed"], config["features"], config["hidden"], config["classes"])
    images, labels = _data(config["seed"] + 1, 8, config["features"], config["classes"])
    counted = [0]
    handle = register_optimizer_step_post_hook(lambda *_: counted.__setitem__(0, counted[0] + 1))
    try:
        torch.manual_seed(config["seed"] + 2)
        losses = capture(fn, model, images, labels, steps)
    finally:
        handle.remove()
    model.eval()
    with torch.no_grad():
        logits = model(images)
        final = torch.nn.functional.cross_entropy(logits, labels).item()
        memorised = (logits.argmax(1) == labels).float().mean().item()
    return {"losses": losses, "optimizer_steps": counted[0], "final_loss": final, "memorised": memorised}


def _as_floats(losses) -> tuple[list[float] | None, str]:
    """The losses as floats, or why they cannot be read as one loss per step."""
    import torch

    if losses is None:
        return None, "returned None: did you forget `return losses`?"
    if not isinstance(losses, list | tuple):
        return None, f"returned {kind_of(losses)}: return a list with one loss per step"
    floats = []
    for value in losses:
        if isinstance(value, torch.Tensor):
            if value.requires_grad:
                return None, "the list holds loss tensors with their graphs: append loss.item(), or every step's graph stays in memory"
            if value.numel() != 1:
                return None, "each entry must be one number (the step's loss)"
            value = value.item()
        if not isinstance(value, int | float):
            return None, f"an entry is {kind_of(value)}: append loss.item()"
        floats.append(float(value))
    return floats, ""


def _overfit_adam_new_each_step(model, images, labels, steps):
    import torch
    from torch import nn

    model.train()
    losses = []
    for _ in range(steps):
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def _overfit_no_zero_grad(model, images, labels, steps):
    import torch
    from torch import nn

    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(steps):
        loss = nn.functional.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def _overfit_checks(rng):
    meaning = "one Adam optimizer (lr 1e-2) made once, then each step: zero_grad(), cross-entropy of model(images), backward(), step(); keep loss.item()"
    known = (
        (_overfit_no_zero_grad, "the gradients pile up across steps: call optimizer.zero_grad() every step"),
        (_overfit_adam_new_each_step, "a new optimizer every step loses Adam's running moments: make it once, before the loop"),
    )

    def one_per_step(expected, got, context):
        if isinstance(got["losses"], Raised):
            return error_finding(got["losses"], meaning)
        floats, problem = _as_floats(got["losses"])
        if floats is None:
            return Finding("failed", f"{len(expected['losses'])} losses", show(got["losses"]), problem)
        if len(floats) != len(expected["losses"]):
            return Finding("failed", f"{len(expected['losses'])} losses", f"{len(floats)} losses", "return one loss per step")
        return None

    def trajectory(expected, got, context):
        found = one_per_step(expected, got, context)
        if found:
            return found
        if got["optimizer_steps"] != expected["optimizer_steps"]:
            return Finding("failed", f"{expected['optimizer_steps']} optimizer steps", f"{got['optimizer_steps']} optimizer steps",
                           "call optimizer.step() once per step" if got["optimizer_steps"] else "optimizer.step() was never called: nothing is learned")  # fmt: skip
        floats, _ = _as_floats(got["losses"])
        mism = mismatch(expected["losses"], floats, 1e-3, 1e-5)
        if mism is None:
            return None
        for implementation, message in known:
            observed, _ = _as_floats(context.observe(implementation)["losses"])
            if observed is not None and mismatch(observed, floats, 1e-3, 1e-5) is None:
                return Finding("failed", mism.expected, mism.got, message)
        return Finding("failed", mism.expected, mism.got, f"the losses differ from the reference's ({mism.message or 'a step'}): {meaning}")

    def memorised(expected, got, context):
        found = one_per_step(expected, got, context)
        if found:
            return found
        if got["final_loss"] < 0.05 and got["memorised"] == 1.0:
            return None
        return Finding("failed", "loss below 0.05, 100% of the batch right", f"loss {got['final_loss']:.4g}, {got['memorised']:.0%} right",
                       f"the model did not memorise its 8 samples: {meaning}")  # fmt: skip

    short, long = _shape(rng), _shape(rng)
    steps = rng.randint(20, 35)
    return [
        Check("returns one loss per step", lambda fn: _overfit_run(fn, short, steps), one_per_step),
        Check(
            f"the first {steps} losses follow Adam(lr=1e-2) with zero_grad every step",
            lambda fn: _overfit_run(fn, short, steps),
            trajectory,
        ),
        Check("after 150 steps the batch is memorised (loss below 0.05, 100% right)", lambda fn: _overfit_run(fn, long, 150), memorised),
    ]


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
    checks=_overfit_checks,
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


def _stopper_run(cls, patience: int, accuracies: list[float]) -> list:
    stopper = cls(patience)
    return [stopper.step(accuracy) for accuracy in accuracies]


def _stoppers_in_turns(cls, patience: int, first: list[float], second: list[float]) -> list:
    """Two stoppers stepped in turns: state kept on the class instead of the object shows."""
    a, b = cls(patience), cls(patience)
    return [(a.step(x), b.step(y)) for x, y in zip(first, second, strict=True)]


class _StopOnLast:
    def __init__(self, patience):
        self.patience, self.last, self.count = patience, float("-inf"), 0

    def step(self, val_acc):
        self.count = 0 if val_acc > self.last else self.count + 1
        self.last = val_acc
        return self.count >= self.patience


class _StopOnTie:
    def __init__(self, patience):
        self.patience, self.best, self.count = patience, float("-inf"), 0

    def step(self, val_acc):
        if val_acc >= self.best:
            self.best, self.count = val_acc, 0
        else:
            self.count += 1
        return self.count >= self.patience


class _StopOneLate:
    def __init__(self, patience):
        self.patience, self.best, self.count = patience, float("-inf"), 0

    def step(self, val_acc):
        if val_acc > self.best:
            self.best, self.count = val_acc, 0
        else:
            self.count += 1
        return self.count > self.patience


def _early_stopping_checks(rng):
    counter = "count the epochs since the best accuracy so far, reset the count only on a new best (strictly greater), and stop when the count reaches patience"
    mistakes = (
        variant(_StopOnLast, "compare each accuracy with the best so far, not with the epoch before"),
        variant(_StopOnTie, "a tie is not a new best: use >, not >="),
        variant(_StopOneLate, "stop when the count reaches patience (>=): this stops one epoch late"),
    )

    def history(length: int, percent: bool) -> list[float]:
        scale = 100 if percent else 1
        values, level = [], rng.uniform(0.2, 0.5)
        for _ in range(length):
            level = min(0.95, level + rng.choice([0.08, 0.03, 0.0, -0.02, -0.05]))
            values.append(round(level * scale, 2))
        return values

    def plateau() -> list[float]:
        best = round(rng.uniform(0.6, 0.8), 3)
        return [
            round(best - 0.2, 3),
            best,
            round(best - 0.01, 3),
            round(best - 0.05, 3),
            best,
            round(best - 0.02, 3),
            round(best - 0.01, 3),
        ]

    def stopping_check(name: str, made: list[tuple[int, list[float]]]) -> Check:
        labelled = [(f"EarlyStopping({patience}), step() fed {accuracies}", patience, accuracies) for patience, accuracies in made]

        def probe(cls):
            return [(label, capture(_stopper_run, cls, patience, accuracies)) for label, patience, accuracies in labelled]

        return Check(name, probe, cases(values(counter, variants=mistakes)))

    first, second = history(8, False), history(8, False)
    patience = rng.randint(2, 3)

    def in_turns(expected, got, context):
        if isinstance(got, Raised):
            return error_finding(got, counter)
        mism = mismatch(expected, got)
        if mism is None:
            return None
        return Finding(
            "failed",
            mism.expected,
            mism.got,
            "two EarlyStopping objects must not share their counts: keep the state on self, set in __init__, not on the class",
        )

    return [
        stopping_check(
            "random validation curves", [(rng.randint(1, 4), history(rng.randint(6, 12), percent=rng.random() < 0.5)) for _ in range(4)]
        ),
        stopping_check(
            "a recovery that stays below the best does not reset the count",
            [(2, [0.5, 0.7, 0.6, 0.65, 0.68]), (3, plateau()), (1, plateau())],
        ),
        stopping_check("a tie is not an improvement", [(rng.randint(1, 3), [0.61, 0.61, 0.61, 0.61]), (2, [0.4, 0.5, 0.5, 0.6, 0.6, 0.6])]),
        Check("two stoppers used in turns keep their own counts", lambda cls: _stoppers_in_turns(cls, patience, first, second), in_turns),
    ]


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
    checks=_early_stopping_checks,
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


def _clip_run(fn, seed: int, scale: float, max_norm: float, as_generator: bool, frozen: bool = False) -> tuple:
    """fn on parameters with gradients of total norm about `scale`: (what it returned, the
    gradients after). `as_generator` passes them as model.parameters() does: readable once."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    shapes = [(4, 3), (3,), (2, 5, 2), (6,)]
    params = [torch.nn.Parameter(torch.randn(shape, generator=generator)) for shape in shapes]
    for p in params:
        p.grad = scale * torch.randn(p.shape, generator=generator) / 3
    if frozen:
        params[1].grad = None  # a frozen parameter: no gradient at all
    given = (p for p in params) if as_generator else params
    returned = capture(fn, given, max_norm)
    return returned, [None if p.grad is None else p.grad.clone() for p in params]


def _clip_each_alone(parameters, max_norm):
    total = 0.0
    for p in parameters:
        if p.grad is None:
            continue
        norm = p.grad.norm()
        total += norm.item() ** 2
        if norm > max_norm:
            p.grad.mul_(max_norm / norm)
    return total**0.5


def _clip_always(parameters, max_norm):
    import torch

    grads = [p.grad for p in parameters if p.grad is not None]
    total = torch.sqrt(sum((g**2).sum() for g in grads))
    for g in grads:
        g.mul_(max_norm / total)
    return total.item()


def _clip_norm_after(parameters, max_norm):
    import torch

    grads = [p.grad for p in parameters if p.grad is not None]
    total = torch.sqrt(sum((g**2).sum() for g in grads))
    if total > max_norm:
        for g in grads:
            g.mul_(max_norm / total)
    return torch.sqrt(sum((g**2).sum() for g in grads)).item()


def _clip_two_passes(parameters, max_norm):
    import torch

    total = torch.sqrt(sum((p.grad**2).sum() for p in parameters if p.grad is not None))
    if total > max_norm:
        for p in parameters:
            if p.grad is not None:
                p.grad.mul_(max_norm / total)
    return total.item()


def _clip_checks(rng):
    meaning = "one total norm over all gradients together; if it exceeds max_norm, multiply every gradient in place by max_norm / total_norm; return the total norm before clipping"
    mistakes = (
        variant(
            _clip_each_alone,
            "each parameter was clipped alone: compute one total norm over all gradients, and scale all by the same factor",
        ),
        variant(
            _clip_always,
            "gradients whose total norm is already below max_norm must stay as they are: scale only when the total norm exceeds it",
        ),
        variant(_clip_norm_after, "return the total norm before clipping, not after"),
        variant(
            _clip_two_passes,
            "`parameters` can be a generator, like model.parameters(): the second pass over it finds nothing. Make a list first",
        ),
    )
    compare = values(meaning, rtol=1e-5, atol=1e-7, variants=mistakes)
    seeds = [draw_seed(rng) for _ in range(4)]
    max_norm = round(rng.uniform(0.5, 2.0), 3)
    return [
        Check(
            "large gradients are scaled down to the total norm max_norm",
            lambda fn: _clip_run(fn, seeds[0], 8 * max_norm, max_norm, False),
            compare,
        ),
        Check("small gradients are left alone", lambda fn: _clip_run(fn, seeds[1], 0.05 * max_norm, max_norm, False), compare),
        Check(
            "parameters given as a generator (model.parameters())",
            lambda fn: _clip_run(fn, seeds[2], 4 * max_norm, max_norm, True),
            compare,
        ),
        Check(
            "a parameter without a gradient (frozen) is skipped, as clip_grad_norm_ does",
            lambda fn: _clip_run(fn, seeds[3], 5 * max_norm, max_norm, True, frozen=True),
            compare,
        ),
    ]


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
    checks=_clip_checks,
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


def _checkpoint_run(fn, config: dict, adam: bool, as_text: bool) -> dict:
    """Train two steps, fn(path, model, optimizer, epoch), then, as a new process would: load
    the file with weights_only=True into a fresh model and optimizer and take the third step."""
    import tempfile
    from pathlib import Path

    import torch
    from torch import nn

    def fresh():
        model = _model(config["seed"], config["features"], config["hidden"], config["classes"])
        make = torch.optim.Adam if adam else torch.optim.SGD
        return model, make(model.parameters(), lr=0.01, **({} if adam else {"momentum": 0.9}))

    def step(model, optimizer, index: int) -> None:
        images, labels = _data(config["seed"] + index, 12, config["features"], config["classes"])
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(images), labels).backward()
        optimizer.step()

    model, optimizer = fresh()
    for index in (1, 2):
        step(model, optimizer, index)
    saved = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "checkpoint.pth"
        returned = capture(fn, str(path) if as_text else path, model, optimizer, config["epoch"])
        if isinstance(returned, Raised):
            return {"raised": returned}
        if not path.exists():
            raise WrongResult("no file at `path`: save to the path you are given")
        try:
            state = torch.load(path, weights_only=True)
        except Exception as error:  # noqa: BLE001 - whatever the file holds
            raise WrongResult(
                f"torch.load(path, weights_only=True) cannot read the file ({type(error).__name__}): save a dict of state_dict()s, not objects"
            ) from None
    if not isinstance(state, dict):
        raise WrongResult(f"the file holds {kind_of(state)}: save a dict with the keys epoch, model and optimizer")
    observed = {"keys": sorted(map(str, state)), "epoch": state.get("epoch")}
    model, optimizer = fresh()
    observed["model"] = capture(
        lambda: (model.load_state_dict(state["model"]), {k: bool((v == saved[k]).all()) for k, v in model.state_dict().items()})[1]
    )
    observed["optimizer"] = capture(lambda: optimizer.load_state_dict(state["optimizer"]) and None)
    step(model, optimizer, 3)
    observed["next_step"] = weights(model)
    return observed


def _checkpoint_model_only(path, model, optimizer, epoch):
    import torch

    torch.save({"epoch": epoch, "model": model.state_dict()}, path)


def _checkpoint_checks(rng):
    def part(key: str, meaning: str, variants: tuple = ()):
        compare = values(meaning, rtol=1e-6, atol=1e-8, variants=variants)

        def check(expected, got, context):
            if isinstance(got, Raised):
                return error_finding(got, meaning)
            if "raised" in got:
                return error_finding(got["raised"], meaning)
            if key not in got:
                return Finding("failed", "", "", meaning)
            if isinstance(got[key], Raised):
                return Finding("failed", "", "", f"{meaning} ({got[key].type}: {got[key].message})")
            return compare(expected[key], got[key], context.narrowed(lambda observation: observation[key]))

        return check

    keys = "save a dict with exactly the keys epoch, model and optimizer"
    momentum = "the step after resuming differs from an uninterrupted run: save optimizer.state_dict() too (SGD's momentum and Adam's moments live there)"
    only_model = (variant(_checkpoint_model_only, "the optimizer's state is missing: save optimizer.state_dict() under the key optimizer"),)
    configs = [{**_shape(rng), "epoch": rng.randint(3, 40)} for _ in range(3)]
    return [
        Check("the file holds epoch, model and optimizer", lambda fn: _checkpoint_run(fn, configs[0], False, False), part("keys", keys)),
        Check("the epoch just finished is stored", lambda fn: _checkpoint_run(fn, configs[0], False, True), part("epoch", "store the epoch you are given, as given: the run resumes at epoch + 1")),
        Check("the model's weights and BatchNorm statistics come back", lambda fn: _checkpoint_run(fn, configs[1], False, False),
              part("model", "save model.state_dict() under the key model: it holds the weights and the BatchNorm buffers")),
        Check("resuming SGD with momentum gives the same next step as never stopping", lambda fn: _checkpoint_run(fn, configs[1], False, True), part("next_step", momentum, only_model)),
        Check("resuming Adam gives the same next step as never stopping", lambda fn: _checkpoint_run(fn, configs[2], True, False), part("next_step", momentum, only_model)),
    ]  # fmt: skip


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
    checks=_checkpoint_checks,
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


def _seed_run(fn, seed: int, other: int) -> dict:
    """Draws from each library after fn(seed), again after the generators were moved on and
    fn(seed) was called again, and after fn(other)."""
    import random

    import numpy as np
    import torch

    def draws() -> dict:
        return {"random": [random.random() for _ in range(3)], "numpy": np.random.rand(3).tolist(), "torch": torch.rand(3).tolist()}

    observed = {}
    for label, value in (("first", seed), ("again", seed), ("other", other)):
        returned = capture(fn, value)
        if isinstance(returned, Raised):
            return {"raised": returned}
        observed[label] = draws()
        random.random(), np.random.rand(), torch.rand(1)  # move every generator on before the next call
    return observed


def _seeding_checks(rng):
    calls = {"random": "random.seed(seed)", "numpy": "np.random.seed(seed)", "torch": "torch.manual_seed(seed)"}

    def library(name: str):
        def compare(expected, got, context):
            if "raised" in got:
                return error_finding(got["raised"], f"call {calls[name]}")
            first, again = got["first"][name], got["again"][name]
            if first == again:
                return None
            return Finding("failed", f"the same numbers after each seed_everything({seed})", f"{show(first)} then {show(again)}",
                           f"{name}'s generator was not seeded: call {calls[name]}")  # fmt: skip

        return compare

    def depends(expected, got, context):
        if "raised" in got:
            return error_finding(got["raised"], "seed the three generators with the `seed` argument")
        same = [name for name in calls if got["first"][name] == got["other"][name]]
        if not same:
            return None
        return Finding("failed", f"other numbers after seed_everything({other})", f"the same {', '.join(same)} numbers",
                       "the numbers do not depend on the seed: seed with the `seed` argument, not a constant")  # fmt: skip

    seed, other = rng.randint(1, 10_000), rng.randint(10_001, 20_000)
    return [
        *[Check(f"{name} repeats its numbers after seeding", lambda fn: _seed_run(fn, seed, other), library(name)) for name in calls],
        Check("another seed gives other numbers", lambda fn: _seed_run(fn, seed, other), depends),
    ]


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
    checks=_seeding_checks,
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
