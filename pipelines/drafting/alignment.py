"""Training labels for the section router: which transcript sentence feeds which note section.

A reference note is cut into sections by its headings (``HEADING_KINDS`` maps ACI-Bench and
MTS-Dialog headings to content kinds) and into sentences. Each transcript unit is labelled
with the kind of the note sentence that shares the largest IDF-weighted share of its
content words (numbers written as digits, words stemmed), or ``none`` when no note sentence
shares enough. A clinician's yes/no question takes the label its answer supports.

This is for training only: drafting never looks at reference notes.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pipelines.drafting.kinds import NONE, heading_kind
from pipelines.drafting.numbers import write_numbers
from pipelines.drafting.rewrite import content_words
from pipelines.drafting.structure import split_label

_BULLET = re.compile(r"^\s*(?:[•\-*]|\d+[.)])\s*")
_NOTE_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9])")
# "CC: Knee pain." / "Blood pressure: 120/80": an inline label before the text.
_INLINE_HEADING = re.compile(r"^([A-Za-z][A-Za-z /&]{1,40}):\s*(.*)$")
# ASSESSMENT AND PLAN lines that are plan, not assessment ("Medical Treatment: ...").
_PLAN_LINE = re.compile(
    r"\b(?:medical treatment|additional testing|patient education|counsel|referral|refer|"
    r"follow[- ]?up|will|recommend|prescri|order|continue|start|initiate|discontinue|"
    r"increase|decrease|advised|instructed|schedule|return)\w*",
    re.IGNORECASE,
)
_SUFFIX = re.compile(r"(?:ing|ed|es|s)$")


@dataclass(frozen=True)
class NoteLine:
    """One sentence of a reference note and the kind of section it sits in."""

    kind: str
    text: str


def note_lines(note: str) -> list[NoteLine]:
    """The sentences of a reference note with their section kinds, in note order.

    Heading lines set the kind of what follows; text before any heading is ``hpi``.
    Lines of a combined assessment-and-plan section are split into ``assessment`` and
    ``plan`` by their wording.
    """
    kind, combined, out = "hpi", False, []
    for raw in note.replace("\r", "").split("\n"):
        line = _BULLET.sub("", raw).strip()
        if not line:
            continue
        # "Plan:" on its own line is a heading too (PriMock57 shorthand)
        heading = heading_kind(line.upper() if line.endswith(":") and len(line) < 30 else line)
        if heading is not None:
            kind, combined = heading
            continue
        m = _INLINE_HEADING.match(line)
        if m and (inline := heading_kind(m.group(1).upper())) is not None and m.group(2):
            kind, combined = inline  # "HPI: ..." also heads the lines after it
            line_kind, line = kind, m.group(2)
        elif combined:
            line_kind = "plan" if _PLAN_LINE.search(line) else "assessment"
        else:
            line_kind = kind
        line = split_label(line)[1]  # "Medical Treatment: ..." -> the sentence
        out += [NoteLine(line_kind, s) for s in _NOTE_SENTENCE.split(line) if s.strip()]
    return out


def stems(text: str) -> set[str]:
    """Content words of ``text`` with numbers as digits, crudely stemmed (for matching)."""
    out = set()
    for word in content_words(write_numbers(text)):
        out.add(_SUFFIX.sub("", word) if len(word) > 4 else word)
    return out


def idf_table(documents: Iterable[set[str]]) -> dict[str, float]:
    """Smoothed inverse document frequency of each stem over ``documents``."""
    counts: Counter[str] = Counter()
    n = 0
    for doc in documents:
        counts.update(doc)
        n += 1
    return {w: math.log((1 + n) / (1 + c)) + 1.0 for w, c in counts.items()}


@dataclass(frozen=True)
class AlignOptions:
    """How strictly a transcript sentence must match a note sentence to take its kind.

    min_share: IDF-weighted share of the sentence's stems found in the note sentence.
    min_shared: at least this many shared stems.
    """

    min_share: float = 0.4
    min_shared: int = 2


def align_units(
    unit_texts: Sequence[str],
    lines: Sequence[NoteLine],
    idf: dict[str, float],
    options: AlignOptions = AlignOptions(),
) -> list[tuple[str, float]]:
    """(kind, share) for each unit text: the best-matching note sentence's kind or ``none``."""
    line_stems = [stems(line.text) for line in lines]
    labels = []
    for text in unit_texts:
        mine = stems(text)
        # Summed in a fixed order: a set's order changes with the hash seed, and so would the
        # last digits of a float sum, and with them which of two equal matches wins.
        total = sum(idf.get(w, 1.0) for w in sorted(mine))
        best, best_share = NONE, 0.0
        for line, theirs in zip(lines, line_stems, strict=True):
            shared = mine & theirs
            if len(shared) < options.min_shared or not total:
                continue
            share = sum(idf.get(w, 1.0) for w in sorted(shared)) / total
            if share > best_share:
                best, best_share = line.kind, share
        labels.append((best, best_share) if best_share >= options.min_share else (NONE, 0.0))
    return labels


_ROUGE_TOKEN = re.compile(r"[a-z0-9]+")


def _unigrams(text: str) -> Counter[str]:
    # rouge-score's default tokenizer: lower case, runs of [a-z0-9]
    return Counter(_ROUGE_TOKEN.findall(text.lower()))


def _f1(reference: Counter[str], total_ref: int, chosen: Counter[str], total: int) -> float:
    overlap = sum(min(n, chosen[w]) for w, n in reference.items() if w in chosen)
    if not overlap:
        return 0.0
    precision, recall = overlap / total, overlap / total_ref
    return 2 * precision * recall / (precision + recall)


def oracle_selection(sentences: Sequence[str], note: str, max_steps: int = 200) -> list[bool]:
    """Which sentences a greedy search keeps to maximise unigram F1 against ``note``.

    Each step adds the sentence that raises F1 most and stops when none does (the standard
    extractive-summary oracle); the result labels what a note would say, for training.
    """
    reference = _unigrams(note)
    total_ref = sum(reference.values())
    grams = [_unigrams(s) for s in sentences]
    chosen: Counter[str] = Counter()
    total, best = 0, 0.0
    keep = [False] * len(sentences)
    for _ in range(max_steps):
        step, pick = best, -1
        for i, g in enumerate(grams):
            if keep[i] or not g:
                continue
            f1 = _f1(reference, total_ref, chosen + g, total + sum(g.values()))
            if f1 > step:
                step, pick = f1, i
        if pick < 0:
            break
        keep[pick], best = True, step
        chosen += grams[pick]
        total += sum(grams[pick].values())
    return keep
