"""A PyTorch project: the facts read from the walk, then the model measured in the contained
runner (parameters, layers, FLOPs, the learning rate of every epoch), then the detectors, which
can use what was measured (is there BatchNorm or dropout for eval() to switch off?)."""

from __future__ import annotations

from project_viva.facts import read_facts
from project_viva.findings import finding
from project_viva.interpreter import Walker
from project_viva.measure import Measurement, measure
from project_viva.plan import build_plan
from project_viva.torch_findings import find_torch
from project_viva.training import Training, loader_length
from project_viva.values import literal


def analyse_torch(walker: Walker, training: Training, analysis, measure_model: bool) -> None:
    facts = read_facts(training)
    analysis.facts.update(facts.values)
    analysis.where.update(facts.where)
    analysis.unmeasured += facts.unmeasured
    loop = training.epoch_loop
    epochs_range = literal(loop.iterable) if loop is not None else None
    epochs_range = epochs_range if isinstance(epochs_range, range) else None
    batches, why = loader_length(training.train_loader)
    analysis.extra.update(steps_per_epoch=batches, steps_why=why)
    plan = build_plan(training, epochs_range, batches)
    analysis.unmeasured += plan.unmeasured
    if measure_model:
        measurement = measure(plan)
    else:
        measurement = Measurement(unmeasured=["model and learning rate: not measured (measurement was turned off)"])
    merge(analysis, measurement, plan, epochs_range)
    outputs = measurement.output_shape[-1] if measurement.output_shape else None
    analysis.findings += find_torch(training, analysis.facts, outputs)
    analysis.facts["selection_on_test_set"] = any(f.kind == "selection_on_test_set" for f in analysis.findings)
    for attempt in measurement.blocked:
        if not attempt.get("direct"):
            continue  # a library the model imports, not the learner's own line
        file, _, line = attempt["where"].rpartition(":")
        location = _location(walker, file, line)
        if location is not None:
            analysis.findings.append(
                finding("blocked_in_runner", location, f"{attempt['event']}({attempt['detail']}) while building the model")
            )


def _location(walker: Walker, file: str, line: str):
    module = next((m for m in walker.index.modules.values() if m.path == file), None)
    return module.where(int(line)) if module is not None and line.isdigit() else None


def merge(analysis, measurement: Measurement, plan, epochs_range: range | None) -> None:
    facts = analysis.facts
    facts["params"] = measurement.params
    if measurement.model_class and not str(facts.get("model_class") or "")[:1].islower():
        facts["model_class"] = measurement.model_class  # a factory's own name (resnet18) says more than its class
    for name in ("uses_batchnorm", "uses_dropout"):
        if getattr(measurement, name) is not None:
            facts[name] = getattr(measurement, name)
    facts["lr_by_epoch"] = measurement.lr_by_epoch or _constant_schedule(facts, plan, epochs_range)
    optimizer = facts.get("optimizer")
    if optimizer and optimizer.get("lr") is None and facts["lr_by_epoch"] and facts.get("scheduler") is None:
        optimizer["lr"] = facts["lr_by_epoch"][0]  # computed by the script's own function, as the runner measured it
        analysis.unmeasured = [u for u in analysis.unmeasured if not u.startswith("optimizer lr:")]
    analysis.layers = measurement.layers
    analysis.unmeasured += measurement.unmeasured
    if measurement.params is None:  # why the model's definitions may not have loaded; noise when the model was measured
        analysis.unmeasured += [f"{line} (skipped while importing the model's definitions)" for line in measurement.import_failures]
    if measurement.params is None and plan.model is not None and not any(u.startswith("model") for u in analysis.unmeasured):
        analysis.unmeasured.append("model: not measured")
    analysis.extra.update(
        flops=measurement.flops,
        output_shape=measurement.output_shape,
        params_total=measurement.params_total,
        lr_by_batch=measurement.lr_by_batch,
        lr_by_batch_stride=measurement.lr_by_batch_stride,
        measured_seconds=round(measurement.seconds, 3),
        runner_cpu_seconds=measurement.cpu_seconds,
        blocked=measurement.blocked,
        validation=facts.pop("validation", None),
        checkpointing=facts.pop("checkpointing", None),
        test_augmentations=facts.pop("test_augmentations", []),
    )


def _constant_schedule(facts: dict, plan, epochs_range: range | None) -> list[float] | None:
    """Without a scheduler or an LR-setting function the rate is the optimizer's lr every epoch:
    no need to run anything to know it."""
    optimizer = facts.get("optimizer") or {}
    constant = facts.get("scheduler") is None and not plan.hooks and not plan.lr_set_inline and not plan.rebuild_optimizer
    if constant and epochs_range is not None and isinstance(optimizer.get("lr"), float | int):
        return [float(optimizer["lr"])] * len(epochs_range)
    return None
