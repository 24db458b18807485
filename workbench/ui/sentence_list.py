"""The draft's sentences, section by section: a text box per sentence with, under it, one
wrapping row of its state, its support badge and its actions (play, accept, reject, move).

The row wraps instead of squeezing badges into a narrow column, so it reads in the middle
column of the three-column Review page. The selected sentence (the keyboard's and the
transcript's current one) is marked with a badge and a bar on its left.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import streamlit as st

from pipelines.editing import section_text
from pipelines.types import NoteSentence
from workbench import store as db
from workbench.ui import note_editor as ed
from workbench.ui import sentence_actions as actions
from workbench.ui import support_panel as sp
from workbench.ui.review_context import SELECTED_KEY, ReviewContext
from workbench.ui.unsent_guard import unsent_guard

GUARD_SEEN_KEY = "unsent-guard-seen"  # set after the first draw of a session

# What a sentence is now, with its badge colour and icon (words always; colour never alone).
STATES = {
    "machine": ("machine suggestion", "blue", "smart_toy"),
    "accepted": ("accepted by {who}", "green", "verified"),
    "edited": ("edited by {who}", "violet", "edit"),
    "added": ("added by {who}", "violet", "person_add"),
    "moved": ("moved by {who}", "violet", "swap_vert"),
    "human": ("written by a person", "violet", "person"),
    "unsaved-edit": ("edited by you · unsaved", "orange", "edit_note"),
    "unsaved-add": ("added by you · unsaved", "orange", "person_add"),
    "removing": ("removed on Save", "gray", "delete"),
}
_KINDS = {
    "sentence.accepted": "accepted",
    "sentence.edited": "edited",
    "sentence.added": "added",
    "omission.added": "added",
    "sentence.moved": "moved",
}


def sentence_state(
    sentence: NoteSentence, saved: NoteSentence | None, decision: db.SentenceDecision | None
) -> str:
    """A key of STATES: unsaved changes first, then the newest person's decision, then the
    sentence's origin."""
    if saved is None:
        return "unsaved-add"
    if not sentence.text.strip():
        return "removing"
    if sentence.text != saved.text:
        return "unsaved-edit"
    if decision is not None and decision.kind in _KINDS:
        return _KINDS[decision.kind]
    return "human" if sentence.origin == "human" else "machine"


def state_badge(state: str, decision: db.SentenceDecision | None, user: str) -> str:
    text, colour, icon = STATES[state]
    who = "you" if decision is None or decision.user_id == user else decision.user_id
    return f":{colour}-badge[:material/{icon}: {text.format(who=who)}]"


def sentence_list(ctx: ReviewContext, headings: Mapping[str, str]) -> None:
    """Every section's sentences with their actions, a whole-section box and an add box."""
    note = ctx.note
    pending = ed.pending(note)
    decisions = db.sentence_decisions(ctx.store, ctx.encounter_id)
    selected = st.session_state.get(SELECTED_KEY)
    if selected:
        # A bar beside the current sentence (its badge says the same in words).
        css_class = re.sub(r"[^a-zA-Z0-9_-]", "-", f"st-key-row-{selected}".strip())
        st.html(
            f"<style>.{css_class}{{border-left:4px solid "
            "var(--primary-color, #ff4b4b) !important}</style>"
        )
    for section in note.draft.sections:
        st.markdown(f"#### {headings.get(section, section.title())}")
        for sentence in (s for s in pending if s.section == section):
            _row(ctx, sentence, decisions.get(sentence.sentence_id), headings, selected)
        _section_tools(ctx, section, headings, pending)
    _guard_unsent(ctx, pending)


def _guard_unsent(ctx: ReviewContext, pending: tuple[NoteSentence, ...]) -> None:
    """Keep typed text the server has not got yet in the browser, and put it back after a
    reload (see ``unsent_guard``)."""
    note = ctx.note
    values = {ed.sentence_key(note, s): s.text for s in pending}
    kept = tuple(s for s in pending if s.text.strip())
    values.update({ed.section_key(note, k): section_text(kept, k) for k in note.draft.sections})
    fresh = GUARD_SEEN_KEY not in st.session_state
    st.session_state[GUARD_SEEN_KEY] = True
    unsent_guard(f"{ctx.encounter_id}:{ctx.user}", values, fresh)


def _row(
    ctx: ReviewContext,
    sentence: NoteSentence,
    decision: db.SentenceDecision | None,
    headings: Mapping[str, str],
    selected: str | None,
) -> None:
    note, sid = ctx.note, sentence.sentence_id
    saved = ctx.sentence(sid)
    state = sentence_state(sentence, saved, decision)
    key = ed.sentence_key(note, sentence)
    if key not in st.session_state:  # first draw, or back from another page
        st.session_state[key] = sentence.text
    with st.container(border=True, key=f"row-{sid}", gap="small"):
        st.text_area(
            headings.get(sentence.section, sentence.section),
            key=key,
            height=68,
            label_visibility="collapsed",
            on_change=ed.edit_text,
            args=(ctx, sid),
            placeholder="Empty: removed on Save",
        )
        badges = [state_badge(state, decision, ctx.user), sp.support_badge(ctx.results.get(sid))]
        if sid in ctx.evidence_changed and state not in ("unsaved-edit", "edited"):
            badges.append(
                ":orange-badge[:material/sync_problem: evidence changed since you edited this]"
            )
        if sid == selected:
            badges.insert(0, ":primary-badge[:material/arrow_right: current]")
        st.markdown(" ".join(badges))
        with st.container(horizontal=True, vertical_alignment="center", gap="small"):
            _actions(ctx, sentence, saved, state, headings)


def _actions(
    ctx: ReviewContext,
    sentence: NoteSentence,
    saved: NoteSentence | None,
    state: str,
    headings: Mapping[str, str],
) -> None:
    sid = sentence.sentence_id
    st.button(
        "",
        key=f"play-{sid}",
        icon=":material/play_arrow:",
        type="tertiary",
        help="Play the evidence and show it in the transcript",
        on_click=ctx.play,
        args=(sid,),
        disabled=saved is None or not sp.evidence_for(saved, ctx.results),
    )
    st.button(
        "Accept",
        key=f"accept-{sid}",
        icon=":material/check:",
        help="Accept as drafted (recorded at once)",
        on_click=actions.accept,
        args=(ctx, sid),
        disabled=state in ("accepted", "unsaved-add", "unsaved-edit", "removing"),
    )
    st.button(
        "Reject",
        key=f"reject-{sid}",
        icon=":material/close:",
        help="Remove it from the note (saved at once; Undo last save brings it back)",
        on_click=actions.reject,
        args=(ctx, sid),
    )
    others = [s for s in ctx.note.draft.sections if s != sentence.section]
    st.selectbox(
        "Move to section",
        others,
        index=None,
        key=actions.move_key(ctx, sid),
        format_func=lambda k: headings.get(k, k),
        placeholder="Move to…",
        label_visibility="collapsed",
        on_change=actions.move,
        args=(ctx, sid),
        width=150,
        help="Move it to another section (saved at once)",
    )


def _section_tools(
    ctx: ReviewContext, section: str, headings: Mapping[str, str], pending: tuple
) -> None:
    """Edit the whole section as one paragraph, or add a sentence to it."""
    note = ctx.note
    key = ed.section_key(note, section)
    if key not in st.session_state:
        st.session_state[key] = section_text(tuple(s for s in pending if s.text.strip()), section)
    with st.expander(f"Edit all of {headings.get(section, section)} / add a sentence"):
        st.text_area("Whole section", key=key, on_change=ed.edit_section, args=(ctx, section))
        st.text_input(
            "Add a sentence",
            key=ed.add_key(note, section),
            on_change=ed.add_text,
            args=(ctx, section),
            placeholder="Type a sentence and press Enter",
        )
