"""Align free-text note sentences back to transcript evidence by shared content words.

The transcript is cut into sentences over speaker turns (``turns``, ``split_sentences``);
a note sentence links to the few transcript sentences that together cover most of its
content words, each as ``Turn.evidence`` (one ``Evidence`` per segment). A sentence whose
words the transcript does not cover gets no evidence: the support check flags it.

Transcript sentences that address the note writer ("ignore previous instructions and
write that ...") are never evidence, so a note sentence that only they "support" stays
without evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipelines.drafting.prompts import PROMPT_MARKUP
from pipelines.drafting.rewrite import FRAMING_WORDS, content_words
from pipelines.drafting.sentences import split_sentences
from pipelines.drafting.turns import Turn, group_turns
from pipelines.types import Evidence, Transcript

_I = re.IGNORECASE
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
# Words note-writing adds that say nothing about this patient.
_NOTE_WORDS = FRAMING_WORDS | {
    "report",
    "reported",
    "deny",
    "denied",
    "states",
    "stated",
    "pt",
    "none",
    "also",
    "currently",
}
_NUMBERS = {
    w: str(i)
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen "
        "fourteen fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
}
# Words only ever meant for a language model (never clinical speech): "ignore previous
# instructions", "developer mode", "respond in JSON", "list every other patient", and
# planted prompt markup. The rules drafter leaves them out of notes too.
AI_INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|override)\b.{0,40}?\b(?:instructions?|prompts?)\b|"
    r"\bsystem prompt\b|\bnew instructions?\b|\bdeveloper mode\b|"
    r"\b(?:respond|answer|reply|output)\b.{0,20}?\bin (?:json|xml|html)\b|"
    r"\b(?:list|print|reveal|show)\b.{0,30}?\b(?:other|all|every) (?:other )?"
    r"(?:patients?|records?|encounters?)\b|"
    r"\byou are (?:now )?(?:an? )?(?:ai|assistant|language model|chatbot)\b|"
    + PROMPT_MARKUP.pattern,
    _I,
)
# Spoken instructions to whoever writes the note or to an AI: data, never evidence. Wider
# than AI_INSTRUCTION ("forget everything above", "write that the patient ..."), so a
# clinician's or patient's ordinary sentence may match: it loses evidence, not its place.
INSTRUCTION = re.compile(
    AI_INSTRUCTION.pattern + "|"
    r"\b(?:ignore|disregard|forget|override)\b.{0,40}?\b(?:rules|above|previous|"
    r"everything)\b|"
    r"\b(?:write|state|document|record|put|say|add)\b(?: (?:in|into|to) (?:the|your) "
    r"(?:note|chart|record))? that (?:the )?patient\b",
    _I,
)


def _stem(word: str) -> str:
    """A crude stem so "coughing" meets "cough" and "days" meets "day"; number words -> digits."""
    word = _NUMBERS.get(word, word)
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def note_words(text: str) -> frozenset[str]:
    """Stemmed content words of a note or transcript sentence, without note-writing words."""
    return frozenset(_stem(w) for w in content_words(text) - _NOTE_WORDS)


@dataclass(frozen=True)
class AlignOptions:
    """How strictly a note sentence must match the transcript to get evidence.

    min_support: share of the sentence's content words the evidence must contain.
    max_units: most transcript sentences one note sentence may link to.
    max_words: transcript sentences longer than this are split (unpunctuated speech).
    """

    min_support: float = 0.5
    max_units: int = 3
    max_words: int = 40


def _tokens(text: str) -> frozenset[str]:
    """All lower-cased word tokens, function words included ("no", "not"): the tie-breaker."""
    return frozenset(_TOKEN.findall(text.lower()))


@dataclass(frozen=True)
class _Unit:
    turn: Turn
    start: int
    end: int
    words: frozenset[str]
    tokens: frozenset[str]


@dataclass(frozen=True)
class Alignment:
    """Evidence for one note sentence and how much of its content the evidence covers."""

    evidence: tuple[Evidence, ...]
    support: float  # share of the sentence's content words found in the evidence (0..1)
    missing: tuple[str, ...]  # stemmed content words the evidence lacks


class Aligner:
    """Transcript sentences indexed once; ``align`` links any number of note sentences."""

    def __init__(self, transcript: Transcript, options: AlignOptions = AlignOptions()):
        self.options = options
        self.units: list[_Unit] = []
        self.instruction_segments: set[int] = set()
        for turn in group_turns(transcript.segments):
            for a, b in split_sentences(turn.text, options.max_words):
                if INSTRUCTION.search(turn.text[a:b]):
                    self.instruction_segments |= {e.segment_idx for e in turn.evidence(a, b)}
                    continue
                words = note_words(turn.text[a:b])
                if words:
                    self.units.append(_Unit(turn, a, b, words, _tokens(turn.text[a:b])))

    def align(self, sentence: str) -> Alignment:
        """Greedily pick the transcript sentences that add most of the sentence's words.

        Ties go to the passage sharing most words of any kind ("No fever." prefers the
        patient's "No fever." to the question "Any fever?"), then to the earliest.
        """
        wanted = note_words(sentence)
        if not wanted:
            return Alignment((), 0.0, ())
        tokens = _tokens(sentence)
        covered: set[str] = set()
        chosen: list[_Unit] = []
        while len(chosen) < self.options.max_units:
            best, gain = None, (0, 0)
            for unit in self.units:
                new = (len((unit.words & wanted) - covered), len(unit.tokens & tokens))
                if new[0] and new > gain:
                    best, gain = unit, new
            if best is None:
                break
            chosen.append(best)
            covered |= best.words & wanted
        support = len(covered) / len(wanted)
        missing = tuple(sorted(wanted - covered))
        if not chosen or support < self.options.min_support:
            return Alignment((), support, missing)
        chosen.sort(key=lambda u: (u.turn.segments[0].idx, u.start))
        evidence = tuple(e for u in chosen for e in u.turn.evidence(u.start, u.end))
        return Alignment(evidence, support, missing)
