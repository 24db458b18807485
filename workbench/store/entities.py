"""Versioned entity sets, each tied to one transcript version."""

from __future__ import annotations

import json

from pipelines.types import Entity
from workbench.store.bulk import insert_rows
from workbench.store.db import Store, utcnow
from workbench.store.events import insert_events, new_event


def save_entities(
    store: Store,
    encounter_id: str,
    transcript_version: int,
    entities: tuple[Entity, ...],
    model_version: str,
    user_id: str,
) -> int:
    """Store an entity set as the next version; returns the version number."""
    with store.transaction() as con:
        version = con.execute(
            "SELECT coalesce(max(version), 0) + 1 FROM entity_sets WHERE encounter_id = ?",
            [encounter_id],
        ).fetchone()[0]
        con.execute(
            "INSERT INTO entity_sets (encounter_id, version, transcript_version, model_version,"
            " created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)",
            [encounter_id, version, transcript_version, model_version, utcnow(), user_id],
        )
        insert_rows(
            con,
            "entities",
            [
                (encounter_id, version, i, e.segment_idx, e.start, e.end, e.text, e.label,
                 e.negated, e.historical, e.family, e.hypothetical, e.uncertain, e.code,
                 e.code_system, e.code_label, json.dumps(e.attributes, sort_keys=True), e.source)
                for i, e in enumerate(entities)
            ],
        )
        insert_events(
            con,
            [
                new_event(
                    user_id,
                    encounter_id,
                    "entities.extracted",
                    object_type="entity_set",
                    object_id=f"{encounter_id}/entities/{version}",
                    after={"version": version, "entities": len(entities),
                           "transcript_version": transcript_version},
                    model_version=model_version,
                )
            ],
        )
        return version


def entity_set_version(
    store: Store, encounter_id: str, transcript_version: int | None = None
) -> int | None:
    """The newest entity set version (for a transcript version, if given), or None."""
    with store.connect() as con:
        return con.execute(
            "SELECT max(version) FROM entity_sets WHERE encounter_id = ?"
            " AND (? IS NULL OR transcript_version = ?)",
            [encounter_id, transcript_version, transcript_version],
        ).fetchone()[0]


def get_entities(
    store: Store, encounter_id: str, transcript_version: int | None = None
) -> tuple[Entity, ...]:
    """The newest entity set (for a transcript version, if given); empty if none."""
    with store.connect() as con:
        version = entity_set_version(store, encounter_id, transcript_version)
        if version is None:
            return ()
        rows = con.execute(
            "SELECT segment_idx, start_char, end_char, text, label, negated, historical, family,"
            " hypothetical, uncertain, code, code_system, code_label, attributes, source"
            " FROM entities WHERE encounter_id = ? AND set_version = ? ORDER BY idx",
            [encounter_id, version],
        ).fetchall()
    return tuple(
        Entity(
            segment_idx=r[0], start=r[1], end=r[2], text=r[3], label=r[4], negated=r[5],
            historical=r[6], family=r[7], hypothetical=r[8], uncertain=r[9], code=r[10],
            code_system=r[11], code_label=r[12], attributes=json.loads(r[13]) if r[13] else {},
            source=r[14],
        )
        for r in rows
    )
