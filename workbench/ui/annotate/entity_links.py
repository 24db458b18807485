"""The entities panel's medication relations and encounter-level labels, with callbacks.

A relation goes from a MEDICATION span to a DOSE, FREQUENCY, ROUTE, DURATION or PROBLEM span
(``annotations/tasks.json``). Every span is offered as the target, nearest first, and the
store's checks refuse a wrong pairing with their own message; removing a span removes its
relations (``pipelines.annotation_edit.remove_span``).
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from pipelines import annotation_edit as ed
from pipelines.types import Annotation
from workbench.ui.annotate import span_markup as mk
from workbench.ui.annotate.entity_state import Draft, Schemas, labels, say, take


def relations(draft: Draft, selected: int, schema: Schemas, editable: bool) -> None:
    """Relations from a medication to its dose, frequency, route, duration and problem."""
    st.markdown("**Medication relations**")
    spans = {a.annotation_id: a for a in draft.annotations if a.kind == "span"}
    rels = [a for a in draft.annotations if a.kind == "relation"]
    if rels:
        st.markdown("\n".join(f"- {mk.relation_line(r, spans)}" for r in rels))
    else:
        st.caption("No relations yet.")
    if not editable:
        return
    shown = [a for a in labels(draft.annotations) if a.kind == "span" and a.start_char is not None]
    sources = {r.source for r in schema.tasks.relations}
    meds = sorted((a for a in shown if a.label in sources), key=lambda a: _nearness(a, selected))
    if not meds:
        st.caption("Label a MEDICATION span to link its dose, frequency, route, duration.")
    else:
        _relation_adder(draft, meds, shown, schema)
    if rels:
        remove_col, button_col = st.columns([0.8, 0.2], vertical_alignment="bottom")
        by_rid = {r.annotation_id: r for r in rels}
        ids = list(by_rid)
        _drop_stale(draft.key("rel-remove"), ids)
        remove_col.selectbox(
            "Relation to remove",
            ids,
            key=draft.key("rel-remove"),
            format_func=lambda i: mk.relation_line(by_rid[i], spans),
        )
        button_col.button(
            "Remove relation",
            key=draft.key("rel-remove-go"),
            on_click=_remove_relation,
            args=(draft,),
        )


def _relation_adder(
    draft: Draft, meds: Sequence[Annotation], shown: Sequence[Annotation], schema: Schemas
) -> None:
    by_id = {a.annotation_id: a for a in shown}
    med_ids = [a.annotation_id for a in meds]
    _drop_stale(draft.key("rel-from"), med_ids)
    src_col, name_col, to_col, button_col = st.columns(
        [0.3, 0.2, 0.35, 0.15], vertical_alignment="bottom"
    )
    source = src_col.selectbox(
        "Medication",
        med_ids,
        key=draft.key("rel-from"),
        format_func=lambda i: mk.span_option(by_id[i], draft.transcript),
    )
    names = {r.name: r for r in schema.tasks.relations}
    name_col.selectbox(
        "Relation",
        list(names),
        key=draft.key("rel-name"),
        format_func=lambda n: f"{n} → {names[n].target}",
    )
    near = by_id[source].segment_idx or 0
    targets = [
        a.annotation_id
        for a in sorted(shown, key=lambda a: _nearness(a, near))
        if a.annotation_id != source
    ]
    _drop_stale(draft.key("rel-to"), targets)
    to_col.selectbox(
        "To span",
        targets,
        key=draft.key("rel-to"),
        format_func=lambda i: mk.span_option(by_id[i], draft.transcript),
        placeholder="no other span",
    )
    button_col.button(
        "Add relation",
        key=draft.key("rel-add"),
        icon=":material/link:",
        on_click=_add_relation,
        args=(draft,),
        disabled=not targets,
    )


def encounter_labels(draft: Draft, schema: Schemas, editable: bool) -> None:
    """The encounter-level questions of ``annotations/tasks.json``, one radio group each."""
    st.markdown("**About the whole encounter**")
    for q in schema.tasks.encounter_labels:
        current = ed.choice_of(draft.annotations, q.name)
        st.radio(
            q.question,
            q.choices,
            index=q.choices.index(current) if current in q.choices else None,
            key=draft.key(f"question-{q.name}"),
            horizontal=True,
            disabled=not editable,
            on_change=_set_choice,
            args=(draft, q.name),
        )


# -- callbacks -----------------------------------------------------------------------------


def _add_relation(draft: Draft) -> None:
    source = st.session_state.get(draft.key("rel-from"))
    target = st.session_state.get(draft.key("rel-to"))
    name = st.session_state.get(draft.key("rel-name"))
    spans = {a.annotation_id: a for a in draft.annotations}
    try:
        rel = ed.relation(name, source, target)
        changed = ed.add(draft.annotations, rel)
    except ValueError as exc:
        say("error", str(exc))
        return
    if take(draft, changed, [spans[source], spans[target], rel]):
        say("success", f"Linked: {mk.relation_line(rel, spans)}.")


def _remove_relation(draft: Draft) -> None:
    rid = st.session_state.get(draft.key("rel-remove"))
    draft.annotations = ed.remove(draft.annotations, rid)


def _set_choice(draft: Draft, question: str) -> None:
    choice = st.session_state[draft.key(f"question-{question}")]
    draft.annotations = ed.set_choice(draft.annotations, question, choice)


# -- helpers -------------------------------------------------------------------------------


def _nearness(a: Annotation, segment_idx: int) -> tuple[int, int, int]:
    """Sort key: spans nearest the segment first, then in transcript order."""
    seg = a.segment_idx or 0
    return abs(seg - segment_idx), seg, a.start_char or 0


def _drop_stale(key: str, options: Sequence[str]) -> None:
    """Forget a select's value that is no longer among its options (a removed span)."""
    if key in st.session_state and st.session_state[key] not in options:
        del st.session_state[key]
