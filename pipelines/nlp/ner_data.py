"""Reviewed entities as spaCy training data: one reference Doc per segment, whole
encounters split between training and held-out evaluation.

Offsets are checked against the segment text, spans are aligned to tokens and overlaps
resolved deterministically; only labels of the schema (``annotations/labels.json``) are kept.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from spacy.language import Language
from spacy.tokens import Doc

from pipelines.types import Entity

Span3 = tuple[int, int, str]  # (start_char, end_char, label) within one segment text


@dataclass(frozen=True)
class AnnotatedEncounter:
    """One encounter's segment texts and its reviewed entities (offsets per segment)."""

    encounter_id: str
    segments: tuple[tuple[int, str], ...]  # (segment idx, text)
    entities: tuple[Entity, ...]


def split_encounters(
    encounter_ids: Iterable[str], holdout: float, seed: int
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(train, held out) encounter ids: the ``holdout`` fraction (at least one) with the
    smallest seeded hash is held out, so the split depends only on the ids and the seed."""
    if not 0 < holdout < 1:
        raise ValueError(f"holdout must be between 0 and 1, got {holdout}")
    ids = sorted(set(encounter_ids))
    n_held = max(1, round(holdout * len(ids)))

    def key(encounter_id: str) -> str:
        return hashlib.sha256(f"{seed}:{encounter_id}".encode()).hexdigest()

    held = set(sorted(ids, key=key)[:n_held])
    return tuple(i for i in ids if i not in held), tuple(i for i in ids if i in held)


def resolve_overlaps(spans: Iterable[Span3]) -> tuple[list[Span3], int]:
    """Non-overlapping spans and how many were dropped: the longest span wins, then the
    earliest, then the label that sorts first, so the result never depends on input order."""
    ranked = sorted(set(spans), key=lambda s: (-(s[1] - s[0]), s[0], s[2]))
    kept: list[Span3] = []
    for span in ranked:
        if all(span[1] <= k[0] or k[1] <= span[0] for k in kept):
            kept.append(span)
    return sorted(kept), len(ranked) - len(kept)


def encounter_docs(
    nlp: Language, encounter: AnnotatedEncounter, labels: Sequence[str]
) -> tuple[list[Doc], Counter[str]]:
    """One reference Doc per non-empty segment with its entities (token-aligned, fully
    annotated: tokens outside entities are O) and counts of what was kept or dropped.

    A span whose ends fall inside tokens is widened to whole tokens and counted as
    ``expanded_to_tokens`` (one that cannot be widened: ``dropped_misaligned``). Each Doc's
    ``user_data`` names its encounter and segment (kept by ``DocBin(store_user_data=True)``).
    """
    counts: Counter[str] = Counter()
    by_segment: dict[int, list[Span3]] = {}
    texts = dict(encounter.segments)
    for ent in encounter.entities:
        text = texts.get(ent.segment_idx)
        if ent.label not in labels:
            counts["dropped_unknown_label"] += 1
        elif (
            text is None
            or not 0 <= ent.start < ent.end <= len(text)
            or (text[ent.start : ent.end] != ent.text)
        ):
            counts["dropped_bad_offsets"] += 1  # stale or broken offsets would teach noise
        else:
            by_segment.setdefault(ent.segment_idx, []).append((ent.start, ent.end, ent.label))
            counts["human_entities"] += ent.source == "human"
    docs = []
    for idx, text in encounter.segments:
        if not text.strip():
            continue
        doc = nlp.make_doc(text)
        doc.user_data.update(encounter_id=encounter.encounter_id, segment_idx=idx)
        aligned = []
        for start, end, label in by_segment.get(idx, []):
            span = doc.char_span(start, end, label=label, alignment_mode="expand")
            if span is None:
                counts["dropped_misaligned"] += 1
                continue
            counts["expanded_to_tokens"] += (span.start_char, span.end_char) != (start, end)
            aligned.append((span.start_char, span.end_char, label))
        kept, dropped = resolve_overlaps(aligned)
        counts["dropped_overlapping"] += dropped
        doc.set_ents([doc.char_span(s, e, label=label) for s, e, label in kept], default="outside")
        counts.update(f"label:{label}" for _, _, label in kept)
        docs.append(doc)
    return docs, counts
