"""The model registry: trained model versions, which one is active, and their training data.

Model rows are never updated. Activating a version appends a row to ``model_activations``;
the active model of a kind is the one named by its newest activation (none: rules only).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pipelines.types import Entity
from workbench.store.access import require
from workbench.store.consent import consented_ids
from workbench.store.db import NotFound, Store, StoreError, utcnow
from workbench.store.events import insert_events, new_event
from workbench.store.ids import next_id

MODEL_KINDS: tuple[str, ...] = ("ner",)

# Event kinds that mean a person looked at an encounter's entities and corrected or
# confirmed them (written by the entity review actions).
ENTITY_CORRECTION_KINDS: tuple[str, ...] = (
    "entity.added",
    "entity.removed",
    "entity.relabelled",
    "entity.code_changed",
    "entity.context_changed",
    "entity.attributes_changed",
)
ENTITY_REVIEW_KINDS: tuple[str, ...] = (*ENTITY_CORRECTION_KINDS, "entities.confirmed")

# The newest activation of each kind names the active model (NULL model_id: rules only).
_SELECT = (
    "SELECT m.model_id, m.kind, m.created_at, m.created_by, m.path, m.base_nlp_version,"
    " m.encounters, m.entities, m.corrections, m.data_snapshot, m.training, m.metrics,"
    " a.model_id IS NOT NULL FROM models m LEFT JOIN ("
    "  SELECT kind, model_id FROM model_activations"
    "  QUALIFY row_number() OVER (PARTITION BY kind ORDER BY seq DESC) = 1"
    " ) a ON a.kind = m.kind AND a.model_id = m.model_id"
)
_TRAINING_SOURCES = (
    "WITH reviewed AS ("
    "  SELECT encounter_id,"
    "   count(*) FILTER (WHERE list_contains(?, kind)) AS corrections,"
    "   count(*) FILTER (WHERE kind = 'entities.confirmed') AS confirmations"
    "  FROM events WHERE list_contains(?, kind) GROUP BY encounter_id),"
    " latest AS ("
    "  SELECT encounter_id, version, transcript_version FROM entity_sets"
    "  QUALIFY row_number() OVER (PARTITION BY encounter_id ORDER BY version DESC) = 1)"
    " SELECT r.encounter_id, r.corrections, r.confirmations, l.version, l.transcript_version"
    " FROM reviewed r JOIN latest l ON l.encounter_id = r.encounter_id"
    # Never train on simulated encounters (``scribe simulate``): their corrections are drawn.
    " WHERE r.encounter_id NOT IN (SELECT encounter_id FROM encounters"
    "   WHERE source = 'simulated')"
    " ORDER BY r.encounter_id"
)


@dataclass(frozen=True)
class NewModel:
    """What ``scribe train`` registers: a trained model folder and how it was made."""

    model_id: str
    kind: str
    path: str
    base_nlp_version: str
    encounters: int
    entities: int
    corrections: int
    data_snapshot: list[dict[str, Any]] = field(default_factory=list)
    training: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelRecord:
    """One registered model version; ``active`` says whether the pipeline uses it now."""

    model_id: str
    kind: str
    created_at: datetime
    created_by: str
    path: str
    base_nlp_version: str
    encounters: int
    entities: int
    corrections: int
    data_snapshot: list[dict[str, Any]]
    training: dict[str, Any]
    metrics: dict[str, Any]
    active: bool


@dataclass(frozen=True)
class TrainingSource:
    """One encounter's reviewed entities on the transcript version they belong to."""

    encounter_id: str
    transcript_version: int
    entity_set_version: int
    segments: tuple[tuple[int, str], ...]  # (segment idx, text)
    entities: tuple[Entity, ...]
    corrections: int  # entity correction events (confirmations not counted)
    confirmations: int


def register_model(store: Store, model: NewModel, user_id: str) -> ModelRecord:
    """Add a trained model version (inactive) with a ``model.registered`` event."""
    require(store, "model.manage", None)
    if model.kind not in MODEL_KINDS:
        raise StoreError(f"Unknown model kind {model.kind!r}; known: {', '.join(MODEL_KINDS)}")
    with store.transaction() as con:
        if con.execute("SELECT 1 FROM models WHERE model_id = ?", [model.model_id]).fetchone():
            raise StoreError(f"A model {model.model_id} is already registered")
        con.execute(
            "INSERT INTO models (model_id, kind, created_at, created_by, path, base_nlp_version,"
            " encounters, entities, corrections, data_snapshot, training, metrics)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                model.model_id,
                model.kind,
                utcnow(),
                user_id,
                model.path,
                model.base_nlp_version,
                model.encounters,
                model.entities,
                model.corrections,
                _dump(model.data_snapshot),
                _dump(model.training),
                _dump(model.metrics),
            ],
        )
        insert_events(
            con,
            [
                new_event(
                    user_id,
                    None,
                    "model.registered",
                    object_type="model",
                    object_id=model.model_id,
                    after={
                        "kind": model.kind,
                        "path": model.path,
                        "encounters": model.encounters,
                        "entities": model.entities,
                    },
                    model_version=model.model_id,
                )
            ],
        )
        found = get_model(store, model.model_id)
    assert found is not None  # just inserted in this transaction
    return found


def list_models(store: Store, kind: str | None = None) -> list[ModelRecord]:
    """Registered model versions, newest first."""
    with store.connect() as con:
        rows = con.execute(
            _SELECT + " WHERE (? IS NULL OR m.kind = ?)"
            " ORDER BY m.created_at DESC, m.model_id DESC",
            [kind, kind],
        ).fetchall()
    return [_record(row) for row in rows]


def get_model(store: Store, model_id: str) -> ModelRecord | None:
    """One model version by id, or None."""
    with store.connect() as con:
        row = con.execute(_SELECT + " WHERE m.model_id = ?", [model_id]).fetchone()
    return None if row is None else _record(row)


def active_model(store: Store, kind: str = "ner") -> ModelRecord | None:
    """The model version the pipeline uses for ``kind``, or None (rules only)."""
    with store.connect() as con:
        row = con.execute(
            _SELECT + " WHERE m.kind = ? AND a.model_id IS NOT NULL", [kind]
        ).fetchone()
    return None if row is None else _record(row)


def activate_model(store: Store, model_id: str, user_id: str) -> ModelRecord:
    """Make ``model_id`` the active version of its kind (event ``model.activated``)."""
    require(store, "model.manage", None)
    with store.transaction() as con:
        model = get_model(store, model_id)
        if model is None:
            raise NotFound(f"No model {model_id}; `scribe models` lists the versions")
        previous = active_model(store, model.kind)
        _append_activation(con, model.kind, model_id, user_id)
        insert_events(
            con,
            [
                new_event(
                    user_id,
                    None,
                    "model.activated",
                    object_type="model",
                    object_id=model_id,
                    before={"model_id": previous.model_id if previous else None},
                    after={"model_id": model_id, "kind": model.kind},
                    model_version=model_id,
                )
            ],
        )
    return get_model(store, model_id) or model


def deactivate_model(store: Store, kind: str, user_id: str) -> ModelRecord | None:
    """Go back to rules only for ``kind`` (event ``model.deactivated``); returns the old one."""
    require(store, "model.manage", None)
    if kind not in MODEL_KINDS:
        raise StoreError(f"Unknown model kind {kind!r}; known: {', '.join(MODEL_KINDS)}")
    with store.transaction() as con:
        previous = active_model(store, kind)
        if previous is None:
            return None
        _append_activation(con, kind, None, user_id)
        insert_events(
            con,
            [
                new_event(
                    user_id,
                    None,
                    "model.deactivated",
                    object_type="model",
                    object_id=previous.model_id,
                    before={"model_id": previous.model_id},
                    after={"model_id": None, "kind": kind},
                )
            ],
        )
    return previous


def training_sources(store: Store) -> list[TrainingSource]:
    """Reviewed encounters with training-use consent (``training_set``'s sources)."""
    return training_set(store).sources


@dataclass(frozen=True)
class TrainingSet:
    """What training may use, and the reviewed encounters left out for lack of consent."""

    sources: list[TrainingSource]
    skipped_no_consent: tuple[str, ...] = ()


def training_set(store: Store) -> TrainingSet:
    """Reviewed encounters: each one with at least one entity correction or confirmation
    event, with its newest entity set and the segment texts of that set's transcript version.
    Encounters without training-use consent (``workbench.store.consent``) are skipped, by id.
    """
    require(store, "training.export", None)
    with store.connect() as con:
        rows = con.execute(
            _TRAINING_SOURCES, [list(ENTITY_CORRECTION_KINDS), list(ENTITY_REVIEW_KINDS)]
        ).fetchall()
        allowed = consented_ids(store, [row[0] for row in rows])
        sources = [
            TrainingSource(
                encounter_id=encounter_id,
                transcript_version=t_version,
                entity_set_version=set_version,
                segments=_segments(con, encounter_id, t_version),
                entities=_entity_set(con, encounter_id, set_version),
                corrections=int(n_corrections),
                confirmations=int(n_confirmations),
            )
            for encounter_id, n_corrections, n_confirmations, set_version, t_version in rows
            if encounter_id in allowed
        ]
    skipped = tuple(row[0] for row in rows if row[0] not in allowed)
    return TrainingSet(sources, skipped)


def _segments(con, encounter_id: str, transcript_version: int) -> tuple[tuple[int, str], ...]:
    rows = con.execute(
        "SELECT idx, text FROM segments WHERE encounter_id = ? AND transcript_version = ?"
        " ORDER BY idx",
        [encounter_id, transcript_version],
    ).fetchall()
    return tuple((int(idx), text) for idx, text in rows)


def _entity_set(con, encounter_id: str, set_version: int) -> tuple[Entity, ...]:
    rows = con.execute(
        "SELECT segment_idx, start_char, end_char, text, label, source FROM entities"
        " WHERE encounter_id = ? AND set_version = ? ORDER BY idx",
        [encounter_id, set_version],
    ).fetchall()
    return tuple(
        Entity(segment_idx=r[0], start=r[1], end=r[2], text=r[3], label=r[4], source=r[5])
        for r in rows
    )


def _append_activation(con, kind: str, model_id: str | None, user_id: str) -> None:
    con.execute(
        "INSERT INTO model_activations (seq, kind, model_id, activated_at, activated_by)"
        " VALUES (?, ?, ?, ?, ?)",
        [next_id(con, "model_activations"), kind, model_id, utcnow(), user_id],
    )


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _load(value: str | None) -> Any:
    return json.loads(value) if value else {}


def _record(row: tuple) -> ModelRecord:
    return ModelRecord(
        model_id=row[0],
        kind=row[1],
        created_at=row[2],
        created_by=row[3],
        path=row[4],
        base_nlp_version=row[5],
        encounters=row[6],
        entities=row[7],
        corrections=row[8],
        data_snapshot=_load(row[9]) or [],
        training=_load(row[10]),
        metrics=_load(row[11]),
        active=bool(row[12]),
    )
