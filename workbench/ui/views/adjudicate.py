"""Adjudication (leads): pick an encounter that two or more annotators labelled, see their
versions side by side, and record the gold: one annotator's version, or a merge picked per
disagreement. The current gold and every earlier choice are shown below."""

from __future__ import annotations

import streamlit as st

from workbench.store import adjudication
from workbench.store.access import Forbidden, allowed
from workbench.store.agreement import AGREEMENT_KINDS, agreement
from workbench.store.annotation_tasks import set_gold
from workbench.store.db import InvalidEdit
from workbench.ui import adjudication_tables as tables
from workbench.ui import resources

store = resources.session_store()  # acts for the signed-in user
st.title("Adjudication")
if not allowed(store, "annotation.review"):
    try:  # refused and audited: the attempt itself is in the log
        adjudication.contested(store)
    except Forbidden as exc:
        st.error(str(exc), icon=":material/lock:")
    st.stop()

kind = st.selectbox(
    "Task kind", AGREEMENT_KINDS, format_func=tables.KIND_TITLES.get, key="adj_kind"
)
found = adjudication.contested(store, kind)
if not found:
    st.info(f"No encounter has two or more submitted {tables.KIND_TITLES[kind].lower()} versions.")
    st.stop()
by_id = {c.encounter_id: c for c in found}
wanted = st.query_params.get("encounter")
encounter_id = st.selectbox(
    "Encounter",
    list(by_id),
    index=list(by_id).index(wanted) if wanted in by_id else 0,
    format_func=lambda e: tables.contested_label(by_id[e]),
    key="adj_encounter",
    help="Encounters without a gold come first.",
)
view = adjudication.compare(store, encounter_id, kind)
names = {t.task_id: t.assignee for t in view.tasks}

summary = tables.encounter_summary(agreement(store, kind, encounter_id=encounter_id))
st.caption(
    f"{len(names)} versions · {summary}. "
    "Model suggestions nobody confirmed are not shown or counted."
)

st.subheader("Versions side by side")
st.caption(
    f"{len(view.comparison.agreed)} items all versions agree on, "
    f"{len(view.comparison.disagreements)} disagreements. "
    + " · ".join(f"{t.assignee}: task {t.task_id}, {t.status}" for t in view.tasks)
)
st.dataframe(
    tables.side_by_side(view.comparison, names),
    hide_index=True,
    key="adj_versions",
    width="stretch",
)

st.subheader("Choose the gold")
take, mix = st.tabs(["One annotator's version", "Merge per disagreement"])
with take:
    chosen = st.radio("Version", list(names), format_func=names.get, key="adj_take")
    reason = st.text_input("Reason (optional)", key="adj_take_reason")
    if st.button("Make this version the gold", key="adj_take_go", type="primary"):
        try:
            choice = set_gold(
                store,
                encounter_id,
                kind,
                [],
                method="task",
                chosen_task=chosen,
                reason=reason.strip() or None,
            )
            st.success(f"Gold #{choice.seq}: {names[chosen]}'s version, chosen by you.")
        except InvalidEdit as exc:
            st.error(str(exc))
with mix:
    st.caption(
        "Everything all versions agree on is kept; pick one variant for each disagreement. "
        "Relations follow their spans."
    )
    picks: dict[str, int] = {}
    for d in view.comparison.disagreements:
        pick = st.radio(
            tables.disagreement_title(d),
            range(len(d.variants)),
            index=None,
            format_func=lambda i, d=d: tables.choice_label(d.variants[i], names),
            key=f"adj_pick_{d.key}",
        )
        if pick is not None:
            picks[d.key] = pick
    merge_reason = st.text_input("Reason (optional)", key="adj_merge_reason")
    if st.button("Record the merged gold", key="adj_merge_go", type="primary"):
        try:
            choice = adjudication.merge_gold(
                store, encounter_id, kind, picks, reason=merge_reason.strip() or None
            )
            st.success(f"Gold #{choice.seq}: merged, {len(choice.annotations)} annotations.")
        except InvalidEdit as exc:
            st.error(str(exc))

st.subheader("Gold and its history")
history = adjudication.gold_history(store, encounter_id, kind)
if not history:
    st.info("No gold chosen yet.")
else:
    current = history[0]
    st.caption(f"Current gold #{current.seq} ({current.method}), chosen by {current.chosen_by}.")
    st.dataframe(
        [
            {
                "item": tables.where(a.kind, a.segment_idx, a.label or ""),
                "label": tables.describe(a),
            }
            for a in current.annotations
            if a.kind != "relation"
        ],
        hide_index=True,
        key="adj_gold",
    )
    st.dataframe(
        [
            {
                "#": g.seq,
                "method": g.method,
                "version of": names.get(g.chosen_task, g.chosen_task)
                if g.chosen_task
                else "merged",
                "chosen by": g.chosen_by,
                "when (UTC)": g.chosen_at,
                "reason": g.reason or "",
                "annotations": len(g.annotations),
            }
            for g in history
        ],
        hide_index=True,
        key="adj_history",
    )
