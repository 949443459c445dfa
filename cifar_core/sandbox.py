"""Run a learner's edited snippet in a separate process with a time and a memory limit.

The child is a fresh interpreter (`python -I`), so nothing of the app's state is reachable from
it; figures drawn with matplotlib come back as PNG bytes. Disabled entirely when HOSTED=1: a
shared server must not run code its users type."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

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
    return os.environ.get("HOSTED", "") != "1"


def _limit_memory(megabytes: int):
    def apply() -> None:
        limit = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))

    return apply


def run_snippet(code: str, timeout_s: float = DEFAULT_TIMEOUT_S, memory_mb: int = DEFAULT_MEMORY_MB) -> SnippetResult:
    """Execute `code` in a child process; an infinite loop is killed at the time limit and a huge
    allocation fails at the memory limit, and both are reported rather than raised."""
    if not snippets_enabled():
        raise SnippetsDisabled("running edited code is disabled on this shared deployment (HOSTED=1)")
    with tempfile.TemporaryDirectory(prefix="snippet-") as workdir:
        source = Path(workdir) / "snippet.py"
        source.write_text(code, encoding="utf-8")
        env = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(REPO_ROOT),
            "MPLBACKEND": "Agg",
            "HOME": workdir,
            "OMP_NUM_THREADS": "2",
        }
        try:
            completed = subprocess.run(
                [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(REPO_ROOT)!r})\n{_RUNNER}", str(source), workdir],
                capture_output=True, text=True, timeout=timeout_s, cwd=workdir, env=env, preexec_fn=_limit_memory(memory_mb),
            )  # fmt: skip
        except subprocess.TimeoutExpired as expired:
            return SnippetResult(False, _text(expired.stdout), _text(expired.stderr), "timeout", timeout_s)
        figures = [p.read_bytes() for p in sorted(Path(workdir).glob("figure_*.png"))]
        stderr = completed.stderr[-MAX_OUTPUT_CHARS:]
        if completed.returncode == 0:
            return SnippetResult(True, completed.stdout[-MAX_OUTPUT_CHARS:], stderr, "", timeout_s, figures)
        out_of_memory = (
            "MemoryError" in stderr or "std::bad_alloc" in stderr or "DefaultCPUAllocator" in stderr or completed.returncode in (-9, 137)
        )
        return SnippetResult(
            False, completed.stdout[-MAX_OUTPUT_CHARS:], stderr, "memory" if out_of_memory else "error", timeout_s, figures
        )


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return (value.decode(errors="replace") if isinstance(value, bytes) else value)[-MAX_OUTPUT_CHARS:]


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
