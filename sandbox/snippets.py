"""Run a learner's edited snippet in a separate, contained process (sandbox.process).

The child is a fresh interpreter (`python -I`), so nothing of the app's state is reachable from
it; figures drawn with matplotlib come back as PNG bytes. Disabled entirely when HOSTED=1: a
shared server must not run code its users type."""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.bwrap import learner_code_allowed
from sandbox.process import Finished, Limits, run_contained

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TIMEOUT_S = 20.0
DEFAULT_MEMORY_MB = 2048  # private writable memory (RLIMIT_DATA): allocations count, mapped libraries barely
MAX_OUTPUT_CHARS = 20_000

_RUNNER = """
import sys, pathlib
import matplotlib
matplotlib.use("Agg")
code = pathlib.Path(sys.argv[1]).read_text()
out_dir = pathlib.Path(sys.argv[2])
try:
    exec(compile(code, "<snippet>", "exec"), {"__name__": "__snippet__"})
finally:
    import matplotlib.pyplot as plt
    for number in plt.get_fignums():
        plt.figure(number).savefig(out_dir / f"figure_{number}.png", dpi=80)
"""


class SnippetsDisabled(PermissionError):
    """Raised in hosted mode."""


@dataclass
class SnippetResult:
    ok: bool
    stdout: str
    stderr: str
    reason: str  # "", "timeout", "memory", "error"
    seconds_limit: float
    figures: list[bytes] = field(default_factory=list)


def snippets_enabled() -> bool:
    return learner_code_allowed()[0]


def run_snippet(code: str, timeout_s: float = DEFAULT_TIMEOUT_S, memory_mb: int = DEFAULT_MEMORY_MB) -> SnippetResult:
    """Execute `code` in a contained child process (sandbox.process): an infinite loop is stopped
    at the time limit, a huge allocation fails at the memory limit, a native crash is reported,
    and whatever the snippet started is killed with it."""
    if not snippets_enabled():
        raise SnippetsDisabled(f"running edited code is off on this shared deployment (HOSTED=1): {learner_code_allowed()[1]}")
    limits = Limits(wall_s=timeout_s, cpu_s=int(timeout_s * 2) + 5, memory_mb=memory_mb, output_bytes=MAX_OUTPUT_CHARS)
    with tempfile.TemporaryDirectory(prefix="snippet-") as workdir:
        source = Path(workdir) / "snippet.py"
        source.write_text(code, encoding="utf-8")
        env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO_ROOT), "MPLBACKEND": "Agg", "HOME": workdir}
        argv = [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(REPO_ROOT)!r})\n{_RUNNER}", str(source), workdir]
        finished = run_contained(argv, limits, workdir, env)
        figures = [p.read_bytes() for p in sorted(Path(workdir).glob("figure_*.png"))]
    return SnippetResult(finished.returncode == 0, finished.stdout, finished.stderr + _why(finished), _reason(finished), timeout_s, figures)


def _reason(finished: Finished) -> str:
    if finished.returncode == 0:
        return ""
    if finished.timed_out or finished.crashed_by == "SIGXCPU":
        return "timeout"
    allocation_failed = ("MemoryError", "std::bad_alloc", "DefaultCPUAllocator")
    return "memory" if any(s in finished.stderr for s in allocation_failed) or finished.crashed_by == "SIGKILL" else "error"


def _why(finished: Finished) -> str:
    """A line for a snippet that died of a signal, which prints nothing itself."""
    what = {"SIGSEGV": "a native crash (segmentation fault)", "SIGXFSZ": "a file past the size limit", "SIGXCPU": "its CPU time used up"}
    return f"\nstopped by {finished.crashed_by}: {what.get(finished.crashed_by, 'a signal')}" if finished.crashed_by else ""


def demo_snippet(demo) -> str:
    """An editable, runnable version of a demo: its module's names, its function, a call that prints the checks."""
    lines = demo.source.splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("def "))
    body = "\n".join(lines[start:])
    call = ", ".join([f"{p.name}={p.default!r}" for p in demo.params] + ["broken=False"])
    return (
        # Every name of the demo's module, its private helpers too (a star import skips "_names").
        f"import {demo.function.__module__} as demo_module\n"
        "globals().update({name: value for name, value in vars(demo_module).items() if not name.startswith('__')})\n\n"
        f"{body}\n\n"
        f"# broken=True makes the mistake the checks guard against: {demo.mistake}\n"
        f"result = {demo.function.__name__}({call})\n"
        "for check in result.checks:\n"
        "    print('PASS' if check.passed else 'FAIL', check.name, check.measured)\n"
    )
