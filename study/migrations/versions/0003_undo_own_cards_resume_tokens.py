"""Schema 3: undo (each review keeps the card as it was before), the learner's own cards, and
resume tokens for hosted identity.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL for the reviews already there: they cannot be undone exactly.
    op.add_column("reviews", sa.Column("card_before", sa.Text))
    op.create_table(
        "own_cards",
        sa.Column("profile_id", sa.Integer, sa.ForeignKey("profiles.id"), primary_key=True),
        sa.Column("item_id", sa.Text, primary_key=True),
        sa.Column("item_json", sa.Text, nullable=False),
        sa.Column("edits", sa.Text),
        sa.Column("updated_at", sa.Text, nullable=False),
    )
    op.create_table(
        "resume_tokens",
        sa.Column("token_hash", sa.Text, primary_key=True),
        sa.Column("profile_id", sa.Integer, sa.ForeignKey("profiles.id"), nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
    )
