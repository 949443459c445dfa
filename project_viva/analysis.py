"""analyse(project) -> Analysis: pick the entry script, walk it, read the facts, measure the model
in the contained runner, run the detectors, and build the viva questions. One object, one JSON."""

from __future__ import annotations

import ast
import time
from dataclasses import dataclass, field
from typing import Any

from project_viva.findings import Finding, find_all
from project_viva.interpreter import Walker
from project_viva.modules import Module, ProjectIndex
from project_viva.sources import Location, Project
from project_viva.training import read_training

OUTPUT_FIELDS = (
    "entry", "framework", "model_class", "params", "optimizer", "scheduler", "loss", "batch_size_train", "epochs", "augmentations",
    "normalization", "uses_batchnorm", "uses_dropout", "mixed_precision", "eval_mode_used", "no_grad_in_eval", "selection_on_test_set",
    "lr_by_epoch",
)  # fmt: skip


@dataclass
class Analysis:
    project: str
    facts: dict[str, Any] = field(default_factory=dict)
    where: dict[str, Location] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    questions: list[dict[str, Any]] = field(default_factory=list)
    unmeasured: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # syntax errors, unreadable files
    layers: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # flops, output shape, lr by batch, validation...
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        out = {name: self.facts.get(name) for name in OUTPUT_FIELDS}
        out["findings"] = [f.to_dict() for f in self.findings]
        out["questions"] = self.questions
        out["unmeasured"] = self.unmeasured
        out["where"] = {name: location.to_dict() for name, location in self.where.items()}
        out["layers"] = self.layers
        out["problems"] = self.problems
        out.update(self.extra)
        out["project"] = self.project
        out["seconds"] = round(self.seconds, 3)
        return out


def entry_score(module: Module) -> int:
    """How much a module looks like the script that trains (the one run with `python`): training
    code first, then a __main__ guard, a training name, a notebook; libraries sit deeper."""
    text = module.source.code
    score = 10 if (".backward(" in text or ".fit(" in text or ".fit_generator(" in text) else 0
    score += 4 if ("optim." in text or "optimizer" in text) else 0
    score += 3 if "__main__" in text else 0
    name = module.path.rsplit("/", 1)[-1]
    score += 2 if name in ("train.py", "main.py", "run.py") else 1 if "train" in name else 0
    score += 1 if module.source.is_notebook else 0
    return score - module.path.count("/")


def imported_modules(index: ProjectIndex) -> set[str]:
    """Names of the project modules some other project module imports (so none of them is the script)."""
    found = set()
    for module in index.modules.values():
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Import):
                targets = [index.resolve(alias.name, module) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = index.resolve(node.module or "", module, node.level)
                targets = [base] + [index.resolve(f"{node.module or ''}.{a.name}".strip("."), module, node.level) for a in node.names]
            else:
                continue
            found |= {t.name for t in targets if t is not None and t is not module}
    return found


def choose_entry(index: ProjectIndex) -> Module:
    """The module that trains and that nothing imports; the best-scoring module if every one is imported."""
    imported = imported_modules(index)
    candidates = [m for m in index.modules.values() if m.name not in imported] or list(index.modules.values())
    return max(candidates, key=lambda m: (entry_score(m), -len(m.path)))


def framework_of(index: ProjectIndex) -> str:
    text = "\n".join(m.source.code for m in index.modules.values())
    torch = "import torch" in text or "from torch" in text
    keras = any(k in text for k in ("import tensorflow", "from tensorflow", "import keras", "from keras"))
    return "keras" if keras and not torch else "pytorch"


def analyse(project: Project, measure_model: bool = True) -> Analysis:
    started = time.perf_counter()
    index = ProjectIndex.build(project)
    analysis = Analysis(project.name, problems=list(project.problems))
    for module in index.modules.values():
        for line, message in module.errors:
            analysis.problems.append(f"{module.where(line)}: syntax error ({message}); the rest of the file was analysed")
    entry = choose_entry(index)
    framework = framework_of(index)
    analysis.facts.update(entry=entry.path, framework=framework)
    walker = Walker(index)
    walker.run(entry)
    if framework == "keras":
        from project_viva.keras import analyse_keras

        analyse_keras(walker, analysis)
    else:
        from project_viva.torch_project import analyse_torch

        analyse_torch(walker, read_training(walker), analysis, measure_model)
    analysis.findings += find_all(walker, analysis)
    analysis.findings = _unique(analysis.findings)
    if walker.budget_hit:
        analysis.unmeasured.append("the reader stopped early: the project calls its own functions more than it can follow")
    from project_viva.questions import generate_questions

    analysis.questions = generate_questions(analysis)
    analysis.seconds = time.perf_counter() - started
    return analysis


def _unique(findings: list[Finding]) -> list[Finding]:
    seen, out = set(), []
    for finding in sorted(findings, key=lambda f: (f.location.file, f.location.cell or 0, f.location.line, f.kind)):
        key = (finding.kind, finding.location)
        if key not in seen:
            seen.add(key)
            out.append(finding)
    return out
