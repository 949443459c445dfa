"""Copy every profile's progress from one store to another (SQLite file or database URL), e.g.
from a laptop's progress.db into the class's PostgreSQL, in one transaction on the target."""

from __future__ import annotations

from sqlalchemy import select

from study.store import ProgressStore, StoreError
from study.store_tables import cards, learner_settings, own_cards, profiles, resume_tokens, reviews

# The class's own fit (class_fit) is not copied: the target's class is refitted from its own reviews.
PER_PROFILE = (cards, reviews, own_cards, resume_tokens, learner_settings)


def copy_store(source: str, target: str) -> dict[str, int]:
    """Counts of what was copied. Refuses, copying nothing, when the target already holds
    progress for a profile of the same name (merging two learners' histories is not a copy)."""
    src, dst = ProgressStore(source), ProgressStore(target)
    try:
        with src.engine.connect() as read:
            names = dict(read.execute(select(profiles.c.id, profiles.c.name)).all())
            rows = {table.name: [dict(r._mapping) for r in read.execute(select(table).order_by(*table.primary_key.columns))]
                    for table in PER_PROFILE}  # fmt: skip
        taken = _profiles_with_progress(dst, set(names.values()))
        if taken:
            raise StoreError(f"{dst.where} already holds progress for {', '.join(sorted(taken))}; nothing was copied")
        new_id = {old: dst.profile_id(name) for old, name in names.items()}  # ids differ between stores; names do not
        with dst._write() as write:
            for table in PER_PROFILE:
                copied = [{**row, "profile_id": new_id[row["profile_id"]]} for row in rows[table.name]]
                if table is reviews:
                    for row in copied:
                        del row["id"]  # the target numbers them, in the source's order (undo follows that order)
                if copied:
                    write.execute(table.insert(), copied)
        return {"profiles": len(names), "cards": len(rows["cards"]), "reviews": len(rows["reviews"])}
    finally:
        src.close()
        dst.close()


def _profiles_with_progress(store: ProgressStore, names: set[str]) -> set[str]:
    query = (
        select(profiles.c.name)
        .where(profiles.c.name.in_(names))
        .where(
            profiles.c.id.in_(select(cards.c.profile_id))
            | profiles.c.id.in_(select(reviews.c.profile_id))
            | profiles.c.id.in_(select(own_cards.c.profile_id))
        )
    )
    with store.engine.connect() as conn:
        return set(conn.execute(query).scalars())
