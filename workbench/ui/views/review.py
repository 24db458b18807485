"""Review: one encounter on one screen. The recording and transcript, the draft note with its
support badges and sign-off, and the entities and codes, side by side."""

from __future__ import annotations

import streamlit as st

from workbench import store as db
from workbench.ui import resources
from workbench.ui.draft_panel import draft_panel
from workbench.ui.facts_panel import facts_panel
from workbench.ui.review_context import load_context
from workbench.ui.source_panel import source_panel

store = resources.get_store()
encounter_id = st.session_state.get("encounter_id") or st.query_params.get("encounter")
choices = [r.encounter.encounter_id for r in db.list_encounters(store) if r.note_version]
if not choices:
    st.info("No drafted encounters yet. Run `scribe demo` first.")
    st.stop()
encounter_id = st.selectbox(
    "Encounter", choices, index=choices.index(encounter_id) if encounter_id in choices else 0,
    key="review_encounter",
)
st.session_state["encounter_id"] = encounter_id
st.query_params["encounter"] = encounter_id

ctx = load_context(store, encounter_id, resources.current_user())
encounter, note = ctx.encounter, ctx.note
st.title(encounter.title)
st.caption(f"`{encounter_id}` · {encounter.specialty or '—'} · {encounter.clinician or '—'} · "
           f"note version {note.version} · transcript version {ctx.transcript_version}")

source, draft, facts = st.columns([4, 5, 3], gap="medium")
with source:
    source_panel(ctx)
with draft:
    draft_panel(ctx)
with facts:
    facts_panel(ctx)
