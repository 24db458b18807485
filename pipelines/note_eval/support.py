"""PROVISIONAL support check for evaluation, until ``pipelines.verify`` lands.

The same rules judge every system's note, ours and the baselines':

- A note is split into sentences; headings and structure labels ("Respiratory:",
  "Medical Treatment:") are structure, not claims.
- A sentence's evidence is the transcript text its links point at (our drafts), or, for a
  note without links, the window of one to three consecutive turns that holds the largest
  share of its content words (alignment). It *has evidence* when links exist or when the
  aligned window holds at least ``AlignRule.min_share`` of its content words.
- It is **unsupported** when a number or a side (left/right) it states is not in its
  evidence, or when more than half of its content words are neither in the evidence (with
  numbers written as digits and the mined phrase mappings applied, ``rewrite``) nor framing
  words; **partly supported** when some are missing; else **supported**.

``evidence_coverage`` is the share of sentences with evidence and ``unsupported_rate`` the
share labelled unsupported. Boilerplate the visit does not support ("The patient understands
and agrees with the plan") and sentences about other patients fail the word test.
Replace ``check_sentences`` with the verifier's labels when it is available.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pipelines.drafting.lexicon import content_words
from pipelines.drafting.phrases import PhraseMap
from pipelines.drafting.rewrite import FRAMING_WORDS, supported_words, unsupported_words
from pipelines.drafting.structure import split_label
from pipelines.types import Transcript

SUPPORTED, PARTLY, UNSUPPORTED = "supported", "partly_supported", "unsupported"
_HEADING = re.compile(r"^[A-Z][A-Z0-9 ,/&()'-]{2,60}:?$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9•\-])")
_BULLET = re.compile(r"^\s*(?:[•*\-]|\d+[.)])\s*")
_SIDE = frozenset({"left", "right", "bilateral"})
# An upper-case heading inside a line ("Possible note: HISTORY OF PRESENT ILLNESS: The ...").
_INLINE_HEADING = re.compile(r"\b[A-Z][A-Z ]{3,}[A-Z]:\s*")


@dataclass(frozen=True)
class AlignRule:
    """How a sentence without links is aligned: windows of up to ``max_turns`` turns; it
    has evidence when the best window holds ``min_share`` of its content words."""

    max_turns: int = 3
    min_share: float = 0.5


@dataclass(frozen=True)
class SentenceCheck:
    """One sentence's label, whether it had evidence, and the words not found."""

    text: str
    label: str
    has_evidence: bool
    missing: tuple[str, ...] = ()


def note_sentences(note: str) -> list[str]:
    """The claim-bearing sentences of a plain-text note (headings dropped)."""
    out = []
    for raw in note.replace("\r", "").split("\n"):
        line = _BULLET.sub("", raw).strip()
        if not line or _HEADING.match(line):
            continue
        for piece in _SENTENCE_END.split(_INLINE_HEADING.sub("", line)):
            piece = _BULLET.sub("", piece).strip()
            body = split_label(piece)[1]
            if content_words(body) - FRAMING_WORDS:
                out.append(piece)
    return out


def align(
    sentence: str, transcript: Transcript, rule: AlignRule = AlignRule()
) -> tuple[str, float]:
    """(window text, share of the sentence's content words it holds) of the best window."""
    words = content_words(split_label(sentence)[1]) - FRAMING_WORDS
    segments = transcript.segments
    if not words or not segments:
        return "", 0.0
    seg_words = [supported_words([s.text]) for s in segments]
    best, best_share = "", 0.0
    for i in range(len(segments)):
        found: set[str] = set()
        for j in range(i, min(i + rule.max_turns, len(segments))):
            found |= seg_words[j]
            share = len(words & found) / len(words)
            if share > best_share:
                best_share = share
                best = " ".join(s.text for s in segments[i : j + 1])
    return best, best_share


def label_sentence(
    sentence: str, evidence: Sequence[str], phrases: PhraseMap | None = None
) -> tuple[str, tuple[str, ...]]:
    """(label, missing words) of a sentence against its evidence texts."""
    body = split_label(sentence)[1]
    words = content_words(body) - FRAMING_WORDS
    missing = unsupported_words(body, evidence, phrases)
    factual = {w for w in missing if w in _SIDE or any(c.isdigit() for c in w)}
    if not evidence or factual or len(missing) * 2 > len(words):
        return UNSUPPORTED, tuple(sorted(missing))
    return (PARTLY if missing else SUPPORTED), tuple(sorted(missing))


def check_sentences(
    sentences: Sequence[tuple[str, Sequence[str] | None]],
    transcript: Transcript,
    phrases: PhraseMap | None = None,
    rule: AlignRule = AlignRule(),
) -> list[SentenceCheck]:
    """Label each (sentence, evidence texts or None) pair; None means "align it"."""
    out = []
    for text, evidence in sentences:
        if evidence is None:
            window, share = align(text, transcript, rule)
            has = share >= rule.min_share
            evidence = [window] if window else []
        else:
            has = bool(evidence)
        label, missing = label_sentence(text, evidence, phrases)
        out.append(SentenceCheck(text, label, has, missing))
    return out


def support_summary(checks: Sequence[SentenceCheck]) -> dict[str, float]:
    """``unsupported_rate`` and ``evidence_coverage`` (x 100) and the sentence count."""
    n = len(checks)
    if not n:
        return {"unsupported_rate": 0.0, "evidence_coverage": 0.0, "sentences": 0}
    return {
        "unsupported_rate": 100.0 * sum(c.label == UNSUPPORTED for c in checks) / n,
        "evidence_coverage": 100.0 * sum(c.has_evidence for c in checks) / n,
        "sentences": n,
    }
