"""The entities task panel: spans on the transcript, the model's suggestions, medication
relations and encounter-level labels, for ``views/annotate.py`` (``render(store, task)``).

Streamlit cannot read a text selection, so a span is made by picking a segment, then a word
range on a slider, a label and context flags. Only the selected segment has editing widgets;
the whole transcript is one block of HTML, so a 150-segment transcript costs little per rerun.

Work in progress survives reruns in session state (``entity_state``) and is written with
``annotation_tasks.save_annotations``: the panel's "Save draft", or the page's own save
through ``pending_annotations``. What the saved set holds is explained in
``pipelines.annotation_edit``: labels (origin "human" or "confirmed") plus rejected
suggestions (origin "suggestion"); undecided suggestions are not saved.
"""

from __future__ import annotations

import streamlit as st

from pipelines.types import Annotation
from workbench import store as db
from workbench.store import annotation_tasks as at
from workbench.store.records import AnnotationTask
from workbench.ui.annotate import entity_links as links
from workbench.ui.annotate import entity_widgets as widgets
from workbench.ui.annotate.entity_state import (
    STATE_PREFIX,
    get_draft,
    save_draft,
    schemas,
    show_messages,
)

__all__ = [
    "has_unsaved_changes",
    "pending_annotations",
    "render",
    "save_draft",
    "unresolved_suggestions",
]


def render(store: db.Store, task: AnnotationTask) -> None:
    """The panel for an entities task: editable for its assignee (or an admin) while the
    task is a draft, read-only otherwise."""
    if task.kind != "entities":
        st.error(f"This panel labels entities; task {task.task_id} is a {task.kind} task.")
        return
    draft = get_draft(store, task)
    show_messages()
    if draft.transcript is None or not draft.transcript.segments:
        st.info("This encounter has no transcript to label.", icon=":material/info:")
        return
    editable = at.edit_refusal(store, task) is None
    if draft.conflict_revision is not None and editable:
        widgets.conflict(store, task, draft)
    schema = schemas()
    widgets.toolbar(store, draft, editable)
    view, editor = st.columns([0.55, 0.45], gap="medium")
    with editor:
        idx = widgets.segment_picker(draft)
        widgets.segment_editor(draft, idx, schema, editable)
    with view:
        widgets.transcript_view(draft, idx, schema)
    links.relations(draft, idx, schema, editable)
    links.encounter_labels(draft, schema, editable)
    if not editable:
        st.caption(f"This task is {task.status}; it is shown read-only.")


def pending_annotations(task: AnnotationTask) -> list[Annotation]:
    """The set a save would write now (for the page's save and submit buttons). The panel
    must have been rendered for the task in this session."""
    draft = st.session_state.get(STATE_PREFIX + task.task_id)
    if draft is None:
        raise LookupError(f"The entities panel of task {task.task_id} has not been opened")
    return list(draft.annotations)


def has_unsaved_changes(task: AnnotationTask) -> bool:
    """Whether the panel holds changes the store does not have."""
    draft = st.session_state.get(STATE_PREFIX + task.task_id)
    return draft is not None and draft.dirty


def unresolved_suggestions(task: AnnotationTask) -> int:
    """How many model suggestions are neither accepted nor rejected (the page may warn
    before a submit: they do not count as labels)."""
    draft = st.session_state.get(STATE_PREFIX + task.task_id)
    return len(draft.pending()) if draft is not None else 0
