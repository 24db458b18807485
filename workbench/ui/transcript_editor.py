"""Correct one transcript segment: its words or its speaker. Each save is a new version."""

from __future__ import annotations

import streamlit as st

from pipelines.transcript_edit import SegmentFix
from pipelines.types import Transcript
from workbench import store as db
from workbench.corrections import CorrectionResult, correct_transcript
from workbench.ui import components as ui
from workbench.ui import resources

ROLES = ("clinician", "patient")


def transcript_editor(
    encounter_id: str, version: int, transcript: Transcript, locked: bool
) -> None:
    """An expander to fix a segment's text or speaker; recomputes entities and evidence."""
    if not transcript.segments:
        return
    done = st.session_state.pop("fix_done", None)
    if done:
        st.success(done, icon=":material/edit_note:")
    with st.expander("Correct the transcript", icon=":material/edit:"):
        if locked:
            st.caption("The note is signed; transcript corrections are closed.")
            return
        idx = st.selectbox(
            "Segment",
            [s.idx for s in transcript.segments],
            format_func=lambda i: (
                f"{ui.fmt_time(transcript.segments[i].start)} · "
                f"{transcript.segments[i].speaker} · "
                f"{transcript.segments[i].text[:70]}"
            ),
            key="fix_segment",
        )
        seg = transcript.segments[idx]
        text = st.text_area("Words", value=seg.text, key=f"fix-text-{version}-{idx}")
        speaker = st.radio(
            "Speaker",
            ROLES,
            horizontal=True,
            key=f"fix-speaker-{version}-{idx}",
            index=ROLES.index(seg.speaker) if seg.speaker in ROLES else 0,
        )
        play, save = st.columns(2)
        if play.button("▶ Play this segment", key="fix_play"):
            st.session_state["play_from"] = seg.start
            st.rerun()
        if save.button(
            "Save correction",
            key="fix_save",
            type="primary",
            disabled=" ".join(text.split()) == seg.text and speaker == seg.speaker,
        ):
            fix = SegmentFix(idx, text=text, speaker=speaker)
            engine = resources.get_engine()
            try:
                with st.spinner("Re-drafting what the correction changed…"):
                    result = correct_transcript(
                        resources.session_store(),
                        engine.nlp,
                        encounter_id,
                        version,
                        [fix],
                        resources.current_user(),
                        engine=engine,
                    )
            except (db.ConcurrentEdit, db.NoteLocked, db.NotFound) as exc:
                st.error(str(exc))
            else:
                st.session_state["fix_done"] = correction_summary(result)
                st.rerun()


def correction_summary(result: CorrectionResult) -> str:
    """What a saved correction did to the note, in the reviewer's words."""
    parts = [f"Saved transcript version {result.transcript_version}."]
    regen = result.regeneration
    if regen is None:
        return " ".join(parts)
    count = len(regen.redrafted) + len(regen.added)
    if count:
        parts.append(f"{_sentences(count)} re-drafted from your correction.")
    elif regen.replaced:
        parts.append(
            f"Removed {_sentences(len(regen.replaced))} the corrected transcript no longer backs."
        )
    else:
        parts.append("No draft sentence needed re-drafting.")
    if regen.flagged:
        parts.append(
            f"{_sentences(len(regen.flagged))} you wrote kept as written; "
            "the evidence changed, please check."
        )
    return " ".join(parts)


def _sentences(n: int) -> str:
    return f"{n} sentence" if n == 1 else f"{n} sentences"
