"""The sign-in gate: who is signed in, the sign-in page, idle timeout and signing out.

The signed-in actor lives in ``st.session_state`` (one browser session); on every full rerun
it is checked against the ``users`` table (disabled or removed: signed out; a changed role
or grant: taken over) and against the idle timeout. OpenID Connect goes through Streamlit's
``st.login`` when ``[auth]`` is configured in ``.streamlit/secrets.toml``; the person is then
matched to an account by email, and the role is ours, never the identity provider's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

import streamlit as st

from workbench import auth
from workbench import store as db
from workbench.store import users
from workbench.store.access import Actor

log = logging.getLogger(__name__)

ACTOR_KEY = "auth_actor"  # the signed-in Actor
SEEN_KEY = "auth_seen"  # time.time() of the last full rerun (or review heartbeat)
NOTICE_KEY = "auth_notice"  # why the last session ended, shown on the sign-in page
REFUSED_KEY = "auth_oidc_refused"  # an identity-provider sign-in we could not match
ERROR_KEY = "auth_error"  # why the last password sign-in was refused
FRESH_KEY = "auth_fresh"  # set by a sign-in, taken by the next run (``just_signed_in``)


def signed_in_actor(store: db.Store, now: float | None = None) -> Actor | None:
    """The signed-in actor after checking the idle timeout and the account, or None.

    Counts this rerun as activity. An identity-provider sign-in (``st.user``) with no
    workbench session yet is matched to an account here."""
    now = time.time() if now is None else now
    actor = st.session_state.get(ACTOR_KEY)
    if actor is None:
        return _from_identity_provider(store, now)
    timeout = auth.LoginPolicy.from_settings().session_timeout
    seen = st.session_state.get(SEEN_KEY)
    if seen is None or now - seen > timeout.total_seconds():
        minutes = round(timeout.total_seconds() / 60)
        sign_out(
            store, "idle timeout", f"You were signed out after {minutes} minutes without activity."
        )
        return None
    account = _account(store, actor.user_id)
    if account is None or account.disabled:
        sign_out(store, "account disabled", "Your account was disabled; you were signed out.")
        return None
    fresh = account.actor()  # the role or grants may have changed since sign-in
    st.session_state[ACTOR_KEY] = fresh
    st.session_state[SEEN_KEY] = now
    return fresh


def note_activity() -> None:
    """Count activity that reruns only a fragment (the review heartbeat) against the idle
    timeout. A session already past it is not revived: the next full rerun signs it out."""
    now, seen = time.time(), st.session_state.get(SEEN_KEY)
    timeout = auth.LoginPolicy.from_settings().session_timeout.total_seconds()
    if st.session_state.get(ACTOR_KEY) is not None and seen is not None and now - seen <= timeout:
        st.session_state[SEEN_KEY] = now


def start_session(actor: Actor) -> None:
    """Make ``actor`` the signed-in user of this browser session."""
    st.session_state[ACTOR_KEY] = actor
    st.session_state[SEEN_KEY] = time.time()
    st.session_state[FRESH_KEY] = True
    st.session_state.pop(NOTICE_KEY, None)
    st.session_state.pop(REFUSED_KEY, None)


def just_signed_in() -> bool:
    """Whether this is the first run since a sign-in (true once per sign-in)."""
    return bool(st.session_state.pop(FRESH_KEY, False))


def sign_out(store: db.Store, reason: str, notice: str | None = None) -> None:
    """End the session (event ``logout``); also ends an identity-provider sign-in."""
    actor = st.session_state.pop(ACTOR_KEY, None)
    st.session_state.pop(SEEN_KEY, None)
    if actor is not None:
        users.record_logout(store, actor.user_id, reason)
    if notice:
        st.session_state[NOTICE_KEY] = notice
    if _idp_signed_in():
        st.logout()  # otherwise the next rerun would sign the same person in again


def sign_in_page(store: db.Store) -> None:
    """The sign-in form (and identity-provider buttons when configured); nothing else."""
    st.title("Scribe Workbench")
    if notice := st.session_state.get(NOTICE_KEY):
        st.info(notice, icon=":material/logout:")
    if refused := st.session_state.get(REFUSED_KEY):
        st.error(refused, icon=":material/block:")
        if st.button("Sign out of the identity provider", key="oidc_logout"):
            st.session_state.pop(REFUSED_KEY, None)
            st.logout()
        return
    with st.form("login", border=True, width=420):
        st.subheader("Sign in")
        st.text_input("User id", key="login_user", autocomplete="username")
        st.text_input(
            "Password", type="password", key="login_password", autocomplete="current-password"
        )
        st.form_submit_button(
            "Sign in", key="login_submit", type="primary", on_click=_password_sign_in, args=(store,)
        )
    if error := st.session_state.pop(ERROR_KEY, None):
        st.error(error, icon=":material/lock:")
    for provider in auth.oidc_providers(_auth_section()):
        if st.button(f"Sign in with {provider.label}", key=f"oidc-{provider.name}"):
            st.login(provider.name)
    if hint := _demo_hint(store):
        st.caption(hint)


def _password_sign_in(store: db.Store) -> None:
    # A callback (it runs before the page): the password can be wiped from the session
    # state here, before its widget is drawn again, so it stays in memory no longer.
    user_id = st.session_state.get("login_user", "")
    password = st.session_state.get("login_password", "")
    st.session_state["login_password"] = ""
    try:
        actor = auth.authenticate(store, user_id, password)
    except auth.AuthError as exc:
        st.session_state[ERROR_KEY] = str(exc)
        return
    start_session(actor)
    log.info("signed in %s (%s)", actor.user_id, actor.role)


def _from_identity_provider(store: db.Store, now: float) -> Actor | None:
    if not _idp_signed_in() or st.session_state.get(REFUSED_KEY):
        return None
    # An older identity (Streamlit's cookie lasts 30 days) must sign in again with the
    # provider's button, which may not need a password at the provider.
    window = auth.LoginPolicy.from_settings().session_timeout
    if not auth.oidc_sign_in_is_fresh(st.user.get("iat"), now, window):
        return None
    try:
        actor = auth.oidc_actor(store, st.user.get("email"))
    except auth.AuthError as exc:
        st.session_state[REFUSED_KEY] = str(exc)
        return None
    start_session(actor)
    st.session_state[SEEN_KEY] = now
    return actor


def _idp_signed_in() -> bool:
    return bool(st.user.get("is_logged_in", False))


def _auth_section() -> Mapping | None:
    try:
        return st.secrets.get("auth")
    except FileNotFoundError:  # no secrets.toml at all: no identity provider
        return None


@st.cache_resource(show_spinner=False, max_entries=16)
def _cached_account(_store: db.Store, path: str, stamp: tuple, user_id: str):
    return users.get_account(_store, user_id)


def _account(store: db.Store, user_id: str) -> users.Account | None:
    # Cached until the database changes: a rerun that changed nothing opens no file.
    return _cached_account(store, str(store.path), store.content_stamp(), user_id)


@st.cache_resource(show_spinner=False, max_entries=4)
def _cached_demo_hint(_store: db.Store, path: str, stamp: tuple) -> str | None:
    from workbench.demo import demo_sign_in_hint

    return demo_sign_in_hint(_store)


def _demo_hint(store: db.Store) -> str | None:
    return _cached_demo_hint(store, str(store.path), store.content_stamp())
