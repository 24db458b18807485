"""Where each recognised word sits in its segment's text (character offsets)."""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.types import Segment, Word


@dataclass(frozen=True)
class WordSpan:
    """One word of a segment and the characters ``[start, end)`` of ``segment.text`` it covers."""

    start: int
    end: int
    word: Word


def word_spans(segment: Segment) -> tuple[WordSpan, ...] | None:
    """Character span of each word in ``segment.text``.

    Whisper words (leading space included) concatenate to the segment text; each stripped
    word is searched a little ahead of the previous one so that small differences (a
    corrected word, changed punctuation) only lose that word. Returns None when fewer than
    half of the words are found: callers then interpolate instead.
    """
    text, lowered = segment.text, segment.text.lower()
    cursor, found = 0, []
    words = [w for w in segment.words if w.text.strip()]
    for word in words:
        token = word.text.strip()
        window_end = cursor + len(token) + 30
        pos = text.find(token, cursor, window_end)
        if pos < 0:
            pos = lowered.find(token.lower(), cursor, window_end)
        if pos < 0:
            continue
        found.append(WordSpan(pos, pos + len(token), word))
        cursor = pos + len(token)
    if not words or len(found) * 2 < len(words):
        return None
    return tuple(found)
