"""Fault injection on the progress store: 100 random SIGKILLs, a full disk."""

import random
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fsrs import Rating

from study.store import ProgressStore, StoreError
from tests.study.store_sql import sql

REPO_ROOT = Path(__file__).resolve().parents[2]
TRIALS = 100

# Reviews in a loop, printing each index after its transaction committed (= acknowledged).
_WRITER = """
import sys
from datetime import datetime, timedelta, timezone
from fsrs import Rating
from study.store import ProgressStore
store = ProgressStore(sys.argv[1])
t0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
print("ready", flush=True)
for i in range(10**6):
    store.record_review(f"item-{i % 40}", Rating((i % 4) + 1), t0 + timedelta(seconds=i), profile=sys.argv[2])
    print(i, flush=True)
"""


def test_sigkill_at_random_points_loses_no_acknowledged_review(tmp_path):
    db, rng = tmp_path / "p.db", random.Random(20261122)
    # One long-lived process per trial would cost ~0.5 s of imports each; kill times are random
    # after "ready", so kills land anywhere in a transaction: before, inside, or at COMMIT.
    for trial in range(TRIALS):
        writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(db), f"p{trial}"], stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT)
        assert writer.stdout.readline().strip() == "ready"
        wanted, acknowledged = rng.randint(0, 30), -1
        for line in writer.stdout:
            acknowledged = int(line)
            if acknowledged >= wanted:
                break
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        writer.stdout.close()
        store = ProgressStore(db)
        stored = len(store.reviews(f"p{trial}"))
        assert stored >= acknowledged + 1, f"trial {trial}: {acknowledged + 1} acknowledged, {stored} stored"
        assert store.integrity_ok(), f"trial {trial}: integrity check failed"
        store.close()
    print(f"{TRIALS} SIGKILL trials: every acknowledged review present, integrity_check ok")


def test_full_disk_gives_a_clear_message_and_keeps_the_old_data(tmp_path):
    store = ProgressStore(tmp_path / "p.db")
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    store.record_review("kept", Rating.Good, t0)
    pages = sql(store, "PRAGMA page_count")[0][0]
    sql(store, f"PRAGMA max_page_count = {pages}")  # SQLite now answers SQLITE_FULL on growth
    with pytest.raises(StoreError, match=r"could not save progress \(database or disk is full\); the previous data is unchanged"):
        for i in range(10_000):
            store.record_review(f"item-{i}", Rating.Good, t0, duration_ms=i, mode="x" * 500)
    assert [r.item_id for r in store.reviews()][0] == "kept"
    assert store.integrity_ok()


def test_read_only_database_gives_a_clear_message_and_keeps_the_old_data(tmp_path):
    # Root ignores file permissions, so SQLite's read-only error is produced with query_only;
    # the store sees the same "attempt to write a readonly database" as on a read-only mount.
    store = ProgressStore(tmp_path / "p.db")
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    store.record_review("kept", Rating.Good, t0)
    sql(store, "PRAGMA query_only = ON")
    with pytest.raises(StoreError, match=r"could not save progress \(attempt to write a readonly database\)"):
        store.record_review("lost", Rating.Good, t0)
    sql(store, "PRAGMA query_only = OFF")
    assert [r.item_id for r in store.reviews()] == ["kept"] and store.integrity_ok()
