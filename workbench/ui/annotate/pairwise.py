"""The blind pairwise task panel: two drafts of one encounter side by side, section by
section, labelled only "Draft 1" (left) and "Draft 2" (right); the reviewer picks the
better one (or a tie) and says why. Nothing on the panel names a version, a drafter or a
template, and the order is the task's (random, drawn when the task was made).

Text is shown as the reviewer may read it (de-identified without ``text.phi``). The
judgement is one "preference" annotation, ``value`` {"choice", "reason", "comment"}, saved
and submitted through ``annotation_tasks`` (``workbench.pairwise.save_preference``).
"""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from pipelines.annotation_schema import load_task_schema
from pipelines.types import Draft
from workbench.pairwise import current_preference, save_preference
from workbench.store import annotation_tasks as tasks
from workbench.store.db import Store, StoreError
from workbench.store.draft_variants import blind_drafts
from workbench.store.records import AnnotationTask
from workbench.ui import resources
from workbench.ui.sentence_list import markdown_text

CHOICE_LABELS: Mapping[str, str] = {
    "left": "Draft 1 (left) is better",
    "right": "Draft 2 (right) is better",
    "tie": "Tie: neither is better",
}
_FLASH = "pairwise_flash"


def render(store: Store, task: AnnotationTask) -> None:
    """The two drafts, the transcript to check them against, and the judgement form (Save,
    Submit) while the task is a draft; the judgement read-only once submitted."""
    try:
        left, right = blind_drafts(store, task.task_id)
    except StoreError as exc:
        st.error(f"This comparison cannot be shown: {exc}", icon=":material/error:")
        return
    st.caption(
        "Two drafts of the same visit, in random order and unlabelled. Read both against "
        "the transcript, then choose the better draft (or a tie) and say why."
    )
    _transcript(store, task)
    side_by_side(left, right)
    if flash := st.session_state.pop(_FLASH, None):
        st.success(flash, icon=":material/check_circle:")
    current = current_preference(store, task)
    # Only the task's annotator (or an admin) judges; a lead reading it sees the judgement.
    if tasks.edit_refusal(store, task) is not None:
        _read_only(task, current)
        return
    _form(store, task, current)


def side_by_side(left: Draft, right: Draft) -> None:
    """Both drafts in two columns, one row per section so that like sits beside like."""
    head = st.columns(2)
    head[0].subheader("Draft 1")
    head[1].subheader("Draft 2")
    for heading, left_texts, right_texts in aligned_sections(left, right):
        cells = st.columns(2, border=True)
        for cell, texts in zip(cells, (left_texts, right_texts), strict=True):
            cell.markdown(f"**{heading}**")
            if texts:
                cell.markdown("  \n".join(markdown_text(t) for t in texts))
            else:
                cell.caption("(nothing in this section)")


def aligned_sections(left: Draft, right: Draft) -> list[tuple[str, list[str], list[str]]]:
    """(heading, left sentences, right sentences) per section, matched by heading: the left
    draft's sections in order, then those only the right has. Sections empty on both sides
    are left out. Headings are shown in one neutral style (templates write them
    differently, which would tell the drafts apart before anyone reads them)."""
    rows: dict[str, tuple[str, list[str], list[str]]] = {}
    for side, draft in enumerate((left, right)):
        headings = resources.section_headings(draft.template)
        for section in draft.sections:
            heading = " ".join(headings.get(section, section).replace("_", " ").split())
            key = heading.lower()
            row = rows.setdefault(key, (heading.capitalize(), [], []))
            row[1 + side].extend(s.text for s in draft.sentences if s.section == section)
    return [row for row in rows.values() if row[1] or row[2]]


def _form(store: Store, task: AnnotationTask, current: dict | None) -> None:
    schema = load_task_schema()
    choices = list(schema.pairwise_choices)
    reasons = list(schema.pairwise_reasons)
    current = current or {}
    key = task.task_id
    with st.form(key=f"pw-form-{key}", enter_to_submit=False):
        choice = st.radio(
            "Which draft is better?",
            choices,
            index=choices.index(current["choice"]) if current.get("choice") in choices else None,
            format_func=lambda c: CHOICE_LABELS.get(c, c),
            key=f"pw-choice-{key}",
            horizontal=True,
        )
        reason = st.selectbox(
            "Main reason",
            reasons,
            index=reasons.index(current["reason"]) if current.get("reason") in reasons else None,
            placeholder="Choose a reason",
            key=f"pw-reason-{key}",
        )
        comment = st.text_area(
            "Comment (optional; required for 'other')",
            value=current.get("comment") or "",
            key=f"pw-comment-{key}",
            max_chars=2000,
        )
        buttons = st.columns(2)
        save = buttons[0].form_submit_button("Save", icon=":material/save:", key=f"pw-save-{key}")
        submit = buttons[1].form_submit_button(
            "Submit", type="primary", icon=":material/send:", key=f"pw-submit-{key}"
        )
    if not (save or submit):
        return
    try:
        save_preference(store, task, choice, reason, comment, submit=submit)
    except StoreError as exc:  # invalid, stale (saved elsewhere), not yours: nothing written
        st.error(str(exc), icon=":material/error:")
        return
    st.session_state[_FLASH] = "Submitted for review." if submit else "Saved."
    st.rerun()


def _read_only(task: AnnotationTask, current: dict | None) -> None:
    if not current:
        st.info(f"This task is {task.status} ({task.assignee}'s); it holds no judgement yet.")
        return
    line = f"**{CHOICE_LABELS.get(current.get('choice'), current.get('choice'))}**"
    if current.get("reason"):
        line += f" · {markdown_text(current['reason'])}"
    st.info(f"{task.status.capitalize()}: {line}", icon=":material/how_to_reg:")
    if current.get("comment"):
        st.markdown(markdown_text(current["comment"]))


def _transcript(store: Store, task: AnnotationTask) -> None:
    from workbench.store.access import allowed
    from workbench.store.transcripts import get_transcript

    with st.expander("Transcript (to check the drafts against)", icon=":material/notes:"):
        # A lead looking at someone else's task may not open the encounter itself.
        if not allowed(store, "encounter.view", task.encounter_id):
            st.caption("The transcript is for the task's annotator.")
            return
        found = get_transcript(store, task.encounter_id, task.transcript_version)
        if found is None:
            st.caption("This visit has no transcript.")
            return
        for segment in found[1].segments:
            speaker = (segment.speaker or "speaker").capitalize()
            st.markdown(f"**{speaker}:** {markdown_text(segment.text)}")
