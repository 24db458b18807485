"""My annotation queue: the signed-in annotator's tasks by status, tasks returned by a lead
(with the lead's comment) first; each opens on the annotate page with one click."""

from __future__ import annotations

import streamlit as st

from workbench.store.access import Forbidden
from workbench.store.annotation_views import TaskRow
from workbench.ui import resources
from workbench.ui.annotate import reads

NEXT_KEY = "queue_next"

store = resources.session_store()  # acts for the signed-in user
st.title("My annotation queue")
try:
    rows = reads.task_rows(store, store.actor.user_id)
except Forbidden as exc:
    st.error(str(exc), icon=":material/lock:")
    st.stop()

returned = [r for r in rows if r.task.status == "draft" and r.task.review_comment]
todo = [r for r in rows if r.task.status == "draft" and not r.task.review_comment]
submitted = [r for r in rows if r.task.status == "submitted"]
reviewed = [r for r in rows if r.task.status == "reviewed"]
groups = (
    ("Returned to you", returned, "A lead sent these back: see their comment."),
    ("To do", todo, "Drafts: saved work stays until you submit."),
    ("Submitted", submitted, "Waiting for a lead's review; read-only."),
    ("Reviewed", reviewed, "Accepted by a lead."),
)
for col, (label, group, _) in zip(st.columns(len(groups)), groups, strict=True):
    col.metric(label, len(group))

if not rows:
    st.info("No tasks in your queue yet: an annotation lead assigns them.")
    st.stop()
upcoming = returned + todo
if st.button(
    "Open next task",
    key=NEXT_KEY,
    type="primary",
    icon=":material/skip_next:",
    disabled=not upcoming,
    help="The first returned task, else the oldest to do.",
):
    st.switch_page(reads.ANNOTATE_PAGE, query_params={reads.TASK_PARAM: upcoming[0].task.task_id})


def task_line(row: TaskRow) -> None:
    """One task: a link that opens it, its kind, transcript version, labels and last change."""
    task = row.task
    link, kind, version, count, when = st.columns(
        [4, 2, 1.2, 1.2, 1.6], vertical_alignment="center"
    )
    link.page_link(
        reads.ANNOTATE_PAGE,
        label=row.title,
        icon=":material/edit_note:",
        query_params={reads.TASK_PARAM: task.task_id},
        help=f"Open task {task.task_id}",
    )
    kind.markdown(reads.kind_label(task.kind))
    version.markdown(f"transcript v{task.transcript_version or '—'}")
    count.markdown(f"{row.labels} label{'s' if row.labels != 1 else ''}")
    when.caption(f"updated {task.updated_at:%Y-%m-%d %H:%M}")
    if task.status == "draft" and task.review_comment:
        st.warning(f"{task.reviewed_by}: {task.review_comment}", icon=":material/comment:")


for label, group, help_text in groups:
    if not group:
        continue
    st.subheader(f"{label} ({len(group)})", help=help_text)
    for row in group:
        task_line(row)
st.caption("Times are UTC.")
