"""The Training lab's view pieces: the run form, the live curves and the report. The page
(pages/training_lab.py) lays them out; runs go to the run service (run_service/), which this
module asks for what changed since its last poll."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from cifar_core.config import ConfigError, TrainConfig
from cifar_core.recipe import FAST_RECIPE  # the form starts on the measured recipe
from run_service.lab import CIFAR10_SOURCE, LAB_DEFAULTS, lab_config
from run_service.records import LearnerBusy, QueueFull, RunUpdate
from run_service.service import RunService
from ui.charts import plotly_go
from ui.download import configured_cifar10_dir
from ui.state import hosted

MAX_HOSTED_BUDGET = 60  # seconds: a shared server gives each learner short runs only
CHART_POINTS = 240  # a live curve is thinned to this many points, so a redraw costs the same at step 10 and 10,000
SHARED_CIFAR10 = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "cifar10"  # beside the checkout


def default_data_dir() -> str:
    """Where the form's CIFAR-10 directory starts: the configured one, else the shared copy beside
    the checkout, else none (the lab then trains on the generated set)."""
    configured = configured_cifar10_dir()
    if not configured and (SHARED_CIFAR10 / "train").is_dir():
        return str(SHARED_CIFAR10)
    return configured


# ---------------------------------------------------------------------------------------------
# The run: which one this learner has, and starting one
# ---------------------------------------------------------------------------------------------


def current_run(service: RunService, learner: str) -> tuple[str | None, RunUpdate | None]:
    """This learner's run id and its state; a reopened page finds its run, and a run from before a
    server restart is forgotten."""
    run_id = st.session_state.get("lab-run") or service.active_run(learner)
    update = service.update(run_id) if run_id else None
    if update is None:
        run_id = None
    st.session_state["lab-run"] = run_id
    return run_id, update


def start_form(service: RunService, learner: str, default_dir: str) -> None:
    """The form; a submitted, valid configuration is queued and the page reruns on its run."""
    cfg = config_form(default_dir)
    if cfg is None:
        return
    try:
        st.session_state["lab-run"] = service.submit(learner, cfg)
    except (LearnerBusy, QueueFull) as refusal:
        st.error(f"Not started: {refusal}")
        return
    st.rerun()


def config_form(default_dir: str) -> TrainConfig | None:
    # The form is not drawn while a run is live, so Streamlit forgets its widgets; the last run's
    # settings are kept here and the form starts from them, not from the defaults.
    first_source = CIFAR10_SOURCE if default_dir else LAB_DEFAULTS["source"]
    last = {**LAB_DEFAULTS, "source": first_source, "data_dir": default_dir, **st.session_state.get("lab-settings", {})}

    def pick(name: str, options: list) -> int:
        return options.index(last[name])

    sources = [LAB_DEFAULTS["source"], CIFAR10_SOURCE]
    models = ["fastnet", "simplecnn", "resnet9"]
    lengths = ["Time budget", "Epochs"]
    optimizers = ["muon", "sgd", "adam"]
    schedulers = ["onecycle", "cosine", "step", "none"]
    with st.form("lab-config"):
        left, middle, right = st.columns(3)
        values = {
            "source": left.radio("Data", sources, index=pick("source", sources)),
            "data_dir": left.text_input("Directory", last["data_dir"], disabled=hosted()),
            "subset": left.number_input("Training images (subset)", 200, 50_000, last["subset"], step=500),
            "model": middle.selectbox("Model", models, index=pick("model", models)),
            "length": middle.radio("Length", lengths, index=pick("length", lengths), horizontal=True),
            "budget": middle.number_input("Time budget (s)", 5, MAX_HOSTED_BUDGET if hosted() else 3600, last["budget"]),
            "epochs": middle.number_input("Epochs", 1, 5 if hosted() else 200, last["epochs"]),
            "optimizer": middle.selectbox(
                "Optimizer",
                optimizers,
                index=pick("optimizer", optimizers),
                help=f"muon: orthogonalised steps for the conv filters (peak {FAST_RECIPE['muon_lr']} of their norm), SGD for the rest",
            ),  # fmt: skip
            "scheduler": middle.selectbox("Scheduler", schedulers, index=pick("scheduler", schedulers)),
            "lr": right.number_input("Peak learning rate", 1e-5, 5.0, last["lr"], format="%g"),
            "batch": right.select_slider("Batch size", [32, 64, 128, 256, 512], last["batch"]),
            "flip": right.checkbox("Horizontal flip", last["flip"]),
            "whiten": right.checkbox(
                "Whitened first layer (frozen)", last["whiten"], help="First conv set to the data's patch-whitening filters"
            ),
            "progressive": right.checkbox(
                "Progressive resizing",
                last["progressive"],
                help=f"Train at smaller sizes before 32 px ({FAST_RECIPE['resize_schedule']}); models with global pooling only",
            ),
            "crop": right.slider("Crop padding (px)", 0, 8, last["crop"]),
            "smoothing": right.slider("Label smoothing", 0.0, 0.5, last["smoothing"]),
            "mixup": right.slider("Mixup alpha (0 = off)", 0.0, 1.0, last["mixup"]),
            "clip": right.number_input("Gradient clip (0 = off)", 0.0, 100.0, last["clip"]),
        }
        submitted = st.form_submit_button("Start training", type="primary", icon=":material/play_arrow:")
    if not submitted:
        return None
    st.session_state["lab-settings"] = values
    try:
        return lab_config(values, device=st.session_state.get("device", "auto")).validated()
    except ConfigError as error:
        st.error("; ".join(error.problems))
        return None


# ---------------------------------------------------------------------------------------------
# Live: polling the service and drawing the curves
# ---------------------------------------------------------------------------------------------


def thin(points: list, limit: int = CHART_POINTS) -> list:
    """Every k-th point and the last one: the curve's shape at a bounded size."""
    if len(points) <= limit:
        return points
    stride = -(-len(points) // limit)
    return points[::stride] + ([points[-1]] if (len(points) - 1) % stride else [])


def live_cache(run_id: str) -> dict:
    """This session's copy of the run's steps and epochs: each poll fetches only the new ones."""
    cache = st.session_state.setdefault("lab-live", {})
    if cache.get("run_id") != run_id:
        cache.clear()
        cache.update(run_id=run_id, steps=[], epochs=[])
    return cache


def poll(service: RunService, run_id: str) -> tuple[RunUpdate | None, dict]:
    cache = live_cache(run_id)
    update = service.update(run_id, len(cache["steps"]), len(cache["epochs"]))
    if update is not None:
        cache["steps"].extend(update.steps)
        cache["epochs"].extend(update.epochs)
    return update, cache


def draw_curves(steps: list, epochs: list) -> None:
    go = plotly_go()
    shown = thin(steps)
    x = [s.step for s in shown]
    left, right = st.columns(2)
    loss = go.Figure(go.Scatter(x=x, y=[s.loss for s in shown], mode="lines", name="train loss"))
    loss.update_layout(title="Training loss", height=280, margin={"t": 40})
    for earlier, later in zip(steps, steps[1:], strict=False):
        if earlier.image_size and later.image_size != earlier.image_size:
            # The loss jumps here: the same filters now see larger images (progressive resizing).
            loss.add_vline(x=later.step, line_dash="dot", annotation_text=f"{later.image_size} px")
    left.plotly_chart(loss, width="stretch")
    lr = go.Figure(go.Scatter(x=x, y=[s.lr for s in shown], mode="lines", name="lr"))
    lr.update_layout(title="Learning rate", height=280, margin={"t": 40})
    right.plotly_chart(lr, width="stretch")
    if epochs:
        accuracy = go.Figure()
        accuracy.add_scatter(x=[e.epoch for e in epochs], y=[e.train_acc for e in epochs], name="train")
        if any(e.val_acc is not None for e in epochs):
            accuracy.add_scatter(x=[e.epoch for e in epochs], y=[e.val_acc for e in epochs], name="validation")
        accuracy.update_layout(title="Accuracy per epoch", height=280, yaxis_range=[0, 1])
        st.plotly_chart(accuracy, width="stretch")


@st.fragment(run_every=1.0)
def live_view(service: RunService, run_id: str) -> None:
    """Queue place, progress with ETA, the curves and Stop, redrawn every second; the whole page
    reruns once the run has an outcome."""
    update, cache = poll(service, run_id)
    if update is None:
        return
    if update.status == "queued":
        wait = f", starts in about {update.starts_in_s:.0f} s" if update.starts_in_s is not None else ""
        st.info(f"Queued: you are number {update.position} in the queue{wait}. Your curves appear here when it starts.",
                icon=":material/hourglass_top:")  # fmt: skip
    elif update.data_description:
        st.caption(f"Data in use: {update.data_description} · running on {update.where}")
    steps = cache["steps"]
    if steps:
        last = steps[-1]
        share = last.elapsed / max(last.elapsed + last.eta, 1e-9)
        st.progress(min(share, 1.0), text=f"{update.status}: step {last.step}, {last.images_per_second:.0f} img/s, ETA {last.eta:.0f} s")
        draw_curves(steps, cache["epochs"])
    elif update.status != "queued":
        st.progress(0.0, text=update.status)
    if update.outcome is None:
        label = "Cancel" if update.status == "queued" else "Stop"
        if st.button(label, icon=":material/stop:", key="lab-stop"):
            service.cancel(run_id)
    else:
        st.rerun(scope="app")


# ---------------------------------------------------------------------------------------------
# The result: outcome, curves, report, and the session's runs
# ---------------------------------------------------------------------------------------------


def show_result(service: RunService, run_id: str) -> None:
    update, cache = poll(service, run_id)
    outcome = update.outcome
    if outcome.status == "failed":
        st.error(f"The run failed: {outcome.message}")
    elif outcome.status == "stopped":
        st.warning(f"Stopped: {outcome.message}")
    if outcome.report is None:
        return
    report = outcome.report
    evaluation = outcome.seconds - outcome.training_seconds
    st.success(
        f"Validation accuracy {report.accuracy:.1%} after {outcome.steps} steps in {outcome.seconds:.1f} s"
        f" (training {outcome.training_seconds:.1f} s, final evaluation {evaluation:.1f} s;"
        f" {update.data_description}; ran on {update.where})"
    )
    remember_run(run_id, update)
    if cache["steps"]:
        draw_curves(cache["steps"], cache["epochs"])
    show_report(report, outcome.analysis)


def remember_run(run_id: str, update: RunUpdate) -> None:
    """One row per finished run in this session's table (a rerun does not add it twice)."""
    history = st.session_state.setdefault("lab-history", [])
    if history and history[-1]["run"] == run_id:
        return
    outcome = update.outcome
    history.append(
        {
            "run": run_id, "model": outcome.config.model, "accuracy": outcome.report.accuracy, "seconds": round(outcome.seconds, 1),
            "steps": outcome.steps, "lr": outcome.config.lr, "data": update.data_description, "ran on": update.where,
        }
    )  # fmt: skip


def show_report(report, analysis) -> None:
    """Per-class accuracy, confusion matrix, reliability diagram, misclassified images, Grad-CAM."""
    go = plotly_go()
    left, right = st.columns(2)
    per_class = go.Figure(go.Bar(x=list(report.per_class), y=list(report.per_class.values())))
    per_class.update_layout(title="Per-class accuracy", yaxis_range=[0, 1], height=320)
    left.plotly_chart(per_class, width="stretch")
    confusion = go.Figure(go.Heatmap(z=report.confusion, x=list(report.per_class), y=list(report.per_class), colorscale="Blues"))
    confusion.update_layout(title="Confusion matrix (rows: true)", height=320, yaxis_autorange="reversed")
    right.plotly_chart(confusion, width="stretch")
    if analysis is None:
        return
    show_reliability(report, analysis)
    st.markdown("**Misclassified examples**")
    for column, (image, truth, guess) in zip(st.columns(max(1, len(analysis.misclassified))), analysis.misclassified, strict=False):
        column.image(image, caption=f"{truth} → {guess}", width=72)
    if analysis.gradcams:
        st.markdown("**Grad-CAM on misclassified images** (where the model looked for its prediction)")
        for column, (image, heat, caption) in zip(st.columns(len(analysis.gradcams)), analysis.gradcams, strict=True):
            overlay = (0.5 * image + 0.5 * (heat[..., None] * [255, 60, 0])).clip(0, 255).astype("uint8")
            column.image(overlay, caption=caption, width=96)


def show_reliability(report, analysis) -> None:
    import torch  # here, not at the top: the form draws without torch

    from cifar_core.metrics import reliability_bins

    go = plotly_go()
    bins = reliability_bins(torch.from_numpy(analysis.probabilities), torch.from_numpy(analysis.targets), bins=10)
    reliability = go.Figure(
        [
            go.Bar(x=[b[0] for b in bins], y=[b[1] for b in bins], name="accuracy"),
            go.Scatter(x=[0, 1], y=[0, 1], name="perfect", mode="lines"),
        ]
    )
    reliability.update_layout(title=f"Reliability diagram (ECE {report.ece:.3f})", xaxis_title="confidence", height=320)
    st.plotly_chart(reliability, width="stretch")


def show_session_runs() -> None:
    if st.session_state.get("lab-history"):
        st.markdown("**Runs this session**")
        st.dataframe([{k: v for k, v in row.items() if k != "run"} for row in st.session_state["lab-history"]], hide_index=True)
