"""The Review page's note panel: the draft with its origin and support badges, what needs
attention, possible omissions, dictation, section order, Save and sign-off; or the signed
note, read-only, with its exports."""

from __future__ import annotations

import streamlit as st

from pipelines.editing import new_sentence
from workbench import store as db
from workbench.ui import note_editor as ed
from workbench.ui import resources
from workbench.ui import sentence_actions as actions
from workbench.ui import support_panel as sp
from workbench.ui.conflict_panel import conflict_panel
from workbench.ui.dictation_panel import dictation_panel
from workbench.ui.export_panel import export_buttons
from workbench.ui.review_context import ReviewContext
from workbench.ui.sentence_list import sentence_list
from workbench.ui.shortcuts import review_shortcuts
from workbench.ui.signoff_panel import amend_panel, signoff_panel


def draft_panel(ctx: ReviewContext) -> None:
    """The note: read-only once signed, else the editable draft with Save and Sign."""
    if ctx.note.signed:
        signed_note(ctx)
        return
    note = ctx.note
    st.subheader("Draft note")
    st.caption(
        ":material/smart_toy: machine suggestion until you edit or sign it · "
        "▶ plays the source audio and marks it in the transcript"
    )
    review_shortcuts(ctx)
    style_line = resources.style_summary(ctx.store, ctx.encounter.clinician or ctx.user)
    if style_line:
        st.caption(f":material/tune: {style_line}", help="SCRIBE_PERSONALISE=off turns it off")
    if fallback := note.draft.options.get("llm_fallback"):
        # The LLM's answer failed or was refused (e.g. a transcript hijacked it): say so.
        st.warning(
            f"Drafted by the rules drafter: the language model's draft was not used "
            f"({fallback.get('reason', fallback.get('kind', 'unknown'))}).",
            icon=":material/warning:",
        )
    headings = resources.section_headings(note.draft.template)
    sp.needs_attention(ctx.support, headings, ctx.play)
    _flash()
    conflict_panel(ctx)
    _autosave_notice(ctx, ed.start(ctx))
    sentence_list(ctx, headings)

    sp.omissions_panel(
        ctx.store, ctx.encounter_id, note, ctx.support, ctx.transcript, headings, ctx.user
    )
    _dictation(ctx, headings)
    with st.expander("Section order"):
        st.multiselect(
            "Sections, in the order the note shows them",
            note.draft.sections,
            default=list(note.draft.sections),
            key=ed.order_key(note),
            format_func=lambda k: headings.get(k, k),
        )
    pending = ed.pending_sentences(note)
    order = ed.pending_sections(note)
    changes = len(db.diff_sentences(note.draft.sentences, pending)) + (order != note.draft.sections)
    _save_row(ctx, changes)
    signoff_panel(ctx, changes)


def _save_row(ctx: ReviewContext, changes: int) -> None:
    """Save, and the two undos: of the last unsaved edit, and of the last saved change."""
    note = ctx.note
    with st.container(horizontal=True, vertical_alignment="center"):
        st.button(
            f"Save ({changes} changes)",
            key="save",
            type="primary",
            disabled=not changes,
            on_click=actions.save,
            args=(ctx,),
            help="Saves your text edits as a new version",
        )
        st.button(
            "Undo edit",
            key="undo-edit",
            icon=":material/undo:",
            disabled=not ed.can_undo_edit(note),
            on_click=ed.undo_edit,
            args=(ctx,),
            help="Undo your last unsaved change",
        )
        st.button(
            "Undo last save",
            key="undo-save",
            icon=":material/history:",
            disabled=note.parent_version is None,
            on_click=actions.undo_save,
            args=(ctx,),
            help=f"Save a new version with the sentences of version "
            f"{note.parent_version}; no version is deleted",
        )


def _flash() -> None:
    """Messages the sentence actions left for this rerun."""
    for kind, message in st.session_state.pop(ed.FLASH_KEY, []):
        if kind == "error":
            st.error(message)
        else:
            st.toast(message)


def _autosave_notice(ctx: ReviewContext, stale) -> None:
    """Say when unsaved changes were restored; offer (never apply) ones made on an older
    version."""
    restored = st.session_state.get(ed.RESTORED_KEY)
    if restored and restored[:2] == (ctx.encounter_id, ctx.note.version):
        st.info(f"Restored unsaved changes from {restored[2]} UTC.", icon=":material/restore:")
    if stale is None:
        return
    with st.container(border=True, key="stale-autosave"):
        st.warning(
            f"You have unsaved changes from {stale.updated_at:%H:%M} UTC made on version "
            f"{stale.note_version}, but version {ctx.note.version} was saved since by "
            f"{ctx.note.created_by}. They are not applied.",
            icon=":material/warning:",
        )
        with st.container(horizontal=True):
            st.button(
                "Apply them to this version",
                key="autosave-apply",
                on_click=ed.apply_stale,
                args=(ctx,),
            )
            st.button(
                "Discard them", key="autosave-discard", on_click=ed.discard_stale, args=(ctx,)
            )


def signed_note(ctx: ReviewContext) -> None:
    """The signed note as text, who signed it and when, and its exports."""
    note = ctx.note
    st.subheader("Signed note")
    st.success(f"Signed by {note.signed_by} at {note.signed_at:%Y-%m-%d %H:%M} UTC (read-only)")
    st.text(note.draft.render_text())
    export_buttons(ctx.store, ctx.encounter_id, ctx.user)
    amend_panel(ctx)


def _dictation(ctx: ReviewContext, headings: dict[str, str]) -> None:
    """Dictated sentences go into their sections at once, with a ``note.dictated`` event."""
    note = ctx.note
    with st.expander("Dictate into the note", icon=":material/mic:"):
        dictated = dictation_panel(
            f"dict-{note.version}",
            note.draft.sections,
            headings,
            note.draft.sections[0],
            terms=list(resources.vocabulary(ctx.store, ctx.user)),
        )
    if dictated is None:
        return
    pending = ed.pending_sentences(note)
    for section in dictated.dictated_sections:
        for text in dictated.sentences(section):
            pending = ed.insert_in_section(pending, new_sentence(section, text))
    dictation_event = db.new_event(
        ctx.user,
        ctx.encounter_id,
        "note.dictated",
        object_type="note",
        after={
            "commands": [c.command for c in dictated.commands],
            "sections": list(dictated.dictated_sections),
        },
        model_version=dictated.model,
    )
    try:
        # One transaction: the sentences and the note.dictated event land together.
        db.save_note(
            ctx.store,
            ctx.encounter_id,
            note.version,
            pending,
            ctx.user,
            extra_events=(dictation_event,),
        )
    except (db.ConcurrentEdit, db.NoteLocked) as exc:
        st.error(str(exc))
    else:
        st.rerun()
