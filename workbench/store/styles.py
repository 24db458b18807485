"""Clinicians' learned writing styles and the signed notes they are learned from."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from workbench.store.access import allowed, require
from workbench.store.db import Store, utcnow
from workbench.store.events import insert_events, new_event
from workbench.store.notes import _read_note
from workbench.store.records import NoteVersion


@dataclass(frozen=True)
class StoredStyle:
    """One learning of a clinician's style: ``style`` is ``ClinicianStyle.to_dict()``."""

    style_id: int
    clinician: str
    style_version: str
    notes: int
    style: dict[str, Any]
    summary: str
    created_at: datetime
    created_by: str


def save_style(
    store: Store,
    clinician: str,
    style: dict[str, Any],
    summary: str,
    user_id: str,
    encounter_id: str | None = None,
) -> int:
    """Store a newly learned style (the clinician's current one from now on), with its event.

    ``encounter_id`` is the signed note that prompted the learning, if any.
    """
    require(store, "note.sign", encounter_id)
    with store.transaction() as con:
        style_id = con.execute(
            "INSERT INTO clinician_styles (clinician, style_version, notes, style, summary,"
            " created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING style_id",
            [
                clinician,
                style["version"],
                style["notes"],
                json.dumps(style, sort_keys=True),
                summary,
                utcnow(),
                user_id,
            ],
        ).fetchone()[0]
        insert_events(
            con,
            [
                new_event(
                    user_id,
                    encounter_id,
                    "style.learned",
                    object_type="style",
                    object_id=clinician,
                    after={
                        "style_id": style_id,
                        "notes": style["notes"],
                        "phrasings": len(style.get("phrasings", ())),
                        "orders": len(style.get("orders", ())),
                        "brevity": len(style.get("brevity", ())),
                    },
                    model_version=style["version"],
                )
            ],
        )
        return style_id


def latest_style(store: Store, clinician: str) -> StoredStyle | None:
    """The clinician's newest learned style, or None if none was learned yet."""
    with store.connect() as con:
        row = con.execute(
            "SELECT style_id, clinician, style_version, notes, style, summary, created_at,"
            " created_by FROM clinician_styles WHERE clinician = ?"
            " ORDER BY style_id DESC LIMIT 1",
            [clinician],
        ).fetchone()
    if row is None:
        return None
    return StoredStyle(row[0], row[1], row[2], row[3], json.loads(row[4]), *row[5:])


def signed_drafts(store: Store, clinician: str) -> list[tuple[NoteVersion, NoteVersion]]:
    """(machine draft, signed version) of every signed note of this clinician, oldest first.

    A note is the clinician's when its encounter names them, or names nobody and they
    signed it. The machine draft is the newest version without a parent (a drafter's)
    up to the signed one. Only notes whose text the actor may read are included.
    """
    require(store, "note.sign", None)
    with store.connect() as con:
        rows = con.execute(
            "SELECT s.encounter_id, s.note_version,"
            " (SELECT max(n.version) FROM notes n WHERE n.encounter_id = s.encounter_id"
            "   AND n.parent_version IS NULL AND n.version <= s.note_version) AS draft_version"
            " FROM signatures s JOIN encounters e ON e.encounter_id = s.encounter_id"
            " WHERE e.clinician = ? OR (coalesce(e.clinician, '') = '' AND s.signed_by = ?)"
            # An amended note teaches once, by its newest signed version.
            " QUALIFY row_number() OVER (PARTITION BY s.encounter_id"
            "   ORDER BY s.note_version DESC) = 1"
            " ORDER BY s.signed_at, s.encounter_id",
            [clinician, clinician],
        ).fetchall()
        return [
            (_read_note(con, encounter_id, draft), _read_note(con, encounter_id, signed))
            for encounter_id, signed, draft in rows
            if draft is not None and allowed(store, "text.phi", encounter_id)
        ]
