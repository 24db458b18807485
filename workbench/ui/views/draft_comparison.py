"""Draft comparison (leads, admins, analysts): win rates of draft versions from blind
pairwise judgements, per version and per pair, with 95% intervals, the position-bias check,
a chart and a CSV download. Aggregates only: no note or transcript text. Leads and admins
also get the form that makes pairwise tasks."""

from __future__ import annotations

import streamlit as st

from workbench.store.access import Forbidden, allowed
from workbench.store.pairwise_stats import comparison_csv, comparison_rows, win_rates
from workbench.ui import resources
from workbench.ui.comparison_chart import win_rate_chart

store = resources.session_store()  # acts for the signed-in user
st.title("Draft comparison")
try:
    result = win_rates(store)
except Forbidden as exc:  # refused and audited
    st.error(str(exc), icon=":material/lock:")
    st.stop()

st.caption(
    "Blind pairwise judgements of two drafts of the same visit. Win rate = (wins + ties/2) / n: "
    "a tie counts half for each side. The interval is the 95% Wilson score interval."
)

table = comparison_rows(result)
if not result.versions:
    st.info("No submitted pairwise judgements yet.", icon=":material/hourglass_empty:")
else:
    st.subheader("Per version")
    st.plotly_chart(win_rate_chart(result.versions), key="draft_comparison_chart")
    st.dataframe(
        [r for r in table if r["scope"] == "version"],
        hide_index=True,
        key="draft_comparison_versions",
    )
    st.subheader("Per pair")
    st.dataframe(
        [r for r in table if r["scope"] == "pair"], hide_index=True, key="draft_comparison_pairs"
    )
    if (position := result.position) is not None:
        st.subheader("Position bias")
        st.metric(
            "Left draft wins (ties half)",
            f"{position.win_rate:.0%}",
            help="Well away from 50% means reviewers favour a side, not a draft.",
        )
        st.caption(
            f"95% interval {position.low:.0%} to {position.high:.0%} over {position.n} "
            f"judgements: left won {position.wins}, right {position.losses}, "
            f"{position.ties} ties."
        )
    st.download_button(
        "Download CSV",
        comparison_csv(result),
        file_name="draft_comparison.csv",
        mime="text/csv",
        key="draft_comparison_csv",
        icon=":material/download:",
    )

if allowed(store, "task.assign"):
    from workbench.ui.pairwise_form import pairwise_form

    with st.expander("Create pairwise tasks", icon=":material/compare:"):
        pairwise_form(store)
