"""Annotation tasks (leads: admins, annotators granted "lead"): put encounters in annotators'
queues, review submitted tasks, see every task and each annotator's counts. Giving the same
encounter and kind to two annotators is what produces agreement figures."""

from __future__ import annotations

import streamlit as st

from workbench.store import annotation_tasks as tasks
from workbench.store.access import Forbidden
from workbench.ui import resources
from workbench.ui.annotate import reads, review
from workbench.ui.annotate.assign import assign_form

FILTER_PERSON, FILTER_KIND, FILTER_STATUS = "lead_f_annotator", "lead_f_kind", "lead_f_status"

store = resources.session_store()  # acts for the signed-in user
st.title("Annotation tasks")
try:
    encounters = reads.assignable_encounters(store)  # task.assign; a refusal is audited
except Forbidden as exc:
    st.error(f"Only annotation leads open this page. ({exc})", icon=":material/lock:")
    st.stop()
rows = reads.task_rows(store)  # everyone's tasks
people = {
    u: f"{name} ({u})" for u, name, role in resources.users(store) if role in tasks.ASSIGNEE_ROLES
}
assign_form(store, encounters, people)

st.subheader("Waiting for review")
review.show_notice()
waiting = [r for r in rows if r.task.status == "submitted"]
if not waiting:
    st.caption("Nothing submitted is waiting.")
for row in waiting:
    task = row.task
    with st.container(border=True):
        link, meta = st.columns([3, 2], vertical_alignment="center")
        link.page_link(
            reads.ANNOTATE_PAGE,
            label=f"{reads.kind_label(task.kind)}: {row.title}",
            query_params={reads.TASK_PARAM: task.task_id},
            icon=":material/visibility:",
        )
        meta.caption(
            f"`{task.assignee}` · {row.labels} labels · submitted"
            f" {task.submitted_at:%Y-%m-%d %H:%M}"
            if task.submitted_at
            else task.assignee
        )
        if review.reviewable(store, task):
            review.review_controls(store, task)
        else:
            st.caption("Your own task: another lead reviews it.")

st.subheader("Per annotator")
counts: dict[str, dict[str, int]] = {}
for row in rows:
    mine = counts.setdefault(row.task.assignee, dict.fromkeys(tasks.TASK_STATUSES, 0))
    mine[row.task.status] += 1
st.dataframe(
    [{"annotator": who, **n, "total": sum(n.values())} for who, n in sorted(counts.items())],
    hide_index=True,
)

st.subheader("All tasks")
person, kind, state = st.columns(3)
by_person = person.selectbox(
    "Annotator", sorted(counts), index=None, placeholder="everyone", key=FILTER_PERSON
)
by_kind = kind.selectbox(
    "Kind",
    tasks.TASK_KINDS,
    index=None,
    format_func=reads.kind_label,
    placeholder="every kind",
    key=FILTER_KIND,
)
by_status = state.selectbox(
    "Status", tasks.TASK_STATUSES, index=None, placeholder="every status", key=FILTER_STATUS
)
shown = [
    r
    for r in rows
    if by_person in (None, r.task.assignee)
    and by_kind in (None, r.task.kind)
    and by_status in (None, r.task.status)
]
st.dataframe(
    [
        {
            "open": f"annotate?{reads.TASK_PARAM}={r.task.task_id}",
            "encounter": r.title,
            "kind": reads.kind_label(r.task.kind),
            "annotator": r.task.assignee,
            "status": r.task.status,
            "labels": r.labels,
            "revision": r.task.revision,
            "updated": r.task.updated_at,
            "comment": r.task.review_comment or "",
        }
        for r in shown
    ],
    hide_index=True,
    column_config={"open": st.column_config.LinkColumn("open", display_text="Open")},
)
st.caption(f"{len(shown)} of {len(rows)} tasks · times are UTC")
