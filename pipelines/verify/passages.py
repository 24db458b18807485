"""The transcript cut into passages (sentences of segments), indexed for alignment.

A passage is one sentence span of one segment (``drafting.sentences.split_sentences``; long
unpunctuated speech is cut at discourse markers), so evidence points at the words that
support a claim rather than at a whole turn. Each passage carries its content stems,
quantities, sides and the transcript entities inside it.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field, replace

from pipelines.drafting.align import INSTRUCTION
from pipelines.drafting.sentences import answer_polarity, evidence_for, is_question, split_sentences
from pipelines.types import Entity, Evidence, Segment, Transcript
from pipelines.verify.lexicon import Lexicon, content_stems, same_stem, stem
from pipelines.verify.numbers import Quantity, quantities
from pipelines.verify.sides import sides

_ICD = re.compile(r"^[A-Z]\d\d")


@dataclass(frozen=True)
class Passage:
    """One sentence of one segment: characters ``[start, end)`` of ``segment.text``."""

    index: int
    segment: Segment
    start: int
    end: int
    question: bool
    stems: frozenset[str]
    quantities: tuple[Quantity, ...]
    sides: frozenset[str]
    entities: tuple[Entity, ...]
    entity_keys: tuple[frozenset[str], ...] = ()  # concept_keys of each entity
    turn_end: bool = False  # the other speaker talks next
    answer: bool | None = None  # their reply, when a bare yes (True) / no (False)

    @property
    def text(self) -> str:
        return self.segment.text[self.start : self.end]

    @property
    def speaker(self) -> str:
        return self.segment.speaker

    def evidence(self) -> Evidence:
        return evidence_for(self.segment, self.start, self.end)


def concept_keys(entity: Entity, lexicon: Lexicon) -> frozenset[str]:
    """Keys under which two mentions count as one concept: the code, its ICD-10-CM
    category ("R06.00" and "R06.02" are both shortness of breath), the concept's name
    ("HR" and "pulse" are both "Heart rate") and the stemmed words."""
    keys = {"w:" + " ".join(content_stems(entity.text, lexicon) or [stem(entity.text)])}
    if entity.code_label:
        keys.add("l:" + entity.code_label.lower())
    if entity.code:
        keys.add("c:" + entity.code)
        if entity.code_system == "ICD-10-CM" and _ICD.match(entity.code):
            keys.add("k:" + entity.code[:3])
    return frozenset(keys)


@dataclass
class TranscriptIndex:
    """Passages with inverted indexes from stems and concept keys to passage numbers."""

    passages: tuple[Passage, ...]
    lexicon: Lexicon
    by_stem: dict[str, set[int]] = field(default_factory=dict)
    by_concept: dict[str, set[int]] = field(default_factory=dict)
    _found: dict[str, frozenset[int]] = field(default_factory=dict)

    def passages_with(self, stem_: str) -> frozenset[int]:
        """Passages holding a word of the same family as ``stem_`` (cached per stem)."""
        hit = self._found.get(stem_)
        if hit is None:
            out: set[int] = set(self.by_stem.get(stem_, ()))
            for other, where in self.by_stem.items():
                if other != stem_ and same_stem(stem_, other):
                    out |= where
            hit = self._found[stem_] = frozenset(out)
        return hit

    def passages_of(self, entity: Entity) -> frozenset[int]:
        """Passages mentioning the same concept as ``entity`` (by code, category or words)."""
        out: set[int] = set()
        for key in concept_keys(entity, self.lexicon):
            out |= self.by_concept.get(key, set())
        return frozenset(out)

    def idf(self, where: frozenset[int] | set[int]) -> float:
        """Rarity of something found in ``where``: rare words anchor an alignment best."""
        return math.log(1.0 + len(self.passages) / (1.0 + len(where)))


def _segment_passages(segment: Segment, max_words: int) -> list[tuple[int, int]]:
    spans = list(split_sentences(segment.text, max_words))
    return spans or ([(0, len(segment.text))] if segment.text.strip() else [])


def index_transcript(
    transcript: Transcript,
    entities: tuple[Entity, ...],
    lexicon: Lexicon,
    max_words: int = 40,
) -> TranscriptIndex:
    """Cut the transcript into passages and index their words and concepts.

    Passages that address the note writer or a model (``drafting.align.INSTRUCTION``) are
    left out: a sentence they alone would support is flagged as unsupported.
    """
    by_segment: dict[int, list[Entity]] = defaultdict(list)
    for ent in entities:
        by_segment[ent.segment_idx].append(ent)
    passages: list[Passage] = []
    for segment in transcript.segments:
        for a, b in _segment_passages(segment, max_words):
            text = segment.text[a:b]
            if INSTRUCTION.search(text):
                # Words addressed to the note writer or a model ("ignore previous
                # instructions ...", fake prompt markup) are data, never support.
                continue
            inside = tuple(e for e in by_segment.get(segment.idx, ()) if e.start < b and e.end > a)
            passages.append(
                Passage(
                    index=len(passages),
                    segment=segment,
                    start=a,
                    end=b,
                    question=is_question(text, segment.speaker),
                    stems=frozenset(content_stems(text, lexicon)),
                    quantities=quantities(text),
                    sides=sides(text, lexicon),
                    entities=inside,
                    entity_keys=tuple(concept_keys(e, lexicon) for e in inside),
                )
            )
    for i, p in enumerate(passages):
        reply = passages[i + 1] if i + 1 < len(passages) else None
        if reply is not None and reply.segment.idx != p.segment.idx and reply.speaker != p.speaker:
            answer = answer_polarity(reply.text, max_words=8)
            passages[i] = replace(p, turn_end=True, answer=answer)
    index = TranscriptIndex(tuple(passages), lexicon)
    for p in passages:
        for s in p.stems:
            index.by_stem.setdefault(s, set()).add(p.index)
        for keys in p.entity_keys:
            for key in keys:
                index.by_concept.setdefault(key, set()).add(p.index)
    return index
