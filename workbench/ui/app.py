"""Scribe Workbench: the Streamlit entry point. Owns navigation and the sign-in gate."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from workbench.store.access import allowed
from workbench.ui import login, resources

VIEWS = Path(__file__).resolve().parent / "views"

st.set_page_config(page_title="Scribe Workbench", page_icon=":material/stethoscope:", layout="wide")

store = resources.get_store()
# Encryption at rest (workbench.keys): say plainly when patient data sits unencrypted.
if not store.encrypted:
    from workbench.keys import UNENCRYPTED_WARNING

    st.sidebar.warning(UNENCRYPTED_WARNING, icon=":material/lock_open:")

actor = login.signed_in_actor(store)
# Admin pages: listed only for those the policy lets read the audit log.
admin_pages = []
if actor is not None and allowed(resources.session_store(), "audit.view"):
    admin_pages.append(st.Page(str(VIEWS / "audit.py"), title="Audit log",
                               icon=":material/policy:", url_path="audit"))
# Navigation is built either way, so a link to a page (with its query) survives signing in.
page = st.navigation(
    [
        st.Page(str(VIEWS / "worklist.py"), title="Worklist", icon=":material/checklist:",
                default=True),
        st.Page(str(VIEWS / "review.py"), title="Review", icon=":material/edit_note:",
                url_path="review"),
        st.Page(str(VIEWS / "capture.py"), title="New encounter", icon=":material/mic:",
                url_path="new"),
        st.Page(str(VIEWS / "vocabulary.py"), title="My vocabulary", icon=":material/spellcheck:",
                url_path="vocabulary"),
        *admin_pages,
    ],
    position="sidebar" if actor else "hidden",
)
if actor is None:
    login.sign_in_page(store)
    st.stop()

with st.sidebar:
    name = next((u[1] for u in resources.users(store) if u[0] == actor.user_id), actor.user_id)
    st.markdown(f"Signed in as **{name}** (`{actor.user_id}`) · {actor.role}")
    if st.button("Sign out", key="sign_out", icon=":material/logout:"):
        login.sign_out(store, "signed out", "You signed out.")
        st.rerun()
    st.caption(f"Data: `{resources.data_dir()}` · nothing leaves this machine")

page.run()
