"""The DuckDB store: all SQL lives in this package, one named function per query."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from workbench.store.activity import (
    active_review_seconds,
    last_active,
    looked_at_ids,
    round_start,
)
from workbench.store.codes import (
    CodeDecision,
    ProblemRef,
    accept_code,
    current_code_decisions,
    list_code_decisions,
    problem_code_decisions,
    reject_code,
)
from workbench.store.consent import (
    ConsentState,
    consent_history,
    consented_ids,
    get_consent,
    list_consent,
    set_consent,
)
from workbench.store.db import (
    ConcurrentEdit,
    InvalidEdit,
    NoteLocked,
    NotFound,
    Store,
    StoreBusy,
    StoreError,
    WrongKey,
)
from workbench.store.decisions import (
    SentenceDecision,
    accept_sentences,
    sentence_decisions,
)
from workbench.store.encounters import (
    add_audio,
    add_encounter,
    ensure_user,
    find_encounter_by_audio,
    get_audio,
    get_encounter,
    list_encounters,
    list_users,
)
from workbench.store.entities import (
    entity_set_version,
    get_entities,
    get_entity_set,
    save_entities,
)
from workbench.store.entity_edits import (
    add_entity,
    change_entity_code,
    confirm_entities,
    relabel_entity,
    remove_entity,
    removed_entities,
    set_entity_attributes,
    set_entity_context,
)
from workbench.store.events import append_event, list_events, new_event
from workbench.store.lake import LakeConfig, LakeUnavailable, parse_lake_url
from workbench.store.migrations import migrate, schema_version
from workbench.store.models import (
    ModelRecord,
    NewModel,
    TrainingSet,
    TrainingSource,
    activate_model,
    active_model,
    deactivate_model,
    get_model,
    list_models,
    register_model,
    training_set,
    training_sources,
)
from workbench.store.note_history import (
    NoteHistory,
    history_events,
    machine_draft,
    note_history,
)
from workbench.store.notes import (
    ATTESTATION,
    diff_sentences,
    get_note,
    list_note_versions,
    save_draft,
    save_note,
)
from workbench.store.records import (
    AudioRecord,
    EncounterRecord,
    EncounterSummary,
    EntitySet,
    Event,
    NoteVersion,
)
from workbench.store.sentence_history import (
    deleted_sentences,
    evidence_changed_ids,
    human_sentence_ids,
)
from workbench.store.signatures import Signature, list_signatures
from workbench.store.signing import (
    RoundActivity,
    SignoffBlocked,
    SignoffState,
    amend_note,
    round_activity,
    sign_note,
    signoff_state,
    signoff_view,
)
from workbench.store.status import status_counts
from workbench.store.styles import (
    StoredStyle,
    latest_style,
    save_style,
    signed_drafts,
    signed_without_consent,
)
from workbench.store.support import NewSupportCheck, SupportCheck, get_support, save_support
from workbench.store.transcripts import (
    get_transcript,
    latest_transcript_version,
    save_transcript,
)
from workbench.store.vocabulary import add_term, list_terms, remove_term
from workbench.store.worklist import (
    ReviewPosition,
    WorklistQuery,
    WorklistView,
    list_worklist,
    next_unsigned,
    review_position,
    worklist_options,
    worklist_status_counts,
    worklist_view,
)

DB_FILENAME = "scribe.duckdb"


def open_store(
    data_dir: Path,
    lock_timeout_s: float = 120.0,
    key: bytes | Literal["env"] | None = "env",
    lake: LakeConfig | Literal["env"] | None = "env",
) -> Store:
    """Open (creating and migrating if needed) the store of ``data_dir``.

    ``key``: the master key; "env" (default) reads SCRIBE_KEY / SCRIBE_KEY_FILE
    (``workbench.keys.load_key``), None opens it unencrypted. A key that does not fit the
    file raises WrongKey.
    ``lake``: the shared DuckLake store to use; "env" (default) reads SCRIBE_LAKE (empty:
    none), None: the single DuckDB file in ``data_dir``, the embedded default. Audio,
    models and caches stay in ``data_dir`` either way.
    """
    from workbench.keys import KeyProblem, load_key
    from workbench.settings import setting

    if key == "env":
        try:
            key = load_key()
        except KeyProblem as exc:
            raise StoreError(str(exc)) from exc
    if lake == "env":
        url = setting("SCRIBE_LAKE").strip()
        lake = parse_lake_url(url) if url else None
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(data_dir / DB_FILENAME, lock_timeout_s=lock_timeout_s, key=key, lake=lake)
    migrate(store)
    return store


__all__ = [
    "LakeConfig",
    "LakeUnavailable",
    "parse_lake_url",
    "EntitySet",
    "InvalidEdit",
    "add_entity",
    "change_entity_code",
    "confirm_entities",
    "get_entity_set",
    "relabel_entity",
    "remove_entity",
    "removed_entities",
    "set_entity_attributes",
    "set_entity_context",
    "ATTESTATION",
    "add_term",
    "list_terms",
    "remove_term",
    "AudioRecord",
    "ConcurrentEdit",
    "DB_FILENAME",
    "EncounterRecord",
    "EncounterSummary",
    "Event",
    "NoteLocked",
    "NoteVersion",
    "NotFound",
    "Store",
    "StoreBusy",
    "StoreError",
    "WrongKey",
    "add_audio",
    "add_encounter",
    "append_event",
    "diff_sentences",
    "ensure_user",
    "entity_set_version",
    "find_encounter_by_audio",
    "get_audio",
    "get_encounter",
    "get_entities",
    "get_note",
    "get_transcript",
    "latest_transcript_version",
    "list_encounters",
    "list_events",
    "list_note_versions",
    "list_users",
    "migrate",
    "new_event",
    "open_store",
    "save_draft",
    "save_entities",
    "save_note",
    "save_transcript",
    "schema_version",
    "sign_note",
    "status_counts",
    "CodeDecision",
    "accept_code",
    "current_code_decisions",
    "list_code_decisions",
    "reject_code",
    "ProblemRef",
    "problem_code_decisions",
    "ModelRecord",
    "NewModel",
    "TrainingSource",
    "activate_model",
    "active_model",
    "deactivate_model",
    "get_model",
    "list_models",
    "register_model",
    "training_sources",
    "NewSupportCheck",
    "SupportCheck",
    "get_support",
    "save_support",
    "deleted_sentences",
    "evidence_changed_ids",
    "human_sentence_ids",
    "StoredStyle",
    "latest_style",
    "save_style",
    "signed_drafts",
    "SentenceDecision",
    "accept_sentences",
    "sentence_decisions",
    "ReviewPosition",
    "WorklistQuery",
    "WorklistView",
    "list_worklist",
    "next_unsigned",
    "review_position",
    "worklist_options",
    "worklist_status_counts",
    "worklist_view",
    "active_review_seconds",
    "last_active",
    "looked_at_ids",
    "round_start",
    "history_events",
    "machine_draft",
    "Signature",
    "list_signatures",
    "SignoffBlocked",
    "SignoffState",
    "amend_note",
    "signoff_state",
    "NoteHistory",
    "note_history",
    "RoundActivity",
    "round_activity",
    "signoff_view",
    "ConsentState",
    "consent_history",
    "consented_ids",
    "get_consent",
    "list_consent",
    "set_consent",
    "TrainingSet",
    "training_set",
    "signed_without_consent",
]
