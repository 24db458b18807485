"""The Review page's edit-conflict notice: a save of yours was refused because someone saved
first. Both texts are shown side by side, and nothing happens until you choose: keep theirs,
use yours (saved on top of theirs), or merge by hand in the editor."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from pipelines.editing import rebase_edits, restore_unchanged
from workbench import store as db
from workbench.store import conflicts
from workbench.ui import note_editor as ed
from workbench.ui.review_context import ReviewContext


def conflict_panel(ctx: ReviewContext) -> None:
    """One bordered notice per open conflict of this user on this encounter."""
    found = _open_conflicts(
        ctx.store, str(ctx.store.path), ctx.encounter_id, ctx.user, ctx.store.content_stamp()
    )
    for conflict in found:
        _notice(ctx, conflict)


# Keyed by the content stamp like the page's other reads: a rerun opens no database for it.
@st.cache_resource(show_spinner=False, max_entries=32)
def _open_conflicts(
    _store: db.Store, path: str, encounter_id: str, user: str, stamp: tuple
) -> tuple[conflicts.NoteConflict, ...]:
    return tuple(conflicts.open_conflicts(_store, encounter_id, user))


def _notice(ctx: ReviewContext, conflict: conflicts.NoteConflict) -> None:
    theirs = db.get_note(ctx.store, ctx.encounter_id, conflict.theirs_version)
    mine = replace(theirs.draft, sentences=conflict.sentences)
    with st.container(border=True, key=f"conflict-{conflict.conflict_id}"):
        st.error(
            f"Your save was refused: {theirs.created_by} saved version {theirs.version} while "
            f"you were editing version {conflict.base_version} "
            f"({conflict.created_at:%H:%M} UTC). Nothing is lost: both texts are below. "
            "Choose one, or merge them by hand.",
            icon=":material/call_split:",
        )
        left, right = st.columns(2)
        with left:
            st.markdown(f"**Theirs** (saved as version {theirs.version} by {theirs.created_by})")
            st.text(theirs.draft.render_text())
        with right:
            st.markdown("**Yours** (refused, kept)")
            st.text(mine.render_text())
        cid = conflict.conflict_id
        with st.container(horizontal=True):
            st.button(
                "Keep theirs, discard mine",
                key=f"conflict-theirs-{cid}",
                on_click=take_theirs,
                args=(ctx, cid),
            )
            st.button(
                "Use mine instead",
                key=f"conflict-mine-{cid}",
                on_click=take_mine,
                args=(ctx, cid),
                help="Saves your text as a new version on top of theirs",
            )
            st.button(
                "Merge by hand",
                key=f"conflict-merge-{cid}",
                type="primary",
                on_click=merge,
                args=(ctx, cid),
                help="Puts your edits on top of their version in the editor; then Save",
            )


def take_theirs(ctx: ReviewContext, conflict_id: str) -> None:
    """Widget callback: keep their version; yours stays on record, closed."""
    conflicts.resolve_conflict(ctx.store, conflict_id, "took_theirs", ctx.user)
    ed.flash("toast", "Kept their version; your refused text stays on record.")


def take_mine(ctx: ReviewContext, conflict_id: str) -> None:
    """Widget callback: save your text as a new version on top of theirs."""
    try:
        version = conflicts.take_mine(ctx.store, conflict_id, ctx.user)
    except (db.ConcurrentEdit, db.NoteLocked, db.NotFound) as exc:
        ed.flash("error", str(exc))
        return
    ed.carry_over(ctx, version, ())
    ed.flash("toast", f"Saved your text as version {version}.")


def merge(ctx: ReviewContext, conflict_id: str) -> None:
    """Widget callback: your edits, carried over to the newest version, become the pending
    (unsaved, autosaved) note to finish by hand and Save."""
    conflict = conflicts.get_conflict(ctx.store, conflict_id)
    base = db.get_note(ctx.store, ctx.encounter_id, conflict.base_version).draft.sentences
    newest = ctx.note.draft.sentences
    ed.commit(ctx, restore_unchanged(newest, rebase_edits(base, conflict.sentences, newest)))
    conflicts.resolve_conflict(ctx.store, conflict_id, "merged", ctx.user)
    ed.flash("toast", "Your edits are in the editor on top of their version: check, then Save.")
