"""The "Download CIFAR-10" offer, shared by Settings and the Training lab, and where the labs look
for CIFAR-10: this session's choice, then $CIFAR10_DIR, then the directory downloaded last."""

from __future__ import annotations

import os
import time

import streamlit as st

from run_service.lab import CIFAR10_SOURCE
from ui.dataset_download import DownloadError, default_target, download_cifar10, remembered_dir, wait_message
from ui.state import hosted


def configured_cifar10_dir() -> str:
    return st.session_state.get("data_dir") or os.environ.get("CIFAR10_DIR", "") or remembered_dir()


def render_download(key: str) -> None:
    """A button that fetches CIFAR-10 into the cache with a progress bar; on success every lab
    trains on it, now and after the next start."""
    if hosted():
        st.caption("Hosted mode: the server's administrator provides CIFAR-10 (`CIFAR10_DIR`); learners cannot download here.")
        return
    target = default_target()
    clicked = st.button(
        "Download CIFAR-10", key=key, icon=":material/download:",
        help=f"About 170 MB from torchvision's source (checked against its MD5) into {target}",
    )  # fmt: skip
    if not clicked:
        return
    bar, started = st.progress(0.0, text=f"Connecting to download CIFAR-10 into {target}"), time.monotonic()

    def show(done: int, total: int | None) -> None:
        bar.progress(min(done / total, 1.0) if total else 0.0, text=wait_message(done, total, started))

    try:
        directory = download_cifar10(target, on_progress=show)
    except DownloadError as error:
        bar.empty()
        st.error(str(error))
        return
    bar.empty()
    st.session_state["data_dir"] = str(directory)
    lab = st.session_state.get("lab-settings")
    if lab is not None:  # the lab's form starts from its last settings: point them at the new data
        st.session_state["lab-settings"] = {**lab, "data_dir": str(directory), "source": CIFAR10_SOURCE}
    st.session_state["download-done"] = str(directory)
    st.rerun()


def render_download_done() -> None:
    """The success line after the rerun that shows the new directory in the forms."""
    directory = st.session_state.pop("download-done", None)
    if directory:
        st.success(f"CIFAR-10 downloaded to {directory}; the labs now train on it (remembered for the next start).")
