"""Annotate: one task (``?task=ID``) with its header, then the panel of its kind
(``workbench/ui/annotate/<kind>.py``, ``render(store, task)``); a lead reviewing a submitted
task accepts or returns it here."""

from __future__ import annotations

import importlib
from types import ModuleType

import streamlit as st

from workbench import store as db
from workbench.store.access import Forbidden
from workbench.store.annotation_tasks import TASK_KINDS
from workbench.store.annotation_views import record_task_opened
from workbench.ui import resources
from workbench.ui.annotate import reads, review

OPENED_KEY = "annot-opened"  # (task id, actor) whose opening is in the audit log


def panel_module(kind: str) -> ModuleType | None:
    """The kind's panel module, or None while nobody has written it."""
    name = f"workbench.ui.annotate.{kind}"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise  # the panel exists but something it imports does not: a real error
        return None


store = resources.session_store()  # acts for the signed-in user
task_id = st.query_params.get(reads.TASK_PARAM)
if not task_id:
    st.title("Annotate")
    st.info("No task chosen: open one from your annotation queue.")
    st.page_link(reads.QUEUE_PAGE, label="My annotation queue", icon=":material/inbox:")
    st.stop()
try:
    view = reads.task_view(store, task_id)
except db.NotFound:
    st.title("Annotate")
    st.error(f"There is no annotation task {task_id}.")
    st.stop()
except Forbidden as exc:
    st.title("Annotate")
    st.error(
        f"Task {task_id} is not in your queue, so you cannot open it. ({exc})",
        icon=":material/lock:",
    )
    st.stop()
if st.session_state.get(OPENED_KEY) != (task_id, store.actor):
    record_task_opened(store, task_id)  # audited once per opening, not per rerun
    st.session_state[OPENED_KEY] = (task_id, store.actor)

task = view.task
st.title(f"{reads.kind_label(task.kind)}: {view.title}")
returned = task.status == "draft" and task.review_comment
status = "returned" if returned else reads.STATUS_LABELS.get(task.status, task.status)
st.caption(
    f"Task `{task.task_id}` · encounter `{task.encounter_id}` · **{status}** · revision"
    f" {task.revision} · annotator `{task.assignee}` · transcript v{task.transcript_version or '—'}"
    f" · note v{task.note_version or '—'}" + ("" if view.identified else " · de-identified text")
)
if returned:
    st.warning(f"Returned by {task.reviewed_by}: {task.review_comment}", icon=":material/undo:")
elif task.status == "reviewed" and task.review_comment:
    st.success(f"Accepted by {task.reviewed_by}: {task.review_comment}")
review.show_notice()
review.review_controls(store, task)

panel = panel_module(task.kind) if task.kind in TASK_KINDS else None
if panel is None:
    st.info(
        f"The {reads.kind_label(task.kind)} panel is not available yet.",
        icon=":material/construction:",
    )
else:
    panel.render(store, task)
