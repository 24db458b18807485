"""Word units: the pieces of a transcript between which the speaker may change.

Whisper segments on real recordings often run across a change of speaker ("...brought you
in today. Sure. I'm just having..."), so the unit of speaker assignment is the word. Each
word boundary carries how plausible a change of speaker is there (high after a question,
low mid-sentence), which the smoother turns into a switch cost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from pipelines.types import Segment, Speaker, Word

_SENTENCE_END = re.compile(r"[.?!]['\")\]]*$")
_QUESTION_END = re.compile(r"\?['\")\]]*$")


@dataclass(frozen=True)
class Unit:
    """Consecutive words of one segment that are given one speaker (in practice one word).

    segment: index into the input segments; first/last: word indices in that segment
    (first == last == -1 for a segment without words). ``change_prior`` is the prior
    plausibility (0..1) that a new speaker starts with this unit.
    """

    segment: int
    first: int
    last: int
    start: float
    end: float
    text: str
    change_prior: float


def split_units(segments: tuple[Segment, ...], priors: ChangePriors) -> list[Unit]:
    """One unit per word (per segment when it has no words), in transcript order."""
    units: list[Unit] = []
    prev_text, prev_end = "", None
    for si, seg in enumerate(segments):
        if not seg.words:
            units.append(Unit(si, -1, -1, seg.start, seg.end, seg.text,
                              priors.before(prev_text, prev_end, seg.start, True)))
            prev_text, prev_end = seg.text, seg.end
            continue
        for wi, word in enumerate(seg.words):
            text = word.text.strip()
            units.append(Unit(si, wi, wi, word.start, word.end, text,
                              priors.before(prev_text, prev_end, word.start, wi == 0)))
            prev_text, prev_end = text, word.end
    return units


@dataclass(frozen=True)
class ChangePriors:
    """Prior probability that the speaker changes before a word, by what precedes it.

    Values were set by hand from how turns end in real interviews (a question is usually
    answered by the other person; mid-sentence changes are rare but happen when Whisper
    misses the punctuation).
    """

    first: float = 0.5
    question: float = 0.6
    sentence: float = 0.3
    comma: float = 0.1
    pause: float = 0.15
    long_pause: float = 0.3
    new_segment: float = 0.3
    word: float = 0.01
    pause_s: float = 0.5
    long_pause_s: float = 1.0

    def before(
        self, prev_text: str, prev_end: float | None, start: float, new_segment: bool
    ) -> float:
        if prev_end is None:
            return self.first
        prior = self.word
        ended = prev_text.rstrip()
        if _QUESTION_END.search(ended):
            prior = self.question
        elif _SENTENCE_END.search(ended):
            prior = self.sentence
        elif ended.endswith(","):
            prior = self.comma
        gap = start - prev_end
        if gap >= self.long_pause_s:
            prior = max(prior, self.long_pause)
        elif gap >= self.pause_s:
            prior = max(prior, self.pause)
        if new_segment:
            prior = max(prior, self.new_segment)
        return prior


def group_units(units: list[Unit], min_prior: float) -> list[tuple[int, int]]:
    """Runs of units (first, last) cut where a change is at least ``min_prior`` likely:
    sentence-sized stretches whose averages are steady enough to fit the voices on."""
    groups: list[tuple[int, int]] = []
    for i, unit in enumerate(units):
        if groups and unit.change_prior < min_prior:
            groups[-1] = (groups[-1][0], i)
        else:
            groups.append((i, i))
    return groups


def _join(words: tuple[Word, ...]) -> str:
    return "".join(w.text for w in words).strip()


def rebuild_segments(
    segments: tuple[Segment, ...], units: list[Unit], roles: list[Speaker]
) -> tuple[Segment, ...]:
    """New segments with one speaker each: a segment is split where its units' roles differ.

    An unsplit segment keeps its own times and text; split pieces take times from their
    words. Indices are renumbered 0..n-1. The words come out exactly as they went in.
    """
    out: list[Segment] = []
    i = 0
    while i < len(units):
        si = units[i].segment
        j = i
        while j + 1 < len(units) and units[j + 1].segment == si:
            j += 1
        seg = segments[si]
        runs: list[tuple[int, int, Speaker]] = []
        for k in range(i, j + 1):
            if runs and runs[-1][2] == roles[k]:
                runs[-1] = (runs[-1][0], k, roles[k])
            else:
                runs.append((k, k, roles[k]))
        if len(runs) == 1:
            out.append(replace(seg, idx=len(out), speaker=runs[0][2]))
        else:
            for a, b, role in runs:
                words = seg.words[units[a].first : units[b].last + 1]
                out.append(replace(seg, idx=len(out), start=words[0].start, end=words[-1].end,
                                   text=_join(words), speaker=role, words=words))
        i = j + 1
    return tuple(out)
