"""The Review page's training-use consent switch: what the patient agreed to, changed with
one click (a ``consent.granted`` / ``consent.withdrawn`` event), shown beside the facts."""

from __future__ import annotations

import streamlit as st

from workbench import store as db
from workbench.store.consent import ConsentState
from workbench.ui import note_editor as ed
from workbench.ui.review_context import ReviewContext


def consent_control(ctx: ReviewContext) -> None:
    """A toggle with the current state and who recorded it."""
    state = _consent(ctx.store, str(ctx.store.path), ctx.encounter_id, ctx.store.content_stamp())
    # The key names the state shown, so a change made elsewhere (CLI) draws a fresh toggle.
    key = f"consent-{ctx.encounter_id}-{state.recorded_at or 'default'}"
    st.toggle(
        "Patient consents to training use",
        value=state.granted,
        key=key,
        on_change=_changed,
        args=(ctx, key),
        help="Without consent this encounter is left out of every training export (NER "
        "training, style learning). The signed note still goes to the record.",
    )
    who = f" by {state.recorded_by} on {state.recorded_at:%Y-%m-%d}" if state.recorded_by else ""
    st.caption(f":material/policy: Training use: {state.label}{who}")


@st.cache_resource(show_spinner=False, max_entries=32)
def _consent(_store: db.Store, path: str, encounter_id: str, stamp: tuple) -> ConsentState:
    return db.get_consent(_store, encounter_id)


def _changed(ctx: ReviewContext, key: str) -> None:
    granted = bool(st.session_state.get(key))
    db.set_consent(ctx.store, ctx.encounter_id, granted, ctx.user)
    ed.flash("toast", "Consent to training use recorded." if granted else "Consent withdrawn.")
