"""One encounter as a training-data record (JSON): transcript with word timings and the note.

With ``deid=True`` the transcript and the note are de-identified (``pipelines.deid``) with the
encounter's known names; timings, speakers, sentence ids and sections are kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pipelines.deid import deidentify_draft, deidentify_transcript
from pipelines.types import Draft, Transcript

FORMAT = "scribe.training.v1"


def training_record(
    encounter_id: str,
    transcript: Transcript,
    draft: Draft | None,
    *,
    transcript_version: int,
    note_version: int | None,
    deid: bool = False,
    known_names: Sequence[str] = (),
) -> dict[str, Any]:
    """The JSON-ready record of one encounter."""
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
