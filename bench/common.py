"""What every benchmark reports with its figures: machine, versions, date, runs."""

from __future__ import annotations

import os
import platform
import statistics
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_CIFAR10 = Path(os.environ.get("CIFAR10_DIR", REPO_ROOT.parent / "shared" / "datasets" / "cifar10"))


@dataclass
class Figure:
    name: str
    value: float | None  # None: not measured (see note)
    unit: str
    note: str = ""

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "value": self.value, "unit": self.unit, "note": self.note}


@dataclass
class BenchResult:
    bench: str
    figures: list[Figure] = field(default_factory=list)
    seconds: float = 0.0
    details: str = ""  # Markdown printed after the table (a confusion matrix, the failures)

    def add(self, name: str, value: float | None, unit: str, note: str = "") -> None:
        self.figures.append(Figure(name, value, unit, note))


def machine() -> dict[str, object]:
    import torch

    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
        platform.processor(),
    )
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none",
    }


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    """(p50, p95, max)."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return statistics.median(ordered), p95, ordered[-1]


class Stopwatch:
    def __enter__(self) -> Stopwatch:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.start


def tree_rss_mb(root_pid: int) -> float:
    """Resident memory of a process and all its descendants (the server plus its workers)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    total, pending = 0.0, [root_pid]
    while pending:
        pid = pending.pop()
        pending += children.get(pid, [])
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)
        except (OSError, IndexError, ValueError):
            continue
    return total
