"""Download buttons for a signed note: plain text and FHIR R4 DocumentReference JSON."""

from __future__ import annotations

import streamlit as st

from pipelines.export import ExportError
from workbench import export
from workbench import store as db


def export_buttons(store: db.Store, encounter_id: str, user: str) -> None:
    """One download button per export format; each download records ``note.exported``."""
    try:
        note = export.signed_note(store, encounter_id)
    except ExportError as exc:
        st.caption(str(exc))
        return
    labels = {"text": "Download text", "fhir": "Download FHIR JSON"}
    helps = {
        "text": "Headings, sentences, signer and time, as plain text",
        "fhir": "A FHIR R4 DocumentReference with the text note attached",
    }
    cols = st.columns(len(export.FORMATS))
    for col, fmt in zip(cols, export.FORMATS, strict=True):
        exported = export.render(note, fmt)
        col.download_button(
            labels[fmt],
            data=exported.content,
            file_name=exported.filename,
            mime=exported.mime,
            help=helps[fmt],
            key=f"export-{fmt}",
            icon=":material/download:",
            on_click=export.record_export,
            args=(store, exported, user),
        )
