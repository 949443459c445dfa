"""The demo registry: `demo_ids()`, `get_demo(id)`, `run_demo(id, **params)`.

Family modules are imported on first use, so importing this package is cheap."""

from __future__ import annotations

import importlib
from typing import Any

from proofs.families import DEMO_FAMILIES
from proofs.registry import Demo, DemoRun, registered, run

FAMILIES = tuple(DEMO_FAMILIES)


_warmed_up = False


def _warm_up() -> None:
    # torch imports modules lazily on the first optimizer step (about 1.5 s here); pay it once at
    # load so each demo's time measures the demo, not whichever demo happened to run first.
    global _warmed_up
    if not _warmed_up:
        import torch

        parameter = torch.nn.Parameter(torch.zeros(1))
        parameter.grad = torch.zeros(1)
        torch.optim.SGD([parameter], lr=0.1).step()
        _warmed_up = True


def _load_all() -> dict[str, Demo]:
    for family in FAMILIES:
        importlib.import_module(f"proofs.demos.{family}")
    _warm_up()
    return registered()


def demo_ids() -> list[str]:
    return list(_load_all())


def all_demos() -> list[Demo]:
    return list(_load_all().values())


def get_demo(demo_id: str) -> Demo:
    demos = _load_all()
    if demo_id not in demos:
        raise KeyError(f"no demo '{demo_id}' (see `python -m proofs list`)")
    return demos[demo_id]


def demos_in_family(family: str) -> list[Demo]:
    return [d for d in _load_all().values() if d.family == family]


def run_demo(demo_id: str, **params: Any) -> DemoRun:
    return run(get_demo(demo_id), params)
