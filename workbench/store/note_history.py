"""A note's history for the reviewer: the machine draft it started from, and who changed
what in which version (read from the event log)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from workbench.store.access import require
from workbench.store.db import Store
from workbench.store.events import _event
from workbench.store.notes import _read_note, list_note_versions
from workbench.store.records import Event, NoteVersion
from workbench.store.signatures import Signature, list_signatures

# Events the version history shows (views, heartbeats and support checks are left out).
HISTORY_KINDS = (
    "note.drafted",
    "note.saved",
    "note.dictated",
    "note.sections_reordered",
    "note.evidence_remapped",
    "note.signed",
    "note.amendment_started",
    "note.exported",
    "sentence.accepted",
    "sentence.edited",
    "sentence.added",
    "sentence.moved",
    "sentence.deleted",
    "sentence.regenerated",
    "sentence.evidence_changed",
    "omission.added",
)

_MACHINE_DRAFT = (
    "SELECT max(version) FROM notes WHERE encounter_id = ? AND parent_version IS NULL"
    " AND version <= ?"
)
_HISTORY = (
    "SELECT event_id, ts, user_id, encounter_id, kind, object_type, object_id,"
    " before, after, model_version, note_version FROM events"
    " WHERE encounter_id = ? AND kind IN ({}) ORDER BY ts, event_id"
).format(", ".join("?" * len(HISTORY_KINDS)))


def machine_draft(store: Store, encounter_id: str, version: int) -> NoteVersion | None:
    """The machine draft ``version`` descends from: the newest version up to it that has no
    parent (a drafter wrote it), or None."""
    require(store, "text.phi", encounter_id)
    with store.connect() as con:
        found = con.execute(_MACHINE_DRAFT, [encounter_id, version]).fetchone()[0]
        return None if found is None else _read_note(con, encounter_id, found)


def history_events(store: Store, encounter_id: str) -> list[Event]:
    """The note's events worth showing in its version history, oldest first."""
    require(store, "text.phi", encounter_id)
    with store.connect() as con:
        rows = con.execute(_HISTORY, [encounter_id, *HISTORY_KINDS]).fetchall()
    return [_event(r) for r in rows]


@dataclass(frozen=True)
class NoteHistory:
    """Everything the history views show about one encounter's note."""

    machine: NoteVersion | None  # the machine draft the newest version descends from
    versions: tuple[tuple[int, str, datetime], ...]  # (version, created_by, created_at)
    events: tuple[Event, ...]
    signatures: tuple[Signature, ...]


def note_history(store: Store, encounter_id: str, version: int) -> NoteHistory:
    """The note's history up to ``version`` (read in one connection)."""
    require(store, "text.phi", encounter_id)
    with store.connect():
        return NoteHistory(
            machine=machine_draft(store, encounter_id, version),
            versions=tuple(tuple(v) for v in list_note_versions(store, encounter_id)),
            events=tuple(history_events(store, encounter_id)),
            signatures=tuple(list_signatures(store, encounter_id)),
        )
