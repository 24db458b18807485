"""Label Studio tasks for encounters, with the model's suggestions as predictions.

A task holds one transcript version of one encounter: its turns as dialogue paragraphs
(speaker, text, start and end in seconds), the audio URL only when one is given, and the
encounter id and transcript version, which is how a pulled annotation finds its way back.
Each suggestion becomes a prediction region whose id is the suggestion's stable id
(``m<set version>-<index>``), so an annotator who accepts it keeps the id and a comparison
of model and human needs no guessing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from pipelines.schema import (
    LS_CONTEXT,
    LS_ENTITIES,
    LS_TRANSCRIPT,
    LabelSchema,
    label_studio_attribute_name,
    label_studio_question_name,
)
from pipelines.types import Annotation, Transcript

# Keys of a task's ``data``.
ENCOUNTER_KEY, VERSION_KEY, AUDIO_KEY = "encounter_id", "transcript_version", "audio"


def task_data(
    encounter_id: str,
    transcript_version: int,
    transcript: Transcript,
    audio_url: str | None = None,
) -> dict[str, Any]:
    """The ``data`` of one encounter's task (the audio URL only when given)."""
    data: dict[str, Any] = {
        ENCOUNTER_KEY: encounter_id,
        VERSION_KEY: transcript_version,
        LS_TRANSCRIPT: [
            {
                "speaker": s.speaker,
                "text": s.text,
                "start": round(s.start, 3),
                "end": round(s.end, 3),
            }
            for s in transcript.segments
        ],
    }
    if audio_url:
        data[AUDIO_KEY] = audio_url
    return data


def build_task(
    encounter_id: str,
    transcript_version: int,
    transcript: Transcript,
    suggestions: Sequence[Annotation],
    labels: LabelSchema,
    *,
    audio_url: str | None = None,
) -> dict[str, Any]:
    """One importable Label Studio task: its data and, when there are suggestions, one
    prediction per model version holding them (``prediction_results``)."""
    task: dict[str, Any] = {
        "data": task_data(encounter_id, transcript_version, transcript, audio_url)
    }
    predictions = []
    for model_version in dict.fromkeys(s.model_version or "unknown" for s in suggestions):
        mine = [s for s in suggestions if (s.model_version or "unknown") == model_version]
        predictions.append(
            {"model_version": model_version, "result": prediction_results(mine, labels)}
        )
    if predictions:
        task["predictions"] = predictions
    return task


def prediction_results(annotations: Sequence[Annotation], labels: LabelSchema) -> list[dict]:
    """Label Studio result items for annotations: per span a ``paragraphlabels`` region
    (id: the annotation id), its context flags and its attributes (those the schema gives
    its label) on the same region; relations; encounter-level choices. Spans must lie in
    one segment (Label Studio's ``start`` = ``end`` = the segment index)."""
    results: list[dict] = []
    for a in annotations:
        if a.kind == "span":
            results.extend(_span_results(a, labels))
        elif a.kind == "relation":
            results.append(
                {
                    "from_id": a.value["from"],
                    "to_id": a.value["to"],
                    "type": "relation",
                    "direction": "right",
                    "labels": [a.label],
                }
            )
        elif a.kind == "encounter_label":
            results.append(
                {
                    "id": a.annotation_id,
                    "from_name": label_studio_question_name(a.label or ""),
                    "to_name": LS_TRANSCRIPT,
                    "type": "choices",
                    "value": {"choices": [a.value["choice"]]},
                }
            )
    return results


def _span_results(a: Annotation, labels: LabelSchema) -> list[dict]:
    where = {
        "start": a.segment_idx,
        "end": a.segment_idx,
        "startOffset": a.start_char,
        "endOffset": a.end_char,
        "text": a.text,
    }

    def item(from_name: str, kind: str, value: dict) -> dict:
        return {
            "id": a.annotation_id,
            "from_name": from_name,
            "to_name": LS_TRANSCRIPT,
            "type": kind,
            "value": {**where, **value},
        }

    out = [item(LS_ENTITIES, "paragraphlabels", {"paragraphlabels": [a.label]})]
    context = list(a.value.get("context") or ())
    if context:
        out.append(item(LS_CONTEXT, "choices", {"choices": context}))
    try:
        allowed = labels.get(a.label or "").attributes
    except KeyError:  # an attribute span (DOSE ...): no attribute boxes of its own
        allowed = ()
    attributes = a.value.get("attributes") or {}
    for name in allowed:
        value = attributes.get(name)
        if value not in (None, ""):
            box = label_studio_attribute_name(a.label or "", name)
            out.append(item(box, "textarea", {"text": [str(value)]}))
    return out


def task_digest(task: dict[str, Any]) -> str:
    """sha256 of a task's canonical JSON: a re-push sends only tasks whose digest changed."""
    blob = json.dumps(task, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()
