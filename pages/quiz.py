"""Quiz: type an answer, see each key point matched, missed or contradicted and any misconception, then rate."""

import streamlit as st

from study.daily import studiable, todays_queue
from study.grading import grade
from study.self_check import held_because, rating_after_checks, self_checks
from ui.cards import (
    GOOD_IS_NOT_PROOF,
    checks_pending,
    forget_checks,
    rating_buttons,
    render_belief_check,
    render_grade_feedback,
    render_item_body,
    render_roles_check,
    sidebar_filters,
)
from ui.state import after_flashcard_review, elapsed_ms, get_bank, get_store, now, profile, started

bank, store = get_bank(), get_store()
item_filter = sidebar_filters(bank, "quiz")
st.title("Quiz")
items = studiable(store, item_filter.apply(bank.items), profile(), now())  # never a suspended or buried card
if not items:
    st.info("No card to quiz: none matches these filters, or those that do are suspended or buried (Progress lists them).")
    st.stop()
queue = todays_queue(store, bank.items, profile(), now(), among=items)
candidates = queue.ids or [i.id for i in items]
linked = st.query_params.get("item")  # /quiz?item=ID opens that question (a link from notes or a test)
if linked in {i.id for i in items} and st.session_state.get("quiz-linked") != linked:
    st.session_state["quiz-current"] = st.session_state["quiz-linked"] = linked
current = st.session_state.get("quiz-current")
if current not in {i.id for i in items}:
    current = candidates[0]
    st.session_state["quiz-current"] = current
item = bank.by_id()[current]
started(f"quiz-{item.id}")  # the review's duration runs from the question to the rating

st.markdown(f"### {item.question}")
with st.form("quiz-form"):
    answer = st.text_area("Your answer, in your own words", height=150, key=f"quiz-answer-{item.id}")
    submitted = st.form_submit_button("Grade my answer", type="primary")
if submitted:
    st.session_state["quiz-result"] = (item.id, grade(item, answer))
graded = st.session_state.get("quiz-result")
if graded and graded[0] == item.id:
    result = graded[1]
    st.metric("Score", f"{result.score:.0%}", help="Share of the key points your answer states; a reversed point counts 0")
    keys = f"quiz-roles-{item.id}", f"quiz-beliefs-{item.id}"
    render_grade_feedback(result, points_hidden=checks_pending(item, keys))  # the points would answer the checks
    roles = render_roles_check(item, key=keys[0])
    beliefs = render_belief_check(item, key=keys[1])
    checks = self_checks(item, roles, beliefs)
    suggested = rating_after_checks(result.suggested_rating, checks)
    why = held_because(result.suggested_rating, checks)
    st.caption(f"Suggested rating: **{suggested}**{f' ({why})' if why else ''} (yours to override)")
    if suggested in ("Good", "Easy"):
        st.caption(GOOD_IS_NOT_PROOF)
    # Collapsed while a check is still to answer, so it is not read off the answer below it.
    with st.expander("Model answer", expanded=not any(check.pending for check in checks)):
        render_item_body(item, bank)
    moment = now()
    rating = rating_buttons(store.preview(item.id, moment, profile()), moment, key="quiz-rate", suggested=suggested)
    if rating is not None:
        store.record_review(item.id, rating, moment, profile(), duration_ms=elapsed_ms(f"quiz-{item.id}"), score=result.score, mode="quiz")
        after_flashcard_review()
        st.session_state.pop("quiz-result", None)
        forget_checks(f"quiz-roles-{item.id}-")
        forget_checks(f"quiz-beliefs-{item.id}-")
        remaining = [i for i in candidates if i != item.id]
        st.session_state["quiz-current"] = remaining[0] if remaining else None
        st.rerun()
