"""The progress store's tables as SQLAlchemy Core sees them: the schema the newest Alembic
revision (study/migrations) leaves behind. Timestamps are ISO-8601 text in UTC, so they sort
as text on SQLite and PostgreSQL alike."""

from __future__ import annotations

from sqlalchemy import Column, Float, ForeignKey, Index, Integer, MetaData, Table, Text

metadata = MetaData()

profiles = Table(
    "profiles",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, unique=True, nullable=False),
    Column("created_at", Text, nullable=False),
)
cards = Table(
    "cards",
    metadata,
    Column("profile_id", Integer, ForeignKey("profiles.id"), primary_key=True),
    Column("item_id", Text, primary_key=True),
    Column("card_json", Text, nullable=False),  # fsrs.Card.to_json()
    Column("due", Text, nullable=False),
    Column("kind", Text, nullable=False, server_default="card"),  # card, exercise or drill (CARD_KINDS)
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
