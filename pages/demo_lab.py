"""One Lab page per demo family: every demo of the family with its widgets, checks and snippet."""

import streamlit as st

from proofs.families import DEMO_FAMILIES
from ui.demos import render_demo_panel


def family_page(family: str):
    def page() -> None:
        from proofs.catalogue import demos_in_family

        st.title(f"Lab: {DEMO_FAMILIES[family]}")
        for demo in demos_in_family(family):
            render_demo_panel(demo.id, key=f"lab-{demo.id}")

    page.__name__ = f"lab_{family}"
    return page
