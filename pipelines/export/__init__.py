"""Export of a signed note: plain text and a FHIR R4 DocumentReference (pure, no store)."""

from pipelines.export.deid import deidentify_note
from pipelines.export.fhir import (
    FHIR_VERSION,
    LOINC,
    document_reference,
    document_reference_json,
    note_type,
)
from pipelines.export.text import ExportError, SignedNote, render_text
from pipelines.export.training import training_record

__all__ = [
    "FHIR_VERSION",
    "LOINC",
    "ExportError",
    "SignedNote",
    "deidentify_note",
    "document_reference",
    "document_reference_json",
    "note_type",
    "render_text",
    "training_record",
]
