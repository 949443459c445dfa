"""The class view's tables and export (pages/class_view.py checks who may see them first)."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from qa_bank.schema import Bank
from study.class_view import ClassReport, class_report, to_csv
from ui.identity import class_view_config


def render_class_view(store, bank: Bank, now: datetime) -> None:
    pseudonymous = class_view_config().pseudonymous
    with st.spinner("Reading the class's progress..."):
        report = class_report(store, bank, now, pseudonymous=pseudonymous)
    on_track, planned = report.on_track
    learners_col, planned_col, track_col = st.columns(3)
    learners_col.metric("Learners", len(report.learners))
    planned_col.metric("With a viva date ahead", planned)
    track_col.metric("On track for their date", f"{on_track} / {planned}",
                     help="predicted recall on the day, following their plan, within 2 points of their desired retention")  # fmt: skip
    st.caption(
        "Learners appear under pseudonyms." if pseudonymous else "Learners appear under their signed-in names (the deployer's choice)."
    )
    _tables(report, bank)
    st.download_button("Export as CSV", to_csv(report, bank), file_name=f"class-{now:%Y-%m-%d}.csv", mime="text/csv",
                       icon=":material/download:")  # fmt: skip


def _table(header: list[str], rows: list[list], empty: str) -> str:
    if not rows:
        return empty
    lines = ["| " + " | ".join(header) + " |", "| --- |" + " ---: |" * (len(header) - 1)]
    return "\n".join(lines + ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows])


def _tables(report: ClassReport, bank: Bank) -> None:
    topic = lambda t: bank.topics[t].name if t in bank.topics else t  # noqa: E731
    question = {item.id: item.question.splitlines()[0] for item in bank.items}
    weakest = sorted(report.topic_retention.items(), key=lambda row: row[1][0])
    st.subheader("Retention by topic")
    st.markdown(
        _table(["topic", "recalled", "reviews"], [[topic(t), f"{s:.0%}", n] for t, (s, n) in weakest], "No reviews a day apart yet.")
    )
    st.subheader("Items with the most lapses")
    rows = [[question.get(i, i), n, k] for i, n, k in report.most_lapsed]
    st.markdown(_table(["item", "lapses", "learners"], rows, "No lapses yet."))
    st.subheader("Exercise pass rates")
    rows = [[e, f"{s:.0%}", n] for e, (s, n) in report.exercise_pass.items()]
    st.markdown(_table(["exercise", "every check passed", "rated attempts"], rows, "No exercise attempts yet."))
    st.subheader("Learners")
    rows = [[r.name, r.reviews, r.cards_seen, r.viva_date or "-", "-" if r.predicted_recall is None else f"{r.predicted_recall:.0%}",
             "-" if r.on_track is None else ("on track" if r.on_track else "behind")] for r in report.learners]  # fmt: skip
    st.markdown(_table(["learner", "reviews", "cards seen", "viva", "predicted recall on the day", "status"], rows, "No learners yet."))
