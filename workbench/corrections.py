"""Transcript corrections: a new transcript version, typed events, and only the changed
segments' entities and evidence recomputed, keeping what people did to the entities."""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from itertools import zip_longest
from typing import TYPE_CHECKING

from pipelines.drafting.regenerate import Regeneration, regenerate
from pipelines.entity_edit import EntityChange, carry_human_work, entity_order
from pipelines.transcript_edit import SegmentFix, apply_fix, remap_evidence
from pipelines.types import Draft, Entity, NoteSentence, Transcript
from workbench import store as st
from workbench.store.events import insert_events, new_event
from workbench.store.records import Event

if TYPE_CHECKING:
    from workbench.jobs import Engine

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CorrectionResult:
    transcript_version: int
    changes: int
    note_version: int | None
    recomputed_segments: tuple[int, ...]
    # What the targeted re-draft did to the note (None when nothing was re-drafted).
    regeneration: Regeneration | None = None


def correct_transcript(
    store: st.Store,
    nlp,
    encounter_id: str,
    base_version: int,
    fixes: list[SegmentFix],
    user_id: str,
    engine: Engine | None = None,
) -> CorrectionResult:
    """Apply ``fixes`` to transcript ``base_version``.

    Writes the corrected transcript as a new version with one typed event per change,
    a new entity set where only segments whose text changed are re-extracted (people's
    entities there move with their words or are dropped, each with an event), and (if the
    note is not signed) a note version whose evidence points into the corrected text.
    Given ``engine`` (a :class:`workbench.jobs.Engine`), the note's machine sentences drawn
    from the corrected segments are re-drafted by the engine's drafter (see
    ``pipelines.drafting.regenerate``): people's sentences are kept and flagged, each
    re-drafted sentence is a ``sentence.regenerated`` event. All of it is one transaction.
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
    # NLP and drafting run before the write so the database lock is held only for writes.
    entities, carried, entity_base = _recompute_entities(
        store, nlp, encounter_id, base_version, corrected, text_changed
    )
    # Who spoke decides a sentence's section and person ("I think you have ..." from the
    # clinician is an assessment), so a relabelled speaker is re-drafted like new words.
    redraft = sorted({s.segment_idx for s in summaries})
    fresh = _fresh_draft(store, engine, encounter_id, corrected, entities, redraft, user_id)
    corrections = {i: (transcript.segments[i], segments[i]) for i in redraft}
    with store.transaction() as con:
        note = st.get_note(store, encounter_id)
        version = st.save_transcript(
            store, encounter_id, corrected, user_id, kind="corrected", base_version=base_version
        )
        insert_events(
            con,
            [
                new_event(
                    user_id,
                    encounter_id,
                    s.kind,
                    object_type="segment",
                    object_id=f"{encounter_id}/transcript/{version}/segment/{s.segment_idx}",
                    before=s.before,
                    after=s.after,
                    model_version=transcript.model,
                )
                for s in summaries
            ],
        )
        st.save_entities(
            store,
            encounter_id,
            version,
            entities,
            model_version(nlp),
            user_id,
            changes=carried,
            base_version=entity_base,
        )
        note_version, regeneration = None, None
        if note is not None and not note.signed:
            sentences = note.draft.sentences
            events: list[Event] = []
            redrafted: tuple[str, ...] = ()
            if fresh is not None and _same_layout(fresh, note.draft):
                regeneration = regenerate(
                    sentences,
                    corrections,
                    fresh.sentences,
                    note.draft.sections,
                    human_ids=st.human_sentence_ids(store, encounter_id),
                    declined=st.deleted_sentences(store, encounter_id),
                    salt=f"{encounter_id}/transcript/{version}",
                )
                sentences = regeneration.sentences
                events = regeneration_events(
                    regeneration, note.draft.sentences, user_id, encounter_id, fresh.model_version
                )
                redrafted = (*regeneration.replaced, *regeneration.redrafted, *regeneration.added)
            else:
                for old, new in corrections.values():
                    sentences = remap_evidence(sentences, old, new)
            note_version = st.save_note(
                store,
                encounter_id,
                note.version,
                sentences,
                user_id,
                transcript_version=version,
                extra_events=events,
                redrafted=redrafted,
            )
    if regeneration is not None:
        log.info(
            "re-drafted %s note %s: %d out, %d in, %d flagged",
            encounter_id,
            note_version,
            len(regeneration.replaced),
            len(regeneration.redrafted) + len(regeneration.added),
            len(regeneration.flagged),
        )
    return CorrectionResult(
        version, len(summaries), note_version, tuple(text_changed), regeneration
    )


def _fresh_draft(
    store: st.Store,
    engine: Engine | None,
    encounter_id: str,
    corrected: Transcript,
    entities: tuple[Entity, ...],
    changed: list[int],
    user_id: str,
) -> Draft | None:
    """The engine's draft of the corrected visit in the note's own template, or None when
    nothing is to be re-drafted (no engine, no changed words, no note or a signed one)."""
    if engine is None or not changed:
        return None
    note = st.get_note(store, encounter_id)
    if note is None or note.signed:
        return None
    from pipelines.drafting import TemplateError
    from workbench.jobs import draft_encounter, personalise

    try:
        fresh = draft_encounter(engine, encounter_id, corrected, entities, note.draft.template)
    except TemplateError as exc:
        # A note in a template this drafter cannot write keeps its text; evidence is remapped.
        log.warning(
            "no re-draft for %s: template %s (%s)",
            encounter_id,
            note.draft.template,
            type(exc).__name__,
        )
        return None
    if engine.options.personalise:
        # Re-drafted sentences read like the rest of the note: the clinician's phrasing.
        encounter = st.get_encounter(store, encounter_id)
        clinician = (encounter.clinician if encounter else None) or user_id
        fresh = personalise(store, fresh, clinician)
    return fresh


def _same_layout(fresh: Draft, note: Draft) -> bool:
    # The order may differ (the clinician's or their style's); ``regenerate`` keeps the note's.
    return fresh.template == note.template and sorted(fresh.sections) == sorted(note.sections)


def regeneration_events(
    regeneration: Regeneration,
    previous: Sequence[NoteSentence],
    user_id: str,
    encounter_id: str,
    model_version: str,
) -> list[Event]:
    """One ``sentence.regenerated`` event per sentence re-drafted in, out or in place of
    another (before/after; None for a pure addition or removal), and one
    ``sentence.evidence_changed`` per person's sentence whose evidence a correction moved."""
    events = []
    for redraft in regeneration.redrafts:
        for before, after in zip_longest(redraft.before, redraft.after):
            events.append(
                new_event(
                    user_id,
                    encounter_id,
                    "sentence.regenerated",
                    object_type="sentence",
                    object_id=(after or before).sentence_id,
                    before=_snap(before),
                    after=_snap(after),
                    model_version=model_version,
                )
            )
    now = {s.sentence_id: s for s in regeneration.sentences}
    then = {s.sentence_id: s for s in previous}
    for sentence_id in regeneration.flagged:
        events.append(
            new_event(
                user_id,
                encounter_id,
                "sentence.evidence_changed",
                object_type="sentence",
                object_id=sentence_id,
                before={"evidence": _spans(then[sentence_id])},
                after={"text": now[sentence_id].text, "evidence": _spans(now[sentence_id])},
            )
        )
    return events


def _snap(s: NoteSentence | None) -> dict | None:
    if s is None:
        return None
    return {
        "sentence_id": s.sentence_id,
        "section": s.section,
        "text": s.text,
        "origin": s.origin,
        "evidence": _spans(s),
    }


def _spans(s: NoteSentence) -> list[list[int]]:
    return [[ev.segment_idx, ev.start_char, ev.end_char] for ev in s.evidence]


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
        previous.entities,
        old.segments,
        transcript.segments,
        fresh,
        recomputed,
        st.removed_entities(store, encounter_id),
    )
    return entities, changes, previous.version
