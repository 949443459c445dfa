"""The layers of docs/architecture.md: import-linter's contracts (pyproject.toml) hold on this tree,
and they break when a forbidden import is added to a copy of it."""

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
CONFIG = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    # PYTHONPATH: the packages of `root`, not this checkout's (grimp finds packages on sys.path).
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)},
    )


def copy_of_the_tree(destination: Path) -> Path:
    """The root packages' Python files and pyproject.toml: all that lint-imports reads."""
    for package in CONFIG["root_packages"]:
        shutil.copytree(REPO_ROOT / package, destination / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "items"))
    shutil.copy(REPO_ROOT / "pyproject.toml", destination / "pyproject.toml")
    return destination


def test_the_contracts_hold_on_this_tree():
    done = lint_imports(REPO_ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Contracts: {len(CONFIG['contracts'])} kept, 0 broken." in done.stdout


def test_every_top_level_package_is_checked():
    # A package left out of root_packages would be invisible to every contract.
    packages = {path.parent.name for path in REPO_ROOT.glob("*/__init__.py")}
    assert packages == set(CONFIG["root_packages"]), sorted(packages ^ set(CONFIG["root_packages"]))


@pytest.mark.parametrize(
    ("module", "source", "broken"),
    [
        # cifar_core is study material: an import of the app, or even of the study engine, breaks it.
        ("cifar_core/leak.py", "from ui.state import profile\n", "cifar_core.leak -> ui.state"),
        ("cifar_core/leak.py", "def grade():\n    from study.grading.grader import grade\n", "cifar_core.leak -> study.grading.grader"),
        ("cifar_core/leak.py", "import streamlit as st\n", "cifar_core.leak -> streamlit"),
        # The bank is below the study engine; the services do not import the views.
        ("qa_bank/leak.py", "from study.search import SearchIndex\n", "qa_bank.leak -> study.search"),
        ("run_service/leak.py", "import pages.training_lab\n", "run_service.leak -> pages.training_lab"),
        # Services beside each other stay independent.
        ("proofs/leak.py", "from run_service.service import get_service\n", "proofs.leak -> run_service.service"),
    ],
)
def test_a_forbidden_import_breaks_a_contract(tmp_path, module, source, broken):
    root = copy_of_the_tree(tmp_path)
    (root / module).write_text(source)
    done = lint_imports(root)
    assert done.returncode == 1, done.stdout + done.stderr
    assert re.search(r"Contracts: \d+ kept, [1-9]\d* broken\.", done.stdout) and broken in done.stdout, done.stdout


def test_project_viva_may_use_the_study_engine_but_never_the_views(tmp_path):
    # It sits between the views and the services: it reads the bank and the search index, and the
    # My project page imports it, never the other way.
    root = copy_of_the_tree(tmp_path)
    uses_services = "from study.search import SearchIndex\nfrom cifar_core.models import SimpleCNN\n"
    (root / "project_viva" / "uses_services.py").write_text(uses_services)
    assert lint_imports(root).returncode == 0
    (root / "project_viva" / "leak.py").write_text("from ui.state import profile\n")
    done = lint_imports(root)
    assert done.returncode == 1 and "project_viva.leak -> ui.state" in done.stdout, done.stdout
