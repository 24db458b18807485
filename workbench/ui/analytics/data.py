"""The Analytics page's reads, cached until the database changes (keyed like
``workbench.ui.resources``: the store, who reads, its content stamp and the filters). The
cached DataFrames are shared between sessions: read them, never change them."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from workbench import store as db
from workbench.store import analytics
from workbench.store.analytics import Filters
from workbench.ui.resources import cache_key


@st.cache_resource(show_spinner=False, max_entries=4)
def _options(_store: db.Store, key: tuple, stamp: tuple):
    return analytics.filter_options(_store)


def options(store: db.Store):
    """Distinct filter values and the store's date range and counts."""
    return _options(store, cache_key(store), store.content_stamp())


@st.cache_resource(show_spinner="Computing the figures…", max_entries=16)
def _figures(_store: db.Store, key: tuple, stamp: tuple, filters: Filters):
    return analytics.figures(_store, filters)


def figures(store: db.Store, filters: Filters) -> dict[str, pd.DataFrame]:
    """Every figure's aggregate table, from one call on one connection."""
    return _figures(store, cache_key(store), store.content_stamp(), filters)


@st.cache_resource(show_spinner=False, max_entries=16)
def _simulated_in(_store: db.Store, key: tuple, stamp: tuple, filters: Filters) -> int:
    volume = analytics.figure(_store, "volume", replace(filters, simulated=True))
    return int(volume["ingested"].sum())


def selection_counts(
    store: db.Store, filters: Filters, shown: dict[str, pd.DataFrame], any_simulated: bool
) -> tuple[int, int]:
    """(simulated, all) encounters in the selection. Counting the simulated ones takes a
    second (cached) query only when the store has some and the selection may mix both."""
    total = int(shown["volume"]["ingested"].sum())
    if filters.simulated is not None or not any_simulated or not total:
        return (total if filters.simulated else 0), total
    return _simulated_in(store, cache_key(store), store.content_stamp(), filters), total


@st.cache_resource(show_spinner=False, max_entries=16)
def _drilldown(_store: db.Store, key: tuple, stamp: tuple, filters: Filters, pick: tuple):
    return analytics.drilldown(_store, filters, **dict(pick))


def drilldown(store: db.Store, filters: Filters, **pick) -> pd.DataFrame:
    """The encounters behind one cell (``analytics.drilldown``, admins only)."""
    return _drilldown(
        store, cache_key(store), store.content_stamp(), filters, tuple(sorted(pick.items()))
    )
