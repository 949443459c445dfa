"""Settings: profile, daily limit, data directory and device, reset."""

import streamlit as st

from ui.download import configured_cifar10_dir, render_download, render_download_done
from ui.state import get_store, hosted, profile

store = get_store()
st.title("Settings")
st.subheader("Profile")
if hosted():
    from ui.identity import RESUME_PARAM, resume_token

    st.caption(f"Profile: **{profile()}** (fixed in hosted mode)")
    token = resume_token()
    if token:
        base = str(getattr(st.context, "url", "") or "").split("?")[0]
        st.markdown("Your resume link: keep it private; anyone holding it can open this progress.")
        st.code(f"{base}?{RESUME_PARAM}={token}" if base else f"?{RESUME_PARAM}={token}", language="text")
else:
    names = store.profiles() or [profile()]
    chosen = st.selectbox("Learner profile", names, index=names.index(profile()) if profile() in names else 0)
    new_name = st.text_input("Or create a profile", max_chars=40)
    if st.button("Use this profile"):
        st.session_state["profile"] = new_name.strip() or chosen
        store.profile_id(st.session_state["profile"])
        st.rerun()
st.session_state["new_limit"] = st.number_input("New cards per day", 0, 200, st.session_state.get("new_limit", 20))

st.subheader("Data and device (for the labs)")
if hosted():
    st.caption("Hosted mode: custom data paths are off; labs use the generated offline set or the server's dataset.")
else:
    st.session_state["data_dir"] = st.text_input(
        "CIFAR-10 directory (an image-folder tree or cifar-10-batches-py)", configured_cifar10_dir()
    )
    render_download_done()
    if not st.session_state["data_dir"]:
        st.caption("No CIFAR-10 here yet: the labs train on the generated offline set until you download it or name a directory.")
render_download("settings-download")
st.session_state["device"] = st.selectbox(
    "Device", ["auto", "cpu", "cuda"], index=["auto", "cpu", "cuda"].index(st.session_state.get("device", "auto"))
)
st.caption(f"Progress database: `{store.where}`")

st.subheader("Reset")
confirm = st.checkbox(f"I want to delete every review of profile '{profile()}'")
if st.button("Reset my progress", disabled=not confirm, type="primary"):
    store.reset_profile(profile())
    st.success("Progress reset.")
