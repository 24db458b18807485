"""The append-only event log: every correction and every workflow step."""

from __future__ import annotations

import json
import uuid
from typing import Any

import duckdb

from workbench.store.access import require
from workbench.store.audit import append_row, role_and_head
from workbench.store.db import Store, utcnow
from workbench.store.records import Event

# An event stored already (a retry after a lost reply replays the same Event: same id, same
# time) is not stored again. Portable SQL (DuckLake has no keys), safe under the store's
# one-writer lock. The time lets DuckLake skip every Parquet file whose ts range misses it
# (events are appended in time order): ~20 ms instead of ~75 ms among 1M events; on the
# file the event_id key still refuses the same id with another time.
# Kept as id + ts on purpose (reviewed): a replay always carries the same Event, ts included.
_INSERT = (
    "INSERT INTO events (event_id, ts, user_id, encounter_id, kind, object_type, object_id,"
    " before, after, model_version, note_version) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
    " WHERE NOT EXISTS (SELECT 1 FROM events WHERE event_id = ? AND ts = ?)"
)
# Events that only record what a reviewer did (looked at a sentence's evidence, was active):
# they change no note, transcript or decision, so they leave ``Store.content_stamp`` alone,
# and they are not audited one by one (the view itself is: ``record_view``).
ACTIVITY_KINDS = frozenset({"sentence.viewed", "review.active"})
_SELECT = (
    "SELECT event_id, ts, user_id, encounter_id, kind, object_type, object_id,"
    " before, after, model_version, note_version FROM events"
    " WHERE (? IS NULL OR encounter_id = ?) AND (? IS NULL OR kind = ?)"
    " ORDER BY ts, event_id"
)


def new_event(
    user_id: str,
    encounter_id: str | None,
    kind: str,
    *,
    object_type: str | None = None,
    object_id: str | None = None,
    before: Any = None,
    after: Any = None,
    model_version: str | None = None,
    note_version: int | None = None,
) -> Event:
    """An event with a fresh id and the current UTC time."""
    return Event(
        event_id=str(uuid.uuid4()),
        ts=utcnow(),
        user_id=user_id,
        encounter_id=encounter_id,
        kind=kind,
        object_type=object_type,
        object_id=object_id,
        before=before,
        after=after,
        model_version=model_version,
        note_version=note_version,
    )


def insert_events(con: duckdb.DuckDBPyConnection, events: list[Event]) -> None:
    """Append events inside the caller's transaction. Event ids make this idempotent.

    Each event other than reviewer activity also gets its audit row here, in the same
    transaction: every edit, sign, export and login reaches the audit log this one way."""
    roles: dict[str, str | None] = {}
    head = None  # the audit chain's newest row, read once per call
    for ev in events:
        inserted = con.execute(
            _INSERT,
            [
                ev.event_id,
                ev.ts,
                ev.user_id,
                ev.encounter_id,
                ev.kind,
                ev.object_type,
                ev.object_id,
                _dump(ev.before),
                _dump(ev.after),
                ev.model_version,
                ev.note_version,
                ev.event_id,
                ev.ts,
            ],
        ).fetchone()[0]
        if inserted and ev.kind not in ACTIVITY_KINDS:  # a replayed event is audited once
            head = _audit(con, ev, roles, head)


def _audit(
    con: duckdb.DuckDBPyConnection,
    ev: Event,
    roles: dict[str, str | None],
    head: tuple[int, str] | None,
) -> tuple[int, str]:
    if ev.user_id not in roles:
        roles[ev.user_id], head = role_and_head(con, ev.user_id)
    object_type, object_id = ev.object_type, ev.object_id
    if object_id is None and ev.encounter_id is not None:
        object_type, object_id = "encounter", ev.encounter_id
    outcome = "failed" if ev.kind.endswith("_failed") else "allowed"
    detail = {"event_id": ev.event_id, "encounter_id": ev.encounter_id}
    return append_row(
        con, ev.user_id, roles[ev.user_id], ev.kind, object_type, object_id, outcome, detail, head
    )


def append_event(store: Store, event: Event) -> None:
    """Append one event in its own transaction (the actor must be able to open the
    encounter it is about)."""
    if event.encounter_id is not None:
        require(store, "encounter.view", event.encounter_id)
    with store.transaction(activity=event.kind in ACTIVITY_KINDS) as con:
        insert_events(con, [event])


def list_events(
    store: Store, encounter_id: str | None = None, kind: str | None = None
) -> list[Event]:
    """Events in time order, optionally for one encounter and/or one kind. Their before and
    after hold identified text: the encounter's ``text.phi``, or ``audit.view`` for all."""
    if encounter_id is None:
        require(store, "audit.view")
    else:
        require(store, "text.phi", encounter_id)
    with store.connect() as con:
        rows = con.execute(_SELECT, [encounter_id, encounter_id, kind, kind]).fetchall()
    return [_event(row) for row in rows]


def _dump(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, default=str)


def _event(row: tuple) -> Event:
    return Event(
        event_id=row[0],
        ts=row[1],
        user_id=row[2],
        encounter_id=row[3],
        kind=row[4],
        object_type=row[5],
        object_id=row[6],
        before=None if row[7] is None else json.loads(row[7]),
        after=None if row[8] is None else json.loads(row[8]),
        model_version=row[9],
        note_version=row[10],
    )
