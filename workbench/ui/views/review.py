"""Review: one encounter on one screen. The recording and transcript, the draft note with its
support badges and sign-off, and the entities and codes, side by side."""

from __future__ import annotations

import streamlit as st

from workbench.store.access import Forbidden
from workbench.ui import resources
from workbench.ui.draft_panel import draft_panel
from workbench.ui.encounter_picker import pick_encounter
from workbench.ui.facts_panel import facts_panel
from workbench.ui.review_context import load_context, record_views
from workbench.ui.simulated import simulated_badge
from workbench.ui.source_panel import source_panel

store = resources.session_store()  # acts for the signed-in user
# One database open for all the reads this rerun misses in the caches (none when nothing
# changed), instead of one per read.
with store.one_connection():
    record_views(store)  # what ▶ was pressed on, before anything is read
    try:
        encounter_id = pick_encounter(store)  # header bar: previous/next, next unsigned, find
        ctx = load_context(store, encounter_id, resources.current_user())
    except Forbidden as exc:  # the refusal is in the audit log
        st.error(str(exc), icon=":material/lock:")
        st.stop()
    encounter, note = ctx.encounter, ctx.note
    st.title(encounter.title)
    st.caption(
        f"`{encounter_id}` · {encounter.specialty or '—'} · {encounter.clinician or '—'} · "
        f"note version {note.version} · transcript version {ctx.transcript_version}"
        + simulated_badge(encounter)
    )

    source, draft, facts = st.columns([4, 5, 3], gap="medium")
    with source:
        source_panel(ctx)
    with draft:
        draft_panel(ctx)
    with facts:
        facts_panel(ctx)
