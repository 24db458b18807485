"""The Review page's note panel: the draft with its origin and support badges, what needs
attention, possible omissions, dictation, section order, Save and sign-off; or the signed
note, read-only, with its exports."""

from __future__ import annotations

import streamlit as st

from pipelines.editing import new_sentence
from workbench import personalisation as ps
from workbench import store as db
from workbench.ui import note_editor as ed
from workbench.ui import resources
from workbench.ui import support_panel as sp
from workbench.ui.dictation_panel import dictation_panel
from workbench.ui.export_panel import export_buttons
from workbench.ui.review_context import ReviewContext
from workbench.ui.shortcuts import review_shortcuts
from workbench.ui.signoff_panel import amend_panel, signoff_panel


def draft_panel(ctx: ReviewContext) -> None:
    """The note: read-only once signed, else the editable draft with Save and Sign."""
    if ctx.note.signed:
        signed_note(ctx)
        return
    note, results = ctx.note, ctx.results
    st.subheader("Draft note")
    st.caption(":material/smart_toy: machine suggestion until you edit or sign it · "
               "▶ plays the source audio and marks it in the transcript")
    review_shortcuts(ctx)
    style_line = ps.style_summary(ctx.store, ps.style_owner(ctx.store, ctx.encounter_id,
                                                            ctx.user))
    if style_line:
        st.caption(f":material/tune: {style_line}", help="SCRIBE_PERSONALISE=off turns it off")
    headings = resources.section_headings(note.draft.template)
    sp.needs_attention(ctx.support, headings, ctx.play)
    for section in note.draft.sections:
        st.markdown(f"#### {headings.get(section, section.title())}")
        for sentence in note.draft.section_sentences(section):
            key = ed.sentence_key(note, sentence)
            text_col, btn_col = st.columns([0.86, 0.14], vertical_alignment="center")
            text_col.text_area(sentence.section, value=sentence.text, key=key, height=68,
                               label_visibility="collapsed")
            edited = st.session_state.get(key, sentence.text) != sentence.text
            btn_col.markdown(ed.origin_badge(sentence, edited,
                                             sentence.sentence_id in ctx.evidence_changed)
                             + "  \n" + sp.support_badge(results.get(sentence.sentence_id)))
            btn_col.button("▶", key=f"play-{sentence.sentence_id}", help="Play the evidence",
                           on_click=ctx.play, args=(sentence.sentence_id,),
                           disabled=not sp.evidence_for(sentence, results))
        with st.expander(f"Edit all of {headings.get(section, section)} / add a sentence"):
            st.text_area("Whole section", value=ed.section_text(note.draft.sentences, section),
                         key=ed.section_key(note, section))
            st.text_input("Add a sentence", key=ed.add_key(note, section))

    sp.omissions_panel(ctx.store, ctx.encounter_id, note, ctx.support, ctx.transcript,
                       headings, ctx.user)
    _dictation(ctx, headings)
    with st.expander("Section order"):
        st.multiselect("Sections, in the order the note shows them", note.draft.sections,
                       default=list(note.draft.sections), key=ed.order_key(note),
                       format_func=lambda k: headings.get(k, k))
    pending = ed.pending_sentences(note)
    order = ed.pending_sections(note)
    changes = len(db.diff_sentences(note.draft.sentences, pending)) + (
        order != note.draft.sections
    )
    if st.button(f"Save ({changes} changes)", key="save", type="primary",
                 disabled=not changes):
        try:
            db.save_note(ctx.store, ctx.encounter_id, note.version, pending, ctx.user,
                         sections=order)
        except (db.ConcurrentEdit, db.NoteLocked) as exc:
            st.error(str(exc))
        else:
            st.toast(f"Saved version {note.version + 1}")
            st.rerun()
    signoff_panel(ctx, changes)  # full width: blockers, attestation, diff, history


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
        dictated = dictation_panel(f"dict-{note.version}", note.draft.sections, headings,
                                   note.draft.sections[0],
                                   terms=db.list_terms(ctx.store, ctx.user))
    if dictated is None:
        return
    pending = ed.pending_sentences(note)
    for section in dictated.dictated_sections:
        for text in dictated.sentences(section):
            pending = ed.insert_in_section(pending, new_sentence(section, text))
    dictation_event = db.new_event(
        ctx.user, ctx.encounter_id, "note.dictated", object_type="note",
        after={"commands": [c.command for c in dictated.commands],
               "sections": list(dictated.dictated_sections)},
        model_version=dictated.model,
    )
    try:
        # One transaction: the sentences and the note.dictated event land together.
        db.save_note(ctx.store, ctx.encounter_id, note.version, pending, ctx.user,
                     extra_events=(dictation_event,))
    except (db.ConcurrentEdit, db.NoteLocked) as exc:
        st.error(str(exc))
    else:
        st.rerun()
