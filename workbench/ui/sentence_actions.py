"""One-click (and one-key) actions on the draft's sentences, as widget callbacks.

Each takes the rerun's :class:`ReviewContext` (bound when the widget was drawn, so it names
the note version the reviewer saw) and reports through ``note_editor.flash``.

What saves at once and what waits for Save:
- Accept records a ``sentence.accepted`` event at once (it changes no text).
- Reject and Move save a new note version at once (``sentence.deleted`` /
  ``sentence.moved``), so one click is done and cannot be lost; "Undo last save" restores the
  previous version as a new one. Unsaved text edits are carried over to the new version.
- Text edits (a sentence's box, a whole section, an added sentence) stay pending until Save,
  autosaved on every change; "Undo edit" steps back through them.
On a sentence only the pending note has (added, not saved yet) Reject and Move are unsaved
edits too.
"""

from __future__ import annotations

import streamlit as st

from pipelines.editing import move_sentence, rebase_edits, remove_sentence
from pipelines.types import NoteSentence
from workbench import store as db
from workbench.store import autosave, note_undo
from workbench.ui import note_editor as ed
from workbench.ui.code_suggestions import CODE_EVIDENCE_KEY
from workbench.ui.review_context import SELECTED_KEY, ReviewContext

_FAILURES = (db.ConcurrentEdit, db.NoteLocked, db.InvalidEdit, db.StoreBusy, KeyError)


def move_key(ctx: ReviewContext, sentence_id: str) -> str:
    return f"move-{ctx.note.version}-{sentence_id}"


def accept(ctx: ReviewContext, sentence_id: str) -> None:
    """Record that the reviewer accepts the sentence as drafted, and select it."""
    st.session_state[SELECTED_KEY] = sentence_id
    saved = ctx.sentence(sentence_id)
    shown = next((s for s in ed.pending(ctx.note) if s.sentence_id == sentence_id), None)
    if saved is None or shown is None or shown.text != saved.text:
        # The box shows something else than the saved text: accepting would approve text
        # the reviewer no longer sees. Their edit, once saved, is their decision.
        ed.flash("error", "This sentence has an unsaved edit: save it (or undo it) instead.")
        return
    try:
        db.accept_sentences(ctx.store, ctx.encounter_id, ctx.note.version, [sentence_id], ctx.user)
    except _FAILURES as exc:
        ed.flash("error", _message(exc))
    else:
        ed.flash("toast", "Accepted")


def reject(ctx: ReviewContext, sentence_id: str) -> None:
    """Remove the sentence from the note (a saved version; "Undo last save" brings it back).
    The selection moves on to the next sentence."""
    if st.session_state.get(SELECTED_KEY) == sentence_id:
        select_next(ctx, 1)
    note = ctx.note
    if ctx.sentence(sentence_id) is None:  # added but never saved: an unsaved edit
        ed.commit(ctx, remove_sentence(ed.pending(note), sentence_id))
        return
    if _save(ctx, remove_sentence(note.draft.sentences, sentence_id)):
        ed.flash("toast", "Removed from the note. Undo last save brings it back.")


def move(ctx: ReviewContext, sentence_id: str, section: str | None = None) -> None:
    """Move the sentence to the end of ``section`` (by default the one picked in its Move
    select) as a saved version with a ``sentence.moved`` event."""
    section = section or st.session_state.get(move_key(ctx, sentence_id))
    if not section:
        return
    st.session_state[SELECTED_KEY] = sentence_id
    note = ctx.note
    if ctx.sentence(sentence_id) is None:
        st.session_state[move_key(ctx, sentence_id)] = None
        ed.commit(ctx, move_sentence(ed.pending(note), sentence_id, section))
        return
    if _save(ctx, move_sentence(note.draft.sentences, sentence_id, section)):
        ed.flash("toast", f"Moved to {section}.")


def save(ctx: ReviewContext) -> None:
    """Save the pending note (text edits and section order) as a new version; the autosave
    is cleared in the same transaction."""
    note = ctx.note
    sentences, order = ed.pending_sentences(note), ed.pending_sections(note)
    if not db.diff_sentences(note.draft.sentences, sentences) and order == note.draft.sections:
        ed.flash("toast", "Nothing to save.")
        return
    try:
        version = autosave.save_version(
            ctx.store, ctx.encounter_id, note.version, sentences, ctx.user, sections=order
        )
    except _FAILURES as exc:
        ed.flash("error", _message(exc))
        return
    ed.carry_over(ctx, version, ())
    st.session_state.pop(ed.pending_key(ctx.encounter_id, version), None)
    ed.flash("toast", f"Saved version {version}")


def undo_save(ctx: ReviewContext) -> None:
    """Restore the previous version's sentences as a new version (``note.undone``); unsaved
    edits are kept on top of it."""
    note = ctx.note
    target = note_undo.undo_target(ctx.store, ctx.encounter_id, note.version)
    if target is None:
        ed.flash("error", "There is no saved change to undo.")
        return
    restored = db.get_note(ctx.store, ctx.encounter_id, target).draft.sentences
    keep = rebase_edits(note.draft.sentences, ed.pending(note), restored)
    try:
        version = note_undo.undo_last_save(
            ctx.store, ctx.encounter_id, note.version, ctx.user, keep=keep
        )
    except _FAILURES as exc:
        ed.flash("error", _message(exc))
        return
    ed.carry_over(ctx, version, keep)
    ed.flash("toast", f"Undone: version {version} has the sentences of version {target}.")


def note_order(ctx: ReviewContext) -> list[str]:
    """Sentence ids as the note shows them: section by section."""
    draft = ctx.note.draft
    return [s.sentence_id for section in draft.sections for s in draft.section_sentences(section)]


def select_next(ctx: ReviewContext, step: int = 1) -> str | None:
    """Select the sentence ``step`` places after the selected one in the order the note
    shows them; the ends do not wrap (with nothing selected: the first, or the last for a
    negative step). Returns the selected id."""
    order = note_order(ctx)
    if not order or not step:
        return None
    current = st.session_state.get(SELECTED_KEY)
    if current in order:
        index = min(max(order.index(current) + step, 0), len(order) - 1)
    else:
        index = 0 if step > 0 else len(order) - 1
    st.session_state[SELECTED_KEY] = order[index]
    # The transcript marks this sentence's evidence, not a code mention clicked earlier.
    st.session_state.pop(CODE_EVIDENCE_KEY, None)
    return order[index]


def _save(ctx: ReviewContext, target: tuple[NoteSentence, ...]) -> bool:
    """Save ``target`` (the saved note with one action applied) as a new version, carrying
    the reviewer's unsaved edits over to it. False (and a message) when it failed."""
    note = ctx.note
    keep = rebase_edits(note.draft.sentences, ed.pending(note), target)
    try:
        version = autosave.save_version(
            ctx.store, ctx.encounter_id, note.version, target, ctx.user, keep=keep
        )
    except _FAILURES as exc:
        ed.flash("error", _message(exc))
        return False
    ed.carry_over(ctx, version, keep)
    return True


def _message(exc: Exception) -> str:
    return str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
