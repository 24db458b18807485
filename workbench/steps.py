"""One encounter's processing as steps: the driver plans and writes, an engine computes.

``plan_next`` reads what the store holds and returns the next step's inputs (a job), or
None when nothing is left; ``compute`` runs a job on an :class:`~workbench.jobs.Engine`
(pure processing on plain dataclasses, no store: inline for the local engine, in a Ray
actor for ``scribe process --engine ray``); ``write`` keeps the result with the store
functions. Both engines run these same three functions, so their results agree, and a
step whose output is stored is never planned again (processing twice writes nothing).

A job may wait long (a batch's queue) while people keep working: ``write`` checks, in the
write's own transaction, that the job's input is still the newest and its output still
missing, and otherwise writes nothing (the result is stale), so a machine result never
lands on top of a clinician's correction.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from pipelines.drafting.style import ClinicianStyle, apply_style
from pipelines.types import Draft, Entity, Transcript
from workbench import store as st
from workbench.jobs import Engine, clinician_style, custom_terms, draft_encounter, recognise
from workbench.store.access import require
from workbench.support import Findings, save_findings, verify_draft

STEPS = ("asr", "nlp", "draft", "verify")
# What a progress bar says while a step runs, and how far along the encounter then is.
STEP_PROGRESS = {
    "asr": ("transcribing", 0.0),
    "nlp": ("finding medical entities", 0.85),
    "draft": ("drafting the note", 0.95),
    "verify": ("checking the note against the transcript", 0.97),
}


@dataclass(frozen=True)
class AsrJob:
    """Speech to transcript. ``audio`` is the stored file's path (local engine, plaintext
    store) or its bytes (decrypted in memory if the store is encrypted)."""

    encounter_id: str
    audio: Path | bytes
    audio_sha256: str
    terms: tuple[str, ...]
    step: str = "asr"


@dataclass(frozen=True)
class NlpJob:
    """Medical entities of a stored transcript version."""

    encounter_id: str
    transcript_version: int
    transcript: Transcript
    step: str = "nlp"


@dataclass(frozen=True)
class DraftJob:
    """The note drafted from a transcript and its entities, in the clinician's style."""

    encounter_id: str
    transcript_version: int
    transcript: Transcript
    entities: tuple[Entity, ...]
    style: ClinicianStyle | None  # applied when the engine personalises
    # The entity set drafted from: a correction made meanwhile makes the draft stale.
    entity_set_version: int | None = None
    step: str = "draft"


@dataclass(frozen=True)
class VerifyJob:
    """The support check of a stored note version against its transcript and entities."""

    encounter_id: str
    note_version: int
    transcript_version: int
    transcript: Transcript
    entity_set_version: int | None
    entities: tuple[Entity, ...]
    draft: Draft
    step: str = "verify"


Job = AsrJob | NlpJob | DraftJob | VerifyJob


@dataclass(frozen=True)
class FoundEntities:
    """The NLP step's result: fresh entities and the pipeline version that found them."""

    entities: tuple[Entity, ...]
    model_version: str


def plan_next(
    store: st.Store,
    data_dir: Path,
    encounter_id: str,
    user_id: str,
    *,
    audio_in_memory: bool = False,
) -> Job | None:
    """The next step the encounter needs, with its inputs read from the store; None if done.

    A newest note that is a machine draft (no one edited it) and was never checked gets its
    support check, also when an earlier run stopped between drafting and checking; edited
    notes are checked when they are viewed. ``audio_in_memory`` hands the audio over as
    bytes (a Ray worker may run on another machine). Raises NotFound for an unknown
    encounter or audio that is missing or purged.
    """
    encounter = st.get_encounter(store, encounter_id)
    if encounter is None:
        raise st.NotFound(f"No encounter {encounter_id}")
    found = st.get_transcript(store, encounter_id)
    if found is None:
        return _asr_job(store, data_dir, encounter, user_id, audio_in_memory)
    transcript_version, transcript = found
    entity_version = st.entity_set_version(store, encounter_id, transcript_version)
    if entity_version is None:
        return NlpJob(encounter_id, transcript_version, transcript)
    note = st.get_note(store, encounter_id)
    if note is None:
        entities = st.get_entities(store, encounter_id, transcript_version)
        style = clinician_style(store, encounter.clinician or user_id)
        return DraftJob(
            encounter_id, transcript_version, transcript, entities, style, entity_version
        )
    if _unchecked_draft(store, note):
        return _verify_job(store, note)
    return None


def _unchecked_draft(store: st.Store, note: st.NoteVersion) -> bool:
    """Whether ``note`` is an unsigned machine draft (no parent version: nobody edited it)
    without a support check."""
    if note.parent_version is not None or note.signed:
        return False
    return st.get_support(store, note.encounter_id, note.version) is None


def _asr_job(store: st.Store, data_dir: Path, encounter, user_id: str, in_memory: bool) -> AsrJob:
    audio = st.get_audio(store, encounter.audio_sha256 or "")
    if audio is None:
        raise st.NotFound(f"Encounter {encounter.encounter_id} has no stored audio")
    if audio.purged_at is not None:
        raise st.NotFound(
            f"The audio of {encounter.encounter_id} was purged by the retention policy on "
            f"{audio.purged_at:%Y-%m-%d}; it cannot be transcribed again"
        )
    terms = tuple(custom_terms(store, encounter.clinician, user_id))
    stored: Path | bytes = Path(data_dir) / audio.stored_path
    if store.encrypted or in_memory:  # decrypted into memory only, never into a scratch file
        from workbench.audio_store import read_audio

        stored = read_audio(stored, store.key)
    return AsrJob(encounter.encounter_id, stored, audio.sha256, terms)


def _verify_job(store: st.Store, note: st.NoteVersion) -> VerifyJob:
    found = st.get_transcript(store, note.encounter_id, note.transcript_version)
    if found is None:
        raise st.NotFound(f"No transcript for {note.encounter_id}")
    transcript_version, transcript = found
    entity_set = st.get_entity_set(store, note.encounter_id, transcript_version=transcript_version)
    return VerifyJob(
        note.encounter_id,
        note.version,
        transcript_version,
        transcript,
        entity_set.version if entity_set else None,
        entity_set.entities if entity_set else (),
        note.draft,
    )


def compute(
    engine: Engine,
    job: Job,
    scratch: Path,
    progress: Callable[[float], None] | None = None,
) -> Transcript | FoundEntities | Draft | Findings:
    """Run one step's pure processing on the engine's models (no store is touched)."""
    if isinstance(job, AsrJob):
        transcript = recognise(engine, job.audio, scratch, progress, list(job.terms))
        return replace(transcript, input_sha256=job.audio_sha256)
    if isinstance(job, NlpJob):
        from pipelines.nlp import extract_entities, model_version

        nlp = engine.nlp
        return FoundEntities(tuple(extract_entities(nlp, job.transcript)), model_version(nlp))
    if isinstance(job, DraftJob):
        draft = draft_encounter(engine, job.encounter_id, job.transcript, job.entities)
        return apply_style(draft, job.style) if engine.options.personalise else draft
    return verify_draft(engine.nlp, job.transcript, job.entities, job.draft)


def timed_compute(engine: Engine, job: Job, scratch: Path) -> tuple[object, float]:
    """``compute`` and its seconds (what a Ray worker returns to the driver)."""
    started = time.perf_counter()
    result = compute(engine, job, scratch)
    return result, time.perf_counter() - started


# The permission each write needs, checked before the write's transaction opens so that a
# refusal's audit row is not rolled back with it.
WRITE_PERMISSION = {"nlp": "entity.edit", "draft": "note.edit", "verify": "note.edit"}


def write(store: st.Store, job: Job, result: object, user_id: str) -> bool:
    """Keep one step's result with the store functions (each its own short transaction).

    Returns False, writing nothing, when the result is stale: the store moved on since the
    job was planned (a transcript was stored or corrected, entities found, a note drafted or
    edited or checked). The encounter is then up to date as far as this job goes.
    """
    eid = job.encounter_id
    if isinstance(job, AsrJob):
        assert isinstance(result, Transcript)
        try:  # base version 0: only while the encounter has no transcript at all
            st.save_transcript(store, eid, result, user_id, base_version=0)
        except st.ConcurrentEdit:
            return False
        return True
    require(store, WRITE_PERMISSION[job.step], eid)
    with store.transaction():  # the check and the write see the same state, under the lock
        if not _still_needed(store, job):
            return False
        _write_checked(store, job, result, user_id)
    return True


def _still_needed(store: st.Store, job: NlpJob | DraftJob | VerifyJob) -> bool:
    """Whether the job's input is still the newest and its output still missing."""
    eid = job.encounter_id
    if isinstance(job, VerifyJob):
        note = st.get_note(store, eid)
        return (
            note is not None and note.version == job.note_version and _unchecked_draft(store, note)
        )
    if st.latest_transcript_version(store, eid) != job.transcript_version:
        return False
    if isinstance(job, NlpJob):
        return st.entity_set_version(store, eid, job.transcript_version) is None
    current = st.entity_set_version(store, eid, job.transcript_version)
    return current == job.entity_set_version and st.get_note(store, eid) is None


def _write_checked(store: st.Store, job: NlpJob | DraftJob | VerifyJob, result, user_id):
    """Write a result ``_still_needed`` approved, inside the caller's transaction."""
    eid = job.encounter_id
    if isinstance(job, NlpJob):
        from workbench.corrections import keep_human_work

        assert isinstance(result, FoundEntities)
        # A newer transcript (or a newer model) must not discard people's entity corrections.
        entities, carried, base = keep_human_work(store, eid, job.transcript, result.entities)
        st.save_entities(
            store,
            eid,
            job.transcript_version,
            entities,
            result.model_version,
            user_id,
            changes=carried,
            base_version=base,
        )
    elif isinstance(job, DraftJob):
        assert isinstance(result, Draft)
        st.save_draft(store, eid, result, job.transcript_version, user_id)
    else:
        assert isinstance(result, Findings)
        note = st.get_note(store, eid, job.note_version)
        if note is None:
            raise st.NotFound(f"No note {job.note_version} for {eid}")
        save_findings(store, user_id, note, job.transcript_version, job.entity_set_version, result)
