"""The leads' assignment form: chosen encounters, one task kind, one or more annotators
(``annotation_tasks.create_task``; the same encounter and kind for two annotators is what
agreement is computed from)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import streamlit as st

from workbench import store as db
from workbench.store import annotation_tasks as tasks
from workbench.store.access import Forbidden
from workbench.store.records import EncounterSummary
from workbench.ui.annotate import reads

ENCOUNTERS_KEY, KIND_KEY, PEOPLE_KEY = "lead_encounters", "lead_kind", "lead_annotators"
CREATE_KEY, NOTICE_KEY = "lead_create", "lead_notice"
# Pairwise tasks carry the two drafts to compare: they are made where those are chosen.
ASSIGNABLE_KINDS = tuple(k for k in tasks.TASK_KINDS if k != "pairwise")


def assign_form(
    store: db.Store, encounters: Sequence[EncounterSummary], people: Mapping[str, str]
) -> None:
    """Pick encounters (those with a transcript), a kind and annotators; Create tasks."""
    titles = {e.encounter.encounter_id: e.encounter.title for e in encounters}
    with st.container(border=True):
        st.subheader("Assign")
        ready = [e.encounter.encounter_id for e in encounters if e.transcript_version is not None]
        status = {e.encounter.encounter_id: e.status for e in encounters}
        st.multiselect(
            "Encounters (with a transcript)",
            ready,
            format_func=lambda e: f"{titles[e]} · {status[e]} · {e}",
            key=ENCOUNTERS_KEY,
        )
        kind_col, people_col, go = st.columns([2, 3, 1], vertical_alignment="bottom")
        kind_col.selectbox("Task", ASSIGNABLE_KINDS, format_func=reads.kind_label, key=KIND_KEY)
        people_col.multiselect(
            "Annotators",
            list(people),
            format_func=people.__getitem__,
            key=PEOPLE_KEY,
            help="Two or more: their agreement can be measured.",
        )
        go.button(
            "Create tasks",
            key=CREATE_KEY,
            type="primary",
            on_click=create_tasks,
            args=(
                store,
                frozenset(e.encounter.encounter_id for e in encounters if e.note_version is None),
            ),
        )
        if notice := st.session_state.pop(NOTICE_KEY, None):
            {"success": st.success, "error": st.error}[notice[0]](notice[1])


def create_tasks(store: db.Store, without_note: frozenset[str]) -> None:
    """Button callback: one task per chosen encounter and annotator."""
    chosen, kind = st.session_state[ENCOUNTERS_KEY], st.session_state[KIND_KEY]
    assignees = st.session_state[PEOPLE_KEY]
    if not chosen or not assignees:
        st.session_state[NOTICE_KEY] = ("error", "Choose at least one encounter and annotator.")
        return
    if kind == "quality" and (bare := sorted(set(chosen) & without_note)):
        st.session_state[NOTICE_KEY] = ("error", f"No draft note to rate yet: {', '.join(bare)}")
        return
    before = {r.task.task_id for r in reads.task_rows(store)}
    made = []
    try:
        for encounter_id in chosen:
            for assignee in assignees:
                made.append(tasks.create_task(store, encounter_id, kind, assignee))
    except (db.InvalidEdit, db.NotFound, Forbidden) as exc:
        st.session_state[NOTICE_KEY] = ("error", f"Stopped: {exc} ({len(made)} made before)")
        return
    new = sum(t.task_id not in before for t in made)
    open_ = f"; {len(made) - new} were open already" if len(made) > new else ""
    st.session_state[NOTICE_KEY] = (
        "success",
        f"Created {new} {reads.kind_label(kind)} tasks{open_}.",
    )
    st.session_state[ENCOUNTERS_KEY] = []
