"""The progress store's tables as SQLAlchemy Core sees them: the schema the newest Alembic
revision (study/migrations) leaves behind. Timestamps are ISO-8601 text in UTC, so they sort
as text on SQLite and PostgreSQL alike."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, ForeignKey, Index, Integer, MetaData, Table, Text, false

metadata = MetaData()
DEFAULT_PROFILE = "default"  # the local learner's profile (schema 2 gave it the rows of schema 1)

profiles = Table(
    "profiles",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, unique=True, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("display_name", Text),  # the signed-in name; kept only where the deployer turns pseudonyms off
)
cards = Table(
    "cards",
    metadata,
    Column("profile_id", Integer, ForeignKey("profiles.id"), primary_key=True),
    Column("item_id", Text, primary_key=True),
    Column("card_json", Text, nullable=False),  # fsrs.Card.to_json()
    Column("due", Text, nullable=False),
    Column("kind", Text, nullable=False, server_default="card"),  # card, exercise or drill (CARD_KINDS)
    # Anki's everyday controls (study/controls.py): lapses are Again on a card in review.
    Column("lapses", Integer, nullable=False, server_default="0"),
    Column("tags", Text, nullable=False, server_default=""),  # space-separated, as Anki's: "leech"
    Column("suspended", Boolean, nullable=False, server_default=false()),
    Column("buried_until", Text),  # hidden until this moment (the next day's start), or NULL
    Column("flag", Integer, nullable=False, server_default="0"),  # 0 none, 1-7 Anki's colours
    Index("cards_by_kind", "profile_id", "kind"),
)
reviews = Table(
    "reviews",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("profile_id", Integer, ForeignKey("profiles.id"), nullable=False),
    Column("item_id", Text, nullable=False),
    Column("rating", Integer, nullable=False),
    Column("reviewed_at", Text, nullable=False),
    Column("duration_ms", Integer),
    Column("score", Float),
    Column("mode", Text, nullable=False, server_default="flashcard"),
    # The card as it was before this review, for undo: '' when the review created the card,
    # NULL for reviews written before undo existed (they cannot be undone exactly).
    Column("card_before", Text),
    # The card's lapses, tags and suspension before this review (JSON), so undo restores a leech's
    # tag and suspension too; NULL for reviews written before schema 5.
    Column("row_before", Text),
    Index("reviews_by_profile", "profile_id", "reviewed_at"),
)
own_cards = Table(
    "own_cards",
    metadata,
    Column("profile_id", Integer, ForeignKey("profiles.id"), primary_key=True),
    Column("item_id", Text, primary_key=True),
    Column("item_json", Text, nullable=False),
    Column("edits", Text),  # the shipped item this edits, or NULL for a card of the learner's own
    Column("updated_at", Text, nullable=False),
)
resume_tokens = Table(
    "resume_tokens",
    metadata,
    Column("token_hash", Text, primary_key=True),  # sha256 of the token; the token itself is never stored
    Column("profile_id", Integer, ForeignKey("profiles.id"), nullable=False),
    Column("created_at", Text, nullable=False),
)
learner_settings = Table(
    "learner_settings",
    metadata,
    Column("profile_id", Integer, ForeignKey("profiles.id"), primary_key=True),
    Column("settings_json", Text, nullable=False),  # study.learner.LearnerSettings.to_dict()
    Column("parameters_json", Text),  # the learner's own FSRS parameters, NULL until a fit improves on the fallback
    Column("fit_json", Text),  # study.fit.FitReport.to_dict() of the latest fit
    Column("updated_at", Text, nullable=False),
)
class_fit = Table(
    "class_fit",
    metadata,
    Column("name", Text, primary_key=True),  # one row, "class"
    Column("parameters_json", Text, nullable=False),
    Column("fit_json", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
)
