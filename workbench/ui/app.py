"""Scribe Workbench: the Streamlit entry point. Owns navigation and who is signed in."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from workbench import settings
from workbench.store.access import allowed
from workbench.ui import resources

VIEWS = Path(__file__).resolve().parent / "views"

st.set_page_config(page_title="Scribe Workbench", page_icon=":material/stethoscope:", layout="wide")

store = resources.get_store()
default_user = settings.setting("SCRIBE_USER")
users = sorted({u[0] for u in resources.users(store)} | {default_user})
with st.sidebar:
    st.selectbox(
        "Reviewing as",
        users,
        index=users.index(default_user),
        key="user_id",
        help="Local demo identity; sign-in and roles come with authentication.",
    )
    st.caption(f"Data: `{resources.data_dir()}` · nothing leaves this machine")

# -- admin pages (access branch): listed only for those the policy lets read the audit log --
admin_pages = []
if allowed(resources.session_store(), "audit.view"):
    admin_pages.append(st.Page(str(VIEWS / "audit.py"), title="Audit log",
                               icon=":material/policy:", url_path="audit"))
# ------------------------------------------------------------------------------------------
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
    ]
)
page.run()
