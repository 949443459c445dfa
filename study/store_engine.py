"""Where progress lives: a SQLite file (the default) or a database URL, and the engine for it.

SQLite keeps the guarantees the store has always had: WAL, synchronous=FULL (an acknowledged
review survives power loss), foreign keys on, and BEGIN IMMEDIATE for writes so two writers
queue instead of deadlocking. One pooled connection per store: the server's sessions take
turns, as SQLite's single writer makes them do anyway."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import QueuePool

IMMEDIATE = "sqlite_begin_immediate"  # execution option: this transaction writes


def default_target() -> str:
    """$VIVA_DATABASE_URL, else $VIVA_PROGRESS_DB, else the user's data directory."""
    url = os.environ.get("VIVA_DATABASE_URL")
    if url:
        return url
    explicit = os.environ.get("VIVA_PROGRESS_DB")
    if explicit:
        return str(Path(explicit).expanduser())
    data_home = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return str(data_home / "viva-drill" / "progress.db")


def is_url(target: str) -> bool:
    return "://" in target


def sqlite_path(target: str) -> Path | None:
    """The file behind a SQLite target, or None for a server database."""
    if not is_url(target):
        return Path(target)
    url = make_url(target)
    return Path(url.database) if url.get_backend_name() == "sqlite" and url.database else None


def make_engine(target: str) -> Engine:
    path = sqlite_path(target)
    if path is None:
        # pool_pre_ping: a server restarted since the last request costs a reconnect, not an error.
        return create_engine(target, pool_pre_ping=True, pool_size=5, max_overflow=5)
    engine = create_engine(
        f"sqlite:///{path}",
        poolclass=QueuePool,
        pool_size=1,
        max_overflow=0,
        pool_timeout=60,
        connect_args={"timeout": 30, "check_same_thread": False},  # Streamlit reruns a session on different threads
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # the driver's own BEGIN handling is off; we begin below
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON"):
            dbapi_connection.execute(f"PRAGMA {pragma}")

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if connection.get_execution_options().get(IMMEDIATE) else "BEGIN")

    return engine
