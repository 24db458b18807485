"""Transcript corrections: a new transcript version, typed events, and only the changed
segments' entities and evidence recomputed."""

from __future__ import annotations

from dataclasses import dataclass

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
    a new entity set where only segments whose text changed are re-extracted, and (if the
    note is not signed) a note version whose evidence points into the corrected text.
    Raises ConcurrentEdit if the transcript changed since ``base_version``.
    """
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
    entities = _recompute_entities(store, nlp, encounter_id, base_version, corrected,
                                   text_changed)
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
        st.save_entities(store, encounter_id, version, entities, _nlp_version(nlp), user_id)
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
) -> tuple[Entity, ...]:
    from pipelines.nlp import extract_entities

    kept = [e for e in st.get_entities(store, encounter_id, base_version)
            if e.segment_idx not in changed]
    if changed:
        only_changed = corrected.with_segments(tuple(corrected.segments[i] for i in changed))
        kept.extend(extract_entities(nlp, only_changed))
    return tuple(sorted(kept, key=lambda e: (e.segment_idx, e.start)))


def _nlp_version(nlp) -> str:
    from pipelines.nlp import NLP_VERSION

    return nlp.meta.get("scribe", {}).get("version", NLP_VERSION)
