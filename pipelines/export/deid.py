"""A de-identified copy of a signed note, for exports that leave the clinical team."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

from pipelines.deid import deidentify, deidentify_draft
from pipelines.export.text import SignedNote

PLACEHOLDER = "[NAME]"


def deidentify_note(note: SignedNote, known_names: Sequence[str] = ()) -> SignedNote:
    """The note with PHI replaced in its sentences, title and attestation; the patient label
    and the signer become ``[NAME]``, and the signing time keeps only its year (HIPAA Safe
    Harbor keeps years). ``known_names`` (the encounter's patient and clinician names) are
    redacted wherever they occur, as are the patient label and the signer's name."""
    names = [n for n in (*known_names, note.patient_label, note.signer_name) if n]
    year = note.signed_at_utc.year
    return replace(
        note,
        draft=deidentify_draft(note.draft, names),
        title=deidentify(note.title, names).text,
        attestation=deidentify(note.attestation, names).text,
        patient_label=PLACEHOLDER if note.patient_label else None,
        signer_name=PLACEHOLDER,
        signed_by=PLACEHOLDER,
        signed_at=datetime(year, 1, 1, tzinfo=UTC),
        deidentified=True,
    )
