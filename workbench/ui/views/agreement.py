"""Annotation agreement (leads): span F1 and Cohen's kappa per label, computed in DuckDB over
every encounter two or more annotators labelled, filtered by task kind."""

from __future__ import annotations

import streamlit as st

from workbench.store import agreement as ag
from workbench.store.access import Forbidden, allowed
from workbench.ui import adjudication_tables as tables
from workbench.ui import resources

store = resources.session_store()  # acts for the signed-in user
st.title("Annotation agreement")
if not allowed(store, "annotation.review"):
    try:  # refused and audited: the attempt itself is in the log
        ag.agreement(store, "entities")
    except Forbidden as exc:
        st.error(str(exc), icon=":material/lock:")
    st.stop()

kind = st.selectbox(
    "Task kind", ag.AGREEMENT_KINDS, format_func=tables.KIND_TITLES.get, key="agree_kind"
)
report = ag.agreement(store, kind)
c1, c2, c3 = st.columns(3)
c1.metric("Encounters", report.encounters, help="Labelled by two or more annotators")
c2.metric("Annotator pairs", report.pairs, help="Summed over encounters")
c3.metric("Annotators", report.annotators)
if not report.pairs:
    st.info(
        "No encounter has two or more submitted versions of this kind yet: "
        "agreement needs at least two annotators on the same encounter."
    )
    st.stop()
st.caption(
    "Only human-confirmed labels count (model suggestions nobody confirmed never do). "
    "With three or more annotators on an encounter, every figure is the mean over "
    "annotator pairs."
)

if report.spans:
    st.subheader("Span F1")
    st.caption(
        "Exact: same segment, start, end and label. Overlap: same label, overlapping by a "
        "character. F1 from the summed counts; mean F1 over (encounter, pair) units."
    )
    rows = tables.span_rows(report)
    st.dataframe(rows, hide_index=True, key="agree_spans", width="stretch")
    st.bar_chart(
        [r for r in rows if r["label"] != "all labels"],
        x="label",
        y=["F1 (exact)", "F1 (overlap)"],
        y_label="F1",
        stack=False,
        horizontal=True,
    )

if report.kappas:
    st.subheader("Cohen's kappa")
    st.caption(
        "Multi-class kappa over all labels, then each label against the rest; pooled over "
        "encounters per annotator pair, then averaged over pairs. Empty: undefined (both "
        "gave one category to every item)."
    )
    st.dataframe(tables.kappa_rows(report), hide_index=True, key="agree_kappas", width="stretch")

if report.ratings:
    st.subheader("PDQI-9 ratings")
    st.caption("Weighted kappa with linear weights over the 1 to 5 scale.")
    st.dataframe(tables.rating_rows(report), hide_index=True, key="agree_ratings", width="stretch")

with st.expander("How these figures are computed"):
    st.markdown(ag.__doc__ or "")
