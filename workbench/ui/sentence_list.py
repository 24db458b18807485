"""The draft's sentences, section by section: each as text with, under it, one wrapping row
of its state, its support badge and its actions (play, accept, edit, reject).

Only the selected sentence (the keyboard's and the transcript's current one, chosen by Edit,
▶, j/k or e) is in a text box, with a "Move to…" select; it is marked with a badge and a bar
on its left. Streamlit copies the whole session state for every widget that carries a value
on every rerun, so a box per sentence made a long note's reruns slow. What is typed is
committed to the pending note when the box loses focus (``note_editor``), so it survives
selecting another sentence and shows there as "edited by you · unsaved". A section's
whole-text box and its add box are drawn only after their buttons are pressed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import streamlit as st

from pipelines.editing import section_text
from pipelines.types import NoteSentence
from workbench import store as db
from workbench.ui import note_editor as ed
from workbench.ui import resources
from workbench.ui import sentence_actions as actions
from workbench.ui import support_panel as sp
from workbench.ui.code_suggestions import CODE_EVIDENCE_KEY
from workbench.ui.review_context import SELECTED_KEY, ReviewContext
from workbench.ui.unsent_guard import unsent_guard

GUARD_SEEN_KEY = "unsent-guard-seen"  # set after the first draw of a session
TOOL_KEY = "section-tool"  # the widget key of the section box opened by its button
# Markdown that would change how a sentence shows (emphasis, links, maths, colours, html).
_MD_SPECIAL = re.compile(r"[\\`*_\[\]<>|$~]")
_MD_LINE_START = re.compile(r"^(\s*(?:\d+)?)([#+.)-])")

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


def _guard_unsent(ctx: ReviewContext, pending: tuple[NoteSentence, ...]) -> None:
    """Keep typed text the server has not got yet in the browser, and put it back after a
    reload (see ``unsent_guard``)."""
    note = ctx.note
    values = {ed.sentence_key(note, s): s.text for s in pending}
    kept = tuple(s for s in pending if s.text.strip())
    values.update({ed.section_key(note, k): section_text(kept, k) for k in note.draft.sections})
    fresh = GUARD_SEEN_KEY not in st.session_state
    st.session_state[GUARD_SEEN_KEY] = True
    boxes = {ed.sentence_key(note, s): s.sentence_id for s in pending}

    def _open(key: str) -> None:
        if key in boxes:
            edit(ctx, boxes[key])
        else:  # a whole-section box
            st.session_state[TOOL_KEY] = key

    unsent_guard(f"{ctx.encounter_id}:{ctx.user}", values, fresh, _open)


def sentence_list(ctx: ReviewContext, headings: Mapping[str, str]) -> None:
    """Every section's sentences as text with their badges and actions; the selected one in
    an editor; a section's whole-text box and its add box only when asked for."""
    note = ctx.note
    pending = ed.pending(note)
    decisions = resources.sentence_decisions(ctx.store, ctx.encounter_id)
    selected = st.session_state.get(SELECTED_KEY)
    if selected:
        # A bar beside the current sentence (its badge says the same in words).
        css_class = re.sub(r"[^a-zA-Z0-9_-]", "-", f"st-key-row-{selected}".strip())
        st.html(
            f"<style>.{css_class}{{border-left:4px solid "
            "var(--primary-color, #ff4b4b) !important;padding-left:8px}</style>"
        )
    for section in note.draft.sections:
        st.markdown(f"#### {headings.get(section, section.title())}")
        for sentence in (s for s in pending if s.section == section):
            _row(ctx, sentence, decisions.get(sentence.sentence_id), headings, selected)
        _section_tools(ctx, section, headings, pending)
    _guard_unsent(ctx, pending)


def edit(ctx: ReviewContext, sentence_id: str) -> None:
    """Widget callback of a sentence's Edit button (and the ``e`` key): select it, which
    opens its editor. An edit typed in the previous editor was committed by its own
    callback first."""
    st.session_state[SELECTED_KEY] = sentence_id
    st.session_state.pop(CODE_EVIDENCE_KEY, None)


def open_tool(key: str) -> None:
    """Widget callback: show (or hide again) a section's whole-text or add box."""
    st.session_state[TOOL_KEY] = None if st.session_state.get(TOOL_KEY) == key else key


def _row(
    ctx: ReviewContext,
    sentence: NoteSentence,
    decision: db.SentenceDecision | None,
    headings: Mapping[str, str],
    selected: str | None,
) -> None:
    sid = sentence.sentence_id
    saved = ctx.sentence(sid)
    state = sentence_state(sentence, saved, decision)
    badges = [state_badge(state, decision, ctx.user), sp.support_badge(ctx.results.get(sid))]
    if sid in ctx.evidence_changed and state not in ("unsaved-edit", "edited"):
        badges.append(
            ":orange-badge[:material/sync_problem: evidence changed since you edited this]"
        )
    # Only the selected sentence gets widgets that carry a value (a text box and a select):
    # Streamlit copies the whole session state for each such widget on every rerun, so a box
    # per sentence made the page quadratic in the note's length.
    with st.container(key=f"row-{sid}", gap="small"):
        if sid == selected:
            badges.insert(0, ":primary-badge[:material/arrow_right: current]")
            _editor(ctx, sentence, headings)
            st.markdown(" ".join(badges))
        else:
            shown = markdown_text(sentence.text) if sentence.text.strip() else "*(empty)*"
            st.markdown(f"{shown}  \n{' '.join(badges)}")
        with st.container(horizontal=True, vertical_alignment="center", gap="small"):
            _actions(ctx, sentence, saved, state, sid == selected)


def _editor(ctx: ReviewContext, sentence: NoteSentence, headings: Mapping[str, str]) -> None:
    """The one text box (committed on change: it survives selecting another sentence)."""
    note, sid = ctx.note, sentence.sentence_id
    key = ed.sentence_key(note, sentence)
    if st.session_state.get(key) != sentence.text:  # the pending note is the truth
        st.session_state[key] = sentence.text
    st.text_area(
        headings.get(sentence.section, sentence.section),
        key=key,
        height=68,
        label_visibility="collapsed",
        on_change=ed.edit_text,
        args=(ctx, sid),
        placeholder="Empty: removed on Save",
    )


def markdown_text(text: str) -> str:
    """Clinical text shown as markdown, literally (no emphasis, links, maths or colours)."""
    escaped = _MD_SPECIAL.sub(r"\\\g<0>", text)
    return _MD_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped)


def _actions(
    ctx: ReviewContext,
    sentence: NoteSentence,
    saved: NoteSentence | None,
    state: str,
    editing: bool,
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
        "Edit",
        key=f"edit-{sid}",
        icon=":material/edit:",
        help="Edit this sentence (key e edits the selected one)",
        on_click=edit,
        args=(ctx, sid),
        disabled=editing,
    )
    st.button(
        "Reject",
        key=f"reject-{sid}",
        icon=":material/close:",
        help="Remove it from the note (saved at once; Undo last save brings it back)",
        on_click=actions.reject,
        args=(ctx, sid),
    )
    if editing:
        _move_select(ctx, sentence)


def _move_select(ctx: ReviewContext, sentence: NoteSentence) -> None:
    headings = resources.section_headings(ctx.note.draft.template)
    others = [s for s in ctx.note.draft.sections if s != sentence.section]
    st.selectbox(
        "Move to section",
        others,
        index=None,
        key=actions.move_key(ctx, sentence.sentence_id),
        format_func=lambda k: headings.get(k, k),
        placeholder="Move to…",
        label_visibility="collapsed",
        on_change=actions.move,
        args=(ctx, sentence.sentence_id),
        width=150,
        help="Move it to another section (saved at once)",
    )


def _section_tools(
    ctx: ReviewContext, section: str, headings: Mapping[str, str], pending: tuple
) -> None:
    """Edit the whole section as one paragraph, or add a sentence to it: each box is drawn
    only after its button was pressed (boxes cost every rerun, see ``_row``)."""
    note = ctx.note
    heading = headings.get(section, section)
    whole, add = ed.section_key(note, section), ed.add_key(note, section)
    tool = st.session_state.get(TOOL_KEY)
    with st.container(horizontal=True, gap="small"):
        st.button(
            "Add a sentence",
            key=f"open-{add}",
            icon=":material/add:",
            type="tertiary",
            on_click=open_tool,
            args=(add,),
            help=f"Add a sentence to {heading}",
        )
        st.button(
            "Edit the whole section",
            key=f"open-{whole}",
            icon=":material/edit_note:",
            type="tertiary",
            on_click=open_tool,
            args=(whole,),
            help=f"Edit all of {heading} as one paragraph",
        )
    if tool == whole:
        text = section_text(tuple(s for s in pending if s.text.strip()), section)
        if st.session_state.get(whole) != text:  # the pending note is the truth
            st.session_state[whole] = text
        st.text_area(f"All of {heading}", key=whole, on_change=ed.edit_section, args=(ctx, section))
    elif tool == add:
        st.text_input(
            f"Add a sentence to {heading}",
            key=add,
            on_change=ed.add_text,
            args=(ctx, section),
            placeholder="Type a sentence and press Enter",
        )
