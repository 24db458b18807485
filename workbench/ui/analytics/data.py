"""The Analytics page's reads, cached until the database changes (keyed like
``workbench.ui.resources``: the store, who reads, its content stamp and the filters). The
cached DataFrames are shared between sessions: read them, never change them.

Before reading, ``fresh`` brings the facts up to date (``analytics.refresh``, incremental)
when the database changed since the last refresh this server made, so the page shows what
was just signed or simulated without a separate step; a rerun with nothing new refreshes
nothing (the refresh's own commit is remembered as the fresh state).
"""

from __future__ import annotations

import threading
from dataclasses import replace

import pandas as pd
import streamlit as st

from workbench import store as db
from workbench.store import analytics
from workbench.store.analytics import Filters
from workbench.ui.resources import cache_key


class _FreshState:
    """The content stamp right after this server's last refresh of one database."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.stamp: tuple | None = None


@st.cache_resource(show_spinner=False)
def _fresh_state(path: str) -> _FreshState:
    return _FreshState()


def fresh(store: db.Store) -> None:
    """Refresh the analytics facts if anything changed since this server last did."""
    state = _fresh_state(str(store.path))
    with state.lock:  # one refresh at a time; the others then find it fresh
        if state.stamp == store.content_stamp():
            return
        with st.spinner("Updating the analytics…"):
            analytics.refresh(store)
        state.stamp = store.content_stamp()


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
    store: db.Store, filters: Filters, shown: dict[str, pd.DataFrame], options
) -> tuple[int, int]:
    """(simulated, all) encounters in the selection. Counting the simulated ones takes a
    second (cached) query only when the store holds both kinds and the selection may too."""
    total = int(shown["volume"]["ingested"].sum())
    if filters.simulated is not None or not options.simulated or not total:
        return (total if filters.simulated else 0), total
    if options.simulated == options.encounters:  # every encounter is simulated
        return total, total
    return _simulated_in(store, cache_key(store), store.content_stamp(), filters), total


@st.cache_resource(show_spinner=False, max_entries=16)
def _drilldown(_store: db.Store, key: tuple, stamp: tuple, filters: Filters, pick: tuple):
    return analytics.drilldown(_store, filters, **dict(pick))


def drilldown(store: db.Store, filters: Filters, **pick) -> pd.DataFrame:
    """The encounters behind one cell (``analytics.drilldown``, admins only)."""
    return _drilldown(
        store, cache_key(store), store.content_stamp(), filters, tuple(sorted(pick.items()))
    )
