"""Preference pairs for DPO-style tuning: the AI draft (rejected) against the note the
clinician signed (chosen), both for the same transcript (prompt).

A pair exists only when the clinician changed the draft: an unchanged note teaches no
preference (``preference_record`` returns None for it).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pipelines.deid import deidentify_draft, deidentify_transcript
from pipelines.export.training import dialogue_text, iso_time, note_text
from pipelines.types import Draft, Transcript

FORMAT = "scribe.preference.v1"


def preference_record(
    encounter_id: str,
    transcript: Transcript,
    ai_draft: Draft,
    signed: Draft,
    *,
    transcript_version: int,
    draft_version: int,
    note_version: int,
    signed_at: datetime,
    deid: bool = False,
    known_names: Sequence[str] = (),
) -> dict[str, Any] | None:
    """The JSON-ready pair (prompt, chosen, rejected), or None when the signed note reads
    exactly like the AI draft. ``model_version`` is the drafter that wrote the AI draft."""
    rejected, chosen = note_text(ai_draft), note_text(signed)
    if rejected == chosen:
        return None
    if deid:  # compared first: de-identification must not make two notes look alike
        transcript = deidentify_transcript(transcript, known_names)
        rejected = note_text(deidentify_draft(ai_draft, known_names))
        chosen = note_text(deidentify_draft(signed, known_names))
    return {
        "format": FORMAT,
        "encounter_id": encounter_id,
        "deidentified": deid,
        "prompt": dialogue_text(transcript),
        "chosen": chosen,
        "rejected": rejected,
        "model_version": ai_draft.model_version,
        "template": signed.template,
        "transcript_version": transcript_version,
        "draft_version": draft_version,
        "note_version": note_version,
        "signed_at": iso_time(signed_at, deid),
    }
