"""Drill-down from a figure's cell to its encounters, for those allowed to see them
(``analytics.drilldown``: admins). Each row links to the Review page."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from workbench import store as db
from workbench.store.analytics import Filters
from workbench.ui.analytics import data

KINDS = {
    "clinician": "A clinician",
    "section": "A note section (highest edit distance first)",
    "support_label": "A support label",
    "confusion": "An entity-correction cell",
    "fast_sign": "Fast signatures",
}


def _choices(kind: str, shown: dict[str, pd.DataFrame]) -> list:
    """What can be picked for ``kind``, from the figures on the page."""
    if kind == "clinician":
        return sorted(shown["adoption"]["clinician"].dropna().unique())
    if kind == "section":
        return list(shown["edit_burden"].sort_values("mean_ned", ascending=False)["section"])
    if kind == "support_label":
        return list(shown["sentence_outcomes"]["support_label"])
    if kind == "confusion":
        cells = shown["entity_confusion"].sort_values("n", ascending=False)
        return list(zip(cells["model_label"], cells["final_label"], strict=True))
    return ["fast"]


def _pick(kind: str, choice) -> dict:
    if kind == "confusion":
        return {"model_label": choice[0], "final_label": choice[1]}
    if kind == "fast_sign":
        return {"fast_sign": True}
    return {kind: choice}


def _label(choice) -> str:
    return f"{choice[0]} → {choice[1]}" if isinstance(choice, tuple) else str(choice)


def drilldown_panel(store: db.Store, filters: Filters, shown: dict[str, pd.DataFrame]) -> None:
    """Pick a cell, see up to ``limit`` of its encounters under the page's filters."""
    st.subheader("Drill down to encounters")
    left, right = st.columns(2)
    kind = left.selectbox(
        "Drill into", list(KINDS), format_func=KINDS.__getitem__, key="an_drill_kind"
    )
    choices = _choices(kind, shown)
    if not choices:
        st.caption("Nothing to drill into under these filters.")
        return
    choice = right.selectbox(
        "Which", choices, format_func=_label, key=f"an_drill_{kind}", disabled=kind == "fast_sign"
    )
    rows = data.drilldown(store, filters, **_pick(kind, choice))
    if rows.empty:
        st.caption("No encounters.")
        return
    table = rows.assign(open="review?encounter=" + rows["encounter_id"].astype(str))
    st.dataframe(
        table[["open", *rows.columns]],
        hide_index=True,
        key="an_drill_table",
        column_config={
            "open": st.column_config.LinkColumn("open", display_text="Review"),
            "ned": st.column_config.NumberColumn("ned", format="%.2f"),
        },
    )
    st.caption(f"{len(rows)} encounters shown (at most 200) · times are UTC")
