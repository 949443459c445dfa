"""View pieces of the study plan: the viva panel on Today, card controls and Card info beside a
flashcard, the plan, retention and FSRS sections of Settings, and the leeches on Progress. They
call study/ and draw; nothing is computed here that a test could not reach through study/."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import date, datetime

import streamlit as st

from qa_bank.schema import Bank, QAItem
from study import controls
from study.daily import learner_plan
from study.learner import RETENTION_RANGE, LearnerSettings
from study.plan import VivaPlan, days_left


def cached_plan(bank: Bank, store, profile: str, now: datetime, settings: LearnerSettings, runs: int = 10) -> VivaPlan | None:
    """The plan, simulated again only when the reviews, the settings, the parameters, the deck or
    the day change. The last few plans are kept (Settings asks for two a run), not one per review."""
    parameters = store.parameters_for(profile).values
    signature = (profile, store.flashcard_review_count(profile), json.dumps(settings.to_dict()), parameters, len(bank.items), now.date(),
                 runs)  # fmt: skip
    key = hashlib.sha256(repr(signature).encode()).hexdigest()[:16]
    plans = st.session_state.setdefault("_plans", {})
    if key not in plans:
        plans[key] = learner_plan(store, bank.items, profile, now, settings, runs)
        while len(plans) > PLANS_KEPT:
            plans.pop(next(iter(plans)))  # the oldest
    return plans[key]


PLANS_KEPT = 4


# -- Today -------------------------------------------------------------------------------------------


def render_viva_panel(bank: Bank, store, profile: str, now: datetime, settings: LearnerSettings) -> None:
    """Days left, cards not yet seen, predicted recall on the day overall and by topic, the daily load."""
    if settings.viva_date is None:
        st.caption("Set your viva date in Settings and the app plans your reviews so you know the bank on the day.")
        return
    left = days_left(settings.viva_date, now.date())
    if left < 0:
        st.caption(f"Your viva was on {settings.viva_date:%d %B %Y}: scheduling is back to normal.")
        return
    if left == 0:
        st.success(f"Today is your viva ({settings.viva_date:%d %B %Y}). Good luck!", icon=":material/celebration:")
        return
    plan = cached_plan(bank, store, profile, now, settings)
    st.subheader(f"Viva on {settings.viva_date:%A %d %B %Y}")
    days_col, unseen_col, recall_col, stopped_col = st.columns(4)
    days_col.metric("Days left", plan.days_left)
    unseen_col.metric("Cards not yet seen", plan.unseen, help=f"{plan.new_per_day} new a day until {plan.last_new_day:%d %b}")
    recall_col.metric(
        "Predicted recall on the day",
        f"{plan.predicted_recall_on_date:.0%}",
        delta=f"{plan.predicted_recall_on_date - plan.desired_retention:+.0%} vs desired {plan.desired_retention:.0%}",
        help="FSRS retrievability at the viva (midday UTC), averaged over the bank, if you follow the plan; a card never seen counts 0",
    )
    stopped_col.metric("If you stopped today", f"{plan.recall_if_stopped_today:.0%}", help="the same prediction with no more study")
    if left == 1:
        st.info("Tomorrow is the day: today's queue ends with a final pass over your weakest cards.", icon=":material/flag:")
    elif not plan.on_track:
        st.warning(_behind(plan, settings), icon=":material/trending_down:")
    load_col, topic_col = st.columns([3, 2])
    with load_col:
        _render_daily_load(plan)
    with topic_col:
        _render_topic_recall(bank, plan)


def _behind(plan: VivaPlan, settings: LearnerSettings) -> str:
    if plan.unseen_on_date >= 1:
        unseen = f"about {plan.unseen_on_date:.0f} cards stay unseen on the day"
        if plan.new_per_day >= plan.needed_new_per_day:  # the pace is enough: the review limit holds new cards back
            return f"{unseen.capitalize()}: your limit of {settings.max_reviews_per_day} reviews a day leaves no room for them (Settings)."
        return f"At {plan.new_per_day} new cards a day, {unseen}: the plan needs {plan.needed_new_per_day}."
    return f"The prediction is below your desired {plan.desired_retention:.0%}: review what is due each day, or raise the daily limit."


def _render_daily_load(plan: VivaPlan) -> None:
    from datetime import timedelta

    from ui.charts import plotly_go

    go = plotly_go()
    days = [plan.viva_date - timedelta(days=plan.days_left - k) for k in range(plan.days_left)]
    figure = go.Figure(go.Bar(x=days, y=plan.reviews_per_day, marker_color="#4c78a8"))
    figure.update_layout(title="Daily load: cards to study each day until the viva (simulated)", height=260, margin={"t": 40, "b": 20})
    st.plotly_chart(figure, width="stretch")


def _render_topic_recall(bank: Bank, plan: VivaPlan) -> None:
    from ui.charts import plotly_go

    go = plotly_go()
    rows = sorted(plan.by_topic.items(), key=lambda row: row[1])
    names = [bank.topics[t].name if t in bank.topics else t for t, _ in rows]
    figure = go.Figure()
    for label, values, colour in (
        ("following the plan", plan.by_topic, "#54a24b"),
        ("if you stopped today", plan.by_topic_if_stopped, "#bab0ac"),
    ):
        figure.add_bar(x=[values[t] for t, _ in rows], y=names, orientation="h", name=label, marker_color=colour)
    figure.add_vline(x=plan.desired_retention, line_dash="dot", line_color="#e45756")
    figure.update_layout(title="Predicted recall on the day, by topic", height=max(300, 22 * len(rows) + 80), yaxis_autorange="reversed",
                         margin={"t": 40, "b": 20, "l": 10}, xaxis_range=[0, 1], xaxis_tickformat=".0%", barmode="group",
                         legend={"orientation": "h", "y": -0.08})  # fmt: skip
    st.plotly_chart(figure, width="stretch")
    table = ["| topic | following the plan | if you stopped today |", "| --- | ---: | ---: |"]
    table += [
        f"| {bank.topics[t].name if t in bank.topics else t} | {recall:.0%} | {plan.by_topic_if_stopped[t]:.0%} |" for t, recall in rows
    ]
    with st.expander(f"By topic (weakest first: {', '.join(bank.topics[t].name for t, _ in rows[:3] if t in bank.topics)})"):
        st.markdown("\n".join(table))


# -- beside a flashcard ------------------------------------------------------------------------------


def render_card_controls(item: QAItem, store, profile: str, now: datetime, key: str) -> bool:
    """Suspend, bury until tomorrow, flag. Returns True when the card left today's queue."""
    meta = store.meta(profile).get(item.id, controls.CardMeta())
    suspend_col, bury_col, flag_col = st.columns([1, 1, 2])
    if suspend_col.button("Suspend", key=f"{key}-suspend", icon=":material/pause_circle:", help="Hidden until you unsuspend it (Progress)"):
        store.change_meta(item.id, profile, controls.suspend, now)
        st.session_state["card-last"] = "Suspended: unsuspend it on the Progress page."
        return True
    if bury_col.button("Bury", key=f"{key}-bury", icon=":material/schedule:", help="Hidden until tomorrow"):
        store.change_meta(item.id, profile, lambda m: controls.bury(m, now), now)
        st.session_state["card-last"] = "Buried until tomorrow."
        return True
    flag = flag_col.selectbox("Flag", list(controls.FLAGS), index=meta.flag, format_func=controls.FLAGS.get, key=f"{key}-flag")
    if flag != meta.flag:
        store.change_meta(item.id, profile, lambda m: controls.set_flag(m, flag), now)
    return False


def render_card_info(item: QAItem, store, profile: str, now: datetime) -> None:
    """Anki's Card info: memory state, retrievability now and at the viva, and the review history."""
    card = store.cards(profile).get(item.id)
    meta = store.meta(profile).get(item.id, controls.CardMeta())
    if card is None:
        st.caption("New card: no memory state yet.")
        return
    scheduler = store.scheduler_for(profile)
    difficulty, stability, now_col, viva_col = st.columns(4)
    difficulty.metric("Difficulty", f"{card.difficulty:.1f}", help="FSRS difficulty, 1 (easy) to 10 (hard)")
    stability.metric("Stability", f"{card.stability:.1f} d", help="days until recall falls to 90%")
    now_col.metric("Recall now", f"{scheduler.retrievability(card, now):.0%}")
    at_viva = scheduler.recall_at_viva(card)
    viva_col.metric("Recall at the viva", "no date" if at_viva is None else f"{at_viva:.0%}", help="if not reviewed again before it")
    flags = f" · flag {controls.FLAGS[meta.flag]}" if meta.flag else ""
    tags = f" · tags: {' '.join(meta.tags)}" if meta.tags else ""
    st.caption(f"Due {card.due:%Y-%m-%d %H:%M} UTC · {card.state.name} · {meta.lapses} lapses{flags}{tags}")
    history = [r for r in store.reviews(profile) if r.item_id == item.id]
    table = ["| when (UTC) | rating | where | time |", "| --- | --- | --- | ---: |"]
    table += [f"| {r.reviewed_at:%Y-%m-%d %H:%M} | {r.rating.name} | {r.mode} | {_seconds(r.duration_ms)} |" for r in reversed(history)]
    st.markdown("\n".join(table))


def _seconds(duration_ms: int | None) -> str:
    return "" if duration_ms is None else f"{duration_ms / 1000:.0f} s"


def leech_note(before: controls.CardMeta, after: controls.CardMeta, threshold: int) -> str | None:
    """What to tell the learner when a review made the card a leech (or warned again)."""
    if after.lapses == before.lapses or not controls.is_leech_warning(after.lapses, threshold):
        return None
    action = "and suspended it" if after.suspended else "(still in your reviews)"
    advice = "rewrite it in your own words (Edit this card), then unsuspend it on Progress"
    return f"This card is a leech: forgotten {after.lapses} times. Tagged leech {action}; {advice}."


# -- Settings ----------------------------------------------------------------------------------------


# Settings' widgets below the viva date that change its plan, by the field each sets and its key.
EDITED_BELOW = {"desired_retention": "retention", "new_per_day": "limit-new", "max_reviews_per_day": "limit-reviews",
                "load_balance": "load-balance"}  # fmt: skip


def edited_settings(saved: LearnerSettings) -> LearnerSettings:
    """The saved settings with what the learner has set, not yet saved, in the widgets drawn further
    down the page (a widget's value is in session state under its key before it is drawn again), so
    the plan's preview above them uses the retention and limits that the workload preview uses."""
    return replace(saved, **{field: st.session_state[key] for field, key in EDITED_BELOW.items() if key in st.session_state})


def render_plan_settings(bank: Bank, store, profile: str, now: datetime, settings: LearnerSettings) -> LearnerSettings:
    """The viva date and the plan's pace, with the plan they give, before saving. `settings`: the
    saved ones with the retention and limits being edited (edited_settings)."""
    # A date that has passed is over: the box starts unticked (a date input cannot show a value
    # before its minimum, today) and the stored date stays as it is unless a new one is chosen.
    passed = settings.viva_date is not None and settings.viva_date < now.date()
    has_date = st.checkbox("I have a viva date", value=settings.viva_date is not None and not passed, key="plan-has-date")
    if not has_date:
        if passed:
            st.caption(f"Your viva was on {settings.viva_date:%d %B %Y}: scheduling is back to normal. Tick the box to plan another date.")
            return settings
        return settings.with_viva_date(None, now.date())
    default = settings.viva_date if settings.viva_date and not passed else date.fromordinal(now.date().toordinal() + 30)
    viva = st.date_input("Viva date", value=default, min_value=now.date(), key="plan-date")
    trial = settings.with_viva_date(viva, now.date())
    plan = cached_plan(bank, store, profile, now, trial, runs=5)
    if plan is None:
        st.caption("That is today: the plan covers the days before the viva.")
        return trial
    # Keyed by the pace the plan needs: a widget keeps what it showed before, so with a fixed key a
    # new date would keep the old date's pace and save it as the learner's own.
    pace = st.number_input(
        "New cards a day for the plan", 1, 500, value=settings.plan_new_per_day or plan.needed_new_per_day,
        key=f"plan-pace-{plan.needed_new_per_day}", help=f"The plan needs {plan.needed_new_per_day} a day to see every card early enough",
    )  # fmt: skip
    trial = LearnerSettings.from_dict({**trial.to_dict(), "plan_new_per_day": None if pace == plan.needed_new_per_day else pace})
    plan = cached_plan(bank, store, profile, now, trial, runs=5)
    st.caption(
        f"{plan.days_left} days: {plan.unseen} cards to introduce, {plan.new_per_day} a day until {plan.last_new_day:%d %b}; "
        f"about {max(plan.reviews_per_day):.0f} cards on the busiest day; predicted recall on the day {plan.predicted_recall_on_date:.0%}"
        + (f"; about {plan.unseen_on_date:.0f} cards unseen on the day" if plan.unseen_on_date >= 1 else "")
    )
    _render_daily_load(plan)
    return trial


def render_retention_settings(bank: Bank, store, profile: str, now: datetime, settings: LearnerSettings) -> float:
    """Desired retention with a 30-day workload preview from the learner's own cards and parameters.
    `settings`: what render_plan_settings returned, so the preview has the viva date and pace being
    edited, not the saved ones."""
    from study.workload import workload_preview

    low, high = RETENTION_RANGE
    retention = st.slider("Desired retention", low, high, settings.desired_retention, 0.01, key="retention",
                          help="The chance of recalling a card when it falls due. Higher: shorter intervals, more reviews.")  # fmt: skip
    preview = workload_preview(store, bank.items, profile, now, retention, settings)
    from ui.charts import plotly_go

    go = plotly_go()
    figure = go.Figure(go.Bar(x=[f"+{d}" for d in range(len(preview.per_day))], y=preview.per_day, marker_color="#f58518"))
    figure.update_layout(title=f"Reviews a day for the next 30 days at {retention:.0%} (simulated from your cards)", height=260,
                         margin={"t": 40, "b": 20}, xaxis_title="days from today")  # fmt: skip
    st.plotly_chart(figure, width="stretch")
    st.caption(" · ".join(f"{r:.0%}: {total:.0f} reviews" for r, total in preview.totals.items()) + " in 30 days")
    return retention


def render_optimize(store, profile: str) -> None:
    """Anki's Optimize: fit FSRS to this learner's reviews, with log loss and RMSE before and after.
    The fit runs in a process of its own (study.refits, as the automatic refit does): this page
    shows it running and reads the report it stores when it is done."""
    from study.fit import MIN_INTERDAY_REVIEWS
    from ui.state import refit_pool

    in_use = store.parameters_for(profile)
    where = {"learner": "fitted to your reviews", "class": "fitted to the class", "defaults": "FSRS-6's defaults"}[in_use.source]
    st.caption(f"Parameters in use: {where}. The optimizer needs {MIN_INTERDAY_REVIEWS} reviews made a day or more after the one before.")
    status = refit_pool().status(store.target, profile)
    if status.state is None and st.button("Optimize", icon=":material/tune:", key="optimize"):
        refit_pool().request(store.target, profile)
        st.rerun()  # drawn again without the button: one fit at a time
    if status.state is not None:
        _refit_progress(store.target, profile)
    elif status.last_exit:
        st.error(f"The last fit stopped (exit status {status.last_exit}): {status.last_error or 'no message'}. Optimize tries again.")
    report = _stored_report(store, profile)
    if report is None:
        return
    if report.log_loss_before is None:
        st.info("No review to judge parameters by yet: rate some cards on later days first.")
        return
    before_col, after_col = st.columns(2)
    before_col.metric("Log loss", f"{report.log_loss_after:.4f}", delta=f"{report.log_loss_after - report.log_loss_before:+.4f}",
                      delta_color="inverse", help="before → after; lower predicts your recall better")  # fmt: skip
    after_col.metric("RMSE", f"{report.rmse_after:.4f}", delta=f"{report.rmse_after - report.rmse_before:+.4f}", delta_color="inverse",
                     help="predicted against observed recall, in 20 bins of prediction")  # fmt: skip
    st.caption(_report_line(report))


REFIT_POLL_S = 2  # how often Settings looks whether a running fit has finished


@st.fragment(run_every=REFIT_POLL_S)
def _refit_progress(target: str, profile: str) -> None:
    """While the fit runs (or waits for others to finish), say so; when it is done, rerun the page,
    whose caption and report then show the parameters it stored."""
    import time

    from study.refits import QUEUED
    from ui.state import refit_pool

    status = refit_pool().status(target, profile)
    if status.state is None:
        st.rerun()
    waited = time.time() - status.since
    if status.state == QUEUED:
        st.info(f"Your fit is waiting: the server runs a few at a time and starts yours when one finishes ({status.ahead} queued "
                f"before yours, {waited:.0f} s so far).", icon=":material/hourglass_top:")  # fmt: skip
    else:
        st.info(f"Fitting FSRS to your reviews in the background (py-fsrs's optimizer): {waited:.0f} s so far (from about 15 s "
                "to a few minutes on a busy server). You can keep studying; the new parameters are used as soon as it is done.",
                icon=":material/hourglass_top:")  # fmt: skip


def _stored_report(store, profile: str):
    from study.fit import FitReport

    stored = store.fit_report(profile)
    return FitReport(**stored) if stored else None


def _report_line(report) -> str:
    counts = f"{report.reviews} reviews, {report.interday_reviews} of them a day or more after the one before"
    if not report.fitted:
        return f"{counts}: below the optimizer's minimum, so the parameters in use stay ({report.fitted_at[:10]})."
    verdict = "the new parameters are in use" if report.saved else "no better than those in use, which stay"
    return f"{counts}: log loss {report.log_loss_before:.4f} → {report.log_loss_after:.4f}; {verdict} ({report.fitted_at[:10]})."


# -- Progress ----------------------------------------------------------------------------------------


def render_leeches(bank: Bank, store, profile: str, now: datetime) -> None:
    """Leeches and suspended cards, each with Unsuspend."""
    meta = store.meta(profile)
    shown = {i: m for i, m in meta.items() if m.leech or m.suspended}
    if not shown:
        return
    st.subheader("Leeches and suspended cards")
    st.caption("A leech is a card forgotten again and again (Anki's threshold: 8 lapses). Rewrite it, then unsuspend it.")
    by_id = bank.by_id()
    for item_id, card_meta in sorted(shown.items(), key=lambda row: -row[1].lapses):
        question = by_id[item_id].question.splitlines()[0] if item_id in by_id else item_id
        label = ("leech · " if card_meta.leech else "") + ("suspended · " if card_meta.suspended else "") + f"{card_meta.lapses} lapses"
        text_col, button_col = st.columns([5, 1])
        text_col.markdown(f"**{question}**  \n{label}")
        if card_meta.suspended and button_col.button("Unsuspend", key=f"unsuspend-{item_id}"):
            store.change_meta(item_id, profile, controls.unsuspend, now)
            st.rerun()
