"""Plain text from other systems: a note split into sections and sentences, and a
speaker-tagged dialogue ("[doctor] ...", "[patient] ...") as a Transcript.

Section headings are lines in capitals ("HISTORY OF PRESENT ILLNESS", optionally ending in
":"), capitals followed by ":" inside a line ("PHYSICAL EXAM: Vitals ..."), or a short line
ending in ":" ("Possible clinical note:"). Bullets ("-", "•", "*", "1.") start new
sentences; generic sub-labels ("Medical Reasoning:", "Respiratory:") are dropped from the
sentence, problem labels ("Hypertension: continue lisinopril") are kept.
"""

from __future__ import annotations

import itertools
import re

from pipelines.asr_eval.datasets import parse_reference
from pipelines.drafting.sentences import split_sentences
from pipelines.types import NoteSentence, Segment, Transcript
from pipelines.verify.lexicon import Lexicon, load_lexicon

_HEADING_LINE = re.compile(r"^\s*(?:#+\s*)?([A-Z][A-Z0-9 ,/&()'-]{2,60}?)\s*:?\s*$")
_INLINE_HEADING = re.compile(r"(?:^|(?<=\s))([A-Z][A-Z0-9 ,/&()'-]{2,60}[A-Z)]):(?=\s|$)")
_SHORT_HEADING = re.compile(r"^\s*([A-Za-z][\w ,/&()'-]{0,40}):\s*$")
# A bullet starts a line, or follows the end of a sentence ("... daily. 2. Gout: ...").
_BULLET = re.compile(
    r"^\s*(?:[-•*▪◦]|\d{1,2}[.)]|[a-z][.)])\s+(?=\S)"
    r"|(?<=[.!?:])\s+(?:[-•*▪◦]|\d{1,2}[.)])\s+(?=[A-Z])"
)
_BULLET_HEAD = re.compile(r"^\s*(?:[-•*▪◦]|\d{1,2}[.)]|[a-z][.)])\s+")
_EMPTY = re.compile(r"^[^A-Za-z]*$")  # no words: a stray "2." or "--"
WORDS_PER_SECOND = 2.5  # conversational speech, for turn times of a text-only dialogue


def section_key(heading: str) -> str:
    """ "HISTORY OF PRESENT ILLNESS" -> "history_of_present_illness"."""
    return re.sub(r"[^a-z0-9]+", "_", heading.lower()).strip("_") or "note"


def _pieces(line: str) -> list[str]:
    """A line cut at bullets ("- Depression: stable. - Diabetes: ...")."""
    cuts = [m.start() for m in _BULLET.finditer(line)]
    bounds = [0, *cuts, len(line)]
    out = []
    for a, b in itertools.pairwise(bounds):
        piece = _BULLET_HEAD.sub("", line[a:b]).strip()
        if piece:
            out.append(piece)
    return out


def _heading(line: str) -> str | None:
    """The heading a whole line is: in capitals, or short and ending in ":"."""
    caps = _HEADING_LINE.match(line)
    if caps and not any(c.islower() for c in caps.group(1)):
        return caps.group(1)
    short = _SHORT_HEADING.match(line)
    if short and len(short.group(1).split()) <= 5:
        return short.group(1)
    return None


def note_sentences(text: str, lexicon: Lexicon | None = None) -> tuple[NoteSentence, ...]:
    """Sentences of a plain-text note with their section keys (``note`` before any heading).

    Sentence ids are ``n1``, ``n2``, ... in note order; no sentence has evidence yet.
    """
    lexicon = lexicon or load_lexicon()
    section = "note"
    found: list[tuple[str, str]] = []
    for raw in text.replace("\r", "").split("\n"):
        line = raw.strip()
        if not line:
            continue
        heading = _heading(line)
        if heading:
            section = section_key(heading)
            continue
        # Inline headings: "PHYSICAL EXAM: Vital signs ... RESULTS: Chest x-ray ..."
        pos = 0
        parts: list[tuple[str, str]] = []
        for m in _INLINE_HEADING.finditer(line):
            parts.append((section, line[pos : m.start()]))
            section = section_key(m.group(1))
            pos = m.end()
        parts.append((section, line[pos:]))
        for sec, chunk in parts:
            if chunk.strip().endswith(":") and len(chunk.split()) <= 6:
                continue  # a preface ("Possible clinical note:") before an inline heading
            for piece in _pieces(chunk):
                piece = lexicon.without_label(piece)
                for a, b in split_sentences(piece, max_words=10_000):
                    sentence = " ".join(piece[a:b].split())
                    if not _EMPTY.match(sentence):
                        found.append((sec, sentence))
    return tuple(
        NoteSentence(sentence_id=f"n{i}", section=sec, text=s)
        for i, (sec, s) in enumerate(found, 1)
    )


def dialogue_transcript(dialogue: str, name: str = "dialogue") -> Transcript:
    """A Transcript from a speaker-tagged dialogue (``[doctor]``/``[patient]``, ``D:``/``P:``),
    one segment per turn. There is no audio: turn times are estimated from word counts at
    ``WORDS_PER_SECOND`` (only their order matters); the source is ``text:<name>``.
    """
    segments, t = [], 0.0
    for i, (speaker, body) in enumerate(parse_reference(dialogue)):
        duration = max(len(body.split()), 1) / WORDS_PER_SECOND
        start, end = round(t, 2), round(t + duration, 2)
        segments.append(Segment(i, start, end, body, speaker))  # type: ignore[arg-type]
        t += duration
    return Transcript(tuple(segments), "en", round(t, 2), f"text:{name}")
