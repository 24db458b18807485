"""The reads behind ``workbench.notebook``: encounters (the analytics facts), events and the
events that become correction records, each bounded by a LIMIT and with bound parameters.

Each has a ``*_relation`` form (a lazy DuckDB relation on an open connection, for a notebook
inside ``Notebook.connection()``) and a DataFrame form that opens and closes the store.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import pandas as pd

from workbench.store import analytics
from workbench.store.access import allowed, require
from workbench.store.analytics import Filters
from workbench.store.analytics_figures import WHERE_ENCOUNTERS
from workbench.store.db import Store
from workbench.store.events import _event
from workbench.store.records import Event

MAX_ROWS = 100_000  # the most rows one call returns: a notebook never loads a whole table

# The figures' own filter (``analytics_figures.WHERE_ENCOUNTERS``), so rows match figures.
_ENCOUNTERS = (
    "SELECT * EXCLUDE (events_n, events_max_ts, signatures_n, notes_n, refreshed_at)"
    " FROM analytics_encounters e WHERE "
    + WHERE_ENCOUNTERS
    + " ORDER BY e.created_at, e.encounter_id LIMIT $limit"
)
# Before and after hold identified text: only for those who may read the whole log.
_EVENTS_WITH_TEXT = (
    "SELECT event_id, ts, user_id, encounter_id, kind, object_type, object_id,"
    " before, after, model_version, note_version FROM events"
    " WHERE ($kinds::VARCHAR[] IS NULL OR list_contains($kinds::VARCHAR[], kind))"
    " AND ($since::TIMESTAMP IS NULL OR ts >= $since::TIMESTAMP)"
    " ORDER BY ts, event_id LIMIT $limit"
)
_EVENTS = (
    "SELECT event_id, ts, user_id, encounter_id, kind, object_type, object_id,"
    " model_version, note_version FROM events"
    " WHERE ($kinds::VARCHAR[] IS NULL OR list_contains($kinds::VARCHAR[], kind))"
    " AND ($since::TIMESTAMP IS NULL OR ts >= $since::TIMESTAMP)"
    " ORDER BY ts, event_id LIMIT $limit"
)
_CORRECTION_EVENTS = (
    "SELECT event_id, ts, user_id, encounter_id, kind, object_type, object_id,"
    " before, after, model_version, note_version FROM events"
    " WHERE encounter_id = ? AND (? IS NULL OR ts >= ?) ORDER BY ts, event_id"
)
_ENCOUNTER_IDS = (
    "SELECT encounter_id FROM analytics_encounters"
    " WHERE ($since::TIMESTAMP IS NULL OR encounter_id IN"
    "   (SELECT encounter_id FROM events WHERE ts >= $since::TIMESTAMP))"
    " ORDER BY created_at, encounter_id LIMIT $limit"
)


def check_limit(limit: int) -> int:
    """``limit`` if it is a row count a call may return; ValueError otherwise."""
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_ROWS:
        raise ValueError(f"limit must be a whole number from 1 to {MAX_ROWS:,}, not {limit!r}")
    return limit


def _encounter_params(filters: Filters, limit: int) -> dict:
    params = {k: v for k, v in analytics.filter_params(filters).items() if "$" + k in _ENCOUNTERS}
    return params | {"limit": check_limit(limit)}


def encounters_relation(
    con: duckdb.DuckDBPyConnection, filters: Filters, limit: int
) -> duckdb.DuckDBPyRelation:
    """The per-encounter analytics facts under ``filters`` (measures, no patient text; the
    refresh's fingerprint columns left out)."""
    return con.sql(_ENCOUNTERS, params=_encounter_params(filters, limit))


def encounters(store: Store, filters: Filters, limit: int) -> pd.DataFrame:
    """``encounters_relation`` as a DataFrame (``analytics.view``)."""
    require(store, "analytics.view")
    with store.connect() as con:
        return encounters_relation(con, filters, limit).df()


def events_relation(
    con: duckdb.DuckDBPyConnection,
    kinds: tuple[str, ...] | None,
    since: datetime | None,
    limit: int,
    with_text: bool,
) -> duckdb.DuckDBPyRelation:
    """Events in time order; ``before``/``after`` only ``with_text``."""
    params = {
        "kinds": None if kinds is None else list(kinds),
        "since": since,
        "limit": check_limit(limit),
    }
    return con.sql(_EVENTS_WITH_TEXT if with_text else _EVENTS, params=params)


def events_with_text(store: Store) -> bool:
    """Whether the actor may read events' before/after (identified text): ``audit.view``."""
    return allowed(store, "audit.view")


def events(
    store: Store, kinds: tuple[str, ...] | None, since: datetime | None, limit: int
) -> pd.DataFrame:
    """``events_relation`` as a DataFrame (``analytics.view``; text with ``audit.view``)."""
    require(store, "analytics.view")
    with store.connect() as con:
        return events_relation(con, kinds, since, limit, events_with_text(store)).df()


def correction_event_list(store: Store, encounter_id: str, since: datetime | None) -> list[Event]:
    """The encounter's events, as stored (identified text): for the corrections export,
    which de-identifies them for actors without ``text.phi``. ``encounter.view``."""
    require(store, "encounter.view", encounter_id)
    with store.connect() as con:
        rows = con.execute(_CORRECTION_EVENTS, [encounter_id, since, since]).fetchall()
    return [_event(row) for row in rows]


def analytics_encounter_ids(store: Store, since: datetime | None, limit: int) -> list[str]:
    """Encounter ids in the analytics facts (with events since ``since``), oldest first."""
    require(store, "analytics.view")
    with store.connect() as con:
        rows = con.execute(_ENCOUNTER_IDS, {"since": since, "limit": check_limit(limit)})
        return [r[0] for r in rows.fetchall()]
