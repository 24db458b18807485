"""Audit log (admins): search who viewed, changed, signed or exported what, and every
refusal and failed login, newest first; and whether the hash chain is intact."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import streamlit as st

from workbench.store.access import Forbidden, allowed
from workbench.store.audit import search_audit, verify_chain
from workbench.ui import resources

PAGE_SIZE = 50

store = resources.session_store()  # acts for the signed-in user
st.title("Audit log")
if not allowed(store, "audit.view"):
    try:  # refused and audited: the attempt itself is in the log
        verify_chain(store)
    except Forbidden as exc:
        st.error(str(exc), icon=":material/lock:")
    st.stop()

check = verify_chain(store)
if check.ok:
    st.success(f"Hash chain intact: {check.rows} rows", icon=":material/verified:")
else:
    st.error(
        f"Hash chain broken at row {check.broken_at}: {check.reason}", icon=":material/gpp_bad:"
    )

c1, c2, c3 = st.columns(3)
user = c1.text_input("User", key="audit_user").strip()
action = c2.text_input("Action", key="audit_action", help="e.g. note, note.signed, encounter.view")
object_id = c3.text_input("Object id", key="audit_object").strip()
d1, d2, d3 = st.columns(3)
since = d1.date_input("From", value=None, key="audit_since")
until = d2.date_input("Until (inclusive)", value=None, key="audit_until")
page = d3.number_input("Page", min_value=1, value=1, step=1, key="audit_page")

rows, total = search_audit(
    store,
    user=user or None,
    action=action.strip() or None,
    object_id=object_id or None,
    since=datetime.combine(since, time()) if since else None,
    until=datetime.combine(until, time()) + timedelta(days=1) if until else None,
    limit=PAGE_SIZE,
    offset=(int(page) - 1) * PAGE_SIZE,
)
pages = max(1, -(-total // PAGE_SIZE))
st.caption(f"{total} matching rows · page {int(page)} of {pages}")
st.dataframe(
    [
        {
            "#": r.seq,
            "time (UTC)": r.at,
            "user": r.user_id,
            "role": r.role,
            "action": r.action,
            "object": f"{r.object_type or ''} {r.object_id or ''}".strip(),
            "outcome": r.outcome,
            "detail": r.detail,
        }
        for r in rows
    ],
    hide_index=True,
    use_container_width=True,
    key="audit_table",
)
