"""Settings: profile, the viva date and its plan, desired retention with its workload, daily
limits and leeches, FSRS's parameters (Optimize), data directory and device, reset."""

from dataclasses import replace

import streamlit as st

from ui.download import configured_cifar10_dir, render_download, render_download_done
from ui.plan import EDITED_BELOW, edited_settings, render_optimize, render_plan_settings, render_retention_settings
from ui.state import get_bank, get_store, hosted, learner_settings, now, profile

store, bank, moment = get_store(), get_bank(), now()
settings = learner_settings()
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
        for key in EDITED_BELOW.values():  # keyed widgets keep their values: the next profile starts from its own
            st.session_state.pop(key, None)
        st.session_state["profile"] = new_name.strip() or chosen
        store.profile_id(st.session_state["profile"])
        st.rerun()

# Both previews show what Save would store: the plan's the retention and limits set below it, the
# workload's the date and pace set above it.
st.subheader("Viva date")
planned = render_plan_settings(bank, store, profile(), moment, edited_settings(settings))
st.subheader("Desired retention")
retention = render_retention_settings(bank, store, profile(), moment, planned)
st.subheader("Daily limits and leeches")
left, right = st.columns(2)
new_per_day = left.number_input("New cards a day (without a viva date)", 0, 500, settings.new_per_day, key="limit-new")
max_reviews = right.number_input("Maximum reviews a day", 1, 9999, settings.max_reviews_per_day, key="limit-reviews",
                                 help="new cards count too, as in Anki")  # fmt: skip
leech_threshold = left.number_input("Leech threshold (lapses)", 1, 99, settings.leech_threshold)
leech_suspend = right.radio("Leech action", ["Suspend card", "Tag only"], index=0 if settings.leech_suspend else 1, horizontal=True)
load_balance = left.checkbox("Load balancing", settings.load_balance, key="load-balance",
                             help="spread review dates within Anki's fuzz range, as Anki's load balancer does")  # fmt: skip
refit_every = right.number_input("Refit FSRS every N reviews", 10, 10_000, settings.refit_every)
chosen = replace(
    planned, desired_retention=retention, new_per_day=new_per_day, max_reviews_per_day=max_reviews, leech_threshold=leech_threshold,
    leech_suspend=leech_suspend == "Suspend card", load_balance=load_balance, refit_every=refit_every,
)  # fmt: skip
if chosen != settings and st.button("Save settings", type="primary", icon=":material/save:"):
    moved = store.save_settings(profile(), chosen)
    st.session_state["settings-saved"] = "Saved." + (f" {moved} cards rescheduled to the new retention and date." if moved else "")
    st.rerun()
if saved := st.session_state.pop("settings-saved", None):
    st.success(saved)

st.subheader("FSRS parameters")
render_optimize(store, profile())

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
