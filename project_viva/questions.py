"""Questions an examiner asks about this learner's own project, with answers and key points taken
from its facts, so the grader and the mock viva can mark them like bank items."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from project_viva.catalogue import KINDS

# Key points of the answer to "your code does X: what changes, and how do you fix it?".
FINDING_POINTS: dict[str, tuple[str, ...]] = {
    "selection_on_test_set": (
        "test accuracy optimistic biased estimate",
        "choose the checkpoint on a validation split",
        "test set used once at the end",
    ),
    "eval_without_eval_mode": (
        "dropout stays active at test time",
        "BatchNorm uses batch statistics instead of running statistics",
        "call model.eval() before evaluating",
    ),
    "no_grad_missing_in_eval": (
        "autograd builds a graph during evaluation",
        "more memory and time for nothing",
        "wrap evaluation in torch.no_grad()",
    ),
    "eval_mode_not_reset": (
        "model stays in eval mode after the first evaluation",
        "dropout off and BatchNorm statistics frozen while training",
        "call model.train() at the start of each epoch",
    ),
    "scheduler_stepped_per_batch": (
        "scheduler stepped every batch instead of every epoch",
        "learning rate decays far too early",
        "step it once per epoch",
    ),
    "onecycle_per_epoch": ("OneCycleLR counts batches", "stepped once per epoch it never leaves warm-up", "step it every batch"),
    "test_set_augmented": (
        "random augmentation on the test set",
        "evaluation not deterministic and accuracy lower",
        "only ToTensor and Normalize for the test set",
    ),
    "validation_overlaps_train": (
        "validation images are also training images",
        "validation accuracy overestimates generalisation",
        "split before training and train only on the training part",
    ),
    "optimizer_bound_to_old_model": (
        "optimizer holds the old model's parameters",
        "new model never updated",
        "create the optimizer after the final model",
    ),
    "imagenet_head_kept": ("head has 1000 outputs", "CIFAR-10 has 10 classes", "replace the last layer with 10 outputs"),
    "argparse_type_bool": ("bool of any non-empty string is True", "--flag False still switches it on", "use action store_true"),
    "missing_zero_grad": (
        "gradients accumulate across batches",
        "each step uses the sum of old gradients",
        "call optimizer.zero_grad() every batch",
    ),
    "zero_grad_misplaced": ("zero_grad after backward erases the gradients", "step sees zero gradients", "zero_grad before backward"),
    "softmax_before_cross_entropy": (
        "CrossEntropyLoss applies log-softmax itself",
        "softmax twice squashes the logits and shrinks gradients",
        "return raw logits",
    ),
    "loss_accumulated_with_graph": ("loss tensor keeps its computation graph", "memory grows every batch", "accumulate loss.item()"),
    "cuda_without_check": ("crashes without a GPU", "check torch.cuda.is_available()", "move model and data to one device variable"),
    "torch_load_without_weights_only": ("torch.load unpickles arbitrary code", "weights_only=True loads only tensors"),
    "deprecated_pretrained_argument": ("pretrained=True is deprecated", "use the weights= argument with a weights enum"),
    "train_loader_not_shuffled": (
        "same batch order every epoch",
        "batches biased when data is sorted",
        "shuffle=True for the training loader",
    ),
    "keras_softmax_from_logits": (
        "softmax applied twice",
        "from_logits=True expects raw scores",
        "remove softmax or set from_logits=False",
    ),
    "keras_preprocess_on_unit_range": (
        "preprocess_input expects pixels 0-255",
        "inputs divided by 255 become almost identical",
        "skip the division by 255",
    ),
}
SCHEDULE_WORDS = {
    "StepLR": "multiplies the learning rate by gamma every step_size epochs",
    "MultiStepLR": "multiplies the learning rate by gamma at each milestone epoch",
    "CosineAnnealingLR": "follows half a cosine from the initial rate down to eta_min",
    "OneCycleLR": "warms up to max_lr then anneals down over the whole run",
    "ExponentialLR": "multiplies the learning rate by gamma every step",
    "ReduceLROnPlateau": "lowers the learning rate when the monitored metric stops improving",
    "LambdaLR": "multiplies the initial rate by the factor your function returns",
}


def question(key: str, text: str, answer: str, points: list[str], topics: list[str], where: Any = None) -> dict[str, Any]:
    return {"key": key, "question": text, "answer": answer, "key_points": points[:6], "topics": topics[:3], "where": where}


def _where(analysis, name: str) -> str | None:
    location = analysis.where.get(name)
    return str(location) if location is not None else None


def _biggest_layer(layers: list[dict[str, Any]]) -> dict[str, Any] | None:
    leaves = [row for row in layers if row.get("leaf") and row.get("params")]
    return max(leaves, key=lambda row: row["params"]) if leaves else None


def params_question(analysis) -> list[dict[str, Any]]:
    params = analysis.facts.get("params")
    if not isinstance(params, int):
        return []
    model = analysis.facts.get("model_class") or "model"
    biggest = _biggest_layer(analysis.layers)
    answer = f"{params:,} trainable parameters."
    points = [f"{params:,} trainable parameters"]
    if biggest is not None:
        share = biggest["params"] / max(1, analysis.extra.get("params_total") or params)
        where = biggest.get("path") or biggest["name"]
        answer += f" The largest layer is {where} ({biggest['type']}) with {biggest['params']:,}, {share:.0%} of them."
        points.append(f"{where} {biggest['type']} holds the most parameters")
    else:
        points.append("count weights and biases of every layer")
    text = f"How many trainable parameters has your model ({model}), and which layer holds most of them?"
    return [question("params", text, answer, points, ["cnn-architecture"], _where(analysis, "model_class"))]


def lr_question(analysis) -> list[dict[str, Any]]:
    rates = analysis.facts.get("lr_by_epoch") or []
    if len(rates) < 2:
        return []
    changed = next((i for i, rate in enumerate(rates) if not math.isclose(rate, rates[0], rel_tol=1e-9)), None)
    distinct = len({f"{rate:.3g}" for rate in rates})
    if changed is None or distinct > len(rates) // 2:
        epoch = len(rates) // 2 + 1  # a constant or smooth schedule: the middle of the run (1-based)
    else:
        epoch = changed + 1  # a step schedule: the first epoch after a drop
    rate = rates[epoch - 1]
    scheduler = analysis.facts.get("scheduler") or {}
    name = scheduler.get("name")
    how = (
        SCHEDULE_WORDS.get(name, "it is constant: no scheduler changes it")
        if name
        else "no scheduler changes it: it stays at the optimizer's lr"
    )
    points = [f"learning rate {rate:.3g} in epoch {epoch}"]
    if scheduler.get("stepped") == "per_batch" and " epoch" in how:  # StepLR stepped every batch: its "epochs" are batches
        how = how.replace(" epochs", " batches").replace(" epoch", " batch")
        points.append("scheduler.step() is called every batch, not every epoch")
    answer = f"{rate:.3g} in epoch {epoch} (it starts at {rates[0]:.3g}): {name + ' ' if name else ''}{how}"
    answer += ", because your script steps it every batch." if len(points) > 1 else "."
    points.insert(1, how)
    text = f"What is your learning rate in epoch {epoch}, and why?"
    return [question("lr-epoch", text, answer, points, ["lr-schedules"], _where(analysis, "scheduler") or _where(analysis, "optimizer"))]


def shape_question(analysis) -> list[dict[str, Any]]:
    stages = [row for row in analysis.layers if row.get("depth") == 1 and len(row.get("output_shape") or []) == 4]
    # a module called more than once (one `self.pool` after every conv) leaves several shapes: no single answer
    calls = Counter(row["name"] for row in stages)
    stages = [row for row in stages if calls[row["name"]] == 1]
    if len(stages) < 3:
        return []
    stage = stages[2] if len(stages) < 6 else stages[len(stages) // 2]
    _, channels, height, width = stage["output_shape"]
    shape = stage["output_shape"]
    answer = f"{channels} channels of {height}x{width}: {stage['name']} ({stage['type']}) outputs {shape} for one 32x32 image."
    points = [f"{channels} channels", f"{height}x{width} spatial size"]
    text = f"What shape leaves {stage['name']} ({stage['type']}) in your model, for one 32x32 CIFAR-10 image?"
    return [question(f"shape-{stage['name']}", text, answer, points, ["cnn-architecture"])]


def finding_questions(analysis) -> list[dict[str, Any]]:
    out, seen = [], set()
    for item in analysis.findings:
        if item.kind in seen or item.kind not in FINDING_POINTS:
            continue
        seen.add(item.kind)
        kind = KINDS[item.kind]
        text = f"At {item.location}, {item.message.split(':')[0]}. What does that change, and how would you fix it?"
        answer = f"{kind.title}: {kind.why}."
        out.append(question(f"finding-{item.kind}", text, answer, list(FINDING_POINTS[item.kind]), list(kind.topics), str(item.location)))
    return out


def setup_questions(analysis) -> list[dict[str, Any]]:
    facts, out = analysis.facts, []
    optimizer = facts.get("optimizer") or {}
    if optimizer.get("name") and optimizer.get("lr") is not None:
        parts = [f"{optimizer['name']}", f"learning rate {optimizer['lr']:g}"]
        if optimizer.get("momentum"):
            parts.append(f"momentum {optimizer['momentum']:g}")
        if optimizer.get("weight_decay"):
            parts.append(f"weight decay {optimizer['weight_decay']:g}")
        answer = "; ".join(parts) + "."
        text = "Which optimizer does your training use, with which learning rate, momentum and weight decay?"
        out.append(question("optimizer", text, answer, parts, ["optimisers"], _where(analysis, "optimizer")))
    batch, epochs = facts.get("batch_size_train"), facts.get("epochs")
    steps = analysis.extra.get("steps_per_epoch")
    if isinstance(batch, int) and isinstance(steps, int):
        text = "How many optimizer steps does one epoch of your training take, and why that number?"
        answer = (
            f"{steps} steps: {analysis.extra.get('steps_why', '')}; with {epochs or '?'} epochs that is {steps * (epochs or 0):,} steps."
        )
        out.append(
            question(
                "steps",
                text,
                answer,
                [f"{steps} steps per epoch", f"batch size {batch}"],
                ["training-loop"],
                _where(analysis, "batch_size_train"),
            )
        )
    augment = facts.get("augmentations") or []
    if augment:
        on_test = analysis.extra.get("test_augmentations") or []
        if on_test:  # the question must not presume what the script does not do
            text = "Which augmentations does your training apply, and which should the test images get?"
            answer = f"{', '.join(augment)}; your test set also gets {', '.join(on_test)}, but evaluation must be deterministic: none."
        else:
            text = "Which augmentations does your training apply, and why only to the training images?"
            answer = f"{', '.join(augment)}; evaluation must be deterministic, so the test images get none."
        out.append(
            question(
                "augmentations",
                text,
                answer,
                [*augment[:4], "not applied to the test set"],
                ["augmentation"],
                _where(analysis, "augmentations"),
            )
        )
    if facts.get("loss") == "CrossEntropyLoss":
        text = "Which loss does your script train with, and what must the model give it?"
        answer = "CrossEntropyLoss, on raw logits: it applies log-softmax itself and takes class indices as targets."
        points = ["CrossEntropyLoss", "raw logits", "applies log-softmax itself"]
        out.append(question("loss", text, answer, points, ["losses"], _where(analysis, "loss")))
    if facts.get("uses_batchnorm"):
        text = "Your model uses BatchNorm: what does it do in training, and what changes after model.eval()?"
        answer = (
            "In training it normalises with the batch's mean and variance and updates running averages; "
            "in eval mode it uses those running statistics."
        )
        points = ["batch mean and variance in training", "running statistics in eval mode", "running averages updated with momentum"]
        out.append(question("batchnorm", text, answer, points, ["batchnorm"], _where(analysis, "uses_batchnorm")))
    return out


def flops_question(analysis) -> list[dict[str, Any]]:
    flops = analysis.extra.get("flops")
    if not isinstance(flops, int) or flops <= 0:
        return []
    millions = flops / 1e6
    text = "Roughly how many floating-point operations does one forward pass of a 32x32 image cost in your model?"
    answer = f"About {millions:,.0f} million FLOPs ({flops / 2e6:,.0f} million multiply-adds), almost all in the convolutions."
    return [
        question(
            "flops", text, answer, [f"{millions:,.0f} million FLOPs", "mostly in the convolutions"], ["performance", "cnn-architecture"]
        )
    ]


def generate_questions(analysis) -> list[dict[str, Any]]:
    return [
        *params_question(analysis), *lr_question(analysis), *shape_question(analysis), *finding_questions(analysis),
        *setup_questions(analysis), *flops_question(analysis),
    ]  # fmt: skip
