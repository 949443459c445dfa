"""The class view (hosted, instructors only): per-topic class retention, the items with the most
lapses, exercise pass rates, learners on track for their date; pseudonymous; CSV export."""

import streamlit as st

from ui.identity import is_instructor
from ui.state import get_bank, get_store, hosted, now

st.title("Class")
if not hosted():
    st.info("The class view belongs to a hosted class (HOSTED=1 with sign-in): locally there is only you.", icon=":material/groups:")
    st.stop()
if not is_instructor():
    st.error("The class view is for the class's instructors. Your own progress is on the Progress page.", icon=":material/lock:")
    st.stop()

from ui.class_view import render_class_view  # noqa: E402  (after the check: nothing of the class is read for a learner)

render_class_view(get_store(), get_bank(), now())
