"""Note quality rating: the PDQI-9 items of ``annotations/tasks.json``, each on its scale,
beside the draft note being rated (read-only, section by section). Every item must be rated
before the task can be submitted (the store refuses otherwise)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from pipelines.annotation_schema import TaskSchema
from pipelines.types import Annotation, Draft
from workbench import store as db
from workbench.store.records import AnnotationTask
from workbench.ui import resources
from workbench.ui.annotate import form as f
from workbench.ui.annotate import reads


def render(store: db.Store, task: AnnotationTask) -> None:
    """The draft on the left, the nine items on the right; save/submit above them."""
    view = reads.task_view(store, task.task_id)
    if view.draft is None:
        st.warning("This task has no draft note to rate.")
        return
    schema = reads.task_schema()
    stored: dict[str, Any] = {_name(q.name): None for q in schema.quality_items}
    for a in view.annotations:
        if a.kind == "rating" and a.label:
            stored[_name(a.label)] = _score(a.value.get("score"))
    form = f.open_form(view.task, stored)
    f.actions(store, view.task, form, to_annotations)
    locked = f.editable(store, view.task) is not None
    note, items = st.columns([1, 1], gap="large")
    with note:
        st.subheader("Draft note")
        _note(view.draft)
    with items:
        rated = sum(v is not None for v in form.values.values())
        st.subheader(f"{schema.quality_instrument}: {rated} of {len(schema.quality_items)} rated")
        st.caption(f"{_scale_help(schema)} Source: {schema.quality_source}")
        for q in schema.quality_items:
            form.values[_name(q.name)] = st.radio(
                q.question,
                [int(c) for c in q.choices],
                index=None,
                format_func=lambda n, s=schema: _score_label(n, s),
                horizontal=True,
                key=f.bind(form, task.task_id, _name(q.name)),
                disabled=locked,
            )


def to_annotations(values: Mapping[str, Any]) -> list[Annotation]:
    """One ``rating`` per rated item (id ``q-<item>``, ``value["score"]``)."""
    return [
        Annotation(name, "rating", name.removeprefix("q-"), value={"score": int(score)})
        for name, score in values.items()
        if score is not None
    ]


def _name(item: str) -> str:
    return f"q-{item}"


def _score(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _score_label(n: int, schema: TaskSchema) -> str:
    low, high = schema.scale
    words = {low: schema.scale_labels[0], high: schema.scale_labels[1]}
    return f"{n} · {words[n]}" if words.get(n) else str(n)


def _scale_help(schema: TaskSchema) -> str:
    (low, high), (low_words, high_words) = schema.scale, schema.scale_labels
    return f"Scale {low} ({low_words}) to {high} ({high_words})."


def _note(draft: Draft) -> None:
    headings = resources.section_headings(draft.template)
    with st.container(border=True, height=640):
        for section in draft.sections:
            sentences = draft.section_sentences(section)
            st.markdown(f"**{headings.get(section, section.replace('_', ' ').title())}**")
            # st.text: clinical text is data, never Markdown.
            st.text(" ".join(s.text for s in sentences) if sentences else "(none)")
