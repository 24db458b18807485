"""The reads behind ``workbench.notebook``: encounters (the analytics facts), events and the
events that become correction records, with bound parameters.

Each has a ``*_relation`` form (a lazy DuckDB relation on an open connection, for a notebook
inside ``Notebook.connection()``: unbounded and unordered, because an aggregate over it runs in
DuckDB and must cover every row) and a DataFrame form that opens and closes the store, ordered
oldest first and bounded by a LIMIT. The DataFrame forms read one row more than the limit, so
the caller can tell (``Rows.cut``) that the limit cut rows off.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

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
    " FROM analytics_encounters e WHERE " + WHERE_ENCOUNTERS
)
_ENCOUNTERS_ORDER = " ORDER BY e.created_at, e.encounter_id LIMIT $limit"
# Before and after hold identified text: only for those who may read the whole log.
_EVENTS_WITH_TEXT = (
    "SELECT event_id, ts, user_id, encounter_id, kind, object_type, object_id,"
    " before, after, model_version, note_version FROM events"
    " WHERE ($kinds::VARCHAR[] IS NULL OR list_contains($kinds::VARCHAR[], kind))"
    " AND ($since::TIMESTAMP IS NULL OR ts >= $since::TIMESTAMP)"
)
_EVENTS = (
    "SELECT event_id, ts, user_id, encounter_id, kind, object_type, object_id,"
    " model_version, note_version FROM events"
    " WHERE ($kinds::VARCHAR[] IS NULL OR list_contains($kinds::VARCHAR[], kind))"
    " AND ($since::TIMESTAMP IS NULL OR ts >= $since::TIMESTAMP)"
)
_EVENTS_ORDER = " ORDER BY ts, event_id LIMIT $limit"
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


class Rows(NamedTuple):
    """At most ``limit`` rows, and whether more rows matched than the limit let through."""

    frame: pd.DataFrame
    cut: bool


def _bounded(rel: duckdb.DuckDBPyRelation, limit: int) -> Rows:
    """The first ``limit`` rows of ``rel`` (read with LIMIT limit + 1 to see a cut)."""
    frame = rel.df()
    if len(frame) <= limit:
        return Rows(frame, False)
    return Rows(frame.iloc[:limit], True)


def _encounter_params(filters: Filters) -> dict:
    return {k: v for k, v in analytics.filter_params(filters).items() if "$" + k in _ENCOUNTERS}


def encounters_relation(
    con: duckdb.DuckDBPyConnection, filters: Filters
) -> duckdb.DuckDBPyRelation:
    """Every per-encounter analytics fact under ``filters`` (measures, no patient text; the
    refresh's fingerprint columns left out), unordered and without a LIMIT."""
    return con.sql(_ENCOUNTERS, params=_encounter_params(filters))


def encounters(store: Store, filters: Filters, limit: int) -> Rows:
    """The facts of ``encounters_relation``, oldest first, at most ``limit`` rows
    (``analytics.drilldown``: one row per encounter, with its id)."""
    params = _encounter_params(filters) | {"limit": check_limit(limit) + 1}
    require(store, "analytics.drilldown")
    with store.connect() as con:
        return _bounded(con.sql(_ENCOUNTERS + _ENCOUNTERS_ORDER, params=params), limit)


def _event_params(kinds: tuple[str, ...] | None, since: datetime | None) -> dict:
    return {"kinds": None if kinds is None else list(kinds), "since": since}


def events_relation(
    con: duckdb.DuckDBPyConnection,
    kinds: tuple[str, ...] | None,
    since: datetime | None,
    with_text: bool,
) -> duckdb.DuckDBPyRelation:
    """Every event of ``kinds`` since ``since``, unordered and without a LIMIT;
    ``before``/``after`` only ``with_text``."""
    sql = _EVENTS_WITH_TEXT if with_text else _EVENTS
    return con.sql(sql, params=_event_params(kinds, since))


def events_with_text(store: Store) -> bool:
    """Whether the actor may read events' before/after (identified text): ``audit.view``."""
    return allowed(store, "audit.view")


def events(store: Store, kinds: tuple[str, ...] | None, since: datetime | None, limit: int) -> Rows:
    """The events of ``events_relation`` in time order, at most ``limit`` rows
    (``analytics.drilldown``; before/after with ``audit.view``)."""
    params = _event_params(kinds, since) | {"limit": check_limit(limit) + 1}
    require(store, "analytics.drilldown")
    sql = (_EVENTS_WITH_TEXT if events_with_text(store) else _EVENTS) + _EVENTS_ORDER
    with store.connect() as con:
        return _bounded(con.sql(sql, params=params), limit)


def correction_event_list(store: Store, encounter_id: str, since: datetime | None) -> list[Event]:
    """The encounter's events, as stored (identified text): for the corrections export,
    which de-identifies them for actors without ``text.phi``. ``encounter.view``."""
    require(store, "encounter.view", encounter_id)
    with store.connect() as con:
        rows = con.execute(_CORRECTION_EVENTS, [encounter_id, since, since]).fetchall()
    return [_event(row) for row in rows]


def analytics_encounter_ids(
    store: Store, since: datetime | None, limit: int
) -> tuple[list[str], bool]:
    """Encounter ids in the analytics facts (with events since ``since``), oldest first, at
    most ``limit``, and whether the limit cut ids off."""
    params = {"since": since, "limit": check_limit(limit) + 1}
    require(store, "analytics.view")
    with store.connect() as con:
        ids = [r[0] for r in con.execute(_ENCOUNTER_IDS, params).fetchall()]
    return ids[:limit], len(ids) > limit
