from datetime import UTC, datetime, timedelta

from fsrs import Rating

from qa_bank.loader import load_bank
from study.scheduling import StudyScheduler, build_queue, due_forecast
from study.viva import VivaConfig, VivaSession, plan_questions, related_items

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def well_known_cards(items, scheduler):
    """Cards reviewed Easy several times just now: retrievability close to 1."""
    cards = {}
    for item in items:
        card = scheduler.new_card(item.id, NOW - timedelta(days=30))
        for day in (30, 20, 5):
            card, _ = scheduler.review(card, Rating.Easy, NOW - timedelta(days=day))
        cards[item.id] = card
    return cards


def test_plan_prefers_weak_topics():
    bank, scheduler = load_bank(), StudyScheduler()
    strong = [item for item in bank.items if "keras" not in item.topics]
    cards = well_known_cards(strong, scheduler)
    keras_share = []
    for seed in range(5):
        chosen = plan_questions(bank.items, cards, NOW, VivaConfig(questions=10, seed=seed), scheduler)
        assert len(chosen) == len(set(chosen)) == 10
        keras_share.append(sum("keras" in bank.by_id()[i].topics for i in chosen) / 10)
    # 24 of 218 items (11%) carry the keras topic; as the only unstudied ones they should be
    # drawn most of the time (expected ~70% with the 0.05 floor on well-known items).
    assert sum(keras_share) / len(keras_share) > 0.55


def test_plan_is_reproducible_by_seed():
    bank, scheduler = load_bank(), StudyScheduler()
    first = plan_questions(bank.items, {}, NOW, VivaConfig(seed=3), scheduler)
    assert first == plan_questions(bank.items, {}, NOW, VivaConfig(seed=3), scheduler)


def test_weak_answer_gets_a_related_follow_up_and_timeouts_score_zero():
    bank, scheduler = load_bank(), StudyScheduler()
    session = VivaSession.start(bank.items, {}, NOW, VivaConfig(questions=2, seconds_per_question=60, seed=1), scheduler)
    first = session.current
    session.answer("no idea", seconds=10)
    follow = session.current
    assert follow.id in {o.id for o in related_items(first, bank.items)}
    assert set(follow.topics) & set(first.topics)
    record = session.answer(" ".join(follow.key_points), seconds=61)  # right words, too late
    assert record.timed_out and record.result.score == 0.0 and record.follow_up_of == first.id
    report = session.report_by_topic()
    assert sum(row["timed_out"] for row in report.values()) >= 1
    assert "# Mock viva report" in session.report_markdown() and "(follow-up)" in session.report_markdown()


def test_daily_queue_due_first_then_new_up_to_the_limit():
    bank, scheduler = load_bank(), StudyScheduler()
    items = bank.items[:6]
    overdue, _ = scheduler.review(scheduler.new_card(items[0].id, NOW - timedelta(days=2)), Rating.Good, NOW - timedelta(days=2))
    later, _ = scheduler.review(scheduler.new_card(items[1].id, NOW), Rating.Easy, NOW)
    queue = build_queue(items, {items[0].id: overdue, items[1].id: later}, NOW, new_limit=3, new_seen_today=1)
    assert queue.due == [items[0].id]
    assert queue.new == [items[2].id, items[3].id]
    forecast = due_forecast({items[0].id: overdue, items[1].id: later}, NOW, days=30)
    assert forecast[0] == 1 and sum(forecast) == 2
