"""Export an encounter's signed note from the store as text or FHIR, recording the export."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from pipelines.drafting import TemplateError, load_template
from pipelines.export import ExportError, SignedNote, document_reference_json, render_text
from workbench import store as db
from workbench.store.access import require
from workbench.store.signatures import list_signatures

ExportFormat = Literal["text", "fhir"]
FORMATS: tuple[str, ...] = ("text", "fhir")
_MIME = {"text": "text/plain; charset=utf-8", "fhir": "application/fhir+json"}
_SUFFIX = {"text": "txt", "fhir": "fhir.json"}


@dataclass(frozen=True)
class ExportedNote:
    """The exported bytes with a file name and media type for a download."""

    encounter_id: str
    version: int
    format: str
    content: bytes
    filename: str
    mime: str


def signed_note(store: db.Store, encounter_id: str) -> SignedNote:
    """The newest signed note version of the encounter, ready for :mod:`pipelines.export`.

    Raises NotFound for an unknown encounter, ExportError when nothing is signed yet and
    Forbidden unless the actor may export it (``note.export``).
    """
    require(store, "note.export", encounter_id)
    encounter = db.get_encounter(store, encounter_id)
    if encounter is None:
        raise db.NotFound(f"No encounter {encounter_id}")
    signatures = list_signatures(store, encounter_id)
    if not signatures:
        raise ExportError(
            f"The note for {encounter_id} is not signed; only signed notes can be exported."
        )
    last = signatures[-1]
    note = db.get_note(store, encounter_id, last.note_version)
    return SignedNote(
        encounter_id=encounter_id,
        version=note.version,
        draft=note.draft,
        signed_by=last.signed_by,
        signed_at=last.signed_at,
        signer_name=last.signer_name,
        attestation=last.attestation,
        title=encounter.title,
        patient_label=encounter.patient_label,
        headings=_headings(note.draft.template),
        replaces_version=signatures[-2].note_version if len(signatures) > 1 else None,
    )


def render(note: SignedNote, fmt: str) -> ExportedNote:
    """The note in ``fmt`` (``text`` or ``fhir``) without touching the store."""
    if fmt not in FORMATS:
        raise ExportError(f"Unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    text = render_text(note) if fmt == "text" else document_reference_json(note)
    return ExportedNote(
        encounter_id=note.encounter_id,
        version=note.version,
        format=fmt,
        content=text.encode("utf-8"),
        mime=_MIME[fmt],
        filename=f"{note.encounter_id}-note-v{note.version}.{_SUFFIX[fmt]}",
    )


def export_note(store: db.Store, encounter_id: str, fmt: str, user_id: str) -> ExportedNote:
    """Export the signed note and record a ``note.exported`` event (format, size, sha256)."""
    exported = render(signed_note(store, encounter_id), fmt)
    record_export(store, exported, user_id)
    return exported


def record_export(store: db.Store, exported: ExportedNote, user_id: str) -> None:
    """Append the ``note.exported`` event for an export (ids and digests, never text)."""
    db.append_event(
        store,
        db.new_event(
            user_id,
            exported.encounter_id,
            "note.exported",
            object_type="note",
            object_id=f"{exported.encounter_id}/note/{exported.version}",
            after={
                "format": exported.format,
                "bytes": len(exported.content),
                "sha256": hashlib.sha256(exported.content).hexdigest(),
            },
            note_version=exported.version,
        ),
    )


def _headings(template: str) -> dict[str, str]:
    try:
        spec = load_template(template)
    except (TemplateError, FileNotFoundError):
        return {}
    return {section.key: section.heading for section in spec.sections}
