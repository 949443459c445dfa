"""Exercises: write the code a viva asks for, run the hidden checks in a separate process, see
each check passed or failed with expected against got, reveal a hint or the solution, rate."""

import streamlit as st

from exercises.catalogue import all_exercises
from sandbox.bwrap import containment, learner_code_allowed
from study.practice import EXERCISE_KIND, exercise_card_id, exercise_rating
from ui.cards import rating_buttons
from ui.code_editor import code_input, failing_line
from ui.practice import render_check_result
from ui.state import elapsed_ms, get_bank, get_store, now, profile, started

st.title("Coding exercises")
allowed, why_not = learner_code_allowed()
if not allowed:
    st.info(f"Coding exercises are off on this shared deployment: {why_not}. Drills need no code and stay on.", icon=":material/lock:")
    st.page_link("pages/drills.py", label="Go to the drills", icon=":material/calculate:")
    st.stop()

exercises, store, bank = all_exercises(), get_store(), get_bank()
ids = list(exercises)
wanted = st.query_params.get("exercise") or st.session_state.get("exercise-current") or ids[0]
chosen = st.selectbox("Exercise", ids, index=ids.index(wanted) if wanted in ids else 0, format_func=lambda i: exercises[i].title)
if st.query_params.get("exercise") != chosen:
    st.query_params["exercise"] = chosen  # the address names the exercise: a link or a refresh comes back here
st.session_state["exercise-current"] = chosen
exercise = exercises[chosen]
attempt = st.session_state.setdefault(f"attempt-{chosen}", {"tries": 0, "hint": False, "solution": False, "result": None})
started(f"exercise-{chosen}")  # the review's duration runs from opening the exercise to the rating

st.markdown(exercise.prompt)
by_id = bank.by_id()
st.caption("Practises: " + " · ".join(by_id[i].question.splitlines()[0] for i in exercise.items if i in by_id))
previous = attempt["result"]
failing = failing_line([c.message for c in previous.checks if c.status == "error"]) if previous else None
code, ctrl_enter = code_input("Your code", exercise.starter, f"code-{chosen}", failing)
st.caption(f"Checked in {containment()}.")
run_col, hint_col, solution_col = st.columns(3)
if run_col.button("Run checks", type="primary", icon=":material/play_arrow:") or ctrl_enter:
    from exercises.runner import check_in_sandbox

    with st.spinner("Checking in a separate process..."):
        attempt["result"] = check_in_sandbox(chosen, code)
    attempt["tries"] += 1
    st.rerun()  # the editor marks the failing line of this result
if hint_col.button("Show a hint", icon=":material/lightbulb:"):
    attempt["hint"] = True
if solution_col.button("Show the solution", icon=":material/visibility:"):
    attempt["solution"] = True
if attempt["hint"]:
    st.info(exercise.hint, icon=":material/lightbulb:")
if attempt["solution"]:
    st.code(exercise.solution, language="python")

result = attempt["result"]
if result is not None:
    render_check_result(result)
    suggested = exercise_rating(result.passed, attempt["tries"], attempt["hint"], attempt["solution"])
    st.caption(f"Suggested rating: **{suggested.name}** ({attempt['tries']} tries" + (", hint shown" if attempt["hint"] else "")
               + (", solution shown" if attempt["solution"] else "") + ")")  # fmt: skip
    moment = now()
    card_id = exercise_card_id(chosen)
    rating = rating_buttons(store.preview(card_id, moment, profile()), moment, key=f"rate-{chosen}", suggested=suggested.name)
    if rating is not None:
        score = sum(c.passed for c in result.checks) / len(result.checks)
        duration = elapsed_ms(f"exercise-{chosen}")
        card, _ = store.record_review(
            card_id, rating, moment, profile(), duration_ms=duration, score=score, mode="exercise", kind=EXERCISE_KIND
        )
        st.session_state.pop(f"attempt-{chosen}")
        st.session_state["exercise-saved"] = f"Saved {rating.name} for {exercise.title}: next review {card.due:%Y-%m-%d}"
        st.rerun()
if st.session_state.get("exercise-saved"):
    st.caption(st.session_state["exercise-saved"])
else:
    from exercises.runner import warm_up

    warm_up(chosen)  # the checking process starts, and runs this exercise's reference side, while the learner writes
