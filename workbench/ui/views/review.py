"""Review: the recording, its transcript and the draft note side by side; edit, save, sign."""

from __future__ import annotations

import streamlit as st

from pipelines.editing import new_sentence
from workbench import personalisation as ps
from workbench import store as db
from workbench.ui import components as ui
from workbench.ui import note_editor as ed
from workbench.ui import resources
from workbench.ui import support_panel as sp
from workbench.ui.code_suggestions import CODE_EVIDENCE_KEY, code_evidence, code_suggestions_panel
from workbench.ui.dictation_panel import dictation_panel
from workbench.ui.entity_panel import entity_panel
from workbench.ui.export_panel import export_buttons
from workbench.ui.transcript_editor import transcript_editor

store = resources.get_store()
encounter_id = st.session_state.get("encounter_id") or st.query_params.get("encounter")
choices = [r.encounter.encounter_id for r in db.list_encounters(store) if r.note_version]
if not choices:
    st.info("No drafted encounters yet. Run `scribe demo` first.")
    st.stop()
encounter_id = st.selectbox(
    "Encounter", choices, index=choices.index(encounter_id) if encounter_id in choices else 0,
    key="review_encounter",
)
st.session_state["encounter_id"] = encounter_id
st.query_params["encounter"] = encounter_id

encounter = db.get_encounter(store, encounter_id)
version, transcript = db.get_transcript(store, encounter_id)
entity_set = db.get_entity_set(store, encounter_id, transcript_version=version)
entities = entity_set.entities if entity_set else ()
note = db.get_note(store, encounter_id)
audio = db.get_audio(store, encounter.audio_sha256)
user = resources.current_user()

st.title(encounter.title)
st.caption(f"`{encounter_id}` · {encounter.specialty or '—'} · {encounter.clinician or '—'} · "
           f"note version {note.version} · transcript version {version}")

support = None if note.signed else sp.load_support(store, encounter_id, note, user)
results = support.by_sentence() if support else {}
sentences_by_id = {s.sentence_id: s for s in note.draft.sentences}
evidence_changed = set() if note.signed else db.evidence_changed_ids(store, encounter_id)
selected = sentences_by_id.get(st.session_state.get("selected_sentence", ""))
evidence = sp.evidence_for(selected, results) if selected else ()
evidence += code_evidence(transcript) if selected else ()  # a code's mention, when one was clicked


def _play(sentence_id: str) -> None:
    sentence = sentences_by_id[sentence_id]
    st.session_state["selected_sentence"] = sentence_id
    st.session_state.pop(CODE_EVIDENCE_KEY, None)
    found = sp.evidence_for(sentence, results)
    st.session_state["play_from"] = min((e.start_s for e in found), default=0.0)


left, right = st.columns(2, gap="large")
with left:
    st.subheader("Recording and transcript")
    st.audio(resources.audio_bytes(str(resources.data_dir() / audio.stored_path)),
             start_time=int(st.session_state.get("play_from", 0)),
             autoplay=selected is not None)
    if selected:
        quotes = " … ".join(
            f"“{transcript.segments[e.segment_idx].text[e.start_char:e.end_char]}” "
            f"({ui.fmt_time(e.start_s)})" for e in evidence
        )
        st.info(f"**Source of:** {selected.text}  \n{quotes}", icon=":material/volume_up:")
    colours = resources.label_colours()
    negated = resources.label_schema().negated.color
    st.markdown(ui.legend(colours, negated), unsafe_allow_html=True)
    cited = {e.segment_idx for e in evidence}
    with st.container(height=560):
        st.markdown("".join(
            ui.segment_row(seg, ui.highlight_segment(seg, entities, colours, evidence,
                                                     negated_colour=negated),
                           seg.idx in cited)
            for seg in transcript.segments
        ), unsafe_allow_html=True)
    transcript_editor(encounter_id, version, transcript, locked=note.signed)
    entity_panel(encounter_id, transcript, entity_set, locked=note.signed)
    code_suggestions_panel(store, encounter_id, version, transcript, entities, note.draft, user)

with right:
    if note.signed:
        st.subheader("Signed note")
        st.success(f"Signed by {note.signed_by} at {note.signed_at:%Y-%m-%d %H:%M} UTC "
                   "(read-only)")
        st.text(note.draft.render_text())
        export_buttons(store, encounter_id, user)
        st.stop()
    st.subheader("Draft note")
    st.caption(":material/smart_toy: machine suggestion until you edit or sign it · "
               "▶ plays the source audio and marks it in the transcript")
    style_line = ps.style_summary(store, ps.style_owner(store, encounter_id, user))
    if style_line:
        st.caption(f":material/tune: {style_line}", help="SCRIBE_PERSONALISE=off turns it off")
    headings = resources.section_headings(note.draft.template)
    sp.needs_attention(support, headings, _play)
    for section in note.draft.sections:
        st.markdown(f"#### {headings.get(section, section.title())}")
        for sentence in note.draft.section_sentences(section):
            key = ed.sentence_key(note, sentence)
            text_col, btn_col = st.columns([0.86, 0.14], vertical_alignment="center")
            text_col.text_area(sentence.section, value=sentence.text, key=key, height=68,
                               label_visibility="collapsed")
            edited = st.session_state.get(key, sentence.text) != sentence.text
            btn_col.markdown(ed.origin_badge(sentence, edited,
                                             sentence.sentence_id in evidence_changed) + "  \n"
                             + sp.support_badge(results.get(sentence.sentence_id)))
            btn_col.button("▶", key=f"play-{sentence.sentence_id}", help="Play the evidence",
                           on_click=_play, args=(sentence.sentence_id,),
                           disabled=not sp.evidence_for(sentence, results))
        with st.expander(f"Edit all of {headings.get(section, section)} / add a sentence"):
            st.text_area("Whole section", value=ed.section_text(note.draft.sentences, section),
                         key=ed.section_key(note, section))
            st.text_input("Add a sentence", key=ed.add_key(note, section))

    sp.omissions_panel(store, encounter_id, note, support, transcript, headings, user)
    with st.expander("Dictate into the note", icon=":material/mic:"):
        dictated = dictation_panel(f"dict-{note.version}", note.draft.sections, headings,
                                   note.draft.sections[0], terms=db.list_terms(store, user))
    with st.expander("Section order"):
        st.multiselect("Sections, in the order the note shows them", note.draft.sections,
                       default=list(note.draft.sections), key=ed.order_key(note),
                       format_func=lambda k: headings.get(k, k))
    pending = ed.pending_sentences(note)
    order = ed.pending_sections(note)
    if dictated is not None:
        for section in dictated.dictated_sections:
            for text in dictated.sentences(section):
                pending = ed.insert_in_section(pending, new_sentence(section, text))
        dictation_event = db.new_event(
            user, encounter_id, "note.dictated", object_type="note",
            after={"commands": [c.command for c in dictated.commands],
                   "sections": list(dictated.dictated_sections)},
            model_version=dictated.model,
        )
        try:
            # One transaction: the sentences and the note.dictated event land together.
            db.save_note(store, encounter_id, note.version, pending, user,
                         extra_events=(dictation_event,))
        except (db.ConcurrentEdit, db.NoteLocked) as exc:
            st.error(str(exc))
        else:
            st.rerun()
    changed = db.diff_sentences(note.draft.sentences, pending)
    changes = len(changed) + (order != note.draft.sections)
    save_col, sign_col = st.columns(2)
    if save_col.button(f"Save ({changes} changes)", key="save", type="primary",
                       disabled=not changes):
        try:
            db.save_note(store, encounter_id, note.version, pending, user, sections=order)
        except (db.ConcurrentEdit, db.NoteLocked) as exc:
            st.error(str(exc))
        else:
            st.toast(f"Saved version {note.version + 1}")
            st.rerun()
    attest = sign_col.checkbox(db.ATTESTATION, key="attest")
    if changes:
        sign_col.caption("Save your changes before signing.")
    if sign_col.button("Sign note", key="sign", disabled=bool(changes) or not attest):
        try:
            db.sign_note(store, encounter_id, note.version, user)
        except (db.ConcurrentEdit, db.NoteLocked) as exc:
            st.error(str(exc))
        else:
            ps.after_sign(store, encounter_id, user)  # the next drafts follow this note too
            st.rerun()
