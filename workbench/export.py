"""Export an encounter's signed note from the store as text or FHIR, recording the export."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal

from pipelines.drafting import TemplateError, load_template
from pipelines.export import (
    ExportError,
    SignedNote,
    deidentify_note,
    document_reference,
    render_text,
    training_record,
)
from pipelines.export.fhir import validate
from workbench import store as db
from workbench.store.access import require
from workbench.store.known_names import encounter_names
from workbench.store.signatures import list_signatures
from workbench.store.simulation import simulated_ids

ExportFormat = Literal["text", "fhir"]
FORMATS: tuple[str, ...] = ("text", "fhir")
_MIME = {"text": "text/plain; charset=utf-8", "fhir": "application/fhir+json"}
_SUFFIX = {"text": "txt", "fhir": "fhir.json"}
# How an export of a simulated encounter (``scribe simulate``) says so: the text's first line,
# and a FHIR meta.tag from a code system only this workbench issues.
SIMULATED_NOTICE = "SIMULATED ENCOUNTER (scribe simulate): not a real patient"
DATA_SOURCE_SYSTEM = "urn:scribe-workbench:data-source"
SIMULATED_TAG = {
    "system": DATA_SOURCE_SYSTEM,
    "code": "simulated",
    "display": "Simulated encounter (scribe simulate), not a real patient",
}


@dataclass(frozen=True)
class StoredNote(SignedNote):
    """A signed note as read from the store, with where its encounter came from (a
    de-identified copy made with ``dataclasses.replace`` keeps it)."""

    simulated: bool = False  # encounters.source = 'simulated'


@dataclass(frozen=True)
class ExportedNote:
    """The exported bytes with a file name and media type for a download."""

    encounter_id: str
    version: int
    format: str
    content: bytes
    filename: str
    mime: str
    deidentified: bool = False


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
    return StoredNote(
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
        simulated=bool(simulated_ids(store, [encounter_id])),
    )


def render(note: SignedNote, fmt: str) -> ExportedNote:
    """The note in ``fmt`` (``text`` or ``fhir``) without touching the store. A simulated
    encounter's note (``StoredNote.simulated``) says so: its text starts with
    ``SIMULATED_NOTICE`` and its DocumentReference carries the ``SIMULATED_TAG`` meta.tag."""
    if fmt not in FORMATS:
        raise ExportError(f"Unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    simulated = isinstance(note, StoredNote) and note.simulated
    if fmt == "text":
        text = render_text(note)
        text = f"{SIMULATED_NOTICE}\n{text}" if simulated else text
    else:
        resource = document_reference(note)
        if simulated:
            resource = _mark_simulated(resource, f"{SIMULATED_NOTICE}\n{render_text(note)}")
        text = json.dumps(resource, indent=2, ensure_ascii=False) + "\n"
    deid = "-deid" if note.deidentified else ""
    return ExportedNote(
        encounter_id=note.encounter_id,
        version=note.version,
        format=fmt,
        content=text.encode("utf-8"),
        mime=_MIME[fmt],
        filename=f"{note.encounter_id}-note-v{note.version}{deid}.{_SUFFIX[fmt]}",
        deidentified=note.deidentified,
    )


def export_note(
    store: db.Store, encounter_id: str, fmt: str, user_id: str, *, deid: bool = False
) -> ExportedNote:
    """Export the signed note and record a ``note.exported`` event (format, size, sha256).

    ``deid=True`` exports a de-identified copy (``pipelines.export.deidentify_note``) with the
    encounter's known names (patient label, clinician) redacted wherever they occur.
    """
    note = signed_note(store, encounter_id)
    if deid:
        note = deidentify_note(note, encounter_names(store, encounter_id))
    exported = render(note, fmt)
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
                **({"deidentified": True} if exported.deidentified else {}),
            },
            note_version=exported.version,
        ),
    )


def _mark_simulated(resource: dict[str, Any], text: str) -> dict[str, Any]:
    """The DocumentReference tagged simulated, its attachment the marked ``text`` (with the
    size and SHA-1 FHIR's Attachment asks for), validated again."""
    attachment = resource["content"][0]["attachment"]
    data = text.encode("utf-8")
    attachment["data"] = base64.b64encode(data).decode("ascii")
    attachment["size"] = len(data)
    attachment["hash"] = base64.b64encode(hashlib.sha1(data).digest()).decode("ascii")
    meta = resource.setdefault("meta", {})
    meta["tag"] = [*meta.get("tag", []), SIMULATED_TAG]
    # meta first, where FHIR's own examples put it.
    marked = {k: resource[k] for k in ("resourceType", "id", "meta")} | resource
    validate(marked)
    return marked


def _headings(template: str) -> dict[str, str]:
    try:
        spec = load_template(template)
    except (TemplateError, FileNotFoundError):
        return {}
    return {section.key: section.heading for section in spec.sections}


def training_skipped(store: db.Store, encounter_ids: list[str]) -> list[str]:
    """The encounters ``export_training`` leaves out: no training-use consent, or simulated
    (``scribe simulate``: never train on fake data)."""
    allowed = db.consented_ids(store, encounter_ids) - simulated_ids(store, encounter_ids)
    return [e for e in encounter_ids if e not in allowed]


def export_training(
    store: db.Store, encounter_ids: list[str], user_id: str, *, deid: bool = False
) -> list[dict]:
    """Training-data records (``pipelines.export.training_record``) of the encounters that
    have a transcript, newest transcript and note versions; ``deid=True`` de-identifies them
    with each encounter's known names. Records a ``training.exported`` event per encounter
    (versions and whether de-identified, never text). Unknown ids raise NotFound. Encounters
    without training-use consent and simulated ones are skipped (``training_skipped`` names
    them)."""
    records = []
    allowed = db.consented_ids(store, encounter_ids) - simulated_ids(store, encounter_ids)
    for encounter_id in encounter_ids:
        if db.get_encounter(store, encounter_id) is None:
            raise db.NotFound(f"No encounter {encounter_id}")
        if encounter_id not in allowed:
            continue
        found = db.get_transcript(store, encounter_id)
        if found is None:
            continue
        version, transcript = found
        note = db.get_note(store, encounter_id)
        records.append(
            training_record(
                encounter_id,
                transcript,
                note.draft if note else None,
                transcript_version=version,
                note_version=note.version if note else None,
                deid=deid,
                known_names=encounter_names(store, encounter_id) if deid else (),
            )
        )
        db.append_event(
            store,
            db.new_event(
                user_id,
                encounter_id,
                "training.exported",
                object_type="encounter",
                object_id=encounter_id,
                after={
                    "transcript_version": version,
                    "note_version": note.version if note else None,
                    "deidentified": deid,
                },
            ),
        )
    return records
