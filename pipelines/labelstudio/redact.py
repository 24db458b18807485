"""De-identified task inputs: the transcript with PHI replaced, suggestions moved to match.

For a Label Studio tasks export that leaves the clinical team. Each segment is
de-identified on its own with the encounter's known names (as the annotation page shows
it to annotators without ``text.phi``); a suggestion's offsets move with the placeholders
(``pipelines.deid.spans.to_rendered``), and a suggestion that overlaps a replaced piece is
dropped, so no region points at hidden text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from pipelines.deid.spans import Deidentified, to_rendered
from pipelines.types import Annotation, Transcript


def redact_inputs(
    transcript: Transcript,
    suggestions: Sequence[Annotation],
    redact: Callable[[str], Deidentified],
) -> tuple[Transcript, list[Annotation], int]:
    """(de-identified transcript, suggestions in its offsets, how many were dropped).
    Words are dropped: a task shows turns, and their words would keep the PHI."""
    shown = [redact(s.text) for s in transcript.segments]
    segments = tuple(
        replace(s, text=d.text, words=()) for s, d in zip(transcript.segments, shown, strict=True)
    )
    kept: list[Annotation] = []
    dropped_ids: set[str] = set()
    for a in suggestions:
        if a.kind != "span":
            continue
        if a.segment_idx is None or not 0 <= a.segment_idx < len(shown):
            dropped_ids.add(a.annotation_id)
            continue
        found = shown[a.segment_idx]
        moved = to_rendered(found.spans, a.start_char or 0, a.end_char or 0)
        if moved is None:
            dropped_ids.add(a.annotation_id)
            continue
        text = found.text[moved[0] : moved[1]]
        kept.append(replace(a, start_char=moved[0], end_char=moved[1], text=text))
    for a in suggestions:  # relations and labels survive only with both ends
        if a.kind == "relation":
            if {a.value.get("from"), a.value.get("to")} & dropped_ids:
                dropped_ids.add(a.annotation_id)
                continue
            kept.append(a)
        elif a.kind != "span":
            kept.append(a)
    return transcript.with_segments(segments), kept, len(dropped_ids)
