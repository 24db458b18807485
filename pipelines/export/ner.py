"""Reviewed entities as a spaCy DocBin for NER training: one Doc per transcript segment.

The Docs are built exactly as the in-app trainer builds its reference Docs
(``pipelines.nlp.ner_data.encounter_docs``: the blank English tokenizer, schema labels only,
overlaps resolved, tokens outside entities O), so an exported ``.spacy`` file trains the same
model ``scribe train`` would. Spans that do not fall on token boundaries are widened to whole
tokens and counted (``expanded_to_tokens``), never dropped silently.

De-identified: each segment's text is the de-identified text (``pipelines.deid``, the whole
transcript analysed at once) and entity offsets are carried over to it; an entity whose own
words were redacted is left out and counted (``dropped_phi_overlap``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from spacy.language import Language
from spacy.tokens import DocBin

from pipelines.deid import deidentify_transcript
from pipelines.nlp.ner_data import AnnotatedEncounter, encounter_docs
from pipelines.transcript_edit import remap_span
from pipelines.types import Entity, Transcript

FORMAT = "scribe.ner.v1"


def ner_encounter(
    encounter_id: str,
    transcript: Transcript,
    entities: Sequence[Entity],
    *,
    deid: bool = False,
    known_names: Sequence[str] = (),
) -> tuple[AnnotatedEncounter, Counter[str]]:
    """The encounter's segments and entities as the DocBin will hold them, and what
    de-identification left out."""
    counts: Counter[str] = Counter()
    segments = tuple((s.idx, s.text) for s in transcript.segments)
    if not deid:
        return AnnotatedEncounter(encounter_id, segments, tuple(entities)), counts
    masked = {s.idx: s.text for s in deidentify_transcript(transcript, known_names).segments}
    plain = dict(segments)
    kept = []
    for entity in entities:
        old, new = plain.get(entity.segment_idx), masked.get(entity.segment_idx)
        moved = remap_span(old, new, entity.start, entity.end) if old and new else None
        if moved is None or new[moved[0] : moved[1]] != entity.text:
            counts["dropped_phi_overlap"] += 1
            continue
        kept.append(replace(entity, start=moved[0], end=moved[1]))
    return AnnotatedEncounter(encounter_id, tuple(masked.items()), tuple(kept)), counts


def write_docbin(
    nlp: Language,
    encounters: Iterable[AnnotatedEncounter],
    labels: Sequence[str],
    path: Path,
) -> Counter[str]:
    """Write one DocBin (``.spacy``) of every encounter's segment Docs; returns the counts
    (``docs``, ``label:<LABEL>`` per kept span, and the ``encounter_docs`` drop counts)."""
    counts: Counter[str] = Counter()
    docbin = DocBin(store_user_data=True)
    for encounter in encounters:
        docs, found = encounter_docs(nlp, encounter, labels)
        counts.update(found)
        counts["docs"] += len(docs)
        for doc in docs:
            docbin.add(doc)
    docbin.to_disk(path)
    return counts
