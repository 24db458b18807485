"""Transcript sentences as drafting units: a span of a speaker turn and the entities inside it.

Both drafters work on units: consecutive segments of one speaker form a turn (``turns``), the
turn is split into sentences (``sentences.split_sentences``) and a leading greeting is cut off.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipelines.drafting.numbers import splits_number
from pipelines.drafting.rewrite import clean
from pipelines.drafting.sentences import greeting_end, split_sentences, tag_end
from pipelines.drafting.turns import Turn, group_turns
from pipelines.types import Entity, Evidence, Transcript


@dataclass(frozen=True)
class Unit:
    """One transcript sentence (or clause) of a turn: span and the entities inside it.

    Offsets (``start``, ``end`` and the entities') are into ``turn.text``.
    """

    turn: Turn
    start: int
    end: int
    ents: tuple[Entity, ...]  # of the whole turn; narrowed in __post_init__
    last_in_turn: bool
    text: str = field(init=False)
    low: str = field(init=False)  # cleaned and lower-cased, for the keyword cues

    def __post_init__(self) -> None:
        inside = tuple(e for e in self.ents if e.start < self.end and e.end > self.start)
        object.__setattr__(self, "ents", inside)  # frozen: set once, here
        object.__setattr__(self, "text", self.turn.text[self.start : self.end])
        object.__setattr__(self, "low", clean(self.text).lower())

    @property
    def speaker(self) -> str:
        return self.turn.speaker

    def evidence(self) -> tuple[Evidence, ...]:
        return self.turn.evidence(self.start, self.end)


def transcript_units(
    transcript: Transcript, entities: tuple[Entity, ...] = (), max_words: int = 40
) -> list[Unit]:
    """Every sentence of every speaker turn, in transcript order, with its entities."""
    by_segment: dict[int, list[Entity]] = {}
    for ent in entities:
        by_segment.setdefault(ent.segment_idx, []).append(ent)
    units: list[Unit] = []
    for turn in group_turns(transcript.segments):
        spans = split_sentences(turn.text, max_words)
        ents = turn.entities(by_segment)
        for n, (a, b) in enumerate(spans):
            a = greeting_end(turn.text, a, b)  # "Hi, I'm Hannah, ..." -> "..."
            b = tag_end(turn.text, a, b)  # "We'll continue it, okay?" -> a statement
            if any(c.isalnum() for c in turn.text[a:b]):
                units.append(Unit(turn, a, b, ents, n == len(spans) - 1))
    return units


# Words that negate a problem mentioned after them, or (post) before them.
_NEGATION_BEFORE = re.compile(
    r"\b(?:no|not|n't|without|never|denies|denied|negative for|free of|absence of|none)\b",
    re.IGNORECASE,
)
_NEGATION_AFTER = re.compile(r"\b(?:negative|ruled out|absent|resolved|denied)\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.?!;]")
_SCOPE_WORDS = 6  # how far before the cut a negation still reaches the unit's first words
_FIRST_WORDS = 3


def _negation_cut_off(unit: Unit) -> bool:
    """A problem among the unit's first words that a negation just before the cut negates
    (ConText agrees) while the unit itself says no negation around it."""
    text = unit.turn.text
    clause = _SENTENCE_END.split(text[: unit.start])[-1]
    if not _NEGATION_BEFORE.search(" ".join(clause.split()[-_SCOPE_WORDS:])):
        return False
    for ent in unit.ents:
        if ent.label != "PROBLEM" or not ent.negated or ent.start < unit.start:
            continue
        before = text[unit.start : ent.start]
        after = text[min(ent.end, unit.end) : unit.end]
        if len(before.split()) > _FIRST_WORDS:
            continue
        if not _NEGATION_BEFORE.search(before) and not _NEGATION_AFTER.search(after):
            return True
    return False


def cut_mid_phrase(unit: Unit) -> bool:
    """Whether the unit's span cuts a phrase so that its text alone misstates what was said.

    Long unpunctuated speech is cut by word count and at discourse markers; a cut can fall
    between a negation and what it negates ("there isn't any" | "rebound or guarding"), or
    inside a spoken number ("as high as one" | "seventy over ninety": neither side says
    170/90).
    """
    text = unit.turn.text
    return (
        _negation_cut_off(unit)
        or splits_number(text[: unit.start], unit.text)
        or splits_number(unit.text, text[unit.end :])
    )


@dataclass(frozen=True)
class Candidate:
    """A drafted sentence before placement: kind, text, evidence, transcript position."""

    kind: str
    text: str
    evidence: tuple[Evidence, ...]
    order: float
    score: float
    unit: int = -1  # index of the unit it came from (-1: several or none)
