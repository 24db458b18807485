"""A lead's review of a submitted task: accept it, or return it to its annotator with a
comment (``annotation_tasks.review_task``). Shown on the annotate page and the leads' page."""

from __future__ import annotations

import streamlit as st

from workbench import store as db
from workbench.store import annotation_tasks as tasks
from workbench.store.access import Forbidden, allowed
from workbench.store.records import AnnotationTask

NOTICE_KEY = "review-notice"  # (level, text) of the last review, shown once


def accept_key(task_id: str) -> str:
    return f"review-accept-{task_id}"


def return_key(task_id: str) -> str:
    return f"review-return-{task_id}"


def comment_key(task_id: str) -> str:
    return f"review-comment-{task_id}"


def reviewable(store: db.Store, task: AnnotationTask) -> bool:
    """Whether the actor may review this task now (a lead, a submitted task, not theirs)."""
    return (
        task.status == tasks.SUBMITTED
        and task.assignee != store.actor.user_id
        and allowed(store, "annotation.review")
    )


def review_controls(store: db.Store, task: AnnotationTask) -> None:
    """Accept, or a comment and Return, for a task the actor may review (nothing otherwise)."""
    if not reviewable(store, task):
        return
    tid = task.task_id
    comment, accept, back = st.columns([4, 1, 1], vertical_alignment="bottom")
    comment.text_input(
        "Comment for the annotator (needed to return the task)",
        key=comment_key(tid),
        placeholder="What to fix",
    )
    accept.button(
        "Accept",
        key=accept_key(tid),
        type="primary",
        icon=":material/check:",
        on_click=_review,
        args=(store, tid, True),
    )
    back.button(
        "Return",
        key=return_key(tid),
        icon=":material/undo:",
        on_click=_review,
        args=(store, tid, False),
    )


def show_notice() -> None:
    """The outcome of the last review, once."""
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice is not None:
        level, text = notice
        {"success": st.success, "error": st.error}[level](text)


def _review(store: db.Store, task_id: str, accept: bool) -> None:
    comment = st.session_state.get(comment_key(task_id)) or None
    try:
        done = tasks.review_task(store, task_id, accept=accept, comment=comment)
    except (db.InvalidEdit, db.NotFound, Forbidden) as exc:
        st.session_state[NOTICE_KEY] = ("error", f"Not reviewed: {exc}")
        return
    st.session_state.pop(comment_key(task_id), None)
    what = "accepted" if accept else f"returned to {done.assignee}"
    st.session_state[NOTICE_KEY] = ("success", f"Task {task_id} {what}.")
