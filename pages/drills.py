"""Drills: a question whose numbers are drawn at random and whose answer PyTorch computed; type
a number, see at once whether it is within the stated tolerance and how the answer comes about."""

import random

import streamlit as st

from exercises.drills import FAMILIES, grade_drill, make_drill
from study.practice import DRILL_KIND, drill_card_id, drill_rating
from ui.state import elapsed_ms, get_store, now, profile, started

st.title("Drills")
store = get_store()
ids = list(FAMILIES)
wanted = st.query_params.get("drill") or st.session_state.get("drill-family") or ids[0]
family = st.selectbox("Family", ids, index=ids.index(wanted) if wanted in ids else 0, format_func=lambda f: FAMILIES[f].title)
if st.query_params.get("drill") != family:
    st.query_params["drill"] = family
st.session_state["drill-family"] = family
seeds = st.session_state.setdefault("drill-seeds", {})
if family not in seeds:
    seeds[family] = random.SystemRandom().randrange(1_000_000)
if st.button("New drill (N)", shortcut="N", icon=":material/casino:"):
    seeds[family] = random.SystemRandom().randrange(1_000_000)
    st.session_state.pop("drill-graded", None)

drill = make_drill(family, seeds[family])
started(f"drill-{family}-{drill.seed}")  # the review's duration runs from the question to Check
st.markdown(f"### {drill.question}")
st.caption(f"Seed {drill.seed}: `python -m exercises drill {family} --seed {drill.seed}` gives this drill again.")
with st.form(f"drill-{family}-{drill.seed}"):
    answer = st.text_input("Your answer (a number)")
    checked = st.form_submit_button("Check", type="primary")
if checked:
    grade = grade_drill(drill, answer)
    if grade.given is not None:  # an empty box is not a wrong answer
        rating = drill_rating(grade.correct)
        duration = elapsed_ms(f"drill-{family}-{drill.seed}")
        card, _ = store.record_review(
            drill_card_id(family), rating, now(), profile(), duration_ms=duration, score=float(grade.correct), mode="drill", kind=DRILL_KIND
        )
        st.session_state["drill-graded"] = (family, drill.seed, grade, rating.name, card.due)
    else:
        st.warning(grade.message)
graded = st.session_state.get("drill-graded")
if graded and graded[:2] == (family, drill.seed):
    _, _, grade, rating_name, due = graded
    (st.success if grade.correct else st.error)(grade.message)
    st.caption(f"Recorded as {rating_name}; this family is next due {due:%Y-%m-%d %H:%M} UTC. Press N for another.")
