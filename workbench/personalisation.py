"""Drafts in each clinician's own style: learn it at sign-off, apply it when drafting.

The style (``pipelines.drafting.style``) is learned from every signed note of the
clinician and stored (``clinician_styles``), so drafting reads one row instead of the
clinician's whole note history, and the review page can say what the drafts follow.
A note belongs to the encounter's clinician, or, when none is named, to whoever signs it.
"""

from __future__ import annotations

import logging
import time

from pipelines.drafting.style import (
    ClinicianStyle,
    StylePair,
    describe,
    learn_style,
    style_from_dict,
    unstyled,
)
from workbench import store as st

log = logging.getLogger(__name__)


def style_owner(store: st.Store, encounter_id: str, user_id: str) -> str:
    """Whose style an encounter's note is drafted in and teaches: its clinician, else the user."""
    encounter = st.get_encounter(store, encounter_id)
    if encounter is None:
        raise st.NotFound(f"No encounter {encounter_id}")
    return encounter.clinician or user_id


def learn_clinician_style(
    store: st.Store, clinician: str, user_id: str, encounter_id: str | None = None
) -> ClinicianStyle:
    """Learn the clinician's style from all their signed notes and store it (with an event).

    Notes of encounters without training-use consent are not learned from
    (``workbench.store.consent``). Each pair is the machine draft without any style applied
    (``unstyled``) beside the signed note, so habits the drafts already follow keep their
    evidence.
    """
    started = time.perf_counter()
    pairs = [
        StylePair(unstyled(draft.draft), signed.draft)
        for draft, signed in st.signed_drafts(store, clinician)
    ]
    style = learn_style(pairs)
    skipped = st.signed_without_consent(store, clinician)
    if skipped:  # a count only: which notes is in the consent records
        log.info("style of %s skips %d signed notes without training-use consent",
                 clinician, len(skipped))
    st.save_style(store, clinician, style.to_dict(), describe(style), user_id, encounter_id)
    log.info(
        "learned the style of %s from %d notes in %.2f s",
        clinician,
        len(pairs),
        time.perf_counter() - started,
    )
    return style


def after_sign(store: st.Store, encounter_id: str, user_id: str) -> ClinicianStyle:
    """Relearn the style of the signed note's owner (call after ``sign_note``)."""
    return learn_clinician_style(
        store, style_owner(store, encounter_id, user_id), user_id, encounter_id
    )


def current_style(store: st.Store, clinician: str) -> ClinicianStyle | None:
    """The clinician's newest stored style; None if none, or if it has an older version."""
    stored = st.latest_style(store, clinician)
    if stored is None:
        return None
    try:
        return style_from_dict(stored.style)
    except ValueError:
        log.warning(
            "style %s of %s has another version; relearn at the next sign-off",
            stored.style_id,
            clinician,
        )
        return None


def style_summary(store: st.Store, clinician: str) -> str | None:
    """The one-line description of the clinician's stored style, if any."""
    stored = st.latest_style(store, clinician)
    return stored.summary if stored else None
