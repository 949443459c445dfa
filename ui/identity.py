"""Who the learner is on a hosted server (HOSTED=1), so their progress survives refreshes and days.

Two ways, in order:
- Streamlit's own authentication (`st.login` / `st.user`), when the deployer configured an OIDC
  provider in `.streamlit/secrets.toml` ([auth]). The profile is derived from the provider's
  subject id, so only that signed-in user reaches it.
- Otherwise a resume link: a random secret token in the page URL (`?resume=...`). The store keeps
  only its SHA-256 hash; a wrong or missing token opens a fresh profile, never someone else's.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass

import streamlit as st

from study.store import ProgressStore

RESUME_PARAM = "resume"
_IDENTITY = "_hosted-identity"  # session key: (profile, token or None); set here only


def auth_configured() -> bool:
    """Whether the deployer set up OIDC sign-in ([auth] in secrets.toml)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all: Streamlit raises rather than returning empty
        return False


def _signed_in_profile(store: ProgressStore) -> str:
    if not st.user.is_logged_in:
        st.title("Sign in")
        st.write("This class server keeps each learner's progress under their own account.")
        st.button("Sign in", on_click=st.login, type="primary", icon=":material/login:")
        st.stop()
    subject = str(st.user.get("sub") or st.user.get("email"))
    name = "user-" + hashlib.sha256(subject.encode()).hexdigest()[:16]
    if not class_view_config().pseudonymous and st.session_state.get("_named") != name:
        store.set_display_name(name, str(st.user.get("email") or st.user.get("name") or subject))  # the deployer chose names
        st.session_state["_named"] = name
    return name


@dataclass(frozen=True)
class ClassViewConfig:
    """Who sees the class view, set by the deployer: `[class_view]` in secrets.toml
    (instructor_emails, instructor_subjects, pseudonymous), or VIVA_INSTRUCTOR_EMAILS and
    VIVA_INSTRUCTOR_SUBJECTS (comma-separated) and VIVA_CLASS_NAMES=1 for real names."""

    instructor_emails: frozenset[str] = frozenset()
    instructor_subjects: frozenset[str] = frozenset()
    pseudonymous: bool = True


def class_view_config() -> ClassViewConfig:
    section = _secrets_section("class_view")
    listed = lambda key, env: {v.strip() for v in [*section.get(key, []), *os.environ.get(env, "").split(",")] if v.strip()}  # noqa: E731
    names = section.get("pseudonymous", True) is False or os.environ.get("VIVA_CLASS_NAMES") == "1"
    return ClassViewConfig(
        frozenset(e.lower() for e in listed("instructor_emails", "VIVA_INSTRUCTOR_EMAILS")),
        frozenset(listed("instructor_subjects", "VIVA_INSTRUCTOR_SUBJECTS")),
        pseudonymous=not names,
    )


def _secrets_section(name: str) -> dict:
    try:
        return dict(st.secrets.get(name, {}))
    except Exception:  # no secrets file at all
        return {}


def is_instructor() -> bool:
    """A signed-in user the deployer listed, by subject or by e-mail (not when the provider says
    that e-mail is unverified). Resume links never make an instructor: they prove no identity."""
    if not auth_configured() or not st.user.is_logged_in:
        return False
    config = class_view_config()
    if str(st.user.get("sub") or "") in config.instructor_subjects:
        return True
    email = str(st.user.get("email") or "").lower()
    return bool(email) and email in config.instructor_emails and st.user.get("email_verified") is not False


def _new_learner(store: ProgressStore) -> tuple[str, str]:
    name = f"hosted-{secrets.token_hex(8)}"
    return name, store.create_resume_token(name)


def _from_resume_link(store: ProgressStore) -> tuple[str, str]:
    token = st.query_params.get(RESUME_PARAM)
    known = st.session_state.get(_IDENTITY)
    if known and token in (None, known[1]):
        return known  # same session; a page switch may have dropped the query parameter
    if token:
        name = store.profile_for_token(token)
        if name is not None:
            return name, token
        st.session_state["identity-warning"] = "That resume link is not valid: a new, empty profile was started for you."
    return _new_learner(store)


def hosted_profile(store: ProgressStore) -> str:
    """This browser session's profile on a hosted server; the URL always carries its resume token."""
    if auth_configured():
        return _signed_in_profile(store)
    name, token = _from_resume_link(store)
    st.session_state[_IDENTITY] = (name, token)
    if st.query_params.get(RESUME_PARAM) != token:
        st.query_params[RESUME_PARAM] = token  # a refresh or a bookmark of this URL resumes
    return name


def resume_token() -> str | None:
    """The current learner's resume token (hosted mode without sign-in), to show and keep."""
    known = st.session_state.get(_IDENTITY)
    return known[1] if known else None


def render_identity_sidebar() -> None:
    """Tell a hosted learner how they come back: their account, or this page's address."""
    with st.sidebar:
        if warning := st.session_state.pop("identity-warning", None):
            st.warning(warning, icon=":material/link_off:")
        if auth_configured():
            st.caption(f"Signed in as **{st.user.get('email') or st.user.get('name')}**")
            st.button("Sign out", on_click=st.logout, key="sign-out")
        else:
            st.caption("Bookmark this page: its address holds your resume code, so your progress comes back with it.")
