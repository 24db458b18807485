"""Worklist: every encounter and where it stands; open one to review."""

from __future__ import annotations

import streamlit as st

from workbench import store as db
from workbench.store.records import STATUSES
from workbench.ui import resources

st.title("Worklist")
store = resources.get_store()
rows = db.list_encounters(store)

counts = {s: sum(r.status == s for r in rows) for s in STATUSES}
cols = st.columns(len(STATUSES))
for col, status in zip(cols, STATUSES, strict=True):
    col.metric(status.title(), counts[status])

if not rows:
    st.info("No encounters yet. Run `scribe demo` or `scribe ingest FILE` to add some.")
    st.stop()

status_filter = st.multiselect("Status", STATUSES, key="worklist_status")
shown = [r for r in rows if not status_filter or r.status in status_filter]

for row in shown:
    enc = row.encounter
    c1, c2, c3, c4 = st.columns([5, 2, 2, 1.2], vertical_alignment="center")
    c1.markdown(f"**{enc.title}**  \n`{enc.encounter_id}` · {enc.specialty or '—'} · "
                f"{enc.clinician or '—'}")
    c2.markdown(f"{(row.duration_s or 0) / 60:.1f} min audio")
    c3.markdown(f":{_colour}[{row.status}]" if (_colour := {
        "signed": "green", "in review": "orange", "drafted": "blue"}.get(row.status))
        else row.status)
    if c4.button("Open", key=f"open-{enc.encounter_id}", disabled=row.note_version is None):
        st.session_state["encounter_id"] = enc.encounter_id
        st.switch_page("views/review.py")
