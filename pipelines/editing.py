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


# --- A pending (unsaved) note ---------------------------------------------------------------
# The Review page keeps the clinician's unsaved note as a tuple of sentences. A sentence whose
# box was emptied stays in it with blank text (shown as "removed on Save", so one undo brings
# it back) and is dropped by ``saveable``.


def insert_in_section(
    sentences: tuple[NoteSentence, ...], sentence: NoteSentence
) -> tuple[NoteSentence, ...]:
    """Place a sentence at the end of its section (or at the end of the note)."""
    last = max((i for i, s in enumerate(sentences) if s.section == sentence.section), default=-1)
    if last < 0:
        return (*sentences, sentence)
    return (*sentences[: last + 1], sentence, *sentences[last + 1 :])


def edit_sentence(
    pending: tuple[NoteSentence, ...],
    saved: tuple[NoteSentence, ...],
    sentence_id: str,
    text: str,
) -> tuple[NoteSentence, ...]:
    """Set one sentence's text; blank text marks it for removal. Typing the saved text back
    restores the saved sentence as it was (its origin too)."""
    text = " ".join(text.split())
    before = {s.sentence_id: s for s in saved}.get(sentence_id)
    out = []
    for s in pending:
        if s.sentence_id == sentence_id:
            if before is not None and before.text == text and before.section == s.section:
                s = before
            elif s.text != text:
                s = replace(s, text=text, origin="human")
        out.append(s)
    return tuple(out)


def remove_sentence(
    sentences: tuple[NoteSentence, ...], sentence_id: str
) -> tuple[NoteSentence, ...]:
    """The sentences without ``sentence_id`` (unchanged when it is absent)."""
    return tuple(s for s in sentences if s.sentence_id != sentence_id)


def move_sentence(
    sentences: tuple[NoteSentence, ...], sentence_id: str, section: str
) -> tuple[NoteSentence, ...]:
    """Move one sentence, text and evidence unchanged, to the end of ``section``."""
    found = next((s for s in sentences if s.sentence_id == sentence_id), None)
    if found is None:
        raise KeyError(f"No sentence {sentence_id} in the note")
    if found.section == section:
        return sentences
    return insert_in_section(
        remove_sentence(sentences, sentence_id), replace(found, section=section)
    )


def saveable(pending: tuple[NoteSentence, ...]) -> tuple[NoteSentence, ...]:
    """The pending note as Save writes it: sentences emptied by the clinician are removed."""
    return tuple(s for s in pending if s.text.strip())


def restore_unchanged(
    saved: tuple[NoteSentence, ...], pending: tuple[NoteSentence, ...]
) -> tuple[NoteSentence, ...]:
    """Pending sentences whose text and section equal the saved ones become the saved ones
    again (a whole-section edit that changed nothing must not turn them into the person's)."""
    before = {s.sentence_id: s for s in saved}
    return tuple(
        before[s.sentence_id]
        if s.sentence_id in before
        and (before[s.sentence_id].text, before[s.sentence_id].section) == (s.text, s.section)
        else s
        for s in pending
    )


def same_note(a: tuple[NoteSentence, ...], b: tuple[NoteSentence, ...]) -> bool:
    """Whether two notes have the same sentences (ids, sections and text) in the same order."""
    return [(s.sentence_id, s.section, s.text) for s in a] == [
        (s.sentence_id, s.section, s.text) for s in b
    ]


def rebase_edits(
    base: tuple[NoteSentence, ...],
    pending: tuple[NoteSentence, ...],
    target: tuple[NoteSentence, ...],
) -> tuple[NoteSentence, ...]:
    """Carry unsaved edits made on ``base`` over to a newer saved note ``target``.

    Text edits (blank ones included) apply to the same sentence id in ``target``; sentences
    removed from the pending note stay removed; sentences only the pending note has go to the
    end of their section. Sections and order come from ``target``. Used after a one-click
    action saved a new version under unsaved edits, and when a reviewer chooses to apply an
    autosave made on an older version.
    """
    before = {s.sentence_id: s for s in base}
    wanted = {s.sentence_id: s for s in pending}
    out: list[NoteSentence] = []
    for t in target:
        p = wanted.get(t.sentence_id)
        if p is None and t.sentence_id in before:
            continue  # removed in the pending note
        if (
            p is not None
            and p.text != t.text
            and (t.sentence_id not in before or p.text != before[t.sentence_id].text)
        ):
            t = replace(t, text=p.text, origin="human")
        out.append(t)
    have = {s.sentence_id for s in target}
    rebased = tuple(out)
    for p in pending:
        if p.sentence_id not in before and p.sentence_id not in have:
            rebased = insert_in_section(rebased, p)
    return rebased
