"""Bring a progress store to the newest schema with Alembic, whatever wrote it.

Files written before Alembic took over (schemas 1-3, numbered in SQLite's `user_version`) are
stamped with the revision of their schema and upgraded from there, so every review is kept.
A store already at the newest revision is recognised with one query, without importing Alembic
(a third of a second at the app's start)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, inspect, text

MIGRATIONS = Path(__file__).with_name("migrations")
HEAD_REVISION = "0005"  # the newest file in migrations/versions (a test checks they agree)
LEGACY_REVISIONS = {1: "0001", 2: "0002", 3: "0003"}  # SQLite user_version -> the revision that is that schema
SCHEMA_VERSION = 3  # written to SQLite's user_version too, for tools that read it


class NewerSchemaError(Exception):
    """The store was written by a newer version of the app."""


def _config(connection: Connection):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision as Alembic reads it from the migration scripts."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def upgrade(connection: Connection) -> None:
    """Upgrade in the caller's transaction (SQLite and PostgreSQL both roll DDL back on failure)."""
    revision = _revision_or_none(connection)
    if revision != HEAD_REVISION:
        _upgrade_with_alembic(connection, revision)
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"PRAGMA user_version={SCHEMA_VERSION}")


def _revision_or_none(connection: Connection) -> str | None:
    if "alembic_version" not in inspect(connection).get_table_names():
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _upgrade_with_alembic(connection: Connection, revision: str | None) -> None:
    from alembic import command
    from alembic.script import ScriptDirectory

    config = _config(connection)
    known = {script.revision for script in ScriptDirectory(str(MIGRATIONS)).walk_revisions()}
    if revision is None and connection.dialect.name == "sqlite":
        legacy = connection.exec_driver_sql("PRAGMA user_version").scalar()
        if legacy > SCHEMA_VERSION:
            raise NewerSchemaError(f"schema {legacy}, this app knows {SCHEMA_VERSION}")
        if legacy and "cards" in inspect(connection).get_table_names():
            command.stamp(config, LEGACY_REVISIONS[legacy])
            revision = LEGACY_REVISIONS[legacy]
    if revision is not None and revision not in known:
        raise NewerSchemaError(f"revision {revision}, this app knows up to {head_revision()}")
    command.upgrade(config, "head")
