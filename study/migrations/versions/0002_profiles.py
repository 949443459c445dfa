"""Schema 2: several learner profiles per store; reviews keep duration, score and mode.

Rows of schema 1 become the 'default' profile's.

Revision ID: 0002
Revises: 0001
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    profiles = op.create_table(
        "profiles",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, unique=True, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
    )
    op.bulk_insert(profiles, [{"name": "default", "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}])
    default = "(SELECT id FROM profiles WHERE name = 'default')"
    op.rename_table("cards", "cards_v1")
    op.create_table(
        "cards",
        sa.Column("profile_id", sa.Integer, sa.ForeignKey("profiles.id"), primary_key=True),
        sa.Column("item_id", sa.Text, primary_key=True),
        sa.Column("card_json", sa.Text, nullable=False),
        sa.Column("due", sa.Text, nullable=False),
    )
    op.execute(f"INSERT INTO cards(profile_id, item_id, card_json, due) SELECT {default}, item_id, card_json, due FROM cards_v1")
    op.drop_table("cards_v1")
    op.rename_table("reviews", "reviews_v1")
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("profile_id", sa.Integer, sa.ForeignKey("profiles.id"), nullable=False),
        sa.Column("item_id", sa.Text, nullable=False),
        sa.Column("rating", sa.Integer, nullable=False),
        sa.Column("reviewed_at", sa.Text, nullable=False),
        sa.Column("duration_ms", sa.Integer),
        sa.Column("score", sa.Float),
        sa.Column("mode", sa.Text, nullable=False, server_default="flashcard"),
    )
    columns = "id, profile_id, item_id, rating, reviewed_at"
    op.execute(f"INSERT INTO reviews({columns}) SELECT id, {default}, item_id, rating, reviewed_at FROM reviews_v1")
    op.drop_table("reviews_v1")
    op.create_index("reviews_by_profile", "reviews", ["profile_id", "reviewed_at"])
    if op.get_bind().dialect.name == "postgresql":
        # Copied ids bypass the sequence; move it past them so the next review gets a new id.
        op.execute("SELECT setval(pg_get_serial_sequence('reviews', 'id'), COALESCE((SELECT MAX(id) FROM reviews), 0) + 1, false)")
