"""Schema 5: the study plan and Anki's everyday controls.

- cards: lapses (Again on a card in review), tags ("leech"), suspended, buried_until, flag (0-7).
- reviews: row_before, the card's lapses/tags/suspended before the review, so undo restores a
  leech's tag and suspension too (NULL for older reviews: undo leaves those fields as they are).
- learner_settings: each profile's settings (desired retention, viva date, limits...) and its own
  FSRS parameters with the report of the fit that produced them.
- class_fit: FSRS parameters fitted on the whole class, for learners below the optimizer's minimum.
- profiles.display_name: the signed-in name, kept only where a deployer turns pseudonyms off.

Lapses already in the log are counted from each review's stored earlier card state.

Revision ID: 0005
Revises: 0004
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_REVIEW_STATE = 2  # fsrs.State.Review: Again on a card in this state is a lapse, as Anki counts them
_AGAIN = 1


def upgrade() -> None:
    # Plain ADD COLUMN (both databases take a constant default): a batch copy of `cards` trips
    # over the column order that schema-2 files left behind.
    op.add_column("cards", sa.Column("lapses", sa.Integer, nullable=False, server_default="0"))
    op.add_column("cards", sa.Column("tags", sa.Text, nullable=False, server_default=""))
    op.add_column("cards", sa.Column("suspended", sa.Boolean, nullable=False, server_default=sa.false()))
    op.add_column("cards", sa.Column("buried_until", sa.Text))
    op.add_column("cards", sa.Column("flag", sa.Integer, nullable=False, server_default="0"))
    op.add_column("reviews", sa.Column("row_before", sa.Text))
    op.add_column("profiles", sa.Column("display_name", sa.Text))
    op.create_table(
        "learner_settings",
        sa.Column("profile_id", sa.Integer, sa.ForeignKey("profiles.id"), primary_key=True),
        sa.Column("settings_json", sa.Text, nullable=False),
        sa.Column("parameters_json", sa.Text),
        sa.Column("fit_json", sa.Text),
        sa.Column("updated_at", sa.Text, nullable=False),
    )
    op.create_table(
        "class_fit",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("parameters_json", sa.Text, nullable=False),
        sa.Column("fit_json", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Text, nullable=False),
    )
    _count_existing_lapses()


def _count_existing_lapses() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT profile_id, item_id, card_before FROM reviews WHERE rating = :again AND card_before <> ''"),
                        {"again": _AGAIN})  # fmt: skip
    lapses: dict[tuple[int, str], int] = {}
    for profile_id, item_id, before in rows:
        if before and json.loads(before).get("state") == _REVIEW_STATE:
            lapses[(profile_id, item_id)] = lapses.get((profile_id, item_id), 0) + 1
    for (profile_id, item_id), count in lapses.items():
        conn.execute(sa.text("UPDATE cards SET lapses = :n WHERE profile_id = :p AND item_id = :i"),
                     {"n": count, "p": profile_id, "i": item_id})  # fmt: skip


def downgrade() -> None:
    op.drop_table("class_fit")
    op.drop_table("learner_settings")
    with op.batch_alter_table("profiles") as batch:
        batch.drop_column("display_name")
    op.drop_column("reviews", "row_before")
    with op.batch_alter_table("cards") as batch:
        for column in ("flag", "buried_until", "suspended", "tags", "lapses"):
            batch.drop_column(column)
