"""One encounter as a training-data record (JSON): transcript with word timings and the note.

The one record builder of both ``scribe export training`` (newest note, signed or not) and
the ``jsonl``/``parquet`` transcript -> signed note pairs (``scribe export jsonl``). Besides the
structured segments and sentences, a record carries the flat texts a sequence-to-sequence
trainer reads: ``transcript`` (one "speaker: words" line per segment) and ``note_text`` (the
note as its template renders it).

With ``deid=True`` the transcript and the note are de-identified (``pipelines.deid``) with the
encounter's known names; timings, speakers, sentence ids and sections are kept, and the signing
time keeps only its year (``iso_time``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pipelines.deid import deidentify_draft, deidentify_transcript
from pipelines.drafting.render import render_note
from pipelines.drafting.templates import TemplateError, load_template
from pipelines.types import Draft, Transcript

# v2 added the flat texts, the note's model version and the signing time (v1 fields kept).
FORMAT = "scribe.training.v2"


def dialogue_text(transcript: Transcript) -> str:
    """The transcript as plain dialogue: one "speaker: words" line per non-empty segment."""
    return "\n".join(
        f"{s.speaker}: {s.text.strip()}" for s in transcript.segments if s.text.strip()
    )


def note_text(draft: Draft) -> str:
    """The note as its template renders it; a note with a section its template does not
    know (or without a known template) as plain headings, so no sentence is ever lost."""
    try:
        template = load_template(draft.template)
    except TemplateError:
        return draft.render_text()
    keys = {spec.key for spec in template.sections}
    if any(s.section not in keys for s in draft.sentences):
        return draft.render_text()
    return render_note(draft, template)


def training_record(
    encounter_id: str,
    transcript: Transcript,
    draft: Draft | None,
    *,
    transcript_version: int,
    note_version: int | None,
    deid: bool = False,
    known_names: Sequence[str] = (),
    signed_at: datetime | None = None,
) -> dict[str, Any]:
    """The JSON-ready record of one encounter (``signed_at``: when ``note_version`` was
    signed, None for an unsigned note)."""
    if deid:
        transcript = deidentify_transcript(transcript, known_names)
        draft = deidentify_draft(draft, known_names) if draft is not None else None
    return {
        "format": FORMAT,
        "encounter_id": encounter_id,
        "deidentified": deid,
        "transcript_version": transcript_version,
        "note_version": note_version,
        "language": transcript.language,
        "duration_s": transcript.duration_s,
        "transcript": dialogue_text(transcript),
        "note_text": None if draft is None else note_text(draft),
        "note_model_version": None if draft is None else draft.model_version,
        "signed_at": iso_time(signed_at, deid),
        "segments": [
            {
                "idx": s.idx,
                "start": s.start,
                "end": s.end,
                "speaker": s.speaker,
                "text": s.text,
                "words": [
                    {"start": w.start, "end": w.end, "text": w.text, "probability": w.probability}
                    for w in s.words
                ],
            }
            for s in transcript.segments
        ],
        "note": None
        if draft is None
        else {
            "template": draft.template,
            "sentences": [
                {"sentence_id": s.sentence_id, "section": s.section, "text": s.text}
                for s in draft.sentences
            ],
        },
    }


def iso_time(at: datetime | None, deid: bool) -> str | None:
    """An ISO UTC time to the second (naive values are UTC, as the store keeps them); when
    de-identified only its year survives, as January 1st 00:00 (HIPAA Safe Harbor keeps
    years), so the value keeps its type for JSON readers that parse timestamps."""
    if at is None:
        return None
    if deid:
        return f"{at.year:04d}-01-01T00:00:00"
    return at.replace(microsecond=0).isoformat()
