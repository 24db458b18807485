"""Annotation tasks (leads: admins, annotators granted "lead"): put encounters in annotators'
queues, review submitted tasks, see every task and each annotator's counts. Giving the same
encounter and kind to two annotators is what produces agreement figures."""

from __future__ import annotations

import streamlit as st

from workbench import store as db
from workbench.store import annotation_tasks as tasks
from workbench.store.access import Forbidden
from workbench.ui import resources
from workbench.ui.annotate import reads, review

ENCOUNTERS_KEY, KIND_KEY, PEOPLE_KEY = "lead_encounters", "lead_kind", "lead_annotators"
CREATE_KEY, NOTICE_KEY = "lead_create", "lead_notice"
FILTER_PERSON, FILTER_KIND, FILTER_STATUS = "lead_f_annotator", "lead_f_kind", "lead_f_status"
# Pairwise tasks carry the two drafts to compare: they are made where those are chosen.
ASSIGNABLE_KINDS = tuple(k for k in tasks.TASK_KINDS if k != "pairwise")

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
titles = {e.encounter.encounter_id: e.encounter.title for e in encounters}


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
