"""Transcript verification: for each segment, whether its words and speaker are right
(the checks of ``annotations/tasks.json``), the corrected words when they are not, and the
recording from the segment's time for those who may hear it."""

from __future__ import annotations

import html
import mimetypes
from collections.abc import Mapping
from typing import Any

import streamlit as st

from pipelines.types import Annotation, Segment
from workbench import store as db
from workbench.store.annotation_views import TaskView
from workbench.store.records import AnnotationTask
from workbench.ui import components as ui
from workbench.ui import resources
from workbench.ui.annotate import form as f
from workbench.ui.annotate import reads

WORDS_WRONG = "words_wrong"
LISTEN_KEY = "transcript_listen"
ALL_CORRECT_KEY = "transcript_rest_correct"


def render(store: db.Store, task: AnnotationTask) -> None:
    """The recording, then each segment with its check and, for misheard words, the
    corrected text; save/submit."""
    view = reads.task_view(store, task.task_id)
    if view.transcript is None or not view.transcript.segments:
        st.warning("This encounter has no transcript to check.")
        return
    segments = view.transcript.segments
    checks = {c.name: c.description for c in reads.task_schema().transcript_checks}
    form = f.open_form(view.task, stored_values(segments, view.annotations))
    f.actions(store, view.task, form, to_annotations)
    locked = f.editable(store, view.task) is not None
    done = sum(form.values[_check(s.idx)] is not None for s in segments)
    st.caption(f"{done} of {len(segments)} segments checked")
    with st.expander("What the checks mean"):
        for name, description in checks.items():
            st.markdown(f"**{_readable(name)}**: {description}")
    _listen(view)
    if not locked:
        st.button(
            "Mark every unchecked segment correct",
            key=ALL_CORRECT_KEY,
            icon=":material/done_all:",
            on_click=_rest_correct,
            args=(task.task_id, len(segments)),
        )
    for seg in segments:
        text, pick = st.columns([5, 2], vertical_alignment="center")
        text.markdown(ui.segment_row(seg, html.escape(seg.text)), unsafe_allow_html=True)
        check = pick.selectbox(
            f"Check of segment {seg.idx + 1}",
            list(checks),
            index=None,
            format_func=_readable,
            placeholder="not checked",
            key=f.bind(form, task.task_id, _check(seg.idx)),
            disabled=locked,
            label_visibility="collapsed",
        )
        form.values[_check(seg.idx)] = check
        if check == WORDS_WRONG:
            form.values[_text(seg.idx)] = st.text_input(
                f"Corrected words of segment {seg.idx + 1}",
                key=f.bind(form, task.task_id, _text(seg.idx)),
                disabled=locked,
            )


def stored_values(segments: tuple[Segment, ...], annotations) -> dict[str, Any]:
    """The form values of the stored checks: each segment's check, and its corrected text
    (the segment's text as shown until someone corrects it)."""
    values: dict[str, Any] = {}
    for seg in segments:
        values[_check(seg.idx)] = None
        values[_text(seg.idx)] = seg.text
    for a in annotations:
        if a.kind == "transcript_check" and a.segment_idx is not None:
            values[_check(a.segment_idx)] = a.label
            if a.label == WORDS_WRONG:
                values[_text(a.segment_idx)] = str(a.value.get("text") or "")
    return values


def to_annotations(values: Mapping[str, Any]) -> list[Annotation]:
    """One ``transcript_check`` per checked segment (id ``chk-<segment>``); misheard words
    carry the corrected text in ``value["text"]``."""
    out = []
    for name, check in values.items():
        if not name.startswith("c") or check is None:
            continue
        idx = int(name.removeprefix("c"))
        value = {"text": str(values.get(_text(idx)) or "").strip()} if check == WORDS_WRONG else {}
        out.append(Annotation(f"chk-{idx}", "transcript_check", check, idx, value=value))
    return sorted(out, key=lambda a: a.segment_idx or 0)


def _check(idx: int) -> str:
    return f"c{idx}"


def _text(idx: int) -> str:
    return f"t{idx}"


def _readable(name: str) -> str:
    return name.replace("_", " ")


def _listen(view: TaskView) -> None:
    """The recording, from the picked segment's start to its end."""
    audio = view.audio
    if audio is None or audio.purged_at is not None:
        st.caption(
            "The recording is identified data: it plays for annotators granted `phi` while"
            " it is kept."
            if not view.identified
            else "No recording is kept for this encounter."
        )
        return
    segments = view.transcript.segments if view.transcript else ()
    idx = st.selectbox(
        "Listen to segment",
        [s.idx for s in segments],
        format_func=lambda i: f"{i + 1} · {ui.fmt_time(segments[i].start)} · {segments[i].speaker}",
        key=LISTEN_KEY,
    )
    seg = segments[idx or 0]
    path = str(resources.data_dir() / audio.stored_path)
    st.audio(
        resources.audio_bytes(path),
        format=mimetypes.guess_type(path)[0] or "audio/wav",
        start_time=seg.start,
        end_time=max(seg.end, seg.start + 1),
    )


def _rest_correct(task_id: str, count: int) -> None:
    values = f.current(task_id).values
    f.set_values(task_id, {_check(i): "correct" for i in range(count) if values[_check(i)] is None})
