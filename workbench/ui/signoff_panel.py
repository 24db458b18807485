"""Sign-off: the attestation and the Sign button; a signed note is read-only."""

from __future__ import annotations

import streamlit as st

from workbench import personalisation as ps
from workbench import store as db
from workbench.ui.review_context import ReviewContext


def signoff_panel(ctx: ReviewContext, unsaved_changes: int) -> None:
    """Attest and sign the newest version; unsaved changes must be saved first."""
    attest = st.checkbox(db.ATTESTATION, key="attest")
    if unsaved_changes:
        st.caption("Save your changes before signing.")
    if st.button("Sign note", key="sign", disabled=bool(unsaved_changes) or not attest):
        try:
            db.sign_note(ctx.store, ctx.encounter_id, ctx.note.version, ctx.user)
        except (db.ConcurrentEdit, db.NoteLocked) as exc:
            st.error(str(exc))
        else:
            ps.after_sign(ctx.store, ctx.encounter_id, ctx.user)  # next drafts follow it too
            st.rerun()
