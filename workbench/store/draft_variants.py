"""Draft variants: drafts of one encounter from different drafter versions, for blind
pairwise comparison (issue 8).

A variant is the stored machine draft (``source`` "note"), a re-draft by another drafter
("redraft", made by ``workbench.pairwise``) or the clinician-signed note as a reference
("signed"). Variants are written once and never changed; the id is a hash of the encounter,
drafter, source and draft, so storing the same draft again returns the stored row. Each new
variant writes a ``draft_variant.created`` event in the same transaction.

Variants name their version; what a reviewer sees of a pairwise task (``blind_drafts``) does
not: no version, drafter, template id or options.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

import duckdb

from pipelines.types import Draft, Evidence, NoteSentence
from workbench.store.access import SYSTEM, present_draft, require
from workbench.store.db import InvalidEdit, NotFound, Store, utcnow
from workbench.store.events import insert_events, new_event
from workbench.store.records import NoteVersion

SOURCES: tuple[str, ...] = ("note", "redraft", "signed")
SIGNED_DRAFTER = "clinician"
SIGNED_VERSION = "clinician.signed"  # every signed note compares as one reference version

_COLUMNS = (
    "SELECT variant_id, encounter_id, drafter, model_version, source, note_version,"
    " transcript_version, template, draft, created_at, created_by FROM draft_variants"
)


@dataclass(frozen=True)
class DraftVariant:
    """One stored draft of an encounter and the drafter version that made it."""

    variant_id: str
    encounter_id: str
    drafter: str
    model_version: str
    source: str  # one of SOURCES
    note_version: int | None
    transcript_version: int | None
    template: str
    draft: Draft
    created_at: datetime
    created_by: str


def add_variant(
    store: Store,
    encounter_id: str,
    draft: Draft,
    *,
    drafter: str,
    source: str,
    note_version: int | None = None,
    transcript_version: int | None = None,
) -> DraftVariant:
    """Store ``draft`` as a variant of the encounter (``task.assign``: leads and admins) and
    return it; the same draft stored again returns the existing row and writes nothing."""
    if source not in SOURCES:
        raise InvalidEdit(f"Unknown variant source {source!r}: one of {', '.join(SOURCES)}")
    if not drafter.strip() or not draft.model_version.strip():
        raise InvalidEdit("A draft variant needs its drafter and model version")
    require(store, "task.assign", encounter_id)
    body = draft_dict(draft)
    digest = hashlib.sha256(
        json.dumps([encounter_id, drafter, source, body], sort_keys=True).encode("utf-8")
    ).hexdigest()
    # An opaque id: it goes into the pairwise task a reviewer holds, so it must not name
    # the version.
    variant_id = f"dv-{digest[:16]}"
    with store.transaction() as con:
        found = _read(con, variant_id)
        if found is not None:
            return found
        if not con.execute(
            "SELECT 1 FROM encounters WHERE encounter_id = ?", [encounter_id]
        ).fetchone():
            raise NotFound(f"No encounter {encounter_id}")
        con.execute(
            "INSERT INTO draft_variants (variant_id, encounter_id, drafter, model_version,"
            " source, note_version, transcript_version, template, draft, created_at,"
            " created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                variant_id,
                encounter_id,
                drafter,
                draft.model_version,
                source,
                note_version,
                transcript_version,
                draft.template,
                json.dumps(body, sort_keys=True),
                utcnow(),
                store.actor.user_id,
            ],
        )
        event = new_event(
            store.actor.user_id,
            encounter_id,
            "draft_variant.created",
            object_type="draft_variant",
            object_id=variant_id,
            after={
                "drafter": drafter,
                "source": source,
                "note_version": note_version,
                "transcript_version": transcript_version,
                "sentences": len(draft.sentences),
            },
            model_version=draft.model_version,
            note_version=note_version,
        )
        insert_events(con, [event])
        stored = _read(con, variant_id)
    assert stored is not None  # inserted just above, in this transaction
    return stored


def list_variants(store: Store, encounter_id: str) -> list[DraftVariant]:
    """The encounter's variants, oldest first (leads and admins), their text as the actor
    may read it."""
    require(store, "task.assign", encounter_id)
    with store.connect() as con:
        rows = con.execute(
            _COLUMNS + " WHERE encounter_id = ? ORDER BY created_at, variant_id", [encounter_id]
        ).fetchall()
    return [_presented(store, _variant(r)) for r in rows]


def known_versions(store: Store) -> list[str]:
    """Every model version some stored variant has, sorted (leads and admins)."""
    require(store, "task.assign")
    with store.connect() as con:
        rows = con.execute(
            "SELECT DISTINCT model_version FROM draft_variants ORDER BY model_version"
        ).fetchall()
    return [r[0] for r in rows]


def variants_of(store: Store, variant_ids: list[str]) -> dict[str, DraftVariant]:
    """The named variants by id, stored text (the caller has checked it may use them:
    ``workbench.pairwise``); NotFound naming a missing id."""
    with store.connect() as con:
        found = {vid: _read(con, vid) for vid in variant_ids}
    missing = [vid for vid, v in found.items() if v is None]
    if missing:
        raise NotFound(f"No draft variant {', '.join(missing)}")
    return {vid: v for vid, v in found.items() if v is not None}


def blind_drafts(store: Store, task_id: str) -> list[Draft]:
    """The two drafts a pairwise task shows, in the order shown (left, right), for its
    annotator or a lead (``annotation_tasks.get_task`` checks), as the actor may read them
    and stripped of what would tell them apart other than their text: the model version,
    options and input hash are blank."""
    from workbench.store.annotation_tasks import get_task

    task = get_task(store, task_id)
    ids = list(task.payload.get("variants") or [])
    if task.kind != "pairwise" or len(ids) != 2:
        raise InvalidEdit(f"Task {task_id} is not a comparison of two drafts")
    found = variants_of(store, ids)
    out = []
    for vid in ids:
        variant = found[vid]
        if variant.encounter_id != task.encounter_id:
            raise InvalidEdit(f"Draft variant {vid} is not of encounter {task.encounter_id}")
        shown = present_draft(store, task.encounter_id, variant.draft)
        out.append(replace(shown, model_version="", input_sha256="", options={}))
    return out


def machine_draft(store: Store, encounter_id: str) -> NoteVersion | None:
    """The newest note version a drafter wrote (no parent: not a person's edit), stored
    text; for leads and admins making variants."""
    return _note(
        store,
        encounter_id,
        "SELECT max(version) FROM notes WHERE encounter_id = ? AND parent_version IS NULL",
    )


def signed_note(store: Store, encounter_id: str) -> NoteVersion | None:
    """The newest signed note version, stored text; for leads and admins making variants."""
    return _note(
        store, encounter_id, "SELECT max(note_version) FROM signatures WHERE encounter_id = ?"
    )


# -- plain conversions ---------------------------------------------------------------------


def draft_dict(draft: Draft) -> dict[str, Any]:
    """The draft as JSON-ready data (the ``draft`` column)."""
    data = asdict(draft)
    data["sections"] = list(draft.sections)
    return json.loads(json.dumps(data, default=str))


def draft_from_dict(data: dict[str, Any]) -> Draft:
    """The inverse of ``draft_dict``."""
    sentences = tuple(
        NoteSentence(
            sentence_id=s["sentence_id"],
            section=s["section"],
            text=s["text"],
            evidence=tuple(Evidence(**e) for e in s.get("evidence") or ()),
            origin=s.get("origin", "machine"),
        )
        for s in data.get("sentences") or ()
    )
    return Draft(
        template=data["template"],
        sections=tuple(data["sections"]),
        sentences=sentences,
        model_version=data["model_version"],
        input_sha256=data.get("input_sha256", ""),
        options=dict(data.get("options") or {}),
    )


# -- internals -----------------------------------------------------------------------------


def _note(store: Store, encounter_id: str, version_sql: str) -> NoteVersion | None:
    from workbench.store.notes import get_note  # notes import access too

    require(store, "task.assign", encounter_id)
    with store.connect() as con:
        version = con.execute(version_sql, [encounter_id]).fetchone()[0]
    if version is None:
        return None
    return get_note(store.as_actor(SYSTEM), encounter_id, version)


def _read(con: duckdb.DuckDBPyConnection, variant_id: str) -> DraftVariant | None:
    row = con.execute(_COLUMNS + " WHERE variant_id = ?", [variant_id]).fetchone()
    return _variant(row) if row else None


def _variant(row: tuple) -> DraftVariant:
    values = list(row)
    values[8] = draft_from_dict(json.loads(values[8]))
    return DraftVariant(*values)


def _presented(store: Store, variant: DraftVariant) -> DraftVariant:
    return replace(variant, draft=present_draft(store, variant.encounter_id, variant.draft))
