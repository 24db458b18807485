"""Edit conflicts: a note save refused because someone saved first keeps the refused text.

Two clinicians open version 1 and both save: the first save makes version 2; the second is
refused (``ConcurrentEdit``: saving it would silently drop the first one's changes). Instead
of losing the second clinician's text, it is kept here (``note.conflict`` event, same
transaction) until they decide: take theirs (discard mine), take mine (saved as a new
version on top of theirs), or merge by hand in the editor. Each decision is an event; the
kept text is never deleted.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import duckdb

from pipelines.types import NoteSentence
from workbench.store.db import ConcurrentEdit, NotFound, Store, utcnow
from workbench.store.events import insert_events, new_event
from workbench.store.notes import _latest_version, save_note

CONFLICT, RESOLVED = "note.conflict", "note.conflict_resolved"
RESOLUTIONS = ("took_theirs", "took_mine", "merged")

_COLUMNS = (
    "conflict_id, encounter_id, user_id, base_version, theirs_version, sentences, created_at,"
    " resolution, resolved_at"
)


@dataclass(frozen=True)
class NoteConflict:
    """A refused save: ``sentences`` (the user's text, on ``base_version``) against
    ``theirs_version``, saved by someone else meanwhile."""

    conflict_id: str
    encounter_id: str
    user_id: str
    base_version: int
    theirs_version: int
    sentences: tuple[NoteSentence, ...]
    created_at: datetime
    resolution: str | None = None
    resolved_at: datetime | None = None


class EditConflict(ConcurrentEdit):
    """A save refused because a newer version exists; the refused text is kept in
    ``conflict`` (nothing else was written)."""

    def __init__(self, message: str, conflict: NoteConflict) -> None:
        super().__init__(message)
        self.conflict = conflict


def keep_refused(
    store: Store,
    encounter_id: str,
    base_version: int,
    sentences: tuple[NoteSentence, ...],
    user_id: str,
) -> NoteConflict:
    """Keep a refused save's text as an open conflict (with its event) and drop the user's
    autosave of the same edits, which the conflict now holds."""
    from workbench.store.autosave import dump_sentences

    with store.transaction() as con:
        theirs = _latest_version(con, encounter_id)
        conflict = NoteConflict(
            str(uuid.uuid4()),
            encounter_id,
            user_id,
            base_version,
            theirs,
            tuple(sentences),
            utcnow(),
        )
        con.execute(
            f"INSERT INTO note_conflicts ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
            [
                conflict.conflict_id,
                encounter_id,
                user_id,
                base_version,
                theirs,
                dump_sentences(conflict.sentences),
                conflict.created_at,
            ],
        )
        con.execute(
            "DELETE FROM note_autosaves WHERE encounter_id = ? AND user_id = ?",
            [encounter_id, user_id],
        )
        insert_events(
            con,
            [
                new_event(
                    user_id,
                    encounter_id,
                    CONFLICT,
                    object_type="note_conflict",
                    object_id=conflict.conflict_id,
                    before={"base_version": base_version},
                    after={"theirs_version": theirs, "sentences": len(sentences)},
                    note_version=theirs,
                )
            ],
        )
    return conflict


def open_conflicts(store: Store, encounter_id: str, user_id: str) -> list[NoteConflict]:
    """The user's unresolved conflicts on this encounter, oldest first."""
    with store.connect() as con:
        rows = con.execute(
            f"SELECT {_COLUMNS} FROM note_conflicts WHERE encounter_id = ? AND user_id = ?"
            " AND resolution IS NULL ORDER BY created_at",
            [encounter_id, user_id],
        ).fetchall()
    return [_conflict(row) for row in rows]


def get_conflict(store: Store, conflict_id: str) -> NoteConflict:
    """One conflict, resolved or not; raises NotFound."""
    with store.connect() as con:
        row = con.execute(
            f"SELECT {_COLUMNS} FROM note_conflicts WHERE conflict_id = ?", [conflict_id]
        ).fetchone()
    if row is None:
        raise NotFound(f"No edit conflict {conflict_id}")
    return _conflict(row)


def resolve_conflict(store: Store, conflict_id: str, resolution: str, user_id: str) -> None:
    """Record the user's decision (``took_theirs`` or ``merged``: the text stays kept here).
    Raises NotFound for an unknown or already resolved conflict."""
    if resolution not in RESOLUTIONS:
        raise ValueError(f"resolution must be one of {RESOLUTIONS}")
    with store.transaction() as con:
        _resolve(con, conflict_id, resolution, user_id, None)


def take_mine(store: Store, conflict_id: str, user_id: str) -> int:
    """Save the refused text as a new version on top of theirs and close the conflict, in
    one transaction; returns the new version. Raises ConcurrentEdit if yet another version
    was saved since the conflict (decide again on the newest)."""
    conflict = get_conflict(store, conflict_id)
    with store.transaction() as con:
        version = save_note(
            store, conflict.encounter_id, conflict.theirs_version, conflict.sentences, user_id
        )
        _resolve(con, conflict_id, "took_mine", user_id, version)
    return version


def _resolve(
    con: duckdb.DuckDBPyConnection,
    conflict_id: str,
    resolution: str,
    user_id: str,
    version: int | None,
) -> None:
    row = con.execute(
        "SELECT encounter_id, theirs_version FROM note_conflicts WHERE conflict_id = ?"
        " AND resolution IS NULL",
        [conflict_id],
    ).fetchone()
    if row is None:
        raise NotFound(f"No open edit conflict {conflict_id}")
    con.execute(
        "UPDATE note_conflicts SET resolution = ?, resolved_at = ? WHERE conflict_id = ?",
        [resolution, utcnow(), conflict_id],
    )
    insert_events(
        con,
        [
            new_event(
                user_id,
                row[0],
                RESOLVED,
                object_type="note_conflict",
                object_id=conflict_id,
                after={"resolution": resolution, "saved_version": version},
                note_version=version or row[1],
            )
        ],
    )


def _conflict(row: tuple) -> NoteConflict:
    from workbench.store.autosave import load_sentences

    return NoteConflict(
        row[0], row[1], row[2], row[3], row[4], load_sentences(row[5]), row[6], row[7], row[8]
    )
