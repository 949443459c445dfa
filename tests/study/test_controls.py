"""Anki's everyday controls behave as Anki's manual says (https://docs.ankiweb.net/; the quoted
lines are in study/controls.py and study/scheduling.py): leeches, suspend, bury, flags, the
review limit, and fuzz with load balancing."""

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from fsrs import Rating, State

from qa_bank.loader import load_bank
from study import controls
from study.controls import CardMeta
from study.daily import todays_queue
from study.learner import LearnerSettings
from study.scheduling import StudyScheduler, balance_weight, build_queue, fuzz_range, weighted_index
from study.store import ProgressStore
from tests.study.store_sql import sql

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ITEMS = load_bank().items[:40]


def _graduate(store: ProgressStore, item_id: str, now: datetime, profile: str = "ana") -> datetime:
    """New card -> Review state: Good, then Good ten minutes later."""
    store.record_review(item_id, Rating.Good, now, profile)
    card, _ = store.record_review(item_id, Rating.Good, now + timedelta(minutes=10), profile)
    assert card.state == State.Review
    return card.due


def _lapse(store: ProgressStore, item_id: str, now: datetime, profile: str = "ana") -> datetime:
    """Again on the card in review (a lapse), then Good after the relearning step: back in review."""
    store.record_review(item_id, Rating.Again, now, profile)
    card, _ = store.record_review(item_id, Rating.Good, now + timedelta(minutes=10), profile)
    assert card.state == State.Review
    return card.due


def _lapse_n_times(store, item_id, count, start=T0):
    due = _graduate(store, item_id, start)
    for _ in range(count):
        due = _lapse(store, item_id, due)
    return due


# -- leeches: "When this counter reaches 8, Anki tags the note as a leech and suspends the card" -----


def test_the_eighth_lapse_tags_the_card_a_leech_and_suspends_it(store_target):
    store = ProgressStore(store_target)
    due = _lapse_n_times(store, ITEMS[0].id, 7)
    assert store.meta("ana")[ITEMS[0].id] == CardMeta(lapses=7)
    store.record_review(ITEMS[0].id, Rating.Again, due, "ana")
    meta = store.meta("ana")[ITEMS[0].id]
    assert (meta.lapses, meta.tags, meta.suspended) == (8, ("leech",), True)
    later = due + timedelta(days=30)
    assert ITEMS[0].id not in todays_queue(store, ITEMS, "ana", later).ids  # suspended: never shown, even when long due


def test_again_while_learning_is_no_lapse(store_target):
    store = ProgressStore(store_target)
    for minutes in range(0, 100, 10):
        store.record_review(ITEMS[0].id, Rating.Again, T0 + timedelta(minutes=minutes), "ana")
    assert store.meta("ana")[ITEMS[0].id].lapses == 0


def test_leech_threshold_and_action_are_the_learners_and_warnings_repeat_at_half_the_threshold(store_target):
    store = ProgressStore(store_target)
    store.save_settings("ana", LearnerSettings(leech_threshold=4, leech_suspend=False))
    due = _graduate(store, ITEMS[0].id, T0)
    leech_at = []
    for lapse in range(1, 9):
        before = store.meta("ana")[ITEMS[0].id]
        due = _lapse(store, ITEMS[0].id, due)
        if store.meta("ana")[ITEMS[0].id].leech and (not before.leech or controls.is_leech_warning(lapse, 4)):
            leech_at.append(lapse)
    meta = store.meta("ana")[ITEMS[0].id]
    assert (meta.lapses, meta.tags, meta.suspended) == (8, ("leech",), False)  # "Tag only": still studied
    assert [n for n in range(1, 17) if controls.is_leech_warning(n, 8)] == [8, 12, 16]  # the manual's example
    assert leech_at == [4, 6, 8]
    assert ITEMS[0].id in todays_queue(store, ITEMS, "ana", due).ids


def test_undo_of_the_leech_review_restores_tag_suspension_and_lapses(store_target):
    store = ProgressStore(store_target)
    due = _lapse_n_times(store, ITEMS[0].id, 7)
    store.record_review(ITEMS[0].id, Rating.Again, due, "ana")
    assert store.meta("ana")[ITEMS[0].id].suspended
    store.undo_last_review("ana")
    assert store.meta("ana")[ITEMS[0].id] == CardMeta(lapses=7)


def test_lapses_already_in_the_log_are_counted_by_the_migration(tmp_path):
    db = tmp_path / "progress.db"
    store = ProgressStore(db)
    _lapse_n_times(store, ITEMS[0].id, 3)
    store.close()
    with sqlite3.connect(db) as conn:  # back to schema 4: no lapses column, no revision 0005
        for column in ("lapses", "tags", "suspended", "buried_until", "flag"):
            conn.execute(f"ALTER TABLE cards DROP COLUMN {column}")
        conn.executescript(
            "ALTER TABLE reviews DROP COLUMN row_before; ALTER TABLE profiles DROP COLUMN display_name;"
            "DROP TABLE learner_settings; DROP TABLE class_fit; UPDATE alembic_version SET version_num = '0004';"
        )
    upgraded = ProgressStore(db)
    assert upgraded.meta("ana")[ITEMS[0].id].lapses == 3
    assert sql(upgraded, "SELECT version_num FROM alembic_version") == [("0005",)]


# -- suspend, bury, flags ---------------------------------------------------------------------------


def test_suspend_hides_a_card_until_unsuspended_with_its_schedule_kept(store_target):
    store = ProgressStore(store_target)
    due = _graduate(store, ITEMS[0].id, T0)
    card = store.card(ITEMS[0].id, "ana")
    store.change_meta(ITEMS[0].id, "ana", controls.suspend, T0)
    assert ITEMS[0].id not in todays_queue(store, ITEMS, "ana", due + timedelta(days=5)).ids
    store.change_meta(ITEMS[0].id, "ana", controls.unsuspend, T0)
    assert store.card(ITEMS[0].id, "ana").to_dict() == card.to_dict()
    assert todays_queue(store, ITEMS, "ana", due).due == [ITEMS[0].id]


def test_a_new_card_can_be_suspended_and_stays_new(store_target):
    store = ProgressStore(store_target)
    store.change_meta(ITEMS[0].id, "ana", controls.suspend, T0)
    assert ITEMS[0].id not in todays_queue(store, ITEMS, "ana", T0).ids
    assert store.cards("ana") == {}  # not studied: no memory state
    store.change_meta(ITEMS[0].id, "ana", controls.unsuspend, T0)
    assert todays_queue(store, ITEMS, "ana", T0).new[0] == ITEMS[0].id


def test_bury_hides_a_card_until_the_next_day(store_target):
    store = ProgressStore(store_target)
    due = _graduate(store, ITEMS[0].id, T0)
    moment = due + timedelta(hours=2)
    store.change_meta(ITEMS[0].id, "ana", lambda m: controls.bury(m, moment), moment)
    assert ITEMS[0].id not in todays_queue(store, ITEMS, "ana", moment).ids
    assert ITEMS[0].id not in todays_queue(store, ITEMS, "ana", moment.replace(hour=23, minute=59)).ids
    tomorrow = datetime.combine(moment.date() + timedelta(days=1), datetime.min.time(), UTC)
    assert ITEMS[0].id in todays_queue(store, ITEMS, "ana", tomorrow).due


def test_suspending_a_buried_card_unburies_it_and_a_suspended_card_cannot_be_buried():
    buried = controls.bury(CardMeta(), T0)
    assert buried.buried_until == datetime(2026, 3, 3, tzinfo=UTC)
    assert controls.suspend(buried) == CardMeta(suspended=True)
    with pytest.raises(ValueError, match="suspended cards can't be buried"):
        controls.bury(CardMeta(suspended=True), T0)


def test_a_card_has_one_flag_of_seven_and_keeps_it_through_reviews(store_target):
    store = ProgressStore(store_target)
    store.change_meta(ITEMS[0].id, "ana", lambda m: controls.set_flag(m, 1), T0)
    store.change_meta(ITEMS[0].id, "ana", lambda m: controls.set_flag(m, 4), T0)
    _graduate(store, ITEMS[0].id, T0)
    assert store.meta("ana")[ITEMS[0].id].flag == 4
    with pytest.raises(ValueError, match="flag must be 0-7"):
        controls.set_flag(CardMeta(), 8)


# -- the review limit: "no new cards will be shown when the review limit has been reached" -----------


def test_review_limit_caps_due_cards_and_holds_back_new_ones():
    scheduler = StudyScheduler()
    cards = {}
    for item in ITEMS[:30]:
        card = scheduler.new_card(item.id, T0 - timedelta(days=20))
        cards[item.id], _ = scheduler.review(card, Rating.Easy, T0 - timedelta(days=20))  # due after 8 days
    queue = build_queue(ITEMS, cards, T0, new_limit=20, review_limit=10)
    assert len(queue.due) == 10 and queue.new == []
    queue = build_queue(ITEMS, cards, T0, new_limit=20, review_limit=35)
    assert len(queue.due) == 30 and len(queue.new) == 5
    queue = build_queue(ITEMS, cards, T0, new_limit=20, review_limit=35, reviews_done_today=30)
    assert len(queue.due) == 5 and queue.new == []  # 30 already studied today: 5 more, and no new card


# -- fuzz and load balancing: cards introduced together do not all fall due together ------------------


def _introduce_together(store: ProgressStore, count: int) -> list[datetime]:
    """`count` new cards learned at the same moment with the same ratings, then reviewed Good on
    the day they fall due: the second interval is the first that Anki fuzzes (over 2.5 days)."""
    dues = [_graduate(store, item.id, T0) for item in ITEMS[:count]]
    assert len(set(dues)) == 1  # a 2-day interval is never fuzzed
    return [store.record_review(item.id, Rating.Good, dues[0], "ana")[0].due for item in ITEMS[:count]]


def test_load_balancing_spreads_cards_learned_together_within_the_fuzz_range(tmp_path):
    store = ProgressStore(tmp_path / "balanced.db")
    dues = _introduce_together(store, 20)
    plain = ProgressStore(tmp_path / "plain.db")
    plain.save_settings("ana", LearnerSettings(load_balance=False))
    plain_dues = _introduce_together(plain, 20)
    assert len(set(plain_dues)) == 1  # without fuzz all twenty come back on one day
    interval = (plain_dues[0] - (T0 + timedelta(minutes=10) + timedelta(days=2))).days
    low, high = fuzz_range(interval)
    reviewed_at = T0 + timedelta(minutes=10) + timedelta(days=2)
    days = [(due - reviewed_at).days for due in dues]
    assert all(low <= d <= high for d in days)
    counts = [days.count(d) for d in range(low, high + 1)]
    # Anki's weighted draw, seeded by card and time: every day of the 9-13 range used, none with
    # more than a quarter of the cards (picking the quietest day each time gave exactly 4, 4, 4, 4, 4).
    assert (low, high) == (9, 13) and counts == [5, 4, 3, 4, 4]


def test_balance_weights_are_ankis():
    # Anki's select_weighted_interval: 1 for a day with no card due, else (1 / cards)^2 * (1 / interval).
    assert balance_weight(0, 12) == 1.0
    assert balance_weight(1, 10) == pytest.approx(0.1)
    assert balance_weight(3, 12) == pytest.approx(1 / 9 / 12)
    assert [weighted_index([1, 2, 1], u) for u in (0.0, 0.24, 0.25, 0.74, 0.75, 0.999)] == [0, 0, 1, 1, 2, 2]


def test_the_load_balancer_draws_days_by_ankis_weights_not_the_quietest_day():
    """4,000 cards each due in 11 days (fuzz range 9-13) onto the same load: how often each day is
    drawn matches Anki's weights. The quietest-day rule sent every card to day 11 (one card due,
    nearest the interval), where Anki puts about three in ten."""
    busy = {9: 2, 10: 1, 11: 1, 12: 3, 13: 1}
    weights = {d: balance_weight(n, d) for d, n in busy.items()}  # day 10 beats day 11 and 13: same load, earlier
    balanced, chosen = StudyScheduler(load_balance=True), []
    for k in range(4000):
        card, _ = balanced.review(balanced.new_card(f"card-{k}", T0), Rating.Good, T0)
        card, _ = balanced.review(card, Rating.Good, T0 + timedelta(minutes=10))
        moment = card.due
        counts = {(moment + timedelta(days=d)).date(): n for d, n in busy.items()}
        reviewed, _ = balanced.review(card, Rating.Good, moment, counts)
        chosen.append((reviewed.due - moment).days)
    assert set(chosen) == set(busy)
    for day, weight in weights.items():
        assert chosen.count(day) / len(chosen) == pytest.approx(weight / sum(weights.values()), abs=0.03)


def test_the_day_a_rating_button_shows_is_the_day_the_rating_gives_minutes_later():
    """The buttons are drawn when the answer is revealed and the rating is stored when one is pressed:
    the draw is fixed by the card before the review (Anki: card id and review count), not the time
    of the press, which moved 22 of these 50 cards to another day of their range."""
    balanced = StudyScheduler(load_balance=True)
    load = {(T0 + timedelta(days=d)).date(): d % 4 for d in range(30)}
    earlier = T0 - timedelta(days=3)
    for k in range(50):
        # A new card is created when shown, so its due moves with the press: the draw must not use it.
        card, _ = balanced.review(balanced.new_card(f"card-{k}", earlier), Rating.Easy, earlier)
        later = earlier + timedelta(minutes=4)
        assert balanced.review(balanced.new_card(f"card-{k}", later), Rating.Easy, later)[0].due.date() == card.due.date()
        shown, _ = balanced.review(card, Rating.Good, T0, load)
        pressed, _ = balanced.review(card, Rating.Good, T0 + timedelta(minutes=4), load)
        assert pressed.due.date() == shown.due.date()


def test_fuzz_is_reproducible_and_preview_shows_what_the_review_gives(tmp_path):
    first, second = ProgressStore(tmp_path / "a.db"), ProgressStore(tmp_path / "b.db")
    assert _introduce_together(first, 12) == _introduce_together(second, 12)
    card = first.card(ITEMS[0].id, "ana")
    preview = first.preview(ITEMS[0].id, card.due, "ana")
    assert first.record_review(ITEMS[0].id, Rating.Good, card.due, "ana")[0].due == preview[Rating.Good]


def test_long_intervals_are_fuzzed_by_a_hash_not_balanced():
    scheduler = StudyScheduler(load_balance=True)
    card = scheduler.new_card("x", T0)
    card, _ = scheduler.review(card, Rating.Easy, T0)
    moment = card.due
    for _ in range(3):
        card, _ = scheduler.review(card, Rating.Easy, moment)
        moment = card.due
    days = (card.due - card.last_review).days
    assert days > 90
    plain = StudyScheduler(load_balance=False)
    exact = plain.due_for(card) - card.last_review
    low, high = fuzz_range(exact.days)
    assert low <= days <= high and high - low >= 4


def _learned(scheduler: StudyScheduler) -> tuple:
    """A card learned at T0 and reviewed Good when due two days later: FSRS gives it 11 days next."""
    card, _ = scheduler.review(scheduler.new_card("x", T0), Rating.Good, T0)
    card, _ = scheduler.review(card, Rating.Good, T0 + timedelta(minutes=10))
    return card, card.due


def test_viva_cap_brings_a_card_due_on_the_viva_day_to_the_day_before():
    free = StudyScheduler()
    card, moment = _learned(free)
    uncapped, _ = free.review(card, Rating.Good, moment)
    viva = uncapped.due.date()  # FSRS would bring it back on the viva day itself, too late to study it
    capped = StudyScheduler(viva_date=viva)
    assert capped.recall_at_viva(uncapped) < 0.9  # 11 days rounded up from a stability of 10.97: just under 0.9 on the day
    with_cap, _ = capped.review(card, Rating.Good, moment)
    assert with_cap.due == datetime.combine(viva - timedelta(days=1), moment.time(), UTC)
    assert (with_cap.stability, with_cap.difficulty) == (uncapped.stability, uncapped.difficulty)  # memory unchanged, only the date


def test_viva_cap_stops_the_load_balancer_pushing_a_card_past_the_date():
    balanced = StudyScheduler(load_balance=True)
    card, moment = _learned(balanced)
    busy = {(moment + timedelta(days=d)).date(): 50 for d in range(9, 13)}  # the fuzz range of 11 days is 9-13
    pushed, _ = balanced.review(card, Rating.Good, moment, busy)
    assert (pushed.due - moment).days == 13  # the only quiet day
    viva = (moment + timedelta(days=13)).date()
    capped, _ = StudyScheduler(viva_date=viva, load_balance=True).review(card, Rating.Good, moment, busy)
    assert capped.due.date() == viva - timedelta(days=1)


def test_viva_cap_leaves_cards_recalled_well_enough_and_is_off_after_the_date():
    free = StudyScheduler()
    card, moment = _learned(free)
    uncapped, _ = free.review(card, Rating.Good, moment)
    viva = uncapped.due.date() - timedelta(days=4)  # the next review would come after the date, with recall there above 0.9
    kept, _ = StudyScheduler(viva_date=viva).review(card, Rating.Good, moment)
    assert kept.due == uncapped.due
    after = moment + timedelta(days=30)
    past, _ = StudyScheduler(viva_date=moment.date() + timedelta(days=5)).review(uncapped, Rating.Good, after)
    assert past.due == free.review(uncapped, Rating.Good, after)[0].due
