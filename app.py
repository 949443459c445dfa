"""Entry point: `streamlit run app.py`. Pages are thin views; this file only wires navigation."""

import streamlit as st

st.set_page_config(page_title="Viva drill: CIFAR-10 and deep learning", page_icon=":material/school:", layout="wide")

PAGES = [
    st.Page("pages/browse.py", title="Browse", icon=":material/menu_book:", default=True),
]

st.navigation(PAGES).run()
