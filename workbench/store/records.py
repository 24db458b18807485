"""Plain records the store returns (domain objects come from ``pipelines.types``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pipelines.types import Draft, Entity

STATUSES: tuple[str, ...] = ("ingested", "transcribed", "drafted", "in review", "signed")


@dataclass(frozen=True)
class AudioRecord:
    sha256: str
    stored_path: str
    original_name: str | None
    format: str | None
    duration_s: float | None
    sample_rate: int | None
    channels: int | None
    size_bytes: int | None
    # When the retention policy deleted the file (``scribe retention apply``); None: kept.
    purged_at: datetime | None = None


@dataclass(frozen=True)
class EncounterRecord:
    encounter_id: str
    title: str
    specialty: str | None = None
    visit_type: str | None = None
    clinician: str | None = None
    patient_label: str | None = None
    audio_sha256: str | None = None
    source: str | None = None
    created_at: datetime | None = None
    created_by: str | None = None
    clinician_id: str | None = None  # the owning clinician's user id (None: created_by)


@dataclass(frozen=True)
class EncounterSummary:
    """One worklist row: the encounter plus where it stands in the workflow."""

    encounter: EncounterRecord
    status: str
    duration_s: float | None
    transcript_version: int | None
    note_version: int | None
    signed_at: datetime | None


@dataclass(frozen=True)
class NoteVersion:
    """One stored version of an encounter's note."""

    encounter_id: str
    version: int
    parent_version: int | None
    draft: Draft
    transcript_version: int | None
    created_at: datetime
    created_by: str
    signed_by: str | None = None
    signed_at: datetime | None = None

    @property
    def signed(self) -> bool:
        return self.signed_at is not None


@dataclass(frozen=True)
class Event:
    """An append-only record of one change: who, when, what, before and after."""

    event_id: str
    ts: datetime
    user_id: str
    encounter_id: str | None
    kind: str
    object_type: str | None = None
    object_id: str | None = None
    before: Any = None
    after: Any = None
    model_version: str | None = None
    note_version: int | None = None


@dataclass(frozen=True)
class EntitySet:
    """One stored version of an encounter's entities, and whether a clinician confirmed it."""

    encounter_id: str
    version: int
    transcript_version: int
    model_version: str
    created_at: datetime
    created_by: str
    entities: tuple[Entity, ...]
    confirmed_by: str | None = None
    confirmed_at: datetime | None = None

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None


@dataclass(frozen=True)
class AnnotationTask:
    """One task in an annotator's queue (``workbench.store.annotations``)."""

    task_id: str
    encounter_id: str
    kind: str  # entities, sections, transcript, quality, pairwise
    assignee: str
    status: str  # draft, submitted, reviewed
    transcript_version: int | None
    note_version: int | None
    payload: dict[str, Any]
    source: str  # app or labelstudio
    external_id: str | None
    revision: int
    created_by: str
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None = None
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None
    review_comment: str | None = None


@dataclass(frozen=True)
class GoldChoice:
    """The gold annotation set a lead chose for an encounter and task kind."""

    encounter_id: str
    kind: str
    seq: int
    method: str  # task or merged
    chosen_task: str | None
    annotations: tuple[Any, ...]  # pipelines.types.Annotation
    chosen_by: str
    chosen_at: datetime
    reason: str | None = None
