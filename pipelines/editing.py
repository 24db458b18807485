"""A clinician's edits applied to note sentences: plain data in, new sentences out.

Edited sentences keep their ``sentence_id`` and evidence (so draft -> signed pairs line
up for training) and become ``origin="human"``; an empty edit removes the sentence.
"""

from __future__ import annotations

import difflib
import uuid
from collections.abc import Mapping
from dataclasses import replace

from pipelines.drafting.sentences import split_sentences
from pipelines.types import NoteSentence

# Below this similarity a rewritten sentence counts as new, not as an edit of the old one.
MATCH_RATIO = 0.6


def apply_sentence_edits(
    sentences: tuple[NoteSentence, ...], edits: Mapping[str, str]
) -> tuple[NoteSentence, ...]:
    """Replace the text of the sentences named in ``edits``; blank text deletes."""
    out: list[NoteSentence] = []
    for s in sentences:
        if s.sentence_id not in edits:
            out.append(s)
            continue
        text = " ".join(edits[s.sentence_id].split())
        if not text:
            continue
        out.append(s if text == s.text else replace(s, text=text, origin="human"))
    return tuple(out)


def apply_section_edit(
    sentences: tuple[NoteSentence, ...], section: str, new_text: str
) -> tuple[NoteSentence, ...]:
    """Replace one section by free text, keeping ids and evidence of sentences that survive.

    Each new sentence is matched in order to the most similar unused old sentence of the
    section; unmatched new sentences are human-written with no evidence.
    """
    old = [s for s in sentences if s.section == section]
    pieces = [new_text[a:b] for a, b in split_sentences(new_text, max_words=10_000)]
    used: set[str] = set()
    rebuilt: list[NoteSentence] = []
    for piece in pieces:
        text = " ".join(piece.split())
        best, best_ratio = None, 0.0
        for s in old:
            if s.sentence_id in used:
                continue
            ratio = difflib.SequenceMatcher(None, s.text.lower(), text.lower()).ratio()
            if ratio > best_ratio:
                best, best_ratio = s, ratio
        if best is not None and best_ratio >= MATCH_RATIO:
            used.add(best.sentence_id)
            rebuilt.append(best if best.text == text else replace(best, text=text, origin="human"))
        else:
            rebuilt.append(new_sentence(section, text))
    # Keep the note's order: the section's sentences go where the section was.
    out: list[NoteSentence] = []
    placed = False
    for s in sentences:
        if s.section == section:
            if not placed:
                out.extend(rebuilt)
                placed = True
        else:
            out.append(s)
    if not placed:
        out.extend(rebuilt)
    return tuple(out)


def new_sentence(section: str, text: str) -> NoteSentence:
    """A sentence the clinician wrote, with a fresh id and no evidence."""
    return NoteSentence(
        sentence_id=f"h-{uuid.uuid4().hex[:12]}",
        section=section,
        text=" ".join(text.split()),
        origin="human",
    )


def section_text(sentences: tuple[NoteSentence, ...], section: str) -> str:
    """The section as one paragraph, as the clinician edits it."""
    return " ".join(s.text for s in sentences if s.section == section)
