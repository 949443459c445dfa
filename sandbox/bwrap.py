"""The outer layer, where Debian's bubblewrap is installed: learner code runs with no network,
its own PID namespace (nothing outside is visible or killable, and everything inside dies with
it), read-only views of only the Python installation and the project's code packages, and a
private writable working directory. The progress store, the bank files, the data directory and
other learners' files are simply not there."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
CODE_PACKAGES = ("cifar_core", "proofs", "exercises", "sandbox")  # what learner code may import from the project
SYSTEM_DIRS = ("/usr", "/bin", "/lib", "/lib64", "/etc/alternatives", "/etc/ld.so.cache")


def _python_dirs() -> list[str]:
    """The interpreter's installation and the virtual environment, wherever they live: under
    their real paths and under the path the interpreter was started by (a checkout's .venv may
    be a symlink to a shared one, and sys.executable names the link)."""
    return sorted({os.path.realpath(p) for p in (sys.base_prefix, sys.prefix)} | {sys.prefix})


def bwrap_usable() -> bool:
    """bwrap exists and can create its namespaces here (a container may forbid them);
    VIVA_NO_BWRAP=1 turns the layer off (tests of the layer below use it)."""
    return os.environ.get("VIVA_NO_BWRAP") != "1" and _bwrap_works()


@functools.cache
def _bwrap_works() -> bool:
    if shutil.which("bwrap") is None:
        return False
    probe = wrap(["/bin/true"], "/tmp")
    return subprocess.run(probe, capture_output=True, timeout=30).returncode == 0


def wrap(argv: list[str], workdir: str, die_with_parent: bool = True) -> list[str]:
    """argv run inside bubblewrap, with `workdir` as its only writable place.

    die_with_parent ties the sandbox to the *thread* that started it (Linux's parent-death
    signal): right for a run waited on where it starts, wrong for a process started in one
    Streamlit script run and used in the next; such a process ends when its stdin closes."""
    views = ["--tmpfs", "/tmp"]  # first: a later tmpfs would hide a checkout or venv that lives under /tmp
    for path in (*SYSTEM_DIRS, *_python_dirs()):
        views += ["--ro-bind-try", path, path]
    for package in CODE_PACKAGES:
        views += ["--ro-bind", str(REPO_ROOT / package), str(REPO_ROOT / package)]
    return [
        "bwrap", "--unshare-all", *(["--die-with-parent"] if die_with_parent else []), "--new-session",
        *views,
        "--proc", "/proc", "--dev", "/dev",
        "--bind", workdir, workdir, "--chdir", workdir, "--setenv", "HOME", workdir,
        "--", *argv,
    ]  # fmt: skip


def containment() -> str:
    """One line for the page: which containment learner code gets here."""
    if bwrap_usable():
        return "bubblewrap: no network, its own PID namespace, read-only Python and project code, a private working directory"
    return "a separate limited process (process group, time, memory, CPU, file-size limits); bubblewrap is not available here"


def learner_code_allowed() -> tuple[bool, str]:
    """Whether this deployment runs learners' code, and why not when it does not. Locally it
    always does; with HOSTED=1 only inside bubblewrap, unless the deployer set
    VIVA_HOSTED_CODE=off."""
    if os.environ.get("HOSTED", "") != "1":
        return True, ""
    if os.environ.get("VIVA_HOSTED_CODE", "on") == "off":
        return False, "the deployer turned running code off on this shared server (VIVA_HOSTED_CODE=off)"
    if not bwrap_usable():
        return (
            False,
            "bubblewrap (bwrap) is not available here, and a shared server must not run its users' code with only time and memory limits",
        )
    return True, ""
