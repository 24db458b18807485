"""Correct one transcript segment: its words or its speaker. Each save is a new version."""

from __future__ import annotations

import streamlit as st

from pipelines.transcript_edit import SegmentFix
from pipelines.types import Transcript
from workbench import store as db
from workbench.corrections import correct_transcript
from workbench.ui import components as ui
from workbench.ui import resources

ROLES = ("clinician", "patient")


def transcript_editor(
    encounter_id: str, version: int, transcript: Transcript, locked: bool
) -> None:
    """An expander to fix a segment's text or speaker; recomputes entities and evidence."""
    if not transcript.segments:
        return
    with st.expander("Correct the transcript", icon=":material/edit:"):
        if locked:
            st.caption("The note is signed; transcript corrections are closed.")
            return
        idx = st.selectbox(
            "Segment",
            [s.idx for s in transcript.segments],
            format_func=lambda i: (f"{ui.fmt_time(transcript.segments[i].start)} · "
                                   f"{transcript.segments[i].speaker} · "
                                   f"{transcript.segments[i].text[:70]}"),
            key="fix_segment",
        )
        seg = transcript.segments[idx]
        text = st.text_area("Words", value=seg.text, key=f"fix-text-{version}-{idx}")
        speaker = st.radio(
            "Speaker", ROLES, horizontal=True, key=f"fix-speaker-{version}-{idx}",
            index=ROLES.index(seg.speaker) if seg.speaker in ROLES else 0,
        )
        play, save = st.columns(2)
        if play.button("▶ Play this segment", key="fix_play"):
            st.session_state["play_from"] = seg.start
            st.rerun()
        if save.button("Save correction", key="fix_save", type="primary",
                       disabled=" ".join(text.split()) == seg.text and speaker == seg.speaker):
            fix = SegmentFix(idx, text=text, speaker=speaker)
            try:
                result = correct_transcript(
                    resources.get_store(), resources.get_engine().nlp, encounter_id, version,
                    [fix], resources.current_user(),
                )
            except (db.ConcurrentEdit, db.NoteLocked, db.NotFound) as exc:
                st.error(str(exc))
            else:
                st.toast(f"Saved transcript version {result.transcript_version}")
                st.rerun()
