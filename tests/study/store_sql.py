"""Raw SQL on a store's own connection, for tests that look beneath its API."""

from study.store import ProgressStore


def sql(store: ProgressStore, statement: str) -> list[tuple]:
    """Rows of `statement` (empty for one that returns none). On SQLite the store holds one
    connection, so a PRAGMA set here applies to the store's next writes too."""
    with store.engine.connect() as conn:
        result = conn.exec_driver_sql(statement)
        rows = [tuple(row) for row in result] if result.returns_rows else []
        conn.commit()
    return rows
