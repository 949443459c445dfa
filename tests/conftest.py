import os
from pathlib import Path

import pytest

from tests.archive_server import archive_server  # noqa: F401  (a fixture: CIFAR-10's archive layout on a local server)

REPO_ROOT = Path(__file__).resolve().parent.parent
# The real CIFAR-10 training set sits beside the checkout on developer machines and in CI.
SHARED_CIFAR10 = Path(os.environ.get("CIFAR10_DIR", REPO_ROOT.parent / "shared" / "datasets" / "cifar10"))


@pytest.fixture
def repo_root() -> Path:
    return REPO_ROOT


def require_real_cifar10() -> Path:
    """The real dataset's directory, or skip the test saying where it was looked for."""
    if not (SHARED_CIFAR10 / "train").is_dir():
        pytest.skip(f"real CIFAR-10 not found at {SHARED_CIFAR10}/train (set CIFAR10_DIR to run this test)")
    return SHARED_CIFAR10


# -- PostgreSQL: a real server for the store suite (tests/postgres.py) ---------------------------

_postgres_report: dict[str, object] = {"passed": 0, "where": None}


@pytest.fixture(scope="session")
def postgres_admin_url():
    from tests.postgres import PostgresUnavailable, local_server, server_version

    given = os.environ.get("VIVA_TEST_DATABASE_URL")
    if given:
        _postgres_report["where"] = f"PostgreSQL {server_version(given)} from VIVA_TEST_DATABASE_URL"
        yield given
        return
    try:
        with local_server() as url:
            _postgres_report["where"] = f"PostgreSQL {server_version(url)} started for the tests"
            yield url
    except PostgresUnavailable as reason:
        pytest.skip(str(reason))


@pytest.fixture
def postgres_url(postgres_admin_url):
    from tests.postgres import fresh_database

    with fresh_database(postgres_admin_url) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_target(request, tmp_path):
    """Where a store test keeps progress: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "progress.db")
    return request.getfixturevalue("postgres_url")


def pytest_runtest_logreport(report):
    if report.when == "call" and report.passed and "postgres" in report.keywords:
        _postgres_report["passed"] += 1


def pytest_terminal_summary(terminalreporter):
    if _postgres_report["where"]:
        terminalreporter.write_line(f"PostgreSQL store tests: {_postgres_report['passed']} passed against {_postgres_report['where']}")
