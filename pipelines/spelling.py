"""Spelling preferences: write a word the way the clinic does ("OK", not "okay").

Whisper picks one of several equivalent spellings, and references, style guides and
clinicians differ ("OK" is AP and Chicago style; ACI-Bench writes "okay"). Scoring with
Whisper's English normaliser counts such a difference as an error, and a reader may care
too. A preference is a form from a group in ``annotations/vocab/spelling_variants.tsv``;
every other form of that group is rewritten to it, in segment text and word timings alike.
Without preferences nothing changes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from pipelines.paths import VOCAB_DIR
from pipelines.types import Segment, Transcript

VARIANTS_FILE = VOCAB_DIR / "spelling_variants.tsv"

# A word token keeps its leading space and trailing punctuation: " okay," -> (" ", "okay", ",").
_TOKEN = re.compile(r"^(\W*)([\w'-]+?)(\W*)$")


def load_variant_groups(path: Path = VARIANTS_FILE) -> list[tuple[str, ...]]:
    """The variant groups, one tuple of equivalent forms per line."""
    groups = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            groups.append(tuple(form.strip() for form in line.split("\t") if form.strip()))
    return groups


def preference_map(
    preferred: Iterable[str], groups: Iterable[tuple[str, ...]] | None = None
) -> dict[str, str]:
    """Lower-cased variant -> preferred form, for those ``preferred`` forms that are in a group.

    Terms that belong to no group (ordinary vocabulary) are ignored.
    """
    groups = load_variant_groups() if groups is None else list(groups)
    wanted = {term.strip().lower(): term.strip() for term in preferred if term.strip()}
    mapping: dict[str, str] = {}
    for group in groups:
        lowered = [form.lower() for form in group]
        chosen = next((wanted[f] for f in lowered if f in wanted), None)
        if chosen is None:
            continue
        for form in lowered:
            mapping[form] = chosen
    return mapping


def respell(text: str, mapping: dict[str, str]) -> str:
    """``text`` (one word token with its spacing and punctuation) in the preferred spelling."""
    match = _TOKEN.match(text)
    if not match:
        return text
    lead, word, tail = match.groups()
    preferred = mapping.get(word.lower())
    if preferred is None or preferred == word:
        return text
    return f"{lead}{preferred}{tail}"


def _segment(segment: Segment, mapping: dict[str, str]) -> Segment:
    if segment.words:
        words = tuple(replace(w, text=respell(w.text, mapping)) for w in segment.words)
        if words == segment.words:
            return segment
        return replace(segment, words=words, text="".join(w.text for w in words).strip())
    text = " ".join(respell(token, mapping) for token in segment.text.split(" "))
    return segment if text == segment.text else replace(segment, text=text)


def apply_spelling(transcript: Transcript, preferred: Iterable[str]) -> Transcript:
    """``transcript`` with every variant of a ``preferred`` form rewritten to that form."""
    mapping = preference_map(preferred)
    if not mapping:
        return transcript
    return transcript.with_segments(tuple(_segment(s, mapping) for s in transcript.segments))


def split_preferences(terms: Iterable[str]) -> tuple[list[str], list[str]]:
    """A clinician's vocabulary split into (spelling preferences, terms to bias towards).

    A spelling form is not a hotword: biasing towards "OK" in every window would cost
    decoding time and, measured with long hotword lists, made tiny.en skip speech.
    """
    known = {form.lower() for group in load_variant_groups() for form in group}
    spelling = [t for t in terms if t.strip().lower() in known]
    rest = [t for t in terms if t.strip().lower() not in known]
    return spelling, rest
