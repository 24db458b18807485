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
if store.lake is not None:  # the key is refused there (db.LAKE_KEY_REFUSED)
    st.sidebar.warning(
        "Shared store: Scribe does not encrypt it. Its PostgreSQL catalog and data path must "
        "sit on encrypted disks.",
        icon=":material/lock_open:",
    )
elif not store.encrypted:
    from workbench.keys import UNENCRYPTED_WARNING

    st.sidebar.warning(UNENCRYPTED_WARNING, icon=":material/lock_open:")

actor = login.signed_in_actor(store)
session = resources.session_store() if actor is not None else None


def may(action: str) -> bool:
    """Whether the signed-in user's pages include those for ``action``. Before sign-in every
    page is registered (hidden), so a link to any page (with its query) survives signing in."""
    return session is None or allowed(session, action)


def page(view: str, title: str, icon: str, url_path: str | None = None, **kw) -> st.Page:
    return st.Page(str(VIEWS / view), title=title, icon=icon, url_path=url_path, **kw)


# Annotators land on their queue; everyone else on the worklist.
annotator_first = actor is not None and actor.role == "annotator"
worklist = page("worklist.py", "Worklist", ":material/checklist:", default=not annotator_first)
clinical = [worklist, page("review.py", "Review", ":material/edit_note:", "review")]
if may("encounter.create"):
    clinical += [
        page("capture.py", "New encounter", ":material/mic:", "new"),
        page("vocabulary.py", "My vocabulary", ":material/spellcheck:", "vocabulary"),
    ]
annotation = []
queue = None
if may("annotation.work"):
    queue = page(
        "annotation_queue.py",
        "My annotation queue",
        ":material/inbox:",
        "queue",
        default=annotator_first,
    )
    annotation.append(queue)
if may("task.assign"):
    annotation.append(
        page(
            "annotation_leads.py",
            "Annotation tasks",
            ":material/assignment_ind:",
            "annotation-tasks",
        )
    )
if may("annotation.review"):
    annotation += [
        page("agreement.py", "Annotation agreement", ":material/join_inner:", "agreement"),
        page("adjudicate.py", "Adjudication", ":material/gavel:", "adjudicate"),
    ]
if may("annotation.review") or may("analytics.view"):
    annotation.append(
        page("draft_comparison.py", "Draft comparison", ":material/compare:", "draft-comparison")
    )
if may("annotation.work") or may("annotation.review"):
    # Opened from a queue or the leads' page with ?task=ID, so not listed in the sidebar.
    annotation.append(
        page("annotate.py", "Annotate", ":material/label:", "annotate", visibility="hidden")
    )
analytics_pages = []
if may("analytics.view"):
    analytics_pages.append(page("analytics.py", "Analytics", ":material/monitoring:", "analytics"))
# Admin pages: listed only for those the policy lets read the audit log.
admin = []
if actor is not None and may("audit.view"):
    admin.append(page("audit.py", "Audit log", ":material/policy:", "audit"))
order = ("Annotation", "Encounters") if annotator_first else ("Encounters", "Annotation")
sections = {
    "Encounters": clinical,
    "Annotation": annotation,
    "Analytics": analytics_pages,
    "Admin": admin,
}
sections = {name: sections[name] for name in (*order, "Analytics", "Admin") if sections[name]}
# Navigation is built either way, so a link to a page (with its query) survives signing in;
# someone with one section of pages gets a plain list.
page_run = st.navigation(
    sections if len(sections) > 1 else next(iter(sections.values())),
    position="sidebar" if actor else "hidden",
)
if actor is None:
    login.sign_in_page(store)
    st.stop()
# The sign-in form sat on the default page of someone not yet known (the worklist): the run
# after signing in keeps that page, so an annotator who signed in there goes to their queue.
# A link to another page followed before signing in is kept.
if login.just_signed_in() and annotator_first and queue is not None and page_run is worklist:
    st.switch_page(queue)

with st.sidebar:
    name = next((u[1] for u in resources.users(store) if u[0] == actor.user_id), actor.user_id)
    st.markdown(f"Signed in as **{name}** (`{actor.user_id}`) · {actor.role}")
    if st.button("Sign out", key="sign_out", icon=":material/logout:"):
        login.sign_out(store, "signed out", "You signed out.")
        st.rerun()
    if store.lake is not None:  # the catalog may be another machine: no such claim
        st.caption(f"Data: shared store `{store.lake}` · audio in `{resources.data_dir()}`")
    else:
        st.caption(f"Data: `{resources.data_dir()}` · nothing leaves this machine")

page_run.run()
