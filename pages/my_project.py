"""My project: upload your training script, notebook or project zip; see what the analyser read
(facts with their lines), measured (layers, parameters, the learning rate of every epoch) and found,
and drill the questions an examiner would ask about it."""

import streamlit as st

from project_viva.workspace import delete_workspace, load_analysis
from ui.project import (
    analyse_upload,
    render_deck,
    render_facts,
    render_findings,
    render_layers,
    render_lr_chart,
    render_not_established,
)
from ui.state import get_bank, get_store, profile

bank, store = get_bank(), get_store()
st.title("My project")
st.caption(
    "Your own training code, read the way an examiner reads it. Upload a .py script, a .ipynb notebook or a .zip of the project "
    "folder (20 MB at most). Your model is built in a contained runner; your script itself is never run."
)
upload = st.file_uploader("Your project", type=["py", "ipynb", "zip"], key="project-upload")
if upload is not None and st.button("Analyse my project", type="primary", icon=":material/troubleshoot:"):
    analyse_upload(upload.name, upload.getvalue(), bank, store)
    st.rerun()

result = load_analysis(profile())
if result is None:
    st.info("No project yet: upload one above.", icon=":material/upload_file:")
    st.stop()
notice = st.empty()  # always here, so the tabs below keep their place and the tab the learner chose survives the next rerun
if st.session_state.pop("project-stored", None):
    notice.success("Analysed; the questions about your code are now among your cards.", icon=":material/check_circle:")
findings = result.get("findings", [])
st.subheader(f"{result['project']}: {result['framework']} · entry `{result['entry']}`")
facts_tab, layers_tab, lr_tab, findings_tab, deck_tab = st.tabs(
    ["Facts", "Layers", "Learning rate", f"Findings ({len(findings)})", "Viva deck"]
)
with facts_tab:
    render_facts(result)
with layers_tab:
    render_layers(result)
with lr_tab:
    render_lr_chart(result)
with findings_tab:
    render_findings(result, get_bank())
with deck_tab:
    render_deck(result, get_bank(), store)
render_not_established(result)
if st.button("Delete my project", icon=":material/delete:"):
    from project_viva.deck import remove_deck

    delete_workspace(profile())
    remove_deck(store, profile())
    st.rerun()
