"""The draft-note editor: one text box per sentence, whole-section edits, additions.

Widget keys carry the note version, so after a save every box starts from the new
version; pending edits live only in widget state until Save writes them to the store.
"""

from __future__ import annotations

import streamlit as st

from pipelines.editing import apply_section_edit, apply_sentence_edits, new_sentence, section_text
from pipelines.types import NoteSentence
from workbench.store.records import NoteVersion


def sentence_key(note: NoteVersion, sentence: NoteSentence) -> str:
    return f"sent-{note.version}-{sentence.sentence_id}"


def section_key(note: NoteVersion, section: str) -> str:
    return f"section-{note.version}-{section}"


def add_key(note: NoteVersion, section: str) -> str:
    return f"add-{note.version}-{section}"


def order_key(note: NoteVersion) -> str:
    return f"order-{note.version}"


def pending_sections(note: NoteVersion) -> tuple[str, ...]:
    """The section order chosen in the widget; the note's own until every section is placed."""
    chosen = tuple(st.session_state.get(order_key(note)) or ())
    return chosen if sorted(chosen) == sorted(note.draft.sections) else note.draft.sections


def pending_sentences(note: NoteVersion) -> tuple[NoteSentence, ...]:
    """The note as it would be saved now, from the widgets' current values."""
    sentences = note.draft.sentences
    edits = {
        s.sentence_id: st.session_state[sentence_key(note, s)]
        for s in sentences
        if sentence_key(note, s) in st.session_state
    }
    sentences = apply_sentence_edits(sentences, edits)
    for section in note.draft.sections:
        typed = st.session_state.get(section_key(note, section))
        original = section_text(note.draft.sentences, section)
        if typed is not None and " ".join(typed.split()) != original:
            sentences = apply_section_edit(sentences, section, typed)
        added = (st.session_state.get(add_key(note, section)) or "").strip()
        if added:
            sentences = insert_in_section(sentences, new_sentence(section, added))
    return sentences


def insert_in_section(
    sentences: tuple[NoteSentence, ...], sentence: NoteSentence
) -> tuple[NoteSentence, ...]:
    """Place a new sentence at the end of its section (or at the end of the note)."""
    last = max((i for i, s in enumerate(sentences) if s.section == sentence.section), default=-1)
    if last < 0:
        return (*sentences, sentence)
    return (*sentences[: last + 1], sentence, *sentences[last + 1 :])


def origin_badge(sentence: NoteSentence, edited: bool, evidence_changed: bool = False) -> str:
    """Machine suggestion or human decision, always visible; a person's sentence whose
    evidence a transcript correction changed says so until they edit it again."""
    if sentence.origin == "human" or edited:
        badge = ":green-badge[:material/person: clinician]"
        if evidence_changed and not edited:
            badge += "  \n:orange-badge[:material/sync_problem: evidence changed since you " \
                     "edited this]"
        return badge
    return ":blue-badge[:material/smart_toy: draft]"
