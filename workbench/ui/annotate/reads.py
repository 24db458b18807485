"""The annotation pages' reads, cached until the database changes, and their shared names.

Keyed like ``resources``: the store's path and actor (``resources.cache_key``: reads are
filtered and de-identified per actor) and ``Store.content_stamp()``, so a rerun that changed
nothing opens no database file. Values are frozen records shared read-only.
"""

from __future__ import annotations

import streamlit as st

from pipelines.annotation_schema import TaskSchema, load_task_schema
from workbench import store as db
from workbench.store import annotation_views as views
from workbench.store.records import EncounterSummary
from workbench.ui import resources

ANNOTATE_PAGE = "views/annotate.py"
QUEUE_PAGE = "views/annotation_queue.py"
LEADS_PAGE = "views/annotation_leads.py"
TASK_PARAM = "task"  # the annotate page's query parameter: the task id
KIND_LABELS = {
    "entities": "Entity spans",
    "sections": "Note sections",
    "transcript": "Transcript check",
    "quality": "Note quality (PDQI-9)",
    "pairwise": "Pairwise comparison",
}
STATUS_LABELS = {"draft": "to do", "submitted": "submitted", "reviewed": "reviewed"}


def kind_label(kind: str) -> str:
    """The task kind as people read it."""
    return KIND_LABELS.get(kind, kind)


@st.cache_resource(show_spinner=False)
def task_schema() -> TaskSchema:
    """``annotations/tasks.json`` (sections, checks, PDQI-9 items), read once per server."""
    return load_task_schema()


@st.cache_resource(show_spinner=False, max_entries=64)
def _task_view(_store: db.Store, key: tuple, stamp: tuple, task_id: str) -> views.TaskView:
    return views.task_view(_store, task_id)


def task_view(store: db.Store, task_id: str) -> views.TaskView:
    """The task and what its panel shows (``annotation_views.task_view``), cached."""
    return _task_view(store, resources.cache_key(store), store.content_stamp(), task_id)


@st.cache_resource(show_spinner=False, max_entries=16)
def _task_rows(
    _store: db.Store, key: tuple, stamp: tuple, assignee: str | None
) -> tuple[views.TaskRow, ...]:
    return tuple(views.task_rows(_store, assignee=assignee))


def task_rows(store: db.Store, assignee: str | None = None) -> tuple[views.TaskRow, ...]:
    """The actor's queue (``assignee`` themselves) or, for a lead, everyone's tasks, cached;
    filtering happens on these rows, so a filter change reads nothing."""
    return _task_rows(store, resources.cache_key(store), store.content_stamp(), assignee)


@st.cache_resource(show_spinner=False, max_entries=8)
def _assignable(_store: db.Store, key: tuple, stamp: tuple) -> tuple[EncounterSummary, ...]:
    return tuple(views.assignable_encounters(_store))


def assignable_encounters(store: db.Store) -> tuple[EncounterSummary, ...]:
    """The encounters a lead may put in annotators' queues, cached."""
    return _assignable(store, resources.cache_key(store), store.content_stamp())
