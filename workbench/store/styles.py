"""Clinicians' learned writing styles and the signed notes they are learned from."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from workbench.store.access import allowed, require
from workbench.store.consent import consented_ids
from workbench.store.db import Store, utcnow
from workbench.store.events import insert_events, new_event
from workbench.store.ids import next_id
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
        style_id = next_id(con, "clinician_styles")
        con.execute(
            "INSERT INTO clinician_styles (style_id, clinician, style_version, notes, style,"
            " summary, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                style_id,
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
    up to the signed one. Encounters without training-use consent are left out
    (``signed_without_consent`` names them), and so are notes whose text the actor may not read.
    """
    require(store, "note.sign", None)
    with store.connect() as con:
        rows = _signed_rows(con, clinician)
        consented = consented_ids(store, [row[0] for row in rows])
        return [
            (_read_note(con, encounter_id, draft), _read_note(con, encounter_id, signed))
            for encounter_id, signed, draft in rows
            if draft is not None
            and encounter_id in consented
            and allowed(store, "text.phi", encounter_id)
        ]


def signed_without_consent(store: Store, clinician: str) -> list[str]:
    """The clinician's signed encounters that style learning leaves out: no training-use
    consent."""
    with store.connect() as con:
        rows = _signed_rows(con, clinician)
    consented = consented_ids(store, [row[0] for row in rows])
    return [row[0] for row in rows if row[0] not in consented]


def _signed_rows(con, clinician: str) -> list[tuple]:
    """(encounter, newest signed version, its machine draft version) of the clinician's notes.

    GROUP BY rather than QUALIFY with a correlated subquery: with bound parameters DuckDB
    1.5.5 fails on that form ("Attempted to access index 2 within vector of size 2") once
    three notes are signed.
    """
    return con.execute(
        "WITH signed AS ("
        # An amended note teaches once, by its newest signed version (signed last).
        "  SELECT s.encounter_id, max(s.note_version) AS note_version,"
        "   max(s.signed_at) AS signed_at FROM signatures s"
        "  JOIN encounters e ON e.encounter_id = s.encounter_id"
        "  WHERE e.clinician = ? OR (coalesce(e.clinician, '') = '' AND s.signed_by = ?)"
        "  GROUP BY s.encounter_id)"
        " SELECT g.encounter_id, g.note_version, max(n.version) FILTER ("
        "   WHERE n.parent_version IS NULL AND n.version <= g.note_version) AS draft_version"
        " FROM signed g LEFT JOIN notes n ON n.encounter_id = g.encounter_id"
        " GROUP BY g.encounter_id, g.note_version, g.signed_at"
        " ORDER BY g.signed_at, g.encounter_id",
        [clinician, clinician],
    ).fetchall()
