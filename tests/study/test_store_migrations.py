"""Alembic takes over the progress file: today's file upgrades in place with everything kept, a
newer schema is refused, and `python -m study migrate` copies a class's progress exactly."""

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from fsrs import Rating

from study.schema_upgrade import head_revision
from study.store import ProgressStore, StoreError
from tests.study.legacy_store import TOKEN, write_schema_3_file
from tests.study.store_sql import sql

REPO_ROOT = Path(__file__).resolve().parents[2]


def _as_stored(store: ProgressStore, profile: str) -> tuple:
    reviews = [(r.item_id, r.rating, r.reviewed_at, r.duration_ms, r.score, r.mode) for r in store.reviews(profile)]
    cards = {item: card.to_json() for item, card in store.cards(profile).items()}
    return reviews, cards, [(c.item_id, c.item, c.edits) for c in store.own_cards(profile)]


def test_todays_progress_file_upgrades_in_place_with_every_review_kept(tmp_path):
    db = tmp_path / "progress.db"
    expected = write_schema_3_file(db)
    store = ProgressStore(db)
    assert sql(store, "SELECT version_num FROM alembic_version") == [(head_revision(),)]
    for name in ("default", "ana"):
        assert [(r.item_id, r.rating, r.reviewed_at) for r in store.reviews(name)] == expected["reviews"][name]
        assert {item: card.to_json() for item, card in store.cards(name).items()} == expected["cards"][name]
    assert store.own_cards("ana")[0].item == expected["own"] and store.profile_for_token(TOKEN) == "ana"
    assert store.undo_last_review("ana").item_id == "item-1"  # reviews of schema 3 kept their earlier card state
    store.record_review("item-9", Rating.Good, expected["reviews"]["ana"][-1][2], profile="ana")
    assert len(store.reviews("ana")) == 12 and store.integrity_ok()


def test_a_store_from_a_newer_app_is_refused_untouched(tmp_path):
    db = tmp_path / "progress.db"
    ProgressStore(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(StoreError, match=r"progress.db: written by a newer version \(revision 9999"):
        ProgressStore(db)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [("9999",)]


def _migrate(source: str, target: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "study", "migrate", source, target, "--json"]
    return subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)


def test_study_migrate_copies_every_profile_exactly(tmp_path, store_target):
    source = tmp_path / "laptop.db"
    write_schema_3_file(source)
    done = _migrate(str(source), store_target)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"profiles": 2, "cards": 10, "reviews": 24}
    before, after = ProgressStore(source), ProgressStore(store_target)
    for name in ("default", "ana"):
        assert _as_stored(after, name) == _as_stored(before, name)
    assert after.profile_for_token(TOKEN) == "ana"
    assert after.undo_last_review("ana") == before.undo_last_review("ana")  # the same review, restored the same way
    assert _as_stored(after, "ana") == _as_stored(before, "ana")
    after.close()

    again = _migrate(str(source), store_target)  # a second copy would merge two histories: refused
    assert again.returncode == 1 and "already holds progress for ana, default; nothing was copied" in again.stderr


def test_the_head_revision_the_store_checks_is_the_newest_migration():
    # The store recognises a current database without importing Alembic, by this constant.
    from study.schema_upgrade import HEAD_REVISION

    assert head_revision() == HEAD_REVISION
