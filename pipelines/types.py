"""Shared domain types: the only currency between pipeline stages.

Every stage takes and returns these frozen dataclasses. Character offsets are always
relative to one transcript segment's ``text`` (``segment_idx`` says which), and audio
times are seconds from the start of the encounter recording.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

Speaker = Literal["clinician", "patient", "unknown"]
SPEAKERS: tuple[str, ...] = ("clinician", "patient", "unknown")

EntityLabel = Literal["PROBLEM", "MEDICATION", "TEST", "PROCEDURE", "ANATOMY", "VITAL"]
ENTITY_LABELS: tuple[str, ...] = ("PROBLEM", "MEDICATION", "TEST", "PROCEDURE", "ANATOMY", "VITAL")

Origin = Literal["machine", "human"]


@dataclass(frozen=True)
class Word:
    """One recognised word with its audio span and recogniser probability (0..1)."""

    start: float
    end: float
    text: str
    probability: float


@dataclass(frozen=True)
class Segment:
    """One stretch of speech by one speaker.

    ``words`` concatenated (``"".join(w.text for w in words)``) reproduce ``text`` up to
    surrounding whitespace; Whisper words carry their leading space.
    """

    idx: int
    start: float
    end: float
    text: str
    speaker: Speaker = "unknown"
    words: tuple[Word, ...] = ()
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0
    compression_ratio: float = 0.0

    @property
    def confidence(self) -> float:
        """Segment confidence as a probability: exp(average token log-probability)."""
        return math.exp(self.avg_logprob)


@dataclass(frozen=True)
class Transcript:
    """A full encounter transcript and what produced it."""

    segments: tuple[Segment, ...]
    language: str
    duration_s: float
    model: str
    input_sha256: str = ""
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n".join(s.text for s in self.segments)

    def with_segments(self, segments: tuple[Segment, ...]) -> Transcript:
        """A copy with other segments (e.g. after speaker assignment or a correction)."""
        return Transcript(
            segments=segments,
            language=self.language,
            duration_s=self.duration_s,
            model=self.model,
            input_sha256=self.input_sha256,
            options=dict(self.options),
        )


@dataclass(frozen=True)
class Entity:
    """A medical concept mention inside one transcript segment."""

    segment_idx: int
    start: int
    end: int
    text: str
    label: str
    negated: bool = False
    historical: bool = False
    family: bool = False
    hypothetical: bool = False
    uncertain: bool = False
    code: str | None = None
    code_system: str | None = None
    code_label: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    source: Origin = "machine"


@dataclass(frozen=True)
class Evidence:
    """Where a note sentence comes from: a character span of a segment and its audio."""

    segment_idx: int
    start_char: int
    end_char: int
    start_s: float
    end_s: float


@dataclass(frozen=True)
class NoteSentence:
    """One sentence of a note. ``sentence_id`` stays the same across edits of it."""

    sentence_id: str
    section: str
    text: str
    evidence: tuple[Evidence, ...] = ()
    origin: Origin = "machine"


@dataclass(frozen=True)
class Draft:
    """A drafted note: ordered sections and sentences, plus what produced them."""

    template: str
    sections: tuple[str, ...]
    sentences: tuple[NoteSentence, ...]
    model_version: str
    input_sha256: str = ""
    options: dict[str, Any] = field(default_factory=dict)

    def section_sentences(self, section: str) -> tuple[NoteSentence, ...]:
        return tuple(s for s in self.sentences if s.section == section)

    def render_text(self) -> str:
        """The note as plain text, one heading per section."""
        parts: list[str] = []
        for section in self.sections:
            body = " ".join(s.text for s in self.section_sentences(section))
            parts.append(f"{section.upper()}\n{body or '(none)'}")
        return "\n\n".join(parts)


# -- support check (pipelines.verify) ----------------------------------------------------

SupportLabel = Literal["supported", "partly_supported", "unsupported"]
SUPPORT_LABELS: tuple[str, ...] = ("supported", "partly_supported", "unsupported")


@dataclass(frozen=True)
class SupportReason:
    """One finding of the support check about a note sentence.

    ``kind``: ``alignment``, ``entity``, ``number``, ``laterality``, ``negation`` or
    ``boilerplate``; ``verdict``: ``ok`` (agrees with the evidence), ``weak`` (found only
    elsewhere in the visit, or partly), ``missing`` (not in the visit) or ``conflict`` (the
    visit says otherwise). ``message`` is for the reviewer.
    """

    kind: str
    verdict: str
    message: str


@dataclass(frozen=True)
class SupportResult:
    """How well the transcript supports one note sentence, and where.

    ``score`` (0..1) is the weighted share of the sentence's content found in its evidence;
    ``evidence`` are the aligned transcript passages (for a baseline note that has none of
    its own, this is its only evidence); ``concepts`` are the sentence's medical concepts
    (codes or normalised words), used to decide which transcript passages the note covers;
    ``linked`` says the sentence came with evidence links of its own (a drafter's).
    """

    sentence_id: str
    section: str
    text: str
    label: str
    score: float
    reasons: tuple[SupportReason, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    concepts: tuple[str, ...] = ()
    linked: bool = False


@dataclass(frozen=True)
class Omission:
    """A transcript passage with clinically important content that no note sentence covers.

    ``kind`` says why it matters (``problem``, ``medication_change``, ``abnormal_vital``,
    ``abnormal_result``, ``plan``); ``mentions`` are the important words of the passage;
    ``section`` and ``suggestion`` are where and what "add to note" would add.
    """

    kind: str
    reason: str
    mentions: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    section: str
    suggestion: str


AnnotationKind = Literal[
    "span",  # an entity span in a transcript segment (label from labels.json or tasks.json)
    "relation",  # value: {"from": annotation_id, "to": annotation_id}; label: the relation
    "encounter_label",  # label: the question (audio_quality ...), value: {"choice": ...}
    "section_label",  # a transcript segment's note section (segment_idx, label)
    "transcript_check",  # a segment's check (label) and, when wrong, value["text"]
    "rating",  # a PDQI-9 item (label) and value: {"score": 1..5}
    "preference",  # pairwise: value: {"choice": "left"|"right"|"tie", "reason": ...}
]
AnnotationOrigin = Literal["human", "suggestion", "confirmed"]


@dataclass(frozen=True)
class Annotation:
    """One thing an annotator labelled in a task (see ``annotations/tasks.json``).

    Span offsets are characters into the segment's text, as for ``Entity``, so they map
    one-to-one onto Label Studio Paragraphs regions. ``origin`` keeps what is a machine
    suggestion ("suggestion"), a suggestion a person accepted ("confirmed") and a person's
    own label ("human") apart; ``model_version`` names the model a suggestion came from.
    """

    annotation_id: str
    kind: AnnotationKind
    label: str | None = None
    segment_idx: int | None = None
    start_char: int | None = None
    end_char: int | None = None
    text: str | None = None
    value: dict[str, Any] = field(default_factory=dict)
    origin: AnnotationOrigin = "human"
    model_version: str | None = None
