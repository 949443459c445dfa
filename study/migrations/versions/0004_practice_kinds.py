"""Schema 4: a card's kind, so coding exercises and drill families are scheduled with FSRS in
the same table as flashcards and counted apart from them.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every card already stored is a flashcard of a bank item or of the learner's own.
    with op.batch_alter_table("cards") as batch:
        batch.add_column(sa.Column("kind", sa.Text, nullable=False, server_default="card"))
    op.create_index("cards_by_kind", "cards", ["profile_id", "kind"])


def downgrade() -> None:
    op.drop_index("cards_by_kind", "cards")
    with op.batch_alter_table("cards") as batch:
        batch.drop_column("kind")
