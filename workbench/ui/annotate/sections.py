"""Note-section labelling: which section of the note each transcript segment belongs to
(the labels of ``annotations/tasks.json``), with bulk fills for runs of segments."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import streamlit as st

from pipelines.types import Annotation
from workbench import store as db
from workbench.store.records import AnnotationTask
from workbench.ui import components as ui
from workbench.ui.annotate import form as f
from workbench.ui.annotate import reads

FILL_KEY = "sections_fill"
RANGE_FROM, RANGE_TO = "sections_from", "sections_to"
RANGE_LABEL, RANGE_APPLY = "sections_range_label", "sections_apply"


def render(store: db.Store, task: AnnotationTask) -> None:
    """The segments with the speaker and a section picker each, bulk fills, save/submit."""
    view = reads.task_view(store, task.task_id)
    if view.transcript is None or not view.transcript.segments:
        st.warning("This encounter has no transcript to label.")
        return
    segments = view.transcript.segments
    names = [c.name for c in reads.task_schema().section_labels]
    stored = {_name(s.idx): None for s in segments}
    for a in view.annotations:
        if a.kind == "section_label" and a.segment_idx is not None:
            stored[_name(a.segment_idx)] = a.label
    form = f.open_form(view.task, stored)
    f.actions(store, view.task, form, to_annotations)
    locked = f.editable(store, view.task) is not None
    done = sum(v is not None for v in form.values.values())
    st.caption(f"{done} of {len(segments)} segments labelled")
    _guide()
    if not locked:
        _bulk_tools(task.task_id, len(segments), names)
    for seg in segments:
        text, pick = st.columns([5, 2], vertical_alignment="center")
        text.markdown(ui.segment_row(seg, html.escape(seg.text)), unsafe_allow_html=True)
        name = _name(seg.idx)
        form.values[name] = pick.selectbox(
            f"Section of segment {seg.idx + 1}",
            names,
            index=None,
            format_func=_readable,
            placeholder="not labelled",
            key=f.bind(form, task.task_id, name),
            disabled=locked,
            label_visibility="collapsed",
        )


def to_annotations(values: Mapping[str, Any]) -> list[Annotation]:
    """One ``section_label`` per labelled segment (id ``sec-<segment>``)."""
    out = []
    for name, label in values.items():
        if label is None:
            continue
        idx = int(name.removeprefix("s"))
        out.append(Annotation(f"sec-{idx}", "section_label", label, segment_idx=idx))
    return sorted(out, key=lambda a: a.segment_idx or 0)


def fill_from_above(values: Mapping[str, Any], count: int) -> dict[str, Any]:
    """Every unlabelled segment takes the section of the nearest labelled one above it."""
    changes, last = {}, None
    for idx in range(count):
        current = values.get(_name(idx))
        if current is None and last is not None:
            changes[_name(idx)] = last
        last = current if current is not None else last
    return changes


def _name(idx: int) -> str:
    return f"s{idx}"


def _readable(name: str) -> str:
    return name.replace("_", " ")


def _guide() -> None:
    with st.expander("Section guide"):
        for c in reads.task_schema().section_labels:
            st.markdown(f"**{_readable(c.name)}**: {c.description}")


def _bulk_tools(task_id: str, count: int, names: list[str]) -> None:
    with st.container(border=True):
        st.button(
            "Fill empty segments with the section above",
            key=FILL_KEY,
            icon=":material/vertical_align_bottom:",
            on_click=_fill,
            args=(task_id, count),
            help="Same as previous: each unlabelled segment takes the label above it.",
        )
        first, last, label, apply = st.columns([1, 1, 2, 1.2], vertical_alignment="bottom")
        first.number_input("From segment", 1, count, 1, key=RANGE_FROM)
        last.number_input("To segment", 1, count, count, key=RANGE_TO)
        label.selectbox("Section", names, format_func=_readable, key=RANGE_LABEL)
        apply.button("Label the range", key=RANGE_APPLY, on_click=_apply_range, args=(task_id,))


def _fill(task_id: str, count: int) -> None:
    f.set_values(task_id, fill_from_above(f.current(task_id).values, count))


def _apply_range(task_id: str) -> None:
    first, last = sorted((int(st.session_state[RANGE_FROM]), int(st.session_state[RANGE_TO])))
    label = st.session_state[RANGE_LABEL]
    f.set_values(task_id, {_name(i - 1): label for i in range(first, last + 1)})
