"""Speaker turns: consecutive segments of one speaker, joined so sentences can span them.

Whisper cuts one speaker's speech into segments mid-sentence ("...and there's" /
"no swelling in your ankles."). Sentences are split over a turn's joined text; a span of
that text maps back to one ``Evidence`` per segment it touches, each with offsets into that
segment's own ``text`` and audio times inside that segment.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from pipelines.drafting.rewrite import content_words
from pipelines.drafting.sentences import evidence_for
from pipelines.types import Entity, Evidence, Segment

# A segment that ends without punctuation, followed by one that starts with a capital
# (not "I"), is a new sentence: Whisper lower-cases a mid-sentence continuation.
_OPEN_END = re.compile(r"\w$")
_NEW_START = re.compile(r"^\W*(?!I\b|I')[A-Z]")
# Words that cannot end a sentence (besides rewrite's function words).
_CONTINUES = frozenset(
    "there's there which who whose because when where while until unless like per via".split()
)


@dataclass(frozen=True)
class Turn:
    """Consecutive segments of one speaker and their joined text.

    ``offsets[i]`` is where ``segments[i].text`` starts inside ``text``.
    """

    speaker: str
    segments: tuple[Segment, ...]
    offsets: tuple[int, ...]
    text: str

    def evidence(self, start: int, end: int) -> tuple[Evidence, ...]:
        """One Evidence per segment overlapping ``[start, end)`` of ``text``, in order.

        Each piece is trimmed of whitespace and skipped when it holds no letter or digit.
        """
        found: list[Evidence] = []
        for seg, off in zip(self.segments, self.offsets, strict=True):
            a, b = max(start - off, 0), min(end - off, len(seg.text))
            while a < b and seg.text[a].isspace():
                a += 1
            while b > a and seg.text[b - 1].isspace():
                b -= 1
            if a < b and any(c.isalnum() for c in seg.text[a:b]):
                found.append(evidence_for(seg, a, b))
        return tuple(found)

    def evidence_text(self, ev: Evidence) -> str:
        """The segment text an Evidence of this turn points at."""
        for seg in self.segments:
            if seg.idx == ev.segment_idx:
                return seg.text[ev.start_char : ev.end_char]
        raise KeyError(ev.segment_idx)

    def entities(self, by_segment: dict[int, list[Entity]]) -> tuple[Entity, ...]:
        """The turn's entities with offsets moved into ``text``."""
        return tuple(
            dataclasses.replace(e, start=e.start + off, end=e.end + off)
            for seg, off in zip(self.segments, self.offsets, strict=True)
            for e in by_segment.get(seg.idx, ())
        )


def _separator(before: str, after: str) -> str:
    """What joins two segment texts: a space, or ". " where a new sentence clearly starts."""
    words = before.split()
    last = words[-1].lower() if words else ""
    if last in _CONTINUES or not content_words(last):
        return " "  # "... I'll give you a" / "You, ..." is one sentence
    if _OPEN_END.search(before.rstrip()) and _NEW_START.match(after.lstrip()):
        return ". "
    return " "


def _turn(segments: list[Segment]) -> Turn:
    text, offsets = "", []
    for seg in segments:
        if offsets:
            text += _separator(text, seg.text)
        offsets.append(len(text))
        text += seg.text
    return Turn(segments[0].speaker, tuple(segments), tuple(offsets), text)


def group_turns(segments: tuple[Segment, ...]) -> tuple[Turn, ...]:
    """Group consecutive segments with the same speaker into turns (order kept)."""
    groups: list[list[Segment]] = []
    for seg in segments:
        if groups and groups[-1][-1].speaker == seg.speaker:
            groups[-1].append(seg)
        else:
            groups.append([seg])
    return tuple(_turn(g) for g in groups)
