"""New encounter: record or upload the audio, then transcribe and draft it in the background.

Validation and storage are ``workbench.ingest.ingest_bytes`` (bad audio: a clear message
and nothing written); processing is a job on the shared runner, which this page polls.
"""

from __future__ import annotations

import streamlit as st

from pipelines.audio import SUPPORTED, AudioError
from workbench.ingest import EncounterMeta, ingest_bytes, max_duration_s
from workbench.ui import resources

store = resources.session_store()  # acts for the signed-in user
runner = resources.get_runner()
user = resources.current_user()

st.title("New encounter")

c1, c2 = st.columns(2)
title = c1.text_input("Title", key="capture_title", placeholder="e.g. Cough for ten days")
patient = c2.text_input(
    "Patient label", key="capture_patient", help="A pseudonymous label, not the patient's name."
)
specialty = c1.text_input("Specialty", key="capture_specialty", placeholder="Primary care")
visit_type = c2.text_input("Visit type", key="capture_visit_type", placeholder="Follow-up")
clinician = c1.text_input("Clinician", key="capture_clinician", value=user)

source = st.radio("Audio", ["Record", "Upload"], horizontal=True, key="capture_source")
limit_h = max_duration_s() / 3600
if source == "Upload":
    audio = st.file_uploader(
        f"Recording ({', '.join(SUPPORTED)}; up to {limit_h:g} hours)",
        type=list(SUPPORTED),
        key="capture_upload",
    )
else:
    audio = st.audio_input("Record the encounter", key="capture_record")


def _create(audio) -> None:
    """Validate and store the audio, then queue its processing; errors are shown, not raised."""
    meta = EncounterMeta(
        title=title.strip() or None,
        specialty=specialty.strip() or None,
        visit_type=visit_type.strip() or None,
        clinician=clinician.strip() or None,
        patient_label=patient.strip() or None,
        source="recording" if source == "Record" else "upload",
    )
    try:
        with st.spinner("Checking the audio…"):
            result = ingest_bytes(
                store, resources.data_dir(), audio.getvalue(), audio.name, user, meta
            )
    except AudioError as exc:
        st.session_state["capture_error"] = str(exc)
        st.session_state.pop("capture_encounter", None)
        return
    notes = list(result.audio.notes)
    if not result.created:
        notes.append(
            f"This audio is already encounter `{result.encounter_id}`; it was not added twice."
        )
    st.session_state.pop("capture_error", None)
    st.session_state["capture_notes"] = notes
    st.session_state["capture_encounter"] = result.encounter_id
    runner.submit(result.encounter_id, user)


if st.button("Create encounter", key="capture_create", type="primary", disabled=audio is None):
    _create(audio)

if error := st.session_state.get("capture_error"):
    st.error(error, icon=":material/error:")
for note in st.session_state.get("capture_notes", ()):
    st.warning(note, icon=":material/info:")


@st.fragment(run_every=1.0)
def _progress(encounter_id: str) -> None:
    """Poll the runner; when the job is over, stop polling with a full rerun."""
    job = runner.status(encounter_id)
    if job is None:  # ingested earlier or by another server: nothing running here
        st.info(
            f"Encounter `{encounter_id}` is stored; process it from the command line "
            "or open it when it is drafted."
        )
        return
    if job.active:
        with st.status(f"Processing `{encounter_id}`: {job.step}…", state="running"):
            st.progress(job.fraction, text=f"{job.step} ({job.fraction:.0%})")
        return
    st.rerun()  # finished: a full rerun shows the outcome and stops the polling


encounter_id = st.session_state.get("capture_encounter")
if encounter_id:
    job = runner.status(encounter_id)
    if job is not None and job.state == "failed":
        st.error(f"Processing `{encounter_id}` failed: {job.error}", icon=":material/error:")
        if st.button("Try again", key="capture_retry"):
            runner.submit(encounter_id, user)
            st.rerun()
    elif job is not None and job.state == "done":
        st.success(
            f"Encounter `{encounter_id}` is transcribed and drafted.",
            icon=":material/check_circle:",
        )
        if st.button("Open in Review", key="capture_open", type="primary"):
            st.session_state["encounter_id"] = encounter_id
            st.switch_page("views/review.py")
    else:
        _progress(encounter_id)
