"""Entry point: `streamlit run app.py`. Pages are thin views; this file only wires navigation.
Nothing here imports torch: pages that need it import it when they run."""

import streamlit as st

from pages.demo_lab import family_page
from proofs.families import DEMO_FAMILIES
from ui.state import hosted, profile

st.set_page_config(page_title="Viva drill: CIFAR-10 and deep learning", page_icon=":material/school:", layout="wide")

study = [
    st.Page("pages/today.py", title="Today", icon=":material/today:", default=True),
    st.Page("pages/flashcards.py", title="Flashcards", icon=":material/style:"),
    st.Page("pages/quiz.py", title="Quiz", icon=":material/edit:"),
    st.Page("pages/viva.py", title="Mock viva", icon=":material/record_voice_over:"),
    st.Page("pages/search.py", title="Search", icon=":material/search:"),
    st.Page("pages/browse.py", title="Browse", icon=":material/menu_book:"),
]
practice = [
    st.Page("pages/exercises.py", title="Exercises", icon=":material/code:"),
    st.Page("pages/drills.py", title="Drills", icon=":material/calculate:"),
]
labs = [st.Page("pages/training_lab.py", title="Training lab", icon=":material/model_training:")] + [
    st.Page(family_page(family), title=title, url_path=f"lab-{family}", icon=":material/science:")
    for family, title in DEMO_FAMILIES.items()
]
you = [
    st.Page("pages/progress.py", title="Progress", icon=":material/monitoring:"),
    st.Page("pages/my_cards.py", title="My cards", icon=":material/note_add:"),
    st.Page("pages/settings.py", title="Settings", icon=":material/settings:"),
]
if hosted():  # instructors only; the page refuses everyone else (a learner reaching its address included)
    you.append(st.Page("pages/class_view.py", title="Class", icon=":material/groups:"))
page = st.navigation({"Study": study, "Practice": practice, "Labs": labs, "You": you})
if hosted():
    from ui.identity import render_identity_sidebar

    profile()  # settle who this learner is (sign-in or resume link) before any page runs
    render_identity_sidebar()
page.run()
