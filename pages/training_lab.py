"""Training lab: configure a run, watch live curves with a progress bar and ETA, stop it, and
inspect the result. Runs go to the run service (run_service/): this page submits one, holds its
id, and polls for what changed; it never learns which process or machine trains it. The pieces
are in ui/lab.py."""

import streamlit as st

from run_service.service import get_service
from ui import lab
from ui.download import render_download, render_download_done
from ui.state import hosted, profile

st.title("Training lab")
default_dir = lab.default_data_dir()
render_download_done()
if not default_dir and not hosted():
    st.info("No CIFAR-10 directory is configured, so this lab trains on the generated offline set. Download it once:")
    render_download("lab-download")

service = get_service()
learner = profile()
run_id, update = lab.current_run(service, learner)
if update is None or update.outcome is not None:
    lab.start_form(service, learner, default_dir)
if update is not None and update.outcome is None:
    lab.live_view(service, run_id)
elif update is not None:
    lab.show_result(service, run_id)
lab.show_session_runs()
