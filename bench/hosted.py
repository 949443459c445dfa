"""`python -m bench hosted --learners K --budget-s S [--backend local|ray] [--data DIR] --json`

A class on one server, measured through the run service: one solo run of the Training lab's
default settings, then K learners pressing Start at the same moment. Meanwhile the server
process keeps answering searches and grading, as it would for the other learners' pages; their
latency is `ui_p95_ms`. Before the solo run an untimed warm-up run starts the worker(s), so the
solo run and the class's runs are measured alike (a worker's start is paid once per server)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from dataclasses import replace

from bench.common import SHARED_CIFAR10, percentiles, tree_rss_mb
from run_service.lab import CIFAR10_SOURCE, lab_config
from run_service.service import RunService
from run_service.settings import RunServiceSettings


class Sampler(threading.Thread):
    """Peak memory of the process tree, and UI calls (search, grading) timed in this process."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        from qa_bank.loader import load_bank
        from study.search import SearchIndex

        self.bank = load_bank()
        self.index = SearchIndex.from_bank(self.bank)
        self.peak_mb, self.ui_ms = 0.0, []
        self.done = threading.Event()

    def run(self) -> None:
        from study.grading import grade

        items = self.bank.items
        queries = ["batchnorm eval mode", "gradiant clipping", "why is my loss nan", "resume checkpoint", "label smothing"]
        n = 0
        while not self.done.is_set():
            self.peak_mb = max(self.peak_mb, tree_rss_mb(os.getpid()))
            start = time.perf_counter()
            self.index.search(queries[n % len(queries)], top_k=10)
            self.ui_ms.append((time.perf_counter() - start) * 1000)
            item = items[n % len(items)]
            start = time.perf_counter()
            grade(item, item.answer[: max(40, len(item.answer) // 2)])
            self.ui_ms.append((time.perf_counter() - start) * 1000)
            n += 1
            time.sleep(0.1)  # a page action every so often, not a busy loop


def wait_all(service: RunService, run_ids: list[str]) -> None:
    while any(service.update(run_id).outcome is None for run_id in run_ids):
        time.sleep(0.2)


def measure(service: RunService, run_id: str, learner: str) -> dict:
    record = next(r for r in service.records() if r.run_id == run_id)
    outcome = record.outcome
    return {
        "learner": learner,
        "status": outcome.status,
        "val_acc": round(outcome.report.accuracy, 4) if outcome.report else None,
        "steps": outcome.steps,
        "queued_s": round((record.started_at or record.finished_at) - record.submitted_at, 2),
        "wall_s": round(record.finished_at - record.submitted_at, 2),
        "train_s": round(outcome.seconds, 2),  # all of train(): training plus the final evaluation, as budgeted
        "training_s": round(outcome.training_seconds, 2),  # up to the last training step
        "longest_step_s": round(max((b.elapsed - a.elapsed for a, b in zip(record.steps, record.steps[1:], strict=False)), default=0.0), 3),
        "where": record.where,
        "message": outcome.message,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench hosted")
    parser.add_argument("--learners", type=int, default=4)
    parser.add_argument("--budget-s", type=float, default=20)
    parser.add_argument("--backend", choices=("local", "ray"), default="local")
    parser.add_argument("--data", default=str(SHARED_CIFAR10) if (SHARED_CIFAR10 / "train").is_dir() else "")
    parser.add_argument("--json", action="store_true", help="print only the JSON object")
    args = parser.parse_args(argv)

    environ = {**os.environ, "HOSTED": "1"}
    if args.backend == "ray":
        environ.setdefault("VIVA_RAY_ADDRESS", "local")  # "local": a Ray started in this process
    else:
        environ.pop("VIVA_RAY_ADDRESS", None)
    settings = RunServiceSettings.from_environment(environ)
    settings = replace(settings, max_queued=max(settings.max_queued, args.learners))
    service = RunService(settings)
    source = {"source": CIFAR10_SOURCE, "data_dir": args.data} if args.data else {}
    cfg = lab_config({**source, "budget": args.budget_s}).validated()
    log = (lambda *a: None) if args.json else (lambda *a: print(*a, file=sys.stderr))
    sampler = Sampler()
    sampler.start()
    try:
        log("warm-up run (starts the workers; not measured)")
        warm = service.submit("warm-up", replace(cfg, time_budget=5.0))
        wait_all(service, [warm])
        solo_id = service.submit("solo", cfg)
        wait_all(service, [solo_id])
        solo = measure(service, solo_id, "solo")
        solo["peak_rss_mb"] = round(sampler.peak_mb)
        log(f"solo: {solo}")
        sampler.ui_ms.clear()
        sampler.peak_mb = 0.0
        started = time.time()
        ids = {f"learner-{k + 1}": service.submit(f"learner-{k + 1}", cfg) for k in range(args.learners)}
        wait_all(service, list(ids.values()))
        wall = time.time() - started
        runs = [measure(service, run_id, learner) for learner, run_id in ids.items()]
    finally:
        sampler.done.set()
        sampler.join(timeout=5)
        service.close()
    solo_rate = solo["steps"] / solo["wall_s"]
    p50, p95, _ = percentiles(sampler.ui_ms) if sampler.ui_ms else (None, None, None)
    result = {
        "backend": args.backend,
        "slots": service.backend.slots,
        "budget_s": args.budget_s,
        "data": cfg.data.data_dir or "generated offline set",
        "solo": {key: solo[key] for key in ("val_acc", "steps", "wall_s", "train_s", "training_s", "longest_step_s", "peak_rss_mb")},
        "runs": runs,
        "throughput_ratio": round(sum(r["steps"] for r in runs) / wall / solo_rate, 3),
        "peak_rss_mb": round(sampler.peak_mb),
        "ui_p95_ms": round(p95, 2) if p95 is not None else None,
        # The budget holds when no run trains past it by more than its longest step; the final
        # evaluation is planned inside it too, and `max_train_over_budget_s` says how well.
        "budget_held": all(r["training_s"] <= args.budget_s + r["longest_step_s"] for r in runs + [solo]),
        "max_train_over_budget_s": round(max(r["train_s"] for r in runs + [solo]) - args.budget_s, 2),
    }
    print(json.dumps(result, indent=None if args.json else 1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
