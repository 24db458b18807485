"""A signed note as a FHIR R4 DocumentReference whose attachment is the plain-text note.

Validated with ``fhir.resources``: its 8.x releases model R5 by default and R4B (4.3.0) as a
subpackage; R4 (4.0.1) itself is only modelled by the pydantic-1 releases (6.x). R4B changed
only the medication-definition, evidence and subscription resources, so DocumentReference
is the same in R4 and R4B and the R4B model checks the R4 structure. ``fhir.resources``
checks structure and datatypes (an ``instant`` must carry its timezone, unknown fields are
refused), not code bindings, so the codes here are fixed values taken from the R4 value sets.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

from pipelines.export.text import SignedNote, check_signed, render_text

FHIR_VERSION = "4.0.1"
LOINC = "http://loinc.org"
# Identifier systems for ids that only this workbench issues (no OID is registered).
ENCOUNTER_SYSTEM = "urn:scribe-workbench:encounter"
NOTE_SYSTEM = "urn:scribe-workbench:note"
USER_SYSTEM = "urn:scribe-workbench:user"
CATEGORY_SYSTEM = "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category"

# LOINC document type per note template. A visit note written during or after an
# outpatient encounter is a "Progress note" (11506-3, also the US Core clinical-notes type
# for such notes); a referral letter is a "Referral note" (57133-1); any other template
# (an after-visit summary, a clinic's own type) is the generic "Note" (34109-9) rather
# than a guess at something more specific.
_NOTE_TYPES: dict[str, tuple[str, str]] = {
    "soap": ("11506-3", "Progress note"),
    "progress_note": ("11506-3", "Progress note"),
    "aci_visit": ("11506-3", "Progress note"),
    "orthopedic_visit": ("11506-3", "Progress note"),
    "cardiology_visit": ("11506-3", "Progress note"),
    "referral_letter": ("57133-1", "Referral note"),
}
_GENERIC_NOTE = ("34109-9", "Note")
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9\-.]")


def note_type(template: str) -> tuple[str, str]:
    """(LOINC code, display) of the document type for a note template."""
    return _NOTE_TYPES.get(template, _GENERIC_NOTE)


def document_reference(note: SignedNote) -> dict[str, Any]:
    """The DocumentReference as plain JSON data, validated against the FHIR model.

    The attachment holds the UTF-8 plain text of :func:`render_text`, base64-encoded, with
    its size in bytes and the base64 SHA-1 of those bytes (as FHIR's Attachment.hash asks).
    An amendment (``replaces_version``) has docStatus ``amended`` and relatesTo
    ``replaces`` the earlier signed version. Raises ExportError when the note is unsigned.
    """
    check_signed(note)
    data = render_text(note).encode("utf-8")
    signed_at = note.signed_at_utc.isoformat(timespec="seconds").replace("+00:00", "Z")
    code, display = note_type(note.draft.template)
    signer = {
        "identifier": {"system": USER_SYSTEM, "value": note.signed_by},
        "display": note.signer_name or note.signed_by,
    }
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": resource_id(note.encounter_id, note.version),
        "masterIdentifier": _note_identifier(note.encounter_id, note.version),
        "status": "current",
        "docStatus": "amended" if note.replaces_version else "final",
        "type": {
            "coding": [{"system": LOINC, "code": code, "display": display}],
            "text": note.draft.template,
        },
        "category": [
            {
                "coding": [
                    {"system": CATEGORY_SYSTEM, "code": "clinical-note", "display": "Clinical Note"}
                ]
            }
        ],
        "date": signed_at,
        "author": [signer],
        "authenticator": signer,
        "description": note.title or None,
        "content": [
            {
                "attachment": {
                    "contentType": "text/plain; charset=utf-8",
                    "language": "en",
                    "data": base64.b64encode(data).decode("ascii"),
                    "size": len(data),
                    "hash": base64.b64encode(hashlib.sha1(data).digest()).decode("ascii"),
                    "title": f"{note.title or 'Clinical note'} (version {note.version})",
                    "creation": signed_at,
                }
            }
        ],
        "context": {
            "encounter": [{"identifier": {"system": ENCOUNTER_SYSTEM, "value": note.encounter_id}}]
        },
    }
    if note.patient_label:
        # The store keeps a label, not a patient identifier: a display-only reference.
        resource["subject"] = {"display": note.patient_label}
    if note.replaces_version:
        resource["relatesTo"] = [
            {
                "code": "replaces",
                "target": {
                    "identifier": _note_identifier(note.encounter_id, note.replaces_version)
                },
            }
        ]
    resource = {k: v for k, v in resource.items() if v is not None}
    validate(resource)
    return resource


def document_reference_json(note: SignedNote) -> str:
    """:func:`document_reference` as indented JSON text."""
    return json.dumps(document_reference(note), indent=2, ensure_ascii=False) + "\n"


def validate(resource: dict[str, Any]) -> None:
    """Raise pydantic's ValidationError if ``resource`` is not a valid DocumentReference."""
    from fhir.resources.R4B.documentreference import DocumentReference  # ~0.2 s import

    DocumentReference.model_validate(resource)


def resource_id(encounter_id: str, version: int) -> str:
    """A FHIR id (letters, digits, '-', '.', at most 64) for one note version."""
    digest = hashlib.sha256(encounter_id.encode()).hexdigest()[:8]
    safe = _ID_UNSAFE.sub("-", encounter_id)[:40]
    return f"{safe}-{digest}-v{version}"


def _note_identifier(encounter_id: str, version: int) -> dict[str, str]:
    return {"system": NOTE_SYSTEM, "value": f"{encounter_id}/note/{version}"}
