"""A person's corrections to a transcript: plain data in, corrected segments out.

Corrected words keep the audio timing of the words they replace and get probability 1.0
(a human confirmed them); evidence spans into a corrected segment are carried over to the
new text through a character alignment.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace

from pipelines.drafting.sentences import span_times
from pipelines.types import Evidence, NoteSentence, Segment, Word

HUMAN_PROBABILITY = 1.0


@dataclass(frozen=True)
class SegmentFix:
    """One correction: new text and/or a new speaker for a segment."""

    segment_idx: int
    text: str | None = None
    speaker: str | None = None


@dataclass(frozen=True)
class FixSummary:
    """What a fix changed, as an event kind with before/after values."""

    kind: str
    segment_idx: int
    before: dict
    after: dict


def apply_fix(segment: Segment, fix: SegmentFix) -> tuple[Segment, list[FixSummary]]:
    """The corrected segment and a summary per change (none if nothing changed)."""
    changes: list[FixSummary] = []
    new = segment
    text = " ".join(fix.text.split()) if fix.text is not None else segment.text
    if text and text != segment.text:
        new = replace(new, text=text, words=realign_words(segment, text))
        old_tokens, new_tokens = segment.text.split(), text.split()
        kind = "transcript.segment_corrected"
        if len(old_tokens) == len(new_tokens) and sum(
            a != b for a, b in zip(old_tokens, new_tokens, strict=True)
        ) == 1:
            kind = "transcript.word_corrected"
        changes.append(FixSummary(kind, segment.idx, {"text": segment.text}, {"text": text}))
    if fix.speaker and fix.speaker != segment.speaker:
        new = replace(new, speaker=fix.speaker)
        changes.append(
            FixSummary("transcript.speaker_relabelled", segment.idx,
                       {"speaker": segment.speaker}, {"speaker": fix.speaker})
        )
    return new, changes


def realign_words(segment: Segment, new_text: str) -> tuple[Word, ...]:
    """Words for ``new_text``: unchanged words keep their timing and probability; changed
    ones share the time of the words they replace (or of the gap they were inserted in)."""
    old = list(segment.words)
    old_tokens = [w.text.strip().lower() for w in old]
    new_tokens = new_text.split()
    out: list[Word] = []
    matcher = difflib.SequenceMatcher(None, old_tokens, [t.lower() for t in new_tokens])
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            for k in range(b1 - b0):
                w = old[a0 + k]
                out.append(Word(w.start, w.end, _spaced(new_tokens[b0 + k], b0 + k), w.probability))
            continue
        if b0 == b1:
            continue  # deleted words leave no trace
        if a1 > a0:
            t0, t1 = old[a0].start, old[a1 - 1].end
        else:
            t0 = old[a0 - 1].end if a0 > 0 else segment.start
            t1 = old[a0].start if a0 < len(old) else segment.end
        step = max(t1 - t0, 0.0) / (b1 - b0)
        for k in range(b1 - b0):
            out.append(Word(round(t0 + k * step, 3), round(t0 + (k + 1) * step, 3),
                            _spaced(new_tokens[b0 + k], b0 + k), HUMAN_PROBABILITY))
    return tuple(out)


def _spaced(token: str, position: int) -> str:
    return token if position == 0 else " " + token


def remap_span(old_text: str, new_text: str, start: int, end: int) -> tuple[int, int] | None:
    """Carry characters ``[start, end)`` of ``old_text`` over to ``new_text``; None if gone."""
    matcher = difflib.SequenceMatcher(None, old_text, new_text, autojunk=False)

    def pos(p: int, is_end: bool) -> int:
        for op, a0, a1, b0, b1 in matcher.get_opcodes():
            if a0 <= p < a1 or (is_end and p == a1 and a1 > a0):
                if op == "equal":
                    return b0 + (p - a0)
                return b1 if is_end else b0
        return len(new_text)

    a, b = pos(start, False), pos(end, True)
    while a < b and new_text[a].isspace():
        a += 1
    while b > a and new_text[b - 1].isspace():
        b -= 1
    return (a, b) if a < b else None


def remap_evidence(
    sentences: tuple[NoteSentence, ...], old: Segment, new: Segment
) -> tuple[NoteSentence, ...]:
    """Point every evidence span in ``old`` at the same words of the corrected ``new``."""
    out = []
    for s in sentences:
        evidence: list[Evidence] = []
        for ev in s.evidence:
            if ev.segment_idx != old.idx:
                evidence.append(ev)
                continue
            span = remap_span(old.text, new.text, ev.start_char, ev.end_char)
            if span is None:
                continue
            t0, t1 = span_times(new, *span)
            evidence.append(Evidence(ev.segment_idx, span[0], span[1], t0, t1))
        out.append(s if tuple(evidence) == s.evidence else replace(s, evidence=tuple(evidence)))
    return tuple(out)
