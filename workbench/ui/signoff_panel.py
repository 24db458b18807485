"""Sign-off, designed against complacency, and amending a signed note.

What still blocks signing is listed with why ("unsupported", "rests on low-confidence
words: 'metformin' 0.31"), a ▶ to hear it and an Accept button; the Sign button stays off
until nothing blocks, the changes are saved and the attestation is ticked. The attestation
names what the signer confirms, including how many sentences they actually looked at, and
``sign_note`` enforces the same gate. A signed note offers Amend (a reason is required).
"""

from __future__ import annotations

import streamlit as st

from pipelines.signoff import (
    Blocker,
    attestation_text,
    blocking_sentences,
    flagged_ids,
    low_confidence_words,
)
from workbench import personalisation as ps
from workbench import store as db
from workbench.ui import history_panel, resources
from workbench.ui.heartbeat import heartbeat
from workbench.ui.review_context import ReviewContext

SIGN_ERRORS = (db.ConcurrentEdit, db.NoteLocked, db.SignoffBlocked)


def signoff_panel(ctx: ReviewContext, unsaved_changes: int) -> None:
    """What blocks signing, the attestation and Sign; the diff and version history."""
    heartbeat(ctx.store, ctx.encounter_id, ctx.user, ctx.note.version)
    sentences = ctx.note.draft.sentences
    shaky = low_confidence_words(sentences, ctx.results, ctx.transcript)
    done, history = resources.signoff_view(ctx.store, ctx.encounter_id, ctx.note.version)
    blockers = blocking_sentences(sentences, ctx.results, shaky, done.decided)
    flagged = flagged_ids(sentences, ctx.results, shaky)
    looked = sum(s.sentence_id in done.looked_at for s in sentences)

    st.markdown("#### Sign-off")
    amending = history_panel.amendment_of(history, ctx.note.version)
    if amending is not None:
        st.info(
            f"Amendment of signed version {amending[0]}: {amending[1]}", icon=":material/edit_note:"
        )
    if ctx.support is None:
        st.warning(
            "No support check for this version: unsupported sentences cannot be "
            "flagged, only those resting on low-confidence words."
        )
    _blockers(ctx, blockers, len(flagged))
    st.caption(
        f":material/visibility: You looked at **{looked} of {len(sentences)}** sentences "
        f"(played, accepted or edited) · :material/timer: {format_seconds(done.active_seconds)}"
        " of active review",
        help="Recorded with your signature. Sentences count as looked at when you play "
        "their evidence, accept, edit, add or move them.",
    )
    attestation = attestation_text(len(sentences), looked, len(flagged))
    st.markdown(f"> {attestation}")  # in full: a checkbox label would be cut to one line
    attest = st.checkbox("I attest to the statement above", key=attest_key(ctx))
    if unsaved_changes:
        st.caption("Save your changes before signing.")
    disabled = bool(unsaved_changes) or bool(blockers) or not attest
    if st.button("Sign note", key="sign", type="primary", disabled=disabled):
        try:
            db.sign_note(ctx.store, ctx.encounter_id, ctx.note.version, ctx.user, attestation)
        except SIGN_ERRORS as exc:
            st.error(str(exc))
        else:
            ps.after_sign(ctx.store, ctx.encounter_id, ctx.user)  # next drafts follow it too
            st.rerun()
    history_panel.changes_before_signing(ctx, history)
    history_panel.version_history(ctx, history)


def _blockers(ctx: ReviewContext, blockers: tuple[Blocker, ...], flagged: int) -> None:
    with st.container(border=True, key="signoff-blockers"):
        if not blockers:
            st.markdown(
                ":green-badge[:material/check_circle: ready] Nothing blocks signing"
                + (f": all {flagged} flagged sentences were decided." if flagged else ".")
            )
            return
        st.markdown(
            f":red-badge[:material/block: blocks signing] **{len(blockers)} sentence(s)** "
            "need you to accept, edit or remove them:"
        )
        headings = resources.section_headings(ctx.note.draft.template)
        for b in blockers:
            text_col, play_col, accept_col = st.columns(
                [0.7, 0.1, 0.2], vertical_alignment="center"
            )
            text_col.markdown(
                f"*{headings.get(b.section, b.section)}* · {b.text}  \n"
                + " · ".join(f":orange[{r}]" for r in b.reasons)
            )
            play_col.button(
                "▶",
                key=f"signoff-play-{b.sentence_id}",
                help="Play the evidence",
                on_click=ctx.play,
                args=(b.sentence_id,),
            )
            if accept_col.button(
                "Accept",
                key=f"signoff-accept-{b.sentence_id}",
                help="Keep this sentence as it is: you checked it",
            ):
                _accept(ctx, b.sentence_id)


def _accept(ctx: ReviewContext, sentence_id: str) -> None:
    try:
        db.accept_sentences(ctx.store, ctx.encounter_id, ctx.note.version, [sentence_id], ctx.user)
    except (db.ConcurrentEdit, db.NoteLocked, KeyError) as exc:
        st.error(str(exc))
    else:
        st.rerun()


def amend_panel(ctx: ReviewContext) -> None:
    """Amend a signed note (a reason is required), and the note's version history."""
    with st.expander("Amend this note", icon=":material/edit_note:"):
        st.caption(
            "An amendment is a new version; this signed version and its signature "
            "stay readable, and the export of the amended note says it replaces it."
        )
        reason = st.text_input("Reason for the amendment", key="amend-reason")
        if st.button("Amend", key="amend", disabled=not reason.strip()):
            try:
                db.amend_note(ctx.store, ctx.encounter_id, ctx.note.version, ctx.user, reason)
            except (db.ConcurrentEdit, db.InvalidEdit) as exc:
                st.error(str(exc))
            else:
                st.rerun()
    history_panel.version_history(ctx, history_panel.load_history(ctx))


def format_seconds(seconds: float) -> str:
    """``75`` -> ``1 min 15 s``."""
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def attest_key(ctx: ReviewContext) -> str:
    """The attestation box belongs to one version of one note: a tick never carries over to
    the next encounter or to a newer version (the eighth note gets its own tick)."""
    return f"attest-{ctx.encounter_id}-{ctx.note.version}"
