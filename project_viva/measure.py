"""Measure the learner's model in the contained runner (sandbox.process; inside bubblewrap where
it is usable): a fresh `python -I` in its own process group, with time, CPU, memory and file
limits, whose whole group is killed when it ends. Only the plan's definitions-only modules and
expressions run there (project_viva.plan), never the learner's script."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from project_viva.plan import Plan
from sandbox.bwrap import learner_code_allowed
from sandbox.process import Limits, run_contained

CHILD_SOURCE = (Path(__file__).with_name("measure_child.py")).read_text(encoding="utf-8")
MARK = "@@project-viva@@"
LIMITS = Limits(wall_s=90.0, cpu_s=120, memory_mb=3072, file_mb=16, threads=1, output_bytes=2_000_000)


@dataclass
class Measurement:
    """What the runner measured; `unmeasured` says what it could not and why."""

    params: int | None = None
    params_total: int | None = None
    model_class: str | None = None
    uses_batchnorm: bool | None = None
    uses_dropout: bool | None = None
    flops: int | None = None
    output_shape: list[int] | None = None
    layers: list[dict[str, Any]] = field(default_factory=list)
    lr_by_epoch: list[float] = field(default_factory=list)
    lr_by_batch: list[float] = field(default_factory=list)
    lr_by_batch_stride: int = 0
    blocked: list[dict[str, str]] = field(default_factory=list)  # refused calls: shell, sockets, writes
    import_failures: list[str] = field(default_factory=list)
    stubbed: list[str] = field(default_factory=list)
    unmeasured: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cpu_seconds: float | None = None  # CPU time the runner reported for itself

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Measurement:
        known = {k: v for k, v in raw.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def measure(plan: Plan, limits: Limits = LIMITS) -> Measurement:
    """Run the plan in the contained runner; a crash, a timeout or refused code becomes a line of
    `unmeasured`, never an exception."""
    allowed, why = learner_code_allowed()
    if not allowed:
        return Measurement(unmeasured=[f"model and learning rate: not measured, {why}"])
    if plan.model is None and plan.optimizer is None:
        return Measurement()
    workdir = tempfile.mkdtemp(prefix="project-viva-")
    try:
        write_modules(plan, Path(workdir) / "learner")
        env = {
            "PATH": os.environ.get("PATH", ""), "HOME": workdir, "TMPDIR": workdir, "MPLCONFIGDIR": workdir,
            "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg",
        }  # fmt: skip
        argv = [python_executable(), "-I", "-c", CHILD_SOURCE]
        finished = run_contained(argv, limits, workdir, env, stdin_text=json.dumps(plan.to_dict()))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if MARK in finished.stdout:
        measurement = Measurement.from_dict(json.loads(finished.stdout.rsplit(MARK, 1)[1]))
    elif finished.timed_out:
        measurement = Measurement(unmeasured=[f"model: not measured, the runner stopped it after {limits.wall_s:.0f} s"])
    else:
        tail = " / ".join(line for line in finished.stderr.strip().splitlines()[-2:])
        reason = f"stopped by {finished.crashed_by}" if finished.crashed_by else f"exit {finished.returncode}"
        measurement = Measurement(unmeasured=[f"model: not measured, the runner ended ({reason}): {tail[:300]}"])
    measurement.seconds = finished.seconds
    return measurement


def python_executable() -> str:
    """This interpreter, named inside its virtual environment's real folder: bubblewrap shows the
    sandbox only the real Python folders, so a venv reached through a symlink (a git worktree's
    .venv) must be named by its real path, and not resolved further (the venv is found from it)."""
    real = Path(os.path.realpath(sys.prefix)) / "bin" / Path(sys.executable).name
    return str(real) if real.exists() else sys.executable


def write_modules(plan: Plan, root: Path) -> None:
    for name, source in plan.modules.items():
        parts = name.split(".")
        path = root.joinpath(*parts, "__init__.py") if name in plan.packages else root.joinpath(*parts[:-1], parts[-1] + ".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
