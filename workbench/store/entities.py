"""Versioned entity sets, each tied to one transcript version."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace

import duckdb

from pipelines.entity_edit import EntityChange, entity_dict
from pipelines.types import Entity
from workbench.store.access import present_entities, require
from workbench.store.bulk import insert_rows
from workbench.store.db import ConcurrentEdit, NotFound, Store, utcnow
from workbench.store.events import insert_events, new_event
from workbench.store.records import EntitySet

CONFIRMED = "entities.confirmed"


def save_entities(
    store: Store,
    encounter_id: str,
    transcript_version: int,
    entities: tuple[Entity, ...],
    model_version: str,
    user_id: str,
    changes: Sequence[EntityChange] = (),
    base_version: int | None = None,
) -> int:
    """Store a machine entity set as the next version; returns the version number.

    ``changes`` are what the recompute did to people's entities (remapped, dropped); each
    becomes an event in the same transaction. With ``base_version`` (the set the recompute
    started from) raises ConcurrentEdit if someone saved a newer set meanwhile.
    """
    require(store, "entity.edit", encounter_id)
    with store.transaction() as con:
        if base_version is not None:
            check_base(con, encounter_id, base_version)
        version = insert_set(
            con, encounter_id, transcript_version, model_version, entities, user_id
        )
        object_id = set_object_id(encounter_id, version)
        insert_events(
            con,
            [
                new_event(
                    user_id,
                    encounter_id,
                    "entities.extracted",
                    object_type="entity_set",
                    object_id=object_id,
                    after={
                        "version": version,
                        "entities": len(entities),
                        "transcript_version": transcript_version,
                    },
                    model_version=model_version,
                ),
                *change_events(changes, user_id, encounter_id, object_id, model_version),
            ],
        )
        return version


def entity_set_version(
    store: Store, encounter_id: str, transcript_version: int | None = None
) -> int | None:
    """The newest entity set version (for a transcript version, if given), or None."""
    require(store, "encounter.view", encounter_id)
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
    found = get_entity_set(store, encounter_id, transcript_version=transcript_version)
    return found.entities if found else ()


def get_entity_set(
    store: Store,
    encounter_id: str,
    version: int | None = None,
    transcript_version: int | None = None,
) -> EntitySet | None:
    """The given or newest entity set (for a transcript version, if given), or None; its
    entity texts as the actor may read them (``access.present_entities``)."""
    require(store, "encounter.view", encounter_id)
    with store.connect() as con:
        if version is None:
            version = entity_set_version(store, encounter_id, transcript_version)
            if version is None:
                return None
        found = read_set(con, encounter_id, version)
    return replace(found, entities=present_entities(store, encounter_id, found.entities))


def read_set(con: duckdb.DuckDBPyConnection, encounter_id: str, version: int) -> EntitySet:
    """One entity set with its entities and its confirmation, inside the caller's connection."""
    head = con.execute(
        "SELECT transcript_version, model_version, created_at, created_by FROM entity_sets"
        " WHERE encounter_id = ? AND version = ?",
        [encounter_id, version],
    ).fetchone()
    if head is None:
        raise NotFound(f"No entity set version {version} for {encounter_id}")
    rows = con.execute(
        "SELECT segment_idx, start_char, end_char, text, label, negated, historical, family,"
        " hypothetical, uncertain, code, code_system, code_label, attributes, source"
        " FROM entities WHERE encounter_id = ? AND set_version = ? ORDER BY idx",
        [encounter_id, version],
    ).fetchall()
    confirmed = con.execute(
        "SELECT user_id, ts FROM events WHERE encounter_id = ? AND kind = ? AND object_id = ?"
        " ORDER BY ts DESC LIMIT 1",
        [encounter_id, CONFIRMED, set_object_id(encounter_id, version)],
    ).fetchone()
    entities = tuple(
        Entity(
            segment_idx=r[0],
            start=r[1],
            end=r[2],
            text=r[3],
            label=r[4],
            negated=r[5],
            historical=r[6],
            family=r[7],
            hypothetical=r[8],
            uncertain=r[9],
            code=r[10],
            code_system=r[11],
            code_label=r[12],
            attributes=json.loads(r[13]) if r[13] else {},
            source=r[14],
        )
        for r in rows
    )
    return EntitySet(
        encounter_id=encounter_id,
        version=version,
        transcript_version=head[0],
        model_version=head[1],
        created_at=head[2],
        created_by=head[3],
        entities=entities,
        confirmed_by=confirmed[0] if confirmed else None,
        confirmed_at=confirmed[1] if confirmed else None,
    )


def latest_set_version(con: duckdb.DuckDBPyConnection, encounter_id: str) -> int | None:
    """The newest entity set version of an encounter, inside the caller's connection."""
    return con.execute(
        "SELECT max(version) FROM entity_sets WHERE encounter_id = ?", [encounter_id]
    ).fetchone()[0]


def check_base(con: duckdb.DuckDBPyConnection, encounter_id: str, base_version: int) -> None:
    """Raise ConcurrentEdit unless ``base_version`` is still the newest entity set."""
    latest = latest_set_version(con, encounter_id)
    if latest != base_version:
        raise ConcurrentEdit(
            f"Entities of {encounter_id} changed: you worked on version {base_version}, "
            f"the newest is {latest}. Reload to see the other changes."
        )


def insert_set(
    con: duckdb.DuckDBPyConnection,
    encounter_id: str,
    transcript_version: int,
    model_version: str,
    entities: Sequence[Entity],
    user_id: str,
) -> int:
    """Write an entity set as the encounter's next version; returns the version number."""
    version = (latest_set_version(con, encounter_id) or 0) + 1
    con.execute(
        "INSERT INTO entity_sets (encounter_id, version, transcript_version, model_version,"
        " created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)",
        [encounter_id, version, transcript_version, model_version, utcnow(), user_id],
    )
    insert_rows(
        con,
        "entities",
        [
            (
                encounter_id,
                version,
                i,
                e.segment_idx,
                e.start,
                e.end,
                e.text,
                e.label,
                e.negated,
                e.historical,
                e.family,
                e.hypothetical,
                e.uncertain,
                e.code,
                e.code_system,
                e.code_label,
                json.dumps(e.attributes, sort_keys=True),
                e.source,
            )
            for i, e in enumerate(entities)
        ],
    )
    return version


def set_object_id(encounter_id: str, version: int) -> str:
    """The events' ``object_id`` of an entity set version."""
    return f"{encounter_id}/entities/{version}"


def change_events(
    changes: Sequence[EntityChange],
    user_id: str,
    encounter_id: str,
    object_id: str,
    model_version: str,
) -> list:
    """One event per entity change, the entity before and after as plain dicts."""
    return [
        new_event(
            user_id,
            encounter_id,
            c.kind,
            object_type="entity",
            object_id=object_id,
            before=entity_dict(c.before) if c.before else None,
            after=entity_dict(c.after) if c.after else None,
            model_version=model_version,
        )
        for c in changes
    ]
