"""De-identified copies of a transcript and a note, for exports and analytics.

The whole text is analysed at once (a patient greeted in the first turn is recognised in
the last), then each segment or sentence gets its own placeholders. Timings are kept: every
word keeps its start, end and probability, and a word inside a redacted span becomes the
placeholder ("[NAME]"), punctuation outside the span kept (" Hernandez," -> " [NAME],").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from pipelines.deid.engine import find_phi
from pipelines.deid.spans import PhiSpan, merge_spans, render
from pipelines.types import Draft, NoteSentence, Segment, Transcript, Word

_JOIN = "\n"


def deidentify_transcript(transcript: Transcript, known_names: Sequence[str] = ()) -> Transcript:
    """A copy of ``transcript`` with PHI replaced in segment texts and words."""
    texts = [s.text for s in transcript.segments]
    per_text = _spans_per_text(texts, known_names)
    # Words of every name found anywhere, for segments whose words no longer spell the text.
    names = {
        w.lower()
        for spans in per_text
        for s in spans
        if s.label == "NAME"
        for w in re.findall(r"\w+", s.text)
    }
    segments = tuple(
        _segment(seg, spans, known_names, names)
        for seg, spans in zip(transcript.segments, per_text, strict=True)
    )
    return transcript.with_segments(segments)


def deidentify_sentences(
    sentences: Sequence[NoteSentence], known_names: Sequence[str] = ()
) -> tuple[NoteSentence, ...]:
    """Note sentences with PHI replaced (ids, sections and evidence links kept)."""
    per_text = _spans_per_text([s.text for s in sentences], known_names)
    return tuple(
        replace(s, text=render(s.text, spans)) for s, spans in zip(sentences, per_text, strict=True)
    )


def deidentify_draft(draft: Draft, known_names: Sequence[str] = ()) -> Draft:
    """A copy of ``draft`` whose sentences are de-identified."""
    return replace(draft, sentences=deidentify_sentences(draft.sentences, known_names))


def _spans_per_text(texts: list[str], known_names: Sequence[str]) -> list[list[PhiSpan]]:
    """Analyse the texts joined by newlines; give each text its spans in its own offsets."""
    spans = find_phi(_JOIN.join(texts), known_names)
    result: list[list[PhiSpan]] = []
    offset = 0
    for text in texts:
        end = offset + len(text)
        local = [
            PhiSpan(max(s.start, offset) - offset, min(s.end, end) - offset, s.label, "")
            for s in spans
            if s.start < end and s.end > offset
        ]
        result.append([PhiSpan(s.start, s.end, s.label, text[s.start : s.end]) for s in local])
        offset = end + len(_JOIN)
    return result


def _segment(
    segment: Segment, spans: list[PhiSpan], known_names: Sequence[str], names: set[str]
) -> Segment:
    text = render(segment.text, spans)
    if not segment.words:
        return replace(segment, text=text)
    spelled = "".join(w.text for w in segment.words)
    if spelled.strip() == segment.text.strip():
        # The words spell the text: move the spans by the difference in leading spaces.
        shift = (len(spelled) - len(spelled.lstrip())) - (
            len(segment.text) - len(segment.text.lstrip())
        )
        word_spans = [replace(s, start=s.start + shift, end=s.end + shift) for s in spans]
    else:
        # The text was edited after recognition: analyse the words on their own, and drop
        # every word that is a name found elsewhere in the transcript.
        word_spans = merge_spans(
            [
                *find_phi(spelled, known_names),
                *(
                    PhiSpan(m.start(), m.end(), "NAME", m.group())
                    for m in re.finditer(r"\w+", spelled)
                    if m.group().lower() in names
                ),
            ]
        )
    words = _words(segment.words, word_spans)
    if spelled.strip() == segment.text.strip():
        text = "".join(w.text for w in words).strip()
    return replace(segment, text=text, words=words)


def _words(words: tuple[Word, ...], spans: list[PhiSpan]) -> tuple[Word, ...]:
    """Each word with the parts of it inside a span replaced by the placeholder."""
    out: list[Word] = []
    at = 0
    for word in words:
        end = at + len(word.text)
        inside = [
            PhiSpan(max(s.start, at) - at, min(s.end, end) - at, s.label, "")
            for s in spans
            if s.start < end and s.end > at
        ]
        if inside:
            lead = len(word.text) - len(word.text.lstrip())
            inside = [replace(s, start=max(s.start, lead)) for s in inside]
            out.append(replace(word, text=render(word.text, inside)))
        else:
            out.append(word)
        at = end
    return tuple(out)
