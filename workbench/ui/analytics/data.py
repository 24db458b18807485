"""The Analytics page's reads, cached until the database changes (keyed like
``workbench.ui.resources``: the store, who reads, its content stamp and the filters). The
cached DataFrames are shared between sessions: read them, never change them.

Before reading, ``fresh`` brings the facts up to date (``analytics.refresh``, incremental),
which holds the store's write lock (~0.8 s at 100,000 encounters after a change): so at most
once every ``REFRESH_EVERY_S`` per server and database when the database changed since this
server's last refresh, always on the server's first visit and when a user asks ("Refresh
now"). In between the page shows the figures as of the last refresh, and says so.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime

import pandas as pd
import streamlit as st

from workbench import store as db
from workbench.store import analytics
from workbench.store.analytics import Filters
from workbench.store.db import utcnow
from workbench.ui.resources import cache_key

# Seconds between automatic refreshes of one database by one server.
REFRESH_EVERY_S = 300


class _FreshState:
    """This server's last refresh of one database: when, and the content stamp right after."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.stamp: tuple | None = None
        self.at: datetime | None = None  # UTC, for the page
        self.clock = 0.0  # time.monotonic() of the refresh, for the interval


@st.cache_resource(show_spinner=False)
def _fresh_state(path: str) -> _FreshState:
    return _FreshState()


@dataclass(frozen=True)
class Freshness:
    """How current the facts are."""

    at: datetime  # UTC time of this server's last refresh
    pending: bool  # the database changed since (shown at the next refresh)


def fresh(store: db.Store, force: bool = False) -> Freshness:
    """Refresh the analytics facts if this server never did, if ``force``, or if the database
    changed since its last refresh and that was ``REFRESH_EVERY_S`` ago or more."""
    state = _fresh_state(str(store.path))
    with state.lock:  # one refresh at a time; the others then find it fresh
        changed = state.stamp != store.content_stamp()
        due = time.monotonic() - state.clock >= REFRESH_EVERY_S
        if state.at is None or force or (changed and due):
            with st.spinner("Updating the analytics…"):
                analytics.refresh(store)
            state.stamp = store.content_stamp()
            state.at, state.clock, changed = utcnow(), time.monotonic(), False
        return Freshness(at=state.at, pending=changed)


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
