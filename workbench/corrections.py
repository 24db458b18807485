"""Transcript corrections: a new transcript version, typed events, and only the changed
segments' entities and evidence recomputed, keeping what people did to the entities."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from pipelines.entity_edit import EntityChange, carry_human_work, entity_order
from pipelines.transcript_edit import SegmentFix, apply_fix, remap_evidence
from pipelines.types import Entity, Transcript
from workbench import store as st
from workbench.store.events import insert_events, new_event


@dataclass(frozen=True)
class CorrectionResult:
    transcript_version: int
    changes: int
    note_version: int | None
    recomputed_segments: tuple[int, ...]


def correct_transcript(
    store: st.Store,
    nlp,
    encounter_id: str,
    base_version: int,
    fixes: list[SegmentFix],
    user_id: str,
) -> CorrectionResult:
    """Apply ``fixes`` to transcript ``base_version``.

    Writes the corrected transcript as a new version with one typed event per change,
    a new entity set where only segments whose text changed are re-extracted (people's
    entities there move with their words or are dropped, each with an event), and (if the
    note is not signed) a note version whose evidence points into the corrected text.
    Raises ConcurrentEdit if the transcript or its entities changed since ``base_version``.
    """
    from pipelines.nlp import model_version

    found = st.get_transcript(store, encounter_id, base_version)
    if found is None:
        raise st.NotFound(f"No transcript version {base_version} for {encounter_id}")
    _, transcript = found
    segments = list(transcript.segments)
    summaries = []
    for fix in fixes:
        if not 0 <= fix.segment_idx < len(segments):
            raise st.NotFound(f"No segment {fix.segment_idx} in {encounter_id}")
        segments[fix.segment_idx], changed = apply_fix(segments[fix.segment_idx], fix)
        summaries.extend(changed)
    if not summaries:
        return CorrectionResult(base_version, 0, None, ())
    corrected = transcript.with_segments(tuple(segments))
    text_changed = sorted(
        {s.segment_idx for s in summaries if s.kind != "transcript.speaker_relabelled"}
    )
    # NLP runs before the write so the database lock is held only for the writes.
    entities, carried, entity_base = _recompute_entities(
        store, nlp, encounter_id, base_version, corrected, text_changed
    )
    with store.transaction() as con:
        note = st.get_note(store, encounter_id)
        version = st.save_transcript(store, encounter_id, corrected, user_id,
                                     kind="corrected", base_version=base_version)
        insert_events(con, [
            new_event(user_id, encounter_id, s.kind, object_type="segment",
                      object_id=f"{encounter_id}/transcript/{version}/segment/{s.segment_idx}",
                      before=s.before, after=s.after, model_version=transcript.model)
            for s in summaries
        ])
        st.save_entities(store, encounter_id, version, entities, model_version(nlp), user_id,
                         changes=carried, base_version=entity_base)
        note_version = None
        if note is not None and not note.signed:
            sentences = note.draft.sentences
            for idx in text_changed:
                sentences = remap_evidence(sentences, transcript.segments[idx], segments[idx])
            note_version = st.save_note(store, encounter_id, note.version, sentences, user_id,
                                        transcript_version=version)
    return CorrectionResult(version, len(summaries), note_version, tuple(text_changed))


def _recompute_entities(
    store: st.Store,
    nlp,
    encounter_id: str,
    base_version: int,
    corrected: Transcript,
    changed: list[int],
) -> tuple[tuple[Entity, ...], tuple[EntityChange, ...], int | None]:
    from pipelines.nlp import extract_entities

    fresh: tuple[Entity, ...] = ()
    if changed:
        only_changed = corrected.with_segments(tuple(corrected.segments[i] for i in changed))
        fresh = extract_entities(nlp, only_changed)
    return keep_human_work(store, encounter_id, corrected, fresh, changed, base_version)


def keep_human_work(
    store: st.Store,
    encounter_id: str,
    transcript: Transcript,
    fresh: Sequence[Entity],
    recomputed: Collection[int] | None = None,
    from_transcript: int | None = None,
) -> tuple[tuple[Entity, ...], tuple[EntityChange, ...], int | None]:
    """Merge the machine's ``fresh`` entities for ``transcript`` with people's earlier work.

    Starts from the newest entity set (of transcript version ``from_transcript``, if given);
    ``recomputed`` are the segments ``fresh`` covers (default: all). Returns the merged
    entities, what happened to people's entities (see ``carry_human_work``) and the entity
    set version it started from (None if there was none), to save with ``save_entities``.
    """
    previous = st.get_entity_set(store, encounter_id, transcript_version=from_transcript)
    if previous is None:
        return tuple(sorted(fresh, key=entity_order)), (), None
    _, old = st.get_transcript(store, encounter_id, previous.transcript_version)
    if recomputed is None:
        recomputed = [s.idx for s in transcript.segments]
    entities, changes = carry_human_work(
        previous.entities, old.segments, transcript.segments, fresh, recomputed,
        st.removed_entities(store, encounter_id),
    )
    return entities, changes, previous.version
