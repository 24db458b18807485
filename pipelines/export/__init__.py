"""Export of a signed note: plain text and a FHIR R4 DocumentReference (pure, no store)."""

from pipelines.export.fhir import (
    FHIR_VERSION,
    LOINC,
    document_reference,
    document_reference_json,
    note_type,
)
from pipelines.export.text import ExportError, SignedNote, render_text

__all__ = [
    "FHIR_VERSION",
    "LOINC",
    "ExportError",
    "SignedNote",
    "document_reference",
    "document_reference_json",
    "note_type",
    "render_text",
]
