"""A MEDCON-like concept F1: medical concepts in a note against those in the reference note.

ACI-Bench's MEDCON extracts UMLS concepts with QuickUMLS (a UMLS licence is needed) in the
semantic groups Anatomy, Chemicals & Drugs, Devices, Disorders, Genes, Phenomena and
Physiology, and scores the F1 of the two concept sets per note. Here the concepts come from
our own clinical NLP (``pipelines.nlp``): problems, medications, tests, procedures, anatomy
and vital signs, identified by their code (ICD-10-CM, DrugBank) or, without one, by their
normalised name. Negation is ignored, as in MEDCON. The figures are comparable between
systems scored in the same run, not with the paper's MEDCON column.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from pipelines.types import Entity, Segment, Transcript

CONCEPT_LABELS: tuple[str, ...] = ("PROBLEM", "MEDICATION", "TEST", "PROCEDURE", "ANATOMY", "VITAL")
EntitiesFn = Callable[[Transcript], tuple[Entity, ...]]


def concept_id(entity: Entity) -> str:
    """A concept's identity: its code when linked, else its normalised name."""
    if entity.code:
        return f"{entity.code_system or 'code'}:{entity.code}"
    name = entity.code_label or entity.text
    return f"{entity.label}:{re.sub(r'[^a-z0-9]+', ' ', name.lower()).strip()}"


def note_transcript(note: str) -> Transcript:
    """A note as a transcript of its non-empty lines (no speaker), for the NLP."""
    lines = [ln.strip() for ln in note.replace("\r", "").split("\n") if ln.strip()]
    segments = tuple(Segment(i, float(i), float(i + 1), ln) for i, ln in enumerate(lines))
    return Transcript(segments, "en", float(len(segments)), "note")


def note_concepts(note: str, entities_of: EntitiesFn) -> set[str]:
    """The set of concept ids the NLP finds in ``note``."""
    if not note.strip():
        return set()
    return {concept_id(e) for e in entities_of(note_transcript(note)) if e.label in CONCEPT_LABELS}


def concept_f1(reference: set[str], predicted: set[str]) -> float:
    """F1 x 100 of two concept sets (100 when both are empty, 0 when one is)."""
    if not reference and not predicted:
        return 100.0
    hits = len(reference & predicted)
    if not hits:
        return 0.0
    precision, recall = hits / len(predicted), hits / len(reference)
    return 100.0 * 2 * precision * recall / (precision + recall)


def concept_scores(
    references: Sequence[str], predictions: Sequence[str], entities_of: EntitiesFn
) -> list[float]:
    """Per-note concept F1 x 100 of each (reference, prediction) pair."""
    return [
        concept_f1(note_concepts(r, entities_of), note_concepts(p, entities_of))
        for r, p in zip(references, predictions, strict=True)
    ]
