"""My project's view pieces: the upload, the facts with their lines, the layer table, the learning
rate chart, the findings with the items and demos that show them, and the viva deck. The analysis
itself is project_viva's; this module only draws it."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import streamlit as st

from project_viva.catalogue import KINDS
from qa_bank.schema import Bank
from study.store import ProgressStore
from ui.state import now, profile

FACT_LABELS = {
    "model_class": "Model", "params": "Trainable parameters", "optimizer": "Optimizer", "scheduler": "Scheduler", "loss": "Loss",
    "batch_size_train": "Training batch size", "epochs": "Epochs", "augmentations": "Training augmentations",
    "normalization": "Normalisation", "uses_batchnorm": "BatchNorm", "uses_dropout": "Dropout", "mixed_precision": "Mixed precision",
    "eval_mode_used": "model.eval() before evaluating", "no_grad_in_eval": "no_grad in evaluation",
    "selection_on_test_set": "Best model chosen on the test set",
}  # fmt: skip


def analyse_upload(name: str, data: bytes, bank: Bank, store: ProgressStore) -> None:
    """Keep the upload in this learner's workspace, analyse it, store its cards; a bad upload is
    one error line and nothing is kept."""
    from project_viva.analysis import analyse
    from project_viva.deck import build_deck, store_deck
    from project_viva.sources import ProjectInputError, load_upload
    from project_viva.workspace import delete_workspace, save_analysis, save_upload

    try:
        project = load_upload(name, data)
    except ProjectInputError as error:
        st.error(str(error), icon=":material/block:")
        st.stop()
    save_upload(profile(), name, data)
    with st.spinner("Reading your code and measuring your model in the contained runner..."):
        result = analyse(project).to_dict()
    if result.get("entry") is None:
        delete_workspace(profile())
        st.error(f"{name}: no training code found")
        st.stop()
    save_analysis(profile(), result)
    stored = store_deck(store, build_deck(bank, result), now(), profile())
    st.session_state["project-stored"] = stored


ABSENT = {"scheduler": "none", "normalization": "none (no Normalize)"}  # null here is a fact, not a gap


def _value(value: Any, name: str = "") -> str:
    if value is None and name in ABSENT:
        return ABSENT[name]
    if isinstance(value, dict):  # {'name': 'SGD', 'lr': 0.1, ...} -> "SGD, lr 0.1, weight decay 0.0005"
        parts = [str(v) if k == "name" else f"{k.replace('_', ' ')} {_words(v)}" for k, v in value.items() if v is not None]
        return ", ".join(parts)
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "none"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return "not established" if value is None else str(value)


def _words(value: Any) -> str:
    return value.replace("_", " ") if value in ("per_batch", "per_epoch") else str(value)


def _where(location: dict | None) -> str:
    if not location:
        return ""
    return (
        f"{location['file']} cell {location['cell']} line {location['line']}"
        if "cell" in location
        else f"{location['file']}:{location['line']}"
    )


def render_facts(result: dict[str, Any]) -> None:
    rows = [
        {"fact": label, "value": _value(result.get(name), name), "where": _where(result["where"].get(name))}
        for name, label in FACT_LABELS.items()
    ]
    st.table(rows)  # plain HTML: a reader (and a browser test) sees the text itself
    extra = [
        ("FLOPs per 32x32 image", result.get("flops")),
        ("Validation data", result.get("validation")),
        ("Checkpointing", result.get("checkpointing")),
        ("Augmentations on the test set", result.get("test_augmentations")),
    ]
    st.caption(" · ".join(f"{label}: {_value(value)}" for label, value in extra if value not in (None, [])))


def render_layers(result: dict[str, Any]) -> None:
    layers = result.get("layers") or []
    if not layers:
        st.info(
            "No layer table: " + next((u for u in result["unmeasured"] if u.startswith(("model", "params"))), "the model was not measured")
        )
        return
    rows = [
        {"layer": row.get("path") or row["name"], "type": row["type"], "output shape": "x".join(map(str, row["output_shape"])),
         "parameters": row["params"], "trainable": row["trainable"]}
        for row in layers
    ]  # fmt: skip
    st.table(rows)


def render_lr_chart(result: dict[str, Any]) -> None:
    rates = result.get("lr_by_epoch") or []
    if not rates:
        st.info("No learning-rate curve: " + next((u for u in result["unmeasured"] if "learning rate" in u), "it was not established"))
        return
    from ui.charts import plotly_go

    go = plotly_go()
    figure = go.Figure(go.Scatter(x=list(range(1, len(rates) + 1)), y=rates, mode="lines+markers", name="lr"))
    positive = all(rate > 0 for rate in rates)
    figure.update_layout(xaxis_title="epoch", yaxis_title="learning rate", yaxis_type="log" if positive else "linear", height=340)
    st.plotly_chart(figure, width="stretch", key="project-lr")
    scheduler = result.get("scheduler") or {}
    st.caption(
        f"{scheduler.get('name') or 'No scheduler'}"
        + (f", stepped {scheduler['stepped'].replace('_', ' ')}" if scheduler.get("stepped") else "")
    )


def render_findings(result: dict[str, Any], bank: Bank) -> None:
    findings = result.get("findings") or []
    if not findings:
        st.success("No findings: none of the checks found a problem an examiner would raise.", icon=":material/verified:")
    by_id = bank.by_id()
    for number, finding in enumerate(findings):
        kind = KINDS[finding["kind"]]
        st.error(f"**{kind.title}** · `{_where(finding)}`  \n{finding['message']}", icon=":material/report:")
        with st.expander(f"Study it: {len(finding['items'])} card(s), {len(finding['demos'])} demo(s)"):
            for item_id in finding["items"]:
                item = by_id.get(item_id)
                if item is not None:
                    st.markdown(f"**{item.question}**")
                    st.markdown(item.answer)
            for demo_id in finding["demos"]:
                if st.toggle(f"Run the demo `{demo_id}`", key=f"project-demo-{number}-{demo_id}"):
                    from ui.demos import render_demo_panel

                    render_demo_panel(demo_id, key=f"project-demo-panel-{number}-{demo_id}")


def render_deck(result: dict[str, Any], bank: Bank, store: ProgressStore) -> None:
    from project_viva.deck import build_deck, deck_items

    deck = build_deck(bank, result)
    items = deck_items(bank, deck)
    st.markdown(f"**{len(deck.generated)} questions about your code** (stored with your cards, scheduled like every card):")
    for item in deck.generated:
        with st.expander(item.question):
            st.markdown(item.answer)
            st.caption("Key points: " + " · ".join(item.key_points))
    st.markdown(f"**{len(deck.ranked)} bank cards that apply to your project**, most relevant first:")
    by_id = bank.by_id()
    st.dataframe(
        [
            {"card": by_id[r.item_id].question[:90], "why": "; ".join(r.reasons[:3]), "score": r.score}
            for r in deck.ranked
            if r.item_id in by_id
        ],
        hide_index=True,
        width="stretch",
    )
    left, right = st.columns(2)
    if left.button("Mock viva on my project", type="primary", icon=":material/record_voice_over:"):
        start_project_viva(items, store)
    if right.button("Build an Anki deck of these cards", icon=":material/download:"):
        from project_viva.deck import export_deck

        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "project-viva.apkg"
            export_deck(items, path, result.get("project", "project"))
            st.session_state["project-deck-bytes"] = path.read_bytes()
    if st.session_state.get("project-deck-bytes"):
        st.download_button(
            "Download project-viva.apkg", st.session_state["project-deck-bytes"], "project-viva.apkg", "application/octet-stream"
        )


def start_project_viva(items, store: ProgressStore) -> None:
    """A mock viva drawn from the project's deck, on the Mock viva page."""
    from study.scheduling import StudyScheduler
    from study.viva import VivaConfig, VivaSession

    config = VivaConfig(questions=min(8, len(items)), seed=int(time.time()))
    st.session_state["viva-session"] = VivaSession.start(items, store.cards(profile()), now(), config, StudyScheduler())
    st.session_state["viva-asked-at"] = time.time()
    st.session_state.pop("viva-last", None)
    st.switch_page("pages/viva.py")


def render_not_established(result: dict[str, Any]) -> None:
    lines = result.get("unmeasured", []) + result.get("problems", [])
    if lines:
        with st.expander(f"Not established ({len(lines)})", icon=":material/help:"):
            st.code("\n".join(lines), language="text")
