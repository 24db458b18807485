"""The Review page's source panel: the recording, the transcript with entities highlighted and
the selected sentence's evidence marked, and transcript corrections."""

from __future__ import annotations

import streamlit as st

from workbench.ui import components as ui
from workbench.ui import resources
from workbench.ui.review_context import PLAY_FROM_KEY, ReviewContext, audio_path
from workbench.ui.transcript_editor import transcript_editor


def source_panel(ctx: ReviewContext) -> None:
    """Audio player (starting at the evidence last asked for), the source box, the transcript."""
    st.subheader("Recording and transcript")
    selected = ctx.selected
    evidence = ctx.evidence()
    path = audio_path(ctx)
    if path:
        st.audio(resources.audio_bytes(path),
                 start_time=int(st.session_state.get(PLAY_FROM_KEY, 0)),
                 autoplay=selected is not None)
    if selected:
        segments = ctx.transcript.segments
        quotes = " … ".join(
            f"“{segments[e.segment_idx].text[e.start_char:e.end_char]}” "
            f"({ui.fmt_time(e.start_s)})" for e in evidence
        )
        st.info(f"**Source of:** {selected.text}  \n{quotes}", icon=":material/volume_up:")
    colours = resources.label_colours()
    negated = resources.label_schema().negated.color
    st.markdown(ui.legend(colours, negated), unsafe_allow_html=True)
    cited = {e.segment_idx for e in evidence}
    with st.container(height=560):
        st.markdown("".join(
            ui.segment_row(seg, ui.highlight_segment(seg, ctx.entities, colours, evidence,
                                                     negated_colour=negated),
                           seg.idx in cited)
            for seg in ctx.transcript.segments
        ), unsafe_allow_html=True)
    transcript_editor(ctx.encounter_id, ctx.transcript_version, ctx.transcript,
                      locked=ctx.note.signed)
