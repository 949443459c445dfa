"""Run by test_plan_pages in a fresh interpreter (torch not yet imported): a learner with enough
reviews for a real fit clicks Optimize on Settings. Prints JSON: whether torch was in this
process's sys.modules before the click, after it and after the fit, what the page said while the
fit ran, and its captions once the fit was done."""

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from streamlit.testing.v1 import AppTest

from study.refits import pool
from study.scheduling import StudyScheduler
from study.store import ProgressStore
from study.store_tables import reviews
from tests.study.learner_sim import FORGETFUL, Learner, review_log

APP = str(Path(__file__).resolve().parents[2] / "app.py")

store = ProgressStore()  # VIVA_PROGRESS_DB, set by the test
logs = review_log(Learner(FORGETFUL, seed=3), StudyScheduler(), 200, 45, datetime(2026, 1, 5, 9, 0, tzinfo=UTC))  # 906 interday
rows = [
    {"profile_id": store.profile_id("default"), "item_id": f"item-{log.card_id}", "rating": int(log.rating),
     "reviewed_at": log.review_datetime.isoformat(), "duration_ms": log.review_duration, "mode": "flashcard"}
    for log in logs
]  # fmt: skip
with store.engine.begin() as conn:
    conn.execute(reviews.insert(), rows)

at = AppTest.from_file(APP, default_timeout=120)
at.run()
at.switch_page("pages/settings.py").run()
result = {"torch_before_click": "torch" in sys.modules}
next(b for b in at.button if b.label == "Optimize").click().run()
result["torch_after_click"] = "torch" in sys.modules
result["while_running"] = [i.value for i in at.info]
result["finished"] = pool().wait(store.target, "default", timeout=600)
at.run()
result["torch_after_fit"] = "torch" in sys.modules
result["captions"] = [c.value for c in at.caption]
result["exception"] = [str(e.value) for e in at.exception]
print(json.dumps(result))
