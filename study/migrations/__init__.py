"""Alembic's migrations of the progress store (see study/schema_upgrade.py for how they run)."""
