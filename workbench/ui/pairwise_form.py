"""A lead's form to make blind pairwise tasks (the same call as `scribe pairwise create`)."""

from __future__ import annotations

import streamlit as st

from workbench.pairwise import VERSION_NAMES, create_pairwise_tasks
from workbench.store.annotation_tasks import ASSIGNEE_ROLES
from workbench.store.db import Store, StoreError
from workbench.store.draft_variants import known_versions
from workbench.store.encounters import list_users

_HELP = {
    "note": "the stored machine draft",
    "signed": "the clinician-signed note (reference)",
    "rules": "re-draft: rule-based SOAP drafter",
    "learned": "re-draft: trained drafter",
    "llm": "re-draft: the configured LLM",
}


def pairwise_form(store: Store) -> None:
    """Encounters, versions A and B, the annotator and an optional seed; Create makes one
    task per encounter and lists them (or says why none was made)."""
    versions = [*VERSION_NAMES, *(v for v in known_versions(store) if v not in VERSION_NAMES)]
    annotators = [u[0] for u in list_users(store) if u[2] in ASSIGNEE_ROLES]
    with st.form("pairwise-create", enter_to_submit=False):
        encounters = st.text_input("Encounter ids (comma-separated)", key="pairwise-encounters")
        c1, c2 = st.columns(2)
        a = c1.selectbox("Version A", versions, key="pairwise-a", format_func=_label)
        b = c2.selectbox(
            "Version B",
            versions,
            index=min(1, len(versions) - 1),
            key="pairwise-b",
            format_func=_label,
        )
        c3, c4 = st.columns(2)
        annotator = c3.selectbox(
            "Annotator", annotators, index=None, key="pairwise-annotator", placeholder="Who judges"
        )
        seed = c4.number_input(
            "Seed of the order (empty: random)",
            min_value=0,
            value=None,
            step=1,
            key="pairwise-seed",
        )
        create = st.form_submit_button("Create tasks", icon=":material/compare:")
    if not create:
        return
    if not annotator:
        st.error("Choose the annotator who judges.")
        return
    ids = [e.strip() for e in encounters.split(",") if e.strip()]
    try:
        made = create_pairwise_tasks(
            store, ids, a, b, annotator, None if seed is None else int(seed)
        )
    except StoreError as exc:
        st.error(f"No tasks made: {exc}", icon=":material/error:")
        return
    st.success(
        f"{len(made)} pairwise task(s) for {annotator}: "
        + ", ".join(f"`{t.task_id}` ({t.encounter_id})" for t in made)
    )


def _label(version: str) -> str:
    return f"{version} — {_HELP[version]}" if version in _HELP else version
