"""A signed note as plain text: a header naming the encounter, the sections, the signature."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pipelines.types import Draft

DEIDENTIFIED_NOTICE = (
    "De-identified copy: names, dates, ages over 89, phone numbers, addresses, record "
    "numbers and e-mail addresses are replaced."
)


class ExportError(ValueError):
    """The note cannot be exported (for example: it is not signed)."""


@dataclass(frozen=True)
class SignedNote:
    """Everything an export needs about one signed note version.

    ``signed_at`` is UTC (naive values are taken as UTC, as the store keeps them).
    ``replaces_version`` is the earlier signed version this one amends, if any.
    """

    encounter_id: str
    version: int
    draft: Draft
    signed_by: str
    signed_at: datetime
    signer_name: str = ""
    attestation: str = ""
    title: str = ""
    patient_label: str | None = None
    headings: Mapping[str, str] = field(default_factory=dict)
    replaces_version: int | None = None
    # A de-identified copy (pipelines.export.deid): says so, and signs with the year only.
    deidentified: bool = False

    def heading(self, section: str) -> str:
        """The section's heading as the note template names it (the key if unknown)."""
        return self.headings.get(section) or section.replace("_", " ").title()

    @property
    def signed_at_utc(self) -> datetime:
        at = self.signed_at
        return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)

    @property
    def signer(self) -> str:
        """ "Dr A (dr-a)", or the bare id when the display name is the id."""
        name = self.signer_name.strip()
        return f"{name} ({self.signed_by})" if name and name != self.signed_by else self.signed_by


def render_text(note: SignedNote) -> str:
    """The signed note as plain text, one sentence per line under its section heading.

    Sections without sentences are left out. Raises ExportError for a note without a
    signature, so an unsigned draft can never leave the workbench as a final note.
    """
    check_signed(note)
    lines = [
        f"{note.title or 'Clinical note'}",
        f"Encounter: {note.encounter_id}",
    ]
    if note.deidentified:
        lines.append(DEIDENTIFIED_NOTICE)
    if note.patient_label:
        lines.append(f"Patient: {note.patient_label}")
    lines.append(
        f"Note version: {note.version}"
        + (f" (amends version {note.replaces_version})" if note.replaces_version else "")
    )
    for section in note.draft.sections:
        sentences = note.draft.section_sentences(section)
        if not sentences:
            continue
        lines += ["", note.heading(section).upper(), *(s.text for s in sentences)]
    signed = (
        f"in {note.signed_at_utc:%Y}"
        if note.deidentified
        else f"at {note.signed_at_utc:%Y-%m-%d %H:%M} UTC"
    )
    lines += ["", f"Electronically signed by {note.signer} {signed}."]
    if note.attestation:
        lines.append(f"Attestation: {note.attestation}")
    return "\n".join(lines) + "\n"


def check_signed(note: SignedNote) -> None:
    """Raise ExportError unless the note carries a signer and a signing time."""
    if not note.signed_by or note.signed_at is None:
        raise ExportError(
            f"Note version {note.version} of {note.encounter_id} is not signed; "
            "only signed notes can be exported."
        )
