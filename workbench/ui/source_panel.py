"""The Review page's source panel: the recording, the transcript with entities highlighted and
the selected sentence's evidence marked (a player that follows the audio word by word), and
transcript corrections."""

from __future__ import annotations

import mimetypes

import streamlit as st

from workbench.ui import components as ui
from workbench.ui import resources
from workbench.ui import transcript_player as tp
from workbench.ui.review_context import PLAY_FROM_KEY, PLAY_SEQ_KEY, ReviewContext, audio_path
from workbench.ui.transcript_editor import transcript_editor

# The transcript editor's segment picker: a click in the player selects that segment there.
FIX_SEGMENT_KEY = "fix_segment"
# The last word or time clicked in the player (a transcript_player.PlayerClick).
CLICKED_KEY = "transcript_click"


def source_panel(ctx: ReviewContext) -> None:
    """Audio player, the source box, the transcript player, the correction editor."""
    st.subheader("Recording and transcript")
    selected = ctx.selected
    evidence = ctx.evidence()
    path = audio_path(ctx)
    if ctx.audio is not None and ctx.audio.purged_at is not None:
        st.info(
            f"Audio purged by retention policy on {ctx.audio.purged_at:%Y-%m-%d}; "
            "the transcript and note are kept.",
            icon=":material/auto_delete:",
        )
    if path:
        # Constant arguments: the element is never re-created, so the player's seeks and
        # playback survive reruns; the bytes are served by URL, not sent with each rerun.
        with st.container(key=tp.AUDIO_KEY):
            st.audio(
                resources.audio_bytes(path), format=mimetypes.guess_type(path)[0] or "audio/wav"
            )
    if selected:
        segments = ctx.transcript.segments
        quotes = " … ".join(
            f"“{segments[e.segment_idx].text[e.start_char : e.end_char]}” "
            f"({ui.fmt_time(e.start_s)})"
            for e in evidence
        )
        st.info(f"**Source of:** {selected.text}  \n{quotes}", icon=":material/volume_up:")
    colours = resources.label_colours()
    negated = resources.label_schema().negated.color
    st.markdown(ui.legend(colours, negated), unsafe_allow_html=True)
    if path:
        st.caption("Click a word or a time to play from there; the spoken word is highlighted.")
    version = (
        str(resources.data_dir()),
        ctx.encounter_id,
        ctx.transcript_version,
        ctx.entity_set.version if ctx.entity_set else 0,
    )
    html = tp.cached_transcript_html(
        version, tuple(evidence), tuple(colours.items()), negated, ctx.transcript, ctx.entities
    )
    seek = tp.seek_request(
        st.session_state.get(PLAY_FROM_KEY), st.session_state.get(PLAY_SEQ_KEY, 0)
    )
    click = tp.transcript_player(tp.player_data(html, seek), on_click=select_segment)
    segments = ctx.transcript.segments
    if click is not None and not ctx.note.signed and 0 <= click.segment < len(segments):
        start = ui.fmt_time(segments[click.segment].start)
        st.caption(
            f":material/edit: Segment at {start} is ready to correct under "
            "“Correct the transcript”."
        )
    transcript_editor(
        ctx.encounter_id, ctx.transcript_version, ctx.transcript, locked=ctx.note.signed
    )


def select_segment(click: tp.PlayerClick) -> None:
    """Player callback: remember the click and put its segment in the correction editor."""
    st.session_state[CLICKED_KEY] = click
    st.session_state[FIX_SEGMENT_KEY] = click.segment
