"""Analytics (analysts and admins): usage and draft quality as nine plotly figures computed
in DuckDB (``workbench.store.analytics``), under filters kept in the URL. Each figure has a
one-line definition, a CSV of its table and a PNG from the chart's modebar. Aggregates only;
admins can drill down to the encounters behind a cell."""

from __future__ import annotations

import streamlit as st

from workbench.store import analytics
from workbench.store.access import Forbidden, allowed
from workbench.ui import resources
from workbench.ui.analytics import (
    data,
    drilldown_panel,
    filter_widgets,
    quality,
    remember,
    restore,
    review_signals,
    usage,
)

store = resources.session_store()  # acts for the signed-in user
st.title("Analytics")
try:
    # "Refresh now" (below) sets its key before this rerun: refresh before reading.
    freshness = data.fresh(store, force=bool(st.session_state.get("an_refresh")))
    options = data.options(store)
except Forbidden as exc:  # refused and audited
    st.error(str(exc), icon=":material/lock:")
    st.stop()
if not options.encounters:
    st.info(
        "No encounters yet: the figures appear once encounters are ingested. For a demo, "
        "`scribe simulate --encounters 2000 --seed 1` makes simulated ones.",
        icon=":material/hourglass_empty:",
    )
    st.stop()

as_of, refresh_now = st.columns([4, 1], vertical_alignment="center")
as_of.caption(
    f"Figures as of {freshness.at:%H:%M} UTC"
    + (" · newer changes show at the next refresh" if freshness.pending else ""),
    help=f"The figures are refreshed at most every {data.REFRESH_EVERY_S // 60} minutes "
    "(a refresh briefly holds the database's write lock), or with Refresh now.",
)
refresh_now.button("Refresh now", key="an_refresh", type="tertiary", icon=":material/refresh:")

saved, problems = restore()
for problem in problems:
    st.warning(problem)
filters, problem = filter_widgets(saved, options)
if problem:
    st.error(problem)
remember(filters)

shown = data.figures(store, filters)  # one call, one connection, cached on stamp + filters
simulated, total = data.selection_counts(store, filters, shown, options)
if not total:
    st.info("No encounters match these filters.", icon=":material/filter_alt_off:")
    st.stop()
if simulated:
    st.warning(
        f"{simulated:,} of {total:,} encounters in this selection are simulated "
        "(`scribe simulate`), not real use.",
        icon=":material/science:",
    )

# Two figures a row; the rubber-stamp figure (two charts in one) takes a whole row.
ROWS = (
    ((usage.volume, "volume"), (usage.time_to_sign, "time_to_sign")),
    ((quality.edit_burden, "edit_burden"), (quality.sentence_outcomes, "sentence_outcomes")),
    ((quality.entity_confusion, "entity_confusion"), (review_signals.asr_wer, "asr_wer")),
    ((quality.model_versions, "model_versions"), (usage.adoption, "adoption")),
)
for row in ROWS:
    for column, (panel, name) in zip(st.columns(2, gap="large"), row, strict=True):
        with column:
            panel(shown[name], simulated)
review_signals.rubber_stamp(shown["rubber_stamp"], analytics.READING_WPM, simulated)

st.divider()
if allowed(store, "analytics.drilldown"):
    drilldown_panel(store, filters, shown)
else:
    st.caption(
        "Analysts see aggregates only: drilling down to encounters is for admins.",
        help="The policy's analytics.drilldown action",
    )
