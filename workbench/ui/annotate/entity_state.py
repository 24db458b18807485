"""The session-held draft of an entities task, and the checks and messages its widgets use.

The work in progress lives in session state (``Draft``, one per task), loaded once per task
revision and followed when the task moves on elsewhere. Every change is checked with the
store's own rules (``check_annotations``) before it is taken.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import streamlit as st

from pipelines import annotation_edit as ed
from pipelines.annotation_check import InvalidAnnotation, check_annotations, span_labels
from pipelines.annotation_schema import TaskSchema, load_task_schema
from pipelines.schema import LabelSchema, load_label_schema
from pipelines.types import Annotation, Transcript
from workbench import store as db
from workbench.store import annotation_tasks as at
from workbench.store.access import Forbidden, allowed
from workbench.store.records import AnnotationTask

STATE_PREFIX = "annent-draft-"
MESSAGE_KEY = "annent-message"
SAVE_ERRORS = (db.InvalidEdit, db.ConcurrentEdit, db.NotFound, Forbidden)


@dataclass
class Draft:
    """One task's annotation set as the annotator is changing it (session state)."""

    task_id: str
    revision: int  # the task revision the set was loaded or saved at
    transcript: Transcript | None  # as the actor reads it (de-identified without text.phi)
    deidentified: bool
    suggestions: tuple[Annotation, ...]  # the model's, where the actor can see their words
    hidden: int  # suggestions over de-identified words: not shown, never saved
    saved: tuple[Annotation, ...]  # the set as the store holds it
    annotations: tuple[Annotation, ...]  # the set as the annotator has made it
    generation: int = 0  # bumped on every reload, so per-span widgets start afresh
    conflict_revision: int | None = None  # saved elsewhere while this set had changes

    @property
    def dirty(self) -> bool:
        return self.annotations != self.saved

    def key(self, name: str) -> str:
        """A widget key that starts afresh when the set is reloaded."""
        return f"annent-{self.task_id}-{self.generation}-{name}"

    def pending(self) -> tuple[Annotation, ...]:
        """The suggestions still to accept or reject."""
        return ed.pending_suggestions(self.annotations, self.suggestions)


# -- loading ---------------------------------------------------------------------------------


def get_draft(store: db.Store, task: AnnotationTask) -> Draft:
    """The task's draft: loaded on first sight, followed when the task moved on elsewhere
    (a save by the page, a review), kept with a warning when it had changes of its own."""
    key = STATE_PREFIX + task.task_id
    draft: Draft | None = st.session_state.get(key)
    if draft is None:
        draft = _load(store, task)
        _forget_other_drafts(task.task_id)
        st.session_state[key] = draft
    elif draft.revision != task.revision and draft.conflict_revision != task.revision:
        stored = _stored(store, task.task_id)
        # A task no longer a draft cannot take changes: show what was handed in.
        if task.status != at.DRAFT or not draft.dirty or _same(stored, draft.annotations):
            reload(draft, stored, task.revision)
        else:
            draft.conflict_revision = task.revision
    return draft


def _load(store: db.Store, task: AnnotationTask) -> Draft:
    transcript = at.task_transcript(store, task.task_id)  # leads read it through the task
    suggestions = at.model_suggestions(store, task.encounter_id, task.transcript_version)
    shown = tuple(s for s in suggestions if s.start_char is not None)
    stored = _stored(store, task.task_id)
    return Draft(
        task.task_id,
        task.revision,
        transcript,
        not allowed(store, "text.phi", task.encounter_id),
        shown,
        len(suggestions) - len(shown),
        stored,
        stored,
    )


def reload(draft: Draft, stored: tuple[Annotation, ...], revision: int) -> None:
    """Make the store's set the draft's, at ``revision`` (drops unsaved changes)."""
    draft.revision, draft.saved, draft.annotations = revision, stored, stored
    draft.conflict_revision = None
    draft.generation += 1


def stored_set(store: db.Store, task_id: str) -> tuple[Annotation, ...]:
    """The saved set as the panel holds it (for the conflict buttons)."""
    return _stored(store, task_id)


def _stored(store: db.Store, task_id: str) -> tuple[Annotation, ...]:
    # An undecided suggestion saved by another tool is offered again, not kept as a label.
    return tuple(
        a
        for a in at.task_annotations(store, task_id)
        if a.origin != "suggestion" or ed.is_rejected(a)
    )


def _same(a: Sequence[Annotation], b: Sequence[Annotation]) -> bool:
    return {x.annotation_id: x for x in a} == {x.annotation_id: x for x in b}


def _forget_other_drafts(task_id: str) -> None:
    """Keep one task's transcript in the session; other drafts go unless they have changes."""
    for key in [k for k in st.session_state if str(k).startswith(STATE_PREFIX)]:
        other = st.session_state[key]
        if other.task_id != task_id and not other.dirty:
            del st.session_state[key]


# -- checks and messages (used by the widget callbacks) ------------------------------------


@dataclass(frozen=True)
class Schemas:
    """The label schemas the panel offers (read once per server: they are data files)."""

    labels: LabelSchema
    tasks: TaskSchema
    span_labels: tuple[str, ...]
    colours: dict[str, str]


@st.cache_resource(show_spinner=False)
def schemas() -> Schemas:
    """The entity labels (``labels.json``) and the task schema (``tasks.json``), with every
    span label's colour (attribute labels have theirs in ``tasks.json``)."""
    labels, tasks = load_label_schema(), load_task_schema()
    colours = {
        **{spec.name: spec.color for spec in labels.labels},
        **{c.name: c.color or "#444444" for c in tasks.attribute_labels},
    }
    return Schemas(labels, tasks, span_labels(labels, tasks), colours)


def check(draft: Draft, annotations: Sequence[Annotation]) -> str | None:
    """The store's objection to these annotations (the same checks and words), or None."""
    if draft.deidentified and draft.transcript is not None:
        for a in annotations:
            if a.kind == "span" and a.segment_idx is not None:
                text = draft.transcript.segments[a.segment_idx].text
                problem = ed.placeholder_problem(a, text)
                if problem:
                    return problem
    try:
        check_annotations(
            "entities", annotations, draft.transcript, schemas().labels, schemas().tasks
        )
    except InvalidAnnotation as exc:
        return str(exc)
    return None


def take(draft: Draft, changed: tuple[Annotation, ...], checked: Sequence[Annotation]) -> bool:
    """Take ``changed`` as the draft's set unless the store's checks object to ``checked``."""
    problem = check(draft, checked)
    if problem:
        say("error", f"Not taken: {problem}")
        return False
    draft.annotations = changed
    return True


def say(kind: str, text: str) -> None:
    """Show a message on the next run (callbacks run before the page is drawn)."""
    st.session_state.setdefault(MESSAGE_KEY, []).append((kind, text))


def show_messages() -> None:
    for kind, text in st.session_state.pop(MESSAGE_KEY, []):
        if kind == "error":
            st.error(text, icon=":material/error:")
        else:
            st.success(text, icon=":material/check_circle:")


def labels(annotations: Sequence[Annotation]) -> list[Annotation]:
    return [a for a in annotations if ed.is_label(a)]


def save_draft(store: db.Store, task_id: str) -> None:
    """Write the set (a button callback): a message says what happened; on an error the
    work stays in the panel."""
    draft: Draft = st.session_state[STATE_PREFIX + task_id]
    try:
        saved = at.save_annotations(store, task_id, draft.annotations, revision=draft.revision)
    except SAVE_ERRORS as exc:
        say("error", f"Not saved: {exc}")
        return
    draft.revision, draft.saved = saved.revision, draft.annotations
    say("success", f"Saved ({len(labels(draft.annotations))} labels).")


def submit_draft(store: db.Store, task_id: str) -> None:
    """Save the set if it changed, then hand the task in for review (a button callback);
    undecided suggestions are not labels, and the message says how many were left."""
    draft: Draft = st.session_state[STATE_PREFIX + task_id]
    try:
        revision = draft.revision
        if draft.dirty:
            saved = at.save_annotations(store, task_id, draft.annotations, revision=revision)
            draft.revision, draft.saved = saved.revision, draft.annotations
        submitted = at.submit_task(store, task_id, revision=draft.revision)
    except SAVE_ERRORS as exc:
        say("error", f"Not submitted: {exc}")
        return
    draft.revision = submitted.revision
    left = len(draft.pending())
    undecided = f"; undecided suggestions left out: {left}" if left else ""
    say("success", f"Submitted for review ({len(labels(draft.annotations))} labels{undecided}).")
