"""The widgets of the entities panel and their callbacks.

Every action is a callback that changes the session-held ``Draft`` after the store's checks
(``entity_state.check``) and leaves a message for the next run; nothing is written until
"Save draft" (or the page's save). Keys carry the task (and, for widgets showing one
annotation, the draft's generation), so reopening or reloading a task starts them afresh.

Keyboard: Tab walks the controls in reading order; a select filters as you type; the word
range moves with the arrow keys; Enter or Space presses the focused button.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from pipelines import annotation_edit as ed
from pipelines.types import Annotation
from workbench import store as db
from workbench.store.records import AnnotationTask
from workbench.ui import components as ui
from workbench.ui.annotate import span_markup as mk
from workbench.ui.annotate.entity_state import (
    Draft,
    Schemas,
    labels,
    reload,
    save_draft,
    say,
    stored_set,
    submit_draft,
    take,
)

HINT = (
    "Keyboard: Tab to move · type in a list to filter · ← → move the word range · "
    "Enter or Space presses a button"
)


def seg_key(task_id: str) -> str:
    """The segment picker's key (kept across reloads of the task)."""
    return f"annent-{task_id}-segment"


def label_key(task_id: str) -> str:
    """The new span's label picker (kept across segments)."""
    return f"annent-{task_id}-label"


def context_key(task_id: str) -> str:
    """The new span's context flags."""
    return f"annent-{task_id}-context"


def words_key(task_id: str, idx: int) -> str:
    """The word-range slider of segment ``idx``."""
    return f"annent-{task_id}-words-{idx}"


# -- toolbar -------------------------------------------------------------------------------


def toolbar(store: db.Store, draft: Draft, editable: bool) -> None:
    """Counts, unsaved state, 'Accept all remaining', 'Next suggestion', 'Save draft' and
    'Submit for review'."""
    pending = draft.pending()
    spans = [a for a in labels(draft.annotations) if a.kind == "span"]
    rejected = sum(1 for a in draft.annotations if ed.is_rejected(a))
    relations = sum(1 for a in draft.annotations if a.kind == "relation")
    state = (
        ":orange-badge[:material/edit: unsaved changes]"
        if draft.dirty
        else ":green-badge[:material/cloud_done: saved]"
    )
    hidden = f" · {draft.hidden} over de-identified words not shown" if draft.hidden else ""
    st.markdown(
        f"{state} {_count(len(spans), 'span')} · {_count(relations, 'relation')} · "
        f"**{_count(len(pending), 'suggestion')} to decide** · {rejected} rejected{hidden}"
    )
    if not editable:
        return
    accept_col, next_col, save_col, submit_col = st.columns(4)
    accept_col.button(
        f"Accept all remaining ({len(pending)})",
        key=f"annent-{draft.task_id}-accept-all",
        icon=":material/done_all:",
        on_click=_accept_all,
        args=(draft,),
        disabled=not pending,
        help="Every undecided suggestion becomes a label (origin 'confirmed').",
    )
    next_col.button(
        "Next suggestion",
        key=f"annent-{draft.task_id}-next-suggestion",
        icon=":material/skip_next:",
        on_click=_next_suggestion,
        args=(draft,),
        disabled=not pending,
    )
    save_col.button(
        "Save draft",
        key=f"annent-{draft.task_id}-save",
        type="primary",
        icon=":material/save:",
        on_click=save_draft,
        args=(store, draft.task_id),
        disabled=not draft.dirty,
    )
    submit_col.button(
        "Submit for review",
        key=f"annent-{draft.task_id}-submit",
        icon=":material/send:",
        on_click=submit_draft,
        args=(store, draft.task_id),
        help="Saves unsaved changes, then hands the task to a lead; it can no longer change.",
    )
    st.caption(HINT)


def conflict(store: db.Store, task: AnnotationTask, draft: Draft) -> None:
    """The task was saved elsewhere while this draft had changes: choose whose set wins."""
    st.warning(
        f"This task was saved elsewhere (revision {task.revision}) while you had unsaved "
        "changes. Load the saved version, or keep yours (saving then replaces it).",
        icon=":material/sync_problem:",
    )
    load_col, keep_col = st.columns(2)
    load_col.button(
        "Load the saved version",
        key=f"annent-{task.task_id}-load-saved",
        on_click=_load_saved,
        args=(store, draft, task.revision),
    )
    keep_col.button(
        "Keep my changes",
        key=f"annent-{task.task_id}-keep-mine",
        on_click=_keep_mine,
        args=(store, draft, task.revision),
    )


# -- transcript and segment ----------------------------------------------------------------


def transcript_view(draft: Draft, selected: int, schema: Schemas) -> None:
    """The whole transcript, labels and suggestions marked, in a scrolling box."""
    colours = schema.colours
    with st.container(height=520, key=f"annent-{draft.task_id}-transcript"):
        st.markdown(mk.legend(colours), unsafe_allow_html=True)
        st.markdown(
            mk.transcript_html(draft.transcript, _by_segment(draft), colours, selected),
            unsafe_allow_html=True,
        )


def segment_picker(draft: Draft) -> int:
    """The selected segment (a select that filters as you type, with previous and next)."""
    segments = draft.transcript.segments
    key = seg_key(draft.task_id)
    if st.session_state.get(key, 0) not in range(len(segments)):
        st.session_state.pop(key, None)
    # The browser names the chosen option by its text: a text that changed with the
    # segment's label counts lost the selection (and the value became that text).
    idx = st.selectbox(
        "Segment", range(len(segments)), key=key, format_func=lambda i: _segment_option(draft, i)
    )
    labelled, suggested = _counts(draft).get(idx, (0, 0))
    st.caption(f"This segment: {_count(labelled, 'label')} · {suggested} suggested")
    prev_col, next_col = st.columns(2)
    prev_col.button(
        "Previous segment",
        key=f"annent-{draft.task_id}-prev",
        icon=":material/arrow_upward:",
        on_click=_step,
        args=(draft.task_id, -1, len(segments)),
        disabled=idx == 0,
    )
    next_col.button(
        "Next segment",
        key=f"annent-{draft.task_id}-next",
        icon=":material/arrow_downward:",
        on_click=_step,
        args=(draft.task_id, 1, len(segments)),
        disabled=idx == len(segments) - 1,
    )
    return idx


def segment_editor(draft: Draft, idx: int, schema: Schemas, editable: bool) -> None:
    """The selected segment: its text, its spans and suggestions, and a new span."""
    seg = draft.transcript.segments[idx]
    here = _by_segment(draft).get(idx, ())
    speaker = ui.SPEAKER_STYLE.get(seg.speaker, ui.SPEAKER_STYLE["unknown"])[0]
    st.markdown(f"**#{idx + 1} · {ui.fmt_time(seg.start)} · {speaker}**")
    st.markdown(
        f"<div style='font-size:1.1em;line-height:1.9'>"
        f"{mk.segment_html(seg.text, here, schema.colours)}</div>",
        unsafe_allow_html=True,
    )
    rejected = [a for a in draft.annotations if ed.is_rejected(a) and a.segment_idx == idx]
    for a in sorted((*here, *rejected), key=lambda a: (a.start_char or 0, a.end_char or 0)):
        _span_row(draft, a, schema, editable)
    if editable:
        _adder(draft, idx, schema)


def _span_row(draft: Draft, a: Annotation, schema: Schemas, editable: bool) -> None:
    st.markdown(mk.span_line(a, schema.colours), unsafe_allow_html=True)
    if not editable:
        return
    label_col, context_col, button_col = st.columns([0.35, 0.4, 0.25], vertical_alignment="center")
    aid = a.annotation_id
    if ed.is_rejected(a):
        button_col.button(
            "Restore",
            key=draft.key(f"restore-{aid}"),
            on_click=_restore,
            args=(draft, aid),
            help="Offer the suggestion again",
        )
    elif a.origin == "suggestion":
        label_col.button(
            "Accept",
            key=draft.key(f"accept-{aid}"),
            icon=":material/check:",
            on_click=_accept,
            args=(draft, aid),
        )
        context_col.button(
            "Reject",
            key=draft.key(f"reject-{aid}"),
            icon=":material/close:",
            on_click=_reject,
            args=(draft, aid),
        )
    else:
        options = list(schema.span_labels)
        label_col.selectbox(
            "Label",
            options,
            index=options.index(a.label) if a.label in options else 0,
            key=draft.key(f"relabel-{aid}"),
            label_visibility="collapsed",
            on_change=_relabel,
            args=(draft, aid),
        )
        context_col.multiselect(
            "Context",
            ed.CONTEXT_FLAGS,
            default=list(ed.context_of(a)),
            key=draft.key(f"context-{aid}"),
            label_visibility="collapsed",
            placeholder="context",
            on_change=_set_context,
            args=(draft, aid),
        )
        button_col.button(
            "Remove",
            key=draft.key(f"remove-{aid}"),
            icon=":material/delete:",
            on_click=_remove_span,
            args=(draft, aid),
        )


def _adder(draft: Draft, idx: int, schema: Schemas) -> None:
    seg = draft.transcript.segments[idx]
    tokens = ed.word_tokens(seg.text)
    st.markdown("**Label words of this segment**")
    if not tokens:
        st.caption("This segment has no words to label.")
        return
    if len(tokens) > 1:
        first, last = st.select_slider(
            "Words (from … to)",
            options=range(len(tokens)),
            value=(0, 0),
            format_func=lambda i: tokens[i].text,
            key=words_key(draft.task_id, idx),
        )
    else:
        first = last = 0
    st.markdown(f"Selected: “{seg.text[tokens[first].start : tokens[last].end]}”")
    label_col, context_col = st.columns(2)
    label_col.selectbox("Label", schema.span_labels, key=label_key(draft.task_id))
    context_col.multiselect("Context", ed.CONTEXT_FLAGS, key=context_key(draft.task_id))
    st.button(
        "Add span",
        key=f"annent-{draft.task_id}-add",
        icon=":material/add:",
        on_click=_add_span,
        args=(draft, idx),
    )


# -- callbacks -----------------------------------------------------------------------------


def _add_span(draft: Draft, idx: int) -> None:
    seg = draft.transcript.segments[idx]
    tokens = ed.word_tokens(seg.text)
    first, last = st.session_state.get(words_key(draft.task_id, idx), (0, 0))
    label = st.session_state.get(label_key(draft.task_id))
    context = st.session_state.get(context_key(draft.task_id)) or ()
    try:
        span = ed.span_from_words(idx, seg.text, tokens, first, last, label, context)
        changed = ed.add(draft.annotations, span)
    except ValueError as exc:
        say("error", str(exc))
        return
    if take(draft, changed, [span]):
        st.session_state[context_key(draft.task_id)] = []
        say("success", f"Added {label} “{span.text}”.")


def _remove_span(draft: Draft, aid: str) -> None:
    draft.annotations = ed.remove_span(draft.annotations, aid, draft.suggestions)


def _relabel(draft: Draft, aid: str) -> None:
    key = draft.key(f"relabel-{aid}")
    changed = ed.relabel(draft.annotations, aid, st.session_state[key])
    if not take(draft, changed, _with_relations(changed, aid)):
        del st.session_state[key]  # the select shows the kept label again


def _set_context(draft: Draft, aid: str) -> None:
    flags = st.session_state[draft.key(f"context-{aid}")]
    draft.annotations = ed.set_context(draft.annotations, aid, flags)


def _accept(draft: Draft, aid: str) -> None:
    chosen = [s for s in draft.pending() if s.annotation_id == aid]
    draft.annotations = ed.accept(draft.annotations, chosen)


def _accept_all(draft: Draft) -> None:
    pending = draft.pending()
    draft.annotations = ed.accept(draft.annotations, pending)
    say("success", f"Accepted {len(pending)} suggestions.")


def _reject(draft: Draft, aid: str) -> None:
    for s in draft.pending():
        if s.annotation_id == aid:
            draft.annotations = ed.reject(draft.annotations, s)


def _restore(draft: Draft, aid: str) -> None:
    draft.annotations = ed.restore(draft.annotations, aid)


def _step(task_id: str, step: int, count: int) -> None:
    key = seg_key(task_id)
    st.session_state[key] = min(max(st.session_state.get(key, 0) + step, 0), count - 1)


def _next_suggestion(draft: Draft) -> None:
    """Select the next segment (after the selected one, wrapping) with a suggestion."""
    key = seg_key(draft.task_id)
    here = st.session_state.get(key, 0)
    segs = sorted({s.segment_idx for s in draft.pending()})
    if segs:
        st.session_state[key] = next((i for i in segs if i > here), segs[0])


def _load_saved(store: db.Store, draft: Draft, revision: int) -> None:
    reload(draft, stored_set(store, draft.task_id), revision)


def _keep_mine(store: db.Store, draft: Draft, revision: int) -> None:
    draft.revision, draft.saved = revision, stored_set(store, draft.task_id)
    draft.conflict_revision = None


# -- helpers -------------------------------------------------------------------------------


def _with_relations(annotations: Sequence[Annotation], aid: str) -> list[Annotation]:
    """The span and its relations with their other ends: what a relabel must keep valid."""
    by_id = {a.annotation_id: a for a in annotations}
    rels = ed.relations_of(annotations, aid)
    ends = {e for r in rels for e in (r.value.get("from"), r.value.get("to"))} | {aid}
    return [by_id[e] for e in ends if e in by_id] + list(rels)


def _by_segment(draft: Draft) -> dict[int, list[Annotation]]:
    """Each segment's labels and undecided suggestions (what the transcript marks)."""
    out: dict[int, list[Annotation]] = {}
    for a in (*labels(draft.annotations), *draft.pending()):
        if a.kind == "span" and a.segment_idx is not None and a.start_char is not None:
            out.setdefault(a.segment_idx, []).append(a)
    return out


def _counts(draft: Draft) -> dict[int, tuple[int, int]]:
    out: dict[int, tuple[int, int]] = {}
    for idx, spans in _by_segment(draft).items():
        suggested = sum(1 for a in spans if not ed.is_label(a))
        out[idx] = (len(spans) - suggested, suggested)
    return out


def _segment_option(draft: Draft, i: int) -> str:
    """A segment as the picker lists it; it never changes while the task is open."""
    seg = draft.transcript.segments[i]
    speaker = ui.SPEAKER_STYLE.get(seg.speaker, ui.SPEAKER_STYLE["unknown"])[0]
    text = seg.text if len(seg.text) <= 60 else seg.text[:59] + "…"
    return f"#{i + 1} {ui.fmt_time(seg.start)} {speaker}: {text}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")
