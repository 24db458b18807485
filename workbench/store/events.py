"""The append-only event log: every correction and every workflow step."""

from __future__ import annotations

import json
import uuid
from typing import Any

import duckdb

from workbench.store.db import Store, utcnow
from workbench.store.records import Event

_INSERT = (
    "INSERT INTO events (event_id, ts, user_id, encounter_id, kind, object_type, object_id,"
    " before, after, model_version, note_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT DO NOTHING"
)
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
    """Append events inside the caller's transaction. Event ids make this idempotent."""
    for ev in events:
        con.execute(
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
            ],
        )


# Events that only record what a reviewer did (looked at a sentence's evidence, was active):
# they change no note, transcript or decision, so they leave ``Store.content_stamp`` alone.
ACTIVITY_KINDS = frozenset({"sentence.viewed", "review.active"})


def append_event(store: Store, event: Event) -> None:
    """Append one event in its own transaction."""
    with store.transaction(activity=event.kind in ACTIVITY_KINDS) as con:
        insert_events(con, [event])


def list_events(
    store: Store, encounter_id: str | None = None, kind: str | None = None
) -> list[Event]:
    """Events in time order, optionally for one encounter and/or one kind."""
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
