"""The draft-note editor's unsaved state: one text box per sentence, whole-section edits,
added sentences, an undo stack, and the autosave that survives a browser reload.

The pending note (a tuple of sentences) lives in session state under a key carrying the
encounter and note version; the text boxes are views of it. Every change goes through
``commit``: it pushes the previous pending note on the undo stack, updates the boxes, and
writes the autosave (``workbench.store.autosave``), so a reload or a new session restores it.
Widget keys carry the note version, so after a save every box starts from the new version.
"""

from __future__ import annotations

import streamlit as st

from pipelines.editing import (
    apply_section_edit,
    edit_sentence,
    new_sentence,
    rebase_edits,
    restore_unchanged,
    same_note,
    saveable,
    section_text,
)
from pipelines.editing import insert_in_section as insert_in_section
from pipelines.types import NoteSentence
from workbench import store as db
from workbench.store import autosave
from workbench.store.records import NoteVersion
from workbench.ui.review_context import ReviewContext

RESTORED_KEY = "autosave-restored"  # (encounter, version, "HH:MM") of a restored autosave
FLASH_KEY = "sentence-flash"  # [(kind, message)] shown once by the draft panel
UNDO_DEPTH = 50


def sentence_key(note: NoteVersion, sentence: NoteSentence) -> str:
    return f"sent-{note.version}-{sentence.sentence_id}"


def section_key(note: NoteVersion, section: str) -> str:
    return f"section-{note.version}-{section}"


def add_key(note: NoteVersion, section: str) -> str:
    return f"add-{note.version}-{section}"


def order_key(note: NoteVersion) -> str:
    return f"order-{note.version}"


def pending_key(encounter_id: str, version: int) -> str:
    return f"pending-{encounter_id}-{version}"


def undo_key(encounter_id: str, version: int) -> str:
    return f"undo-{encounter_id}-{version}"


def stale_key(encounter_id: str, version: int) -> str:
    return f"stale-autosave-{encounter_id}-{version}"


def flash(kind: str, message: str) -> None:
    """A message for the next rerun (callbacks run before the page is drawn)."""
    st.session_state.setdefault(FLASH_KEY, []).append((kind, message))


def pending(note: NoteVersion) -> tuple[NoteSentence, ...]:
    """The unsaved note, blank sentences included (the saved one when nothing is pending)."""
    return st.session_state.get(pending_key(note.encounter_id, note.version), note.draft.sentences)


def pending_sentences(note: NoteVersion) -> tuple[NoteSentence, ...]:
    """The note as Save would write it now."""
    return saveable(pending(note))


def pending_sections(note: NoteVersion) -> tuple[str, ...]:
    """The section order chosen in the widget; the note's own until every section is placed."""
    chosen = tuple(st.session_state.get(order_key(note)) or ())
    return chosen if sorted(chosen) == sorted(note.draft.sections) else note.draft.sections


def can_undo_edit(note: NoteVersion) -> bool:
    return bool(st.session_state.get(undo_key(note.encounter_id, note.version)))


def start(ctx: ReviewContext) -> autosave.Autosave | None:
    """Set up the pending note of this version once per session, from the user's autosave
    when it was made on this version. An autosave made on an older version (someone saved
    since) is returned to be offered, never applied silently; one whose edits the newer
    version already holds (they were saved with a dictation or an added omission) is cleared.
    """
    note = ctx.note
    key = pending_key(ctx.encounter_id, note.version)
    stale = stale_key(ctx.encounter_id, note.version)
    if key in st.session_state:
        return st.session_state.get(stale)
    st.session_state[key] = note.draft.sentences
    saved = autosave.get_autosave(ctx.store, ctx.encounter_id, ctx.user)
    if saved is None:
        return None
    if saved.note_version == note.version:
        st.session_state[key] = restore_unchanged(note.draft.sentences, saved.sentences)
        st.session_state[RESTORED_KEY] = (
            ctx.encounter_id,
            note.version,
            f"{saved.updated_at:%H:%M}",
        )
        _sync_widgets(note, st.session_state[key])
        return None
    if same_note(saveable(_rebased(ctx, saved)), note.draft.sentences):
        autosave.clear_autosave(ctx.store, ctx.encounter_id, ctx.user)
        return None
    st.session_state[stale] = saved
    return saved


def _rebased(ctx: ReviewContext, saved: autosave.Autosave) -> tuple[NoteSentence, ...]:
    """An autosave made on an older version, carried over to the newest one."""
    try:
        base = db.get_note(ctx.store, ctx.encounter_id, saved.note_version).draft.sentences
    except db.NotFound:
        base = ()
    return rebase_edits(base, saved.sentences, ctx.note.draft.sentences)


def apply_stale(ctx: ReviewContext) -> None:
    """Widget callback: the reviewer applies their older autosave to this version."""
    saved = st.session_state.pop(stale_key(ctx.encounter_id, ctx.note.version), None)
    if saved is not None:
        commit(ctx, restore_unchanged(ctx.note.draft.sentences, _rebased(ctx, saved)))
        flash("toast", "Applied your unsaved changes to this version. Check them, then Save.")


def discard_stale(ctx: ReviewContext) -> None:
    """Widget callback: the reviewer throws their older autosave away (an event says so)."""
    st.session_state.pop(stale_key(ctx.encounter_id, ctx.note.version), None)
    autosave.discard_autosave(ctx.store, ctx.encounter_id, ctx.user)
    flash("toast", "Discarded the unsaved changes.")


def commit(ctx: ReviewContext, new: tuple[NoteSentence, ...], undoable: bool = True) -> None:
    """Make ``new`` the pending note: undo stack, text boxes and autosave follow."""
    note = ctx.note
    key = pending_key(ctx.encounter_id, note.version)
    old = pending(note)
    if same_note(old, new):
        _sync_widgets(note, new)
        return
    if undoable:
        stack = st.session_state.setdefault(undo_key(ctx.encounter_id, note.version), [])
        stack.append(old)
        del stack[:-UNDO_DEPTH]
    st.session_state[key] = new
    _sync_widgets(note, new)
    try:
        if same_note(new, note.draft.sentences):
            autosave.clear_autosave(ctx.store, ctx.encounter_id, ctx.user)
        else:
            autosave.put_autosave(ctx.store, ctx.encounter_id, note.version, ctx.user, new)
    except db.StoreError as exc:
        flash("error", f"Your change is on screen but could not be autosaved: {exc}")


def carry_over(ctx: ReviewContext, version: int, keep: tuple[NoteSentence, ...]) -> None:
    """After a one-click action saved ``version``, the unsaved edits ``keep`` (already in the
    autosave) become that version's pending note; the old version's state is dropped."""
    old = ctx.note
    for key in (pending_key, undo_key, stale_key):
        st.session_state.pop(key(ctx.encounter_id, old.version), None)
    st.session_state[pending_key(ctx.encounter_id, version)] = keep
    st.session_state.pop(RESTORED_KEY, None)


def edit_text(ctx: ReviewContext, sentence_id: str) -> None:
    """Widget callback of a sentence's box (blank text: removed on Save)."""
    note = ctx.note
    typed = st.session_state.get(f"sent-{note.version}-{sentence_id}", "")
    commit(ctx, edit_sentence(pending(note), note.draft.sentences, sentence_id, typed))


def edit_section(ctx: ReviewContext, section: str) -> None:
    """Widget callback of a whole-section box: its sentences re-split, ids kept where they
    match."""
    note = ctx.note
    typed = st.session_state.get(section_key(note, section), "")
    current = pending(note)
    if " ".join(typed.split()) == section_text(saveable(current), section):
        return
    edited = apply_section_edit(current, section, typed)
    commit(ctx, restore_unchanged(note.draft.sentences, edited))


def add_text(ctx: ReviewContext, section: str) -> None:
    """Widget callback of a section's "Add a sentence" box: the sentence joins the pending
    note at the end of the section and the box empties for the next one."""
    note = ctx.note
    typed = (st.session_state.get(add_key(note, section)) or "").strip()
    if not typed:
        return
    st.session_state[add_key(note, section)] = ""
    commit(ctx, insert_in_section(pending(note), new_sentence(section, typed)))


def undo_edit(ctx: ReviewContext) -> None:
    """Widget callback: put back the pending note as it was before the last unsaved change."""
    stack = st.session_state.get(undo_key(ctx.encounter_id, ctx.note.version)) or []
    if stack:
        commit(ctx, stack.pop(), undoable=False)


def _sync_widgets(note: NoteVersion, sentences: tuple[NoteSentence, ...]) -> None:
    """Point the text boxes of this version that are in session state at the pending note
    (only from callbacks or before the boxes are drawn, as Streamlit requires). Boxes are
    drawn only when opened and take their text from the pending note then; keys are not
    added for the others, since every key in session state slows every widget down."""
    for s in sentences:
        key = sentence_key(note, s)
        if key in st.session_state:
            st.session_state[key] = s.text
    for section in note.draft.sections:
        key = section_key(note, section)
        if key in st.session_state:
            st.session_state[key] = section_text(saveable(sentences), section)
