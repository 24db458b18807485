"""Sentence spans inside a segment, what kind of sentence each is, and spans -> audio times.

Offsets are always relative to ``Segment.text`` so that an ``Evidence`` slices the very
text the clinician sees next to the recording.
"""

from __future__ import annotations

import re

from pipelines.drafting.lexicon import normalise
from pipelines.drafting.rewrite import clean
from pipelines.types import Evidence, Segment
from pipelines.words import word_spans

_I = re.IGNORECASE

# A sentence ends at . ? ! ; followed by whitespace or the end ("2.5 mg" does not split).
_SENT_END = re.compile(r"[.?!;]+(?=\s|$)")
# Spoken discourse markers: where unpunctuated speech (ACI-Bench style) changes clause.
_MARKER = re.compile(
    r"\b(?:okay|ok|alright|all right|so|and then|but|now|and|because|um|uh|yeah|yes)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"\S+")
_MIN_PIECE_WORDS = 4  # never cut off a fragment shorter than this at a discourse marker


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink [start, end) so it neither starts nor ends with whitespace."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _word_count(text: str) -> int:
    return len(_WORD.findall(text))


def _split_long(text: str, start: int, end: int, max_words: int) -> list[tuple[int, int]]:
    """Cut an over-long span at discourse markers, then into chunks of ``max_words`` words."""
    cuts = [start]
    for m in _MARKER.finditer(text, start, end):
        if _word_count(text[cuts[-1] : m.start()]) >= _MIN_PIECE_WORDS:
            cuts.append(m.start())
    pieces = [(a, b) for a, b in zip(cuts, [*cuts[1:], end], strict=True)]
    out: list[tuple[int, int]] = []
    for a, b in pieces:
        words = list(_WORD.finditer(text, a, b))
        for i in range(0, len(words), max_words):
            chunk = words[i : i + max_words]
            out.append((chunk[0].start(), chunk[-1].end()))
    return out


def split_sentences(text: str, max_words: int = 40) -> tuple[tuple[int, int], ...]:
    """Sentence spans ``(start, end)`` of ``text``, trimmed, in order, non-overlapping.

    Punctuation splits first; a sentence longer than ``max_words`` words (unpunctuated
    speech) is split further at discourse markers and, failing that, by word count.
    Spans without any letter or digit are left out.
    """
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in [*_SENT_END.finditer(text), None]:
        end = m.end() if m else len(text)
        start, stop = _trim(text, pos, end)
        pos = end
        if start >= stop:
            continue
        if max_words > 0 and _word_count(text[start:stop]) > max_words:
            spans.extend(_split_long(text, start, stop, max_words))
        else:
            spans.append((start, stop))
    return tuple((a, b) for a, b in spans if any(c.isalnum() for c in text[a:b]))


# -- what kind of sentence: questions, pleasantries, bare yes/no answers ----------------

_PLEASANTRY = re.compile(
    r"^(?:hi|hello|hey|good (?:morning|afternoon|evening)|how are you|how's it going|"
    r"nice to (?:meet|see)|(?:it's )?good to see|thanks?|thank you|bye|goodbye|take care|"
    r"you're welcome|have a (?:good|great|nice))\b",
    re.IGNORECASE,
)
# Spoken commands to a voice assistant ("hey dragon, show me the labs"): not about the patient.
_COMMAND = re.compile(r"^(?:hey dragon|dragon|show me|finalize the note)\b", re.IGNORECASE)
_QUESTION_START = re.compile(
    r"^(?:do|does|did|are|is|was|were|have|has|any|anything|can|could|would|will|how|"
    r"what(?!\s+(?:i|we|looks|sounds|seems)\b)|whats|when|where|why|which|who)\b",
    re.IGNORECASE,
)
# Bare answers, matched on normalised text without fillers.
_AFFIRM = re.compile(
    r"^(?:yes|yeah|yep|yup|mm-hmm|uh-huh|i do|i have|i did|it does|it is|correct|sometimes)\b"
)
_DENY = re.compile(
    r"^(?:no|nope|nah|not really|never|none|i don't|i do not|i haven't|i have not|i didn't|"
    r"i did not|it doesn't|it does not)\b"
)


# Openings that make a clinician's sentence a question even with a full stop: ASR often
# writes "Any shortness of breath." ("what I'd like to do", "when we ..." are not).
_QUESTION_FORM = re.compile(
    r"^(?:any(?!\s+(?:time|more|longer|way)\b)|anything|do you|does|did|have you|has (?:he|she)|"
    r"are you|is (?:there|he|she|it|that|this)|how(?! about we)|"
    r"what(?!\s+(?:looks|sounds|seems)\b)|when|where|which|why|"
    r"can you|could you|would you)\b(?!\s+(?:i|we)\b)",
    re.IGNORECASE,
)


def is_question(text: str, speaker: str = "unknown") -> bool:
    """A question: ends with "?", or (unpunctuated speech) opens like one ("any fever").

    A clinician's sentence that opens with a question form ("Any ...", "Do you ...",
    "Have you ...") is a question whatever its final punctuation.
    """
    t = text.rstrip()
    if t.endswith("?"):
        return True
    if speaker == "clinician" and _QUESTION_FORM.match(clean(t)):
        return True
    return t[-1:] not in ".!;" and bool(_QUESTION_START.match(clean(t)))


# A tag that asks for agreement after a statement: "we'll continue the Keppra, okay?".
_TAG_QUESTION = re.compile(
    r"\s*,\s*(?:okay|ok|alright|all right|you know|is that (?:okay|ok)|sounds? good|"
    r"does that (?:sound (?:good|okay|ok|alright|like a plan)|make sense))\s*\?\s*$",
    re.IGNORECASE,
)


def tag_end(text: str, start: int, end: int) -> int:
    """Where the sentence ``text[start:end]`` ends before a trailing agreement tag ("...,
    okay?"), so that a statement is not taken for a question (``end`` if none)."""
    m = _TAG_QUESTION.search(text[start:end])
    if m is None or not re.search(r"\w", text[start : start + m.start()]):
        return end
    return start + m.start()


# A leading greeting and self-introduction ("Hi, I'm Hannah, ..."): trimmed off a sentence.
_GREETING = re.compile(
    r"(?i:(?:hi|hello|hey|good (?:morning|afternoon|evening))(?: there)?)\b[,.!]?\s*"
    r"(?:(?i:i'm|i am|my name is|this is)\s+(?:(?i:dr|doctor)\.?\s+)?[A-Z][\w'-]*[,.!]?\s*)?"
)


def greeting_end(text: str, start: int, end: int) -> int:
    """Where the sentence ``text[start:end]`` continues after a greeting (``start`` if none).

    "Hi, I'm Hannah, I've had a cough" continues at "I've"."""
    m = _GREETING.match(text, start, end)
    return m.end() if m else start


def is_pleasantry(text: str) -> bool:
    """A short greeting, thanks or goodbye, or a voice-assistant command: not note material."""
    t = clean(text)
    return bool(_COMMAND.match(t)) or (bool(_PLEASANTRY.match(t)) and len(t.split()) <= 8)


def answer_polarity(text: str, max_words: int = 6) -> bool | None:
    """True for a bare "yes", False for a bare "no", None for anything longer or else."""
    reply = re.sub(r"\b(?:u+m+|u+h+|hmm+|well|oh)\b[,.]?\s*", "", normalise(text)).strip()
    if not reply or len(reply.split()) > max_words:
        return None
    if _DENY.match(reply):
        return False
    return True if _AFFIRM.match(reply) else None


_FILLERS = frozenset({"uh", "um", "umm", "hmm", "well", "oh", "so", "and", "okay", "ok"})
_TURNS_AROUND = re.compile(r"\b(?:but|except|though|although)\b")
# Replies that deny whatever was asked, however long they go on.
_DENIES_ALL = re.compile(
    r"^(?:no |nope )*(?:not that i (?:can recall|can remember|know of|remember|'ve noticed|"
    r"have noticed)|none of (?:that|those|them|these)|nothing like that|nothing at all)\b"
)


def reply_polarity(text: str, max_words: int = 8) -> bool | None:
    """The yes/no of a short reply with punctuation and fillers ignored: "uh, none of that."
    and "No, not that I've noticed." are no; a reply that turns around ("no, but ...") or
    runs longer than ``max_words`` words is neither (None), unless it opens by denying
    everything asked ("not that I can recall ...")."""
    words = re.findall(r"[a-z0-9']+(?:-[a-z]+)*", normalise(text).lower())
    while words and words[0] in _FILLERS:
        words = words[1:]
    said = " ".join(words)
    if not words or _TURNS_AROUND.search(said):
        return None
    if _DENIES_ALL.match(said):
        return False  # "not that I can recall, I've been pretty good otherwise"
    return answer_polarity(said, max_words) if len(words) <= max_words else None


# A yes/no question about the presence of a symptom ("Any fever?", "Do you have chills?").
_PRESENCE = re.compile(
    r"\b(?:"
    r"any|how about|(?:do|did) you (?:have|feel|get|notice)|is there|"
    r"have you (?:had|noticed|been having|experienced|felt|got)|"
    r"are you (?:having|experiencing|getting|feeling)"
    r")\b",
    re.IGNORECASE,
)


# Examples listed after the cue: "any other symptoms like a cough or shortness of breath".
_EXAMPLES = re.compile(r"^\s*(?:[a-z]+\s+){0,3}?(?:like|such as|including)\s+", _I)
_LIST_SEP = re.compile(r",|\bor\b|\band\b", _I)
_VERB = re.compile(r"\b(?:does|do|is|are|did|was)\b", _I)


def asks_presence(question: str, topic_start: int) -> bool:
    """Does the question ask whether the topic (at ``topic_start``) is present?

    "Any fever?", "Do you have chills?", "Any other symptoms like a cough or shortness of
    breath?" do; "Does the pain spread?" does not, so that its "No." never becomes "Denies
    pain."
    """
    if len(clean(question).split()) <= 4:
        return True  # "Fever?", "Any chills?", "And a cough?"
    before = question[:topic_start]
    for m in _PRESENCE.finditer(before):
        gap = before[m.end() :]
        if _VERB.search(gap):
            continue
        examples = _EXAMPLES.match(gap)
        if examples:  # the topic is one of the listed examples: what precedes it in its item
            gap = _LIST_SEP.split(gap[examples.end() :])[-1]
        if len(gap.split()) <= 3:
            return True
    return False


# -- character spans -> audio times -----------------------------------------------------


def _clamp(value: float, lo: float, hi: float) -> float:
    return min(max(value, lo), hi)


def span_times(segment: Segment, start: int, end: int) -> tuple[float, float]:
    """Audio ``(start_s, end_s)`` of characters ``[start, end)`` of ``segment.text``.

    Uses the word timings of the words overlapping the span; without usable words, it
    interpolates proportionally over the segment. Always inside the segment's audio span
    and ordered.
    """
    lo, hi = segment.start, max(segment.start, segment.end)
    hits = [w for w in word_spans(segment) or () if w.start < end and w.end > start]
    if hits:
        t0, t1 = min(h.word.start for h in hits), max(h.word.end for h in hits)
    else:
        n = max(len(segment.text), 1)
        t0 = lo + (hi - lo) * start / n
        t1 = lo + (hi - lo) * end / n
    t0, t1 = _clamp(t0, lo, hi), _clamp(t1, lo, hi)
    return (t0, t1) if t0 <= t1 else (t1, t0)


def evidence_for(segment: Segment, start: int, end: int) -> Evidence:
    """An ``Evidence`` for characters ``[start, end)`` of the segment, with audio times."""
    if not 0 <= start < end <= len(segment.text):
        raise ValueError(f"span {start}:{end} outside segment {segment.idx}")
    t0, t1 = span_times(segment, start, end)
    return Evidence(segment_idx=segment.idx, start_char=start, end_char=end, start_s=t0, end_s=t1)
