"""Mock viva: choose length and time per question, a visible countdown, follow-ups, and a report."""

import time

import streamlit as st

from study.daily import studiable
from study.scheduling import StudyScheduler
from study.self_check import asks_checks, held_because, rating_after_checks, self_checks
from study.viva import VivaConfig, VivaSession
from ui.cards import (
    GOOD_IS_NOT_PROOF,
    forget_checks,
    render_belief_check,
    render_grade_feedback,
    render_roles_check,
    sidebar_filters,
)
from ui.state import get_bank, get_store, now, profile

bank, store = get_bank(), get_store()
item_filter = sidebar_filters(bank, "viva")
st.title("Mock viva")
session: VivaSession | None = st.session_state.get("viva-session")

if session is None:
    st.write("Questions are drawn towards your weak topics and the cards you are likely to have forgotten.")
    length = st.slider("Questions", 3, 20, 6)
    seconds = st.slider("Seconds per question", 30, 300, 90, step=15)
    follow_ups = st.checkbox("Ask a follow-up after a weak answer", value=True)
    items = studiable(store, item_filter.apply(bank.items) or bank.items, profile(), now())  # never a suspended or buried card
    if not items:
        st.info("Every card these filters leave is suspended or buried: unsuspend some on Progress, or widen the filters.")
        st.stop()
    if st.button("Start the viva", type="primary", icon=":material/record_voice_over:"):
        config = VivaConfig(questions=length, seconds_per_question=seconds, follow_ups=follow_ups, seed=int(time.time()))
        st.session_state["viva-session"] = VivaSession.start(items, store.cards(profile()), now(), config, StudyScheduler())
        st.session_state["viva-asked-at"] = time.time()
        st.rerun()
    st.stop()

item = session.current
if item is not None:
    limit = session.config.seconds_per_question
    asked_at = st.session_state.setdefault("viva-asked-at", time.time())

    @st.fragment(run_every=1.0)
    def countdown() -> None:
        left = max(0, limit - int(time.time() - asked_at))
        st.progress(left / limit, text=f"{left} s left" if left else "Time is up: answer now, it scores 0")

    number = len(session.answers) + 1
    follow = " (follow-up)" if session.follow_up_of(item.id) else ""
    st.caption(f"Question {number}{follow}")
    st.markdown(f"### {item.question}")
    countdown()
    with st.form(f"viva-{number}"):
        answer = st.text_area("Your answer", height=150)
        if st.form_submit_button("Submit answer", type="primary"):
            record = session.answer(answer, time.time() - asked_at)
            st.session_state["viva-asked-at"] = time.time()
            st.session_state["viva-last"] = f"Last answer: {record.result.score:.0%}" + (" (too late)" if record.timed_out else "")
            st.rerun()
    if st.session_state.get("viva-last"):
        st.caption(st.session_state["viva-last"])
        last = session.answers[-1]
        if last.result.contradicted or last.result.misconceptions or last.result.listed_terms:  # an examiner would stop you here
            # The report asks this card's checks later, so its other points stay hidden until then.
            render_grade_feedback(last.result, points_hidden=asks_checks(bank.by_id()[last.item_id]))
    if st.button("End the viva now"):
        session.queue.clear()
        st.rerun()
    st.stop()

st.subheader("Report")
report = session.report_by_topic()
if report:
    from ui.charts import plotly_go

    go = plotly_go()

    names = [bank.topics[t].name for t in report]
    figure = go.Figure(
        go.Bar(x=names, y=[row["mean_score"] for row in report.values()], text=[f"{row['asked']} asked" for row in report.values()])
    )
    figure.update_layout(yaxis_title="mean score", yaxis_range=[0, 1], height=360)
    st.plotly_chart(figure, width="stretch")
    st.caption(GOOD_IS_NOT_PROOF)
    pending = set()  # the answers whose checks are still open: their points stay hidden, here and in the written report
    for number, answer in enumerate(session.answers, start=1):
        result, item = answer.result, bank.by_id()[answer.item_id]
        # As in the Quiz, a Good waits for the item's exact checks; each stores its result under its key.
        # "New viva" forgets them, so a new viva's answer 1 never reads the last one's checks.
        keys = f"viva-checks-roles-{number}", f"viva-checks-beliefs-{number}"
        checks = self_checks(item, *(st.session_state.get(f"{key}-result") for key in keys))
        why = held_because(result.suggested_rating, checks)
        rating = rating_after_checks(result.suggested_rating, checks)
        title = f"{number}. {item.question} · {result.score:.0%} · {rating}{f' ({why})' if why else ''}"
        if any(check.pending for check in checks):
            pending.add(number)
        with st.expander(title, key=f"viva-checks-report-{number}"):  # keyed: stays open when a check changes its title
            render_grade_feedback(result, points_hidden=number in pending)
            render_roles_check(item, key=keys[0])
            render_belief_check(item, key=keys[1])
    written = session.report_markdown(points_hidden=pending)
    st.markdown(written)
    st.download_button("Download the report (Markdown)", written, file_name="mock_viva_report.md")
if st.button("New viva"):
    st.session_state.pop("viva-session", None)
    st.session_state.pop("viva-last", None)
    forget_checks("viva-checks-")  # a new viva asks its checks afresh, its report's answers closed
    st.rerun()
