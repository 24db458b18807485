"""A clinician's entity corrections: each is a new entity set version plus a typed event.

Entities are addressed by their index in the set version the person was looking at
(``base_version``); if someone saved a newer set meanwhile the edit raises ConcurrentEdit,
once the note is signed it raises NoteLocked, and input that does not fit the transcript or
the label schema raises InvalidEdit. In every one of those cases nothing is written.

Event kinds (``before``/``after`` are ``pipelines.entity_edit.entity_dict`` dicts):
``entity.added``, ``entity.removed``, ``entity.relabelled``, ``entity.code_changed``,
``entity.context_changed``, ``entity.attributes_changed``; ``entities.confirmed`` carries
the whole confirmed set.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import duckdb

from pipelines import entity_edit as ee
from pipelines.schema import LabelSchema, load_label_schema
from pipelines.types import Entity, Segment
from workbench.store.access import present_entities, require
from workbench.store.db import InvalidEdit, NotFound, Store
from workbench.store.entities import (
    CONFIRMED,
    change_events,
    check_base,
    insert_set,
    read_set,
    set_object_id,
)
from workbench.store.events import insert_events, new_event
from workbench.store.limits import readable
from workbench.store.notes import check_unsigned
from workbench.store.records import EntitySet

# One edit: (the base set, its transcript segment reader) -> (new entities, changes).
Edit = Callable[
    [EntitySet, Callable[[int], Segment]], tuple[tuple[Entity, ...], list[ee.EntityChange]]
]


def label_schema() -> LabelSchema:
    """The label schema (annotations/labels.json), read on each edit so edits to it count."""
    return load_label_schema()


def add_entity(
    store: Store, encounter_id: str, base_version: int, entity: Entity, user_id: str
) -> int:
    """Add a person's entity (span, label and optionally flags, code, attributes)."""
    if entity.code or entity.code_label:
        entity = ee.with_code(
            entity, *_valid(ee.normalise_code, entity.code, entity.code_system, entity.code_label)
        )

    def edit(base: EntitySet, segment: Callable[[int], Segment]):
        schema = label_schema()
        _valid(ee.check_label, schema, entity.label)
        _valid(ee.check_span, segment(entity.segment_idx), entity.start, entity.end, entity.text)
        added = replace(entity, source="human")
        if added.attributes:
            added = _valid(
                ee.with_attributes, replace(added, attributes={}), added.attributes, schema
            )
        _valid(ee.check_unique, base.entities, added)
        entities = tuple(sorted((*base.entities, added), key=ee.entity_order))
        return entities, [ee.EntityChange("entity.added", None, added)]

    return _apply(store, encounter_id, base_version, user_id, edit)


def remove_entity(
    store: Store, encounter_id: str, base_version: int, index: int, user_id: str
) -> int:
    """Remove the entity at ``index`` (the machine's mistake or a person's)."""

    def edit(base: EntitySet, segment: Callable[[int], Segment]):
        gone = _at(base, index)
        rest = base.entities[:index] + base.entities[index + 1 :]
        return rest, [ee.EntityChange("entity.removed", gone, None)]

    return _apply(store, encounter_id, base_version, user_id, edit)


def relabel_entity(
    store: Store, encounter_id: str, base_version: int, index: int, label: str, user_id: str
) -> int:
    """Give the entity at ``index`` another label from the schema."""
    return _change_one(
        store,
        encounter_id,
        base_version,
        index,
        user_id,
        "entity.relabelled",
        lambda e: _valid(ee.with_label, e, label, label_schema()),
        same=lambda a, b: a.label == b.label,
        check_unique=True,
    )


def change_entity_code(
    store: Store,
    encounter_id: str,
    base_version: int,
    index: int,
    code: str | None,
    code_system: str | None,
    code_label: str | None,
    user_id: str,
) -> int:
    """Set (or with an empty ``code``, clear) the concept code of the entity at ``index``.

    ICD-10-CM codes are checked against the classification; ``local`` takes a free code.
    """
    # Checked before taking the database lock: the ICD-10-CM lookup loads for ~2 s once.
    normal = _valid(ee.normalise_code, code, code_system, code_label)
    return _change_one(
        store,
        encounter_id,
        base_version,
        index,
        user_id,
        "entity.code_changed",
        lambda e: ee.with_code(e, *normal),
        same=lambda a, b: (
            (a.code, a.code_system, a.code_label) == (b.code, b.code_system, b.code_label)
        ),
    )


def set_entity_context(
    store: Store,
    encounter_id: str,
    base_version: int,
    index: int,
    flags: Mapping[str, bool],
    user_id: str,
) -> int:
    """Set or clear context flags (negated, historical, family, hypothetical, uncertain)."""
    return _change_one(
        store,
        encounter_id,
        base_version,
        index,
        user_id,
        "entity.context_changed",
        lambda e: _valid(ee.with_flags, e, flags),
        same=lambda a, b: all(getattr(a, f) == getattr(b, f) for f in ee.FLAGS),
    )


def set_entity_attributes(
    store: Store,
    encounter_id: str,
    base_version: int,
    index: int,
    attributes: Mapping[str, Any],
    user_id: str,
) -> int:
    """Set the label's attributes (MEDICATION dose, route, ...); an empty value removes one."""
    return _change_one(
        store,
        encounter_id,
        base_version,
        index,
        user_id,
        "entity.attributes_changed",
        lambda e: _valid(ee.with_attributes, e, attributes, label_schema()),
        same=lambda a, b: a.attributes == b.attributes,
    )


def confirm_entities(store: Store, encounter_id: str, base_version: int, user_id: str) -> int:
    """Mark the entity set as reviewed by ``user_id``: a new version and ``entities.confirmed``.

    Confirming a set that is already the newest confirmed one changes nothing.
    """
    require(store, "entity.edit", encounter_id)
    with store.transaction() as con:
        check_unsigned(con, encounter_id)
        base = _base(con, encounter_id, base_version)
        if base.confirmed:
            return base_version
        version = insert_set(
            con, encounter_id, base.transcript_version, base.model_version, base.entities, user_id
        )
        insert_events(
            con,
            [
                new_event(
                    user_id,
                    encounter_id,
                    CONFIRMED,
                    object_type="entity_set",
                    object_id=set_object_id(encounter_id, version),
                    before={"version": base_version},
                    after={
                        "version": version,
                        "transcript_version": base.transcript_version,
                        "entities": [ee.entity_dict(e) for e in base.entities],
                    },
                    model_version=base.model_version,
                )
            ],
        )
        return version


def removed_entities(store: Store, encounter_id: str) -> tuple[Entity, ...]:
    """Every entity people removed from this encounter (as it was when removed)."""
    require(store, "encounter.view", encounter_id)
    with store.connect() as con:
        rows = con.execute(
            "SELECT before FROM events WHERE encounter_id = ? AND kind = 'entity.removed'"
            " ORDER BY ts",
            [encounter_id],
        ).fetchall()
    found = tuple(ee.entity_from_dict(json.loads(r[0])) for r in rows if r[0])
    return present_entities(store, encounter_id, found)


def _change_one(
    store: Store,
    encounter_id: str,
    base_version: int,
    index: int,
    user_id: str,
    kind: str,
    change: Callable[[Entity], Entity],
    same: Callable[[Entity, Entity], bool],
    check_unique: bool = False,
) -> int:
    def edit(base: EntitySet, segment: Callable[[int], Segment]):
        before = _at(base, index)
        after = change(before)
        if same(before, after):
            return base.entities, []
        if check_unique:
            _valid(ee.check_unique, base.entities, after, index)
        entities = (*base.entities[:index], after, *base.entities[index + 1 :])
        return entities, [ee.EntityChange(kind, before, after)]

    return _apply(store, encounter_id, base_version, user_id, edit)


def _apply(store: Store, encounter_id: str, base_version: int, user_id: str, edit: Edit) -> int:
    require(store, "entity.edit", encounter_id)
    with store.transaction() as con:
        check_unsigned(con, encounter_id)
        base = _base(con, encounter_id, base_version)
        entities, changes = edit(base, lambda idx: _segment(con, encounter_id, base, idx))
        if not changes:
            return base_version  # nothing changed: no version, no event
        version = insert_set(
            con, encounter_id, base.transcript_version, base.model_version, entities, user_id
        )
        insert_events(
            con,
            change_events(
                changes,
                user_id,
                encounter_id,
                set_object_id(encounter_id, version),
                base.model_version,
            ),
        )
        return version


def _base(con: duckdb.DuckDBPyConnection, encounter_id: str, base_version: int) -> EntitySet:
    if not con.execute(
        "SELECT 1 FROM entity_sets WHERE encounter_id = ? AND version = ?",
        [encounter_id, base_version],
    ).fetchone():
        raise NotFound(f"No entity set version {base_version} for {encounter_id}")
    check_base(con, encounter_id, base_version)
    return read_set(con, encounter_id, base_version)


def _segment(
    con: duckdb.DuckDBPyConnection, encounter_id: str, base: EntitySet, idx: int
) -> Segment:
    row = con.execute(
        "SELECT start_s, end_s, text, speaker FROM segments"
        " WHERE encounter_id = ? AND transcript_version = ? AND idx = ?",
        [encounter_id, base.transcript_version, idx],
    ).fetchone()
    if row is None:
        raise InvalidEdit(
            f"Transcript version {base.transcript_version} of {encounter_id} has no segment {idx}."
        )
    return Segment(idx, row[0], row[1], row[2], row[3])


def _at(base: EntitySet, index: int) -> Entity:
    if not 0 <= index < len(base.entities):
        raise NotFound(
            f"Entity set version {base.version} has no entity {index} "
            f"({len(base.entities)} entities)."
        )
    return base.entities[index]


def _valid(check: Callable[..., Any], *args: Any) -> Any:
    """Run a pipelines.entity_edit check, turning its ValueError into InvalidEdit."""
    try:
        return check(*args)
    except ValueError as exc:
        raise InvalidEdit(readable(str(exc))) from exc
