"""People's corrections from the event log as typed edit records (JSON), for training.

Each event kind a person's correction writes maps to one documented record type
(``RECORD_TYPES``); kinds that record workflow or the machine's own work are known and
counted as such (``NOT_CORRECTIONS``); any other kind is counted as unknown, never dropped
silently. A record carries the event's before/after, who and when, the model and note
version (a sentence event without a model names the drafter of its note version), and
evidence spans into the transcript (segment, characters, seconds).

Record types (``type``) and the event kinds they come from:

- ``transcript_fix``: ``transcript.word_corrected``, ``transcript.segment_corrected``
  (``subtype`` "word" or "segment"); ``speaker_fix``: ``transcript.speaker_relabelled``.
- ``entity_add``, ``entity_remove``, ``entity_relabel``, ``entity_context`` (negated,
  historical ... flags), ``entity_attributes``, ``entity_code``: ``entity.added``,
  ``entity.removed``, ``entity.relabelled``, ``entity.context_changed``,
  ``entity.attributes_changed``, ``entity.code_changed``; ``entity_confirm``:
  ``entities.confirmed`` (the whole reviewed set in ``after``, no span evidence).
- ``sentence_accept``: ``sentence.accepted``; ``sentence_edit``: ``sentence.edited``;
  ``sentence_add``: ``sentence.added``; ``sentence_move``: ``sentence.moved``;
  ``sentence_reject``: ``sentence.deleted`` of a machine sentence (the Review page's
  Reject), ``sentence_delete``: of a person's sentence; ``omission_add``:
  ``omission.added`` (a suggested missing sentence; its ``sentence_add`` comes with it);
  ``sentence_undo``: ``sentence.undone`` (an "Undo last save" put it back).
- ``code_accept``, ``code_reject``: ``code.accepted``, ``code.rejected`` (decisions on
  suggested codes; evidence: the spans of the entities the suggestion rests on).

De-identified (``deid=True``): free text in before/after is de-identified with the
encounter's known names, character offsets point into the de-identified segment text
(None where a span no longer maps), users become per-export pseudonyms ("user-1", ...) and
times keep only their year (``iso_time``); ``seq`` keeps each encounter's order of events.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from pipelines.deid import deidentify
from pipelines.drafting.sentences import span_times
from pipelines.export.training import iso_time
from pipelines.transcript_edit import remap_span
from pipelines.types import Entity, NoteSentence, Segment

FORMAT = "scribe.correction.v1"

RECORD_TYPES: dict[str, str] = {
    "transcript.word_corrected": "transcript_fix",
    "transcript.segment_corrected": "transcript_fix",
    "transcript.speaker_relabelled": "speaker_fix",
    "entity.added": "entity_add",
    "entity.removed": "entity_remove",
    "entity.relabelled": "entity_relabel",
    "entity.context_changed": "entity_context",
    "entity.attributes_changed": "entity_attributes",
    "entity.code_changed": "entity_code",
    "entities.confirmed": "entity_confirm",
    "sentence.accepted": "sentence_accept",
    "sentence.edited": "sentence_edit",
    "sentence.added": "sentence_add",
    "sentence.moved": "sentence_move",
    "sentence.deleted": "sentence_reject",  # "sentence_delete" for a person's sentence
    "omission.added": "omission_add",
    "sentence.undone": "sentence_undo",
    "code.accepted": "code_accept",
    "code.rejected": "code_reject",
}
# Known kinds that are not a person's correction: workflow, views, exports, and what the
# machine did (drafts, recomputed or carried-over entities, re-drafted sentences).
NOT_CORRECTIONS: frozenset[str] = frozenset(
    {
        "encounter.created",
        "job.queued",
        "audio.purged",
        "text.deidentified",
        "transcript.asr",
        "transcript.corrected",
        "entities.extracted",
        "entity.remapped",
        "entity.dropped",
        "note.drafted",
        "note.saved",
        "note.dictated",
        "note.signed",
        "note.amendment_started",
        "note.exported",
        "note.verified",
        "note.undone",
        "note.evidence_remapped",
        "note.sections_reordered",
        "note.conflict",
        "note.conflict_resolved",
        "note.autosave_discarded",
        "sentence.regenerated",
        "sentence.evidence_changed",
        "sentence.viewed",
        "review.active",
        "consent.granted",
        "consent.withdrawn",
        "training.exported",
        "dataset.exported",
        "style.learned",
        "task.assigned",
        "task.unassigned",
        # Annotation work: labels, not corrections of a model's output. They reach training
        # data through the adjudicated gold (spacy) and the Label Studio export.
        "task.created",
        "annotation.saved",
        "annotation.submitted",
        "annotation.reviewed",
        "annotation.adjudicated",
        "labelstudio.pushed",  # tasks sent to Label Studio (its imports are annotation.*)
        "labelstudio.pulled",
        "draft_variant.created",  # a draft stored for a blind pairwise comparison
    }
)
_TRANSCRIPT_ID = re.compile(r"/transcript/(\d+)/segment/(\d+)$")
_ENTITY_SET_ID = re.compile(r"/entities/(\d+)$")
# Keys whose string values are vocabulary, not free text: never de-identified.
_STRUCTURAL = frozenset(
    {
        "label",
        "section",
        "origin",
        "source",
        "code",
        "code_system",
        "kind",
        "speaker",
        "sentence_id",
        "template",
        "problem_sentence_id",
    }
)


class LoggedEvent(Protocol):
    """What this module reads of an event (``workbench.store.records.Event`` fits)."""

    @property
    def event_id(self) -> str: ...
    @property
    def ts(self) -> datetime: ...
    @property
    def user_id(self) -> str: ...
    @property
    def encounter_id(self) -> str | None: ...
    @property
    def kind(self) -> str: ...
    @property
    def object_id(self) -> str | None: ...
    @property
    def before(self) -> Any: ...
    @property
    def after(self) -> Any: ...
    @property
    def model_version(self) -> str | None: ...
    @property
    def note_version(self) -> int | None: ...


@dataclass(frozen=True)
class EvidenceSource:
    """Where evidence spans are looked up, for one encounter (the caller reads the store).

    ``segment(transcript_version, idx)``: the segment as stored; ``deid_segment``: the same
    segment de-identified (only for de-identified exports). ``sentence(note_version, id)``:
    (transcript version, sentence) as of that note version or, for a sentence deleted in
    it, as of its parent. ``entity_set(version)``: (transcript version, entities).
    """

    segment: Callable[[int, int], Segment | None]
    sentence: Callable[[int, str], tuple[int, NoteSentence] | None]
    entity_set: Callable[[int], tuple[int, tuple[Entity, ...]] | None]
    deid_segment: Callable[[int, int], Segment | None] | None = None
    # The drafter of a note version, for sentence events that name no model themselves.
    note_model: Callable[[int], str | None] | None = None


@dataclass
class CorrectionCounts:
    """Records written per type, and the events that are not corrections, per kind."""

    records: Counter[str] = field(default_factory=Counter)
    not_corrections: Counter[str] = field(default_factory=Counter)
    unknown_kinds: Counter[str] = field(default_factory=Counter)


@dataclass
class Pseudonyms:
    """Per-export stand-ins for user ids ("user-1", "user-2" in order of appearance)."""

    names: dict[str, str] = field(default_factory=dict)

    def __call__(self, user_id: str) -> str:
        return self.names.setdefault(user_id, f"user-{len(self.names) + 1}")


def record_type(event: LoggedEvent) -> str | None:
    """The record type of a correction event, or None for any other kind."""
    found = RECORD_TYPES.get(event.kind)
    if found == "sentence_reject" and (event.before or {}).get("origin") == "human":
        return "sentence_delete"  # a person's own sentence: not a judgement of the model
    return found


def correction_records(
    events: Sequence[LoggedEvent],
    source: EvidenceSource,
    counts: CorrectionCounts,
    *,
    deid: bool = False,
    known_names: Sequence[str] = (),
    users: Pseudonyms | None = None,
) -> list[dict[str, Any]]:
    """The records of one encounter's events (in log order), counting every event."""
    users = users if users is not None else Pseudonyms()
    records = []
    for seq, event in enumerate(events, start=1):
        kind = record_type(event)
        if kind is None:
            known = event.kind in NOT_CORRECTIONS
            (counts.not_corrections if known else counts.unknown_kinds)[event.kind] += 1
            continue
        counts.records[kind] += 1
        evidence = _evidence(event, kind, source)
        before, after = event.before, event.after
        if deid:
            before, after, evidence = _deidentify(
                event, before, after, evidence, source, known_names
            )
        records.append(
            {
                "format": FORMAT,
                "type": kind,
                **(
                    {"subtype": event.kind.split(".")[1].split("_")[0]}
                    if kind == "transcript_fix"
                    else {}
                ),
                "event_kind": event.kind,
                "event_id": event.event_id,
                "encounter_id": event.encounter_id,
                "seq": seq,
                "ts": iso_time(event.ts, deid),
                "user": users(event.user_id) if deid else event.user_id,
                "model_version": event.model_version or _note_model(event, source),
                "note_version": event.note_version,
                "object_id": event.object_id,
                "before": before,
                "after": after,
                "evidence": evidence,
            }
        )
    return records


def _note_model(event: LoggedEvent, source: EvidenceSource) -> str | None:
    if event.note_version is None or source.note_model is None:
        return None
    return source.note_model(event.note_version)


# -- evidence ------------------------------------------------------------------------------


def _evidence(event: LoggedEvent, kind: str, source: EvidenceSource) -> list[dict[str, Any]]:
    if kind in ("transcript_fix", "speaker_fix"):
        found = _TRANSCRIPT_ID.search(event.object_id or "")
        if found is None:
            return []
        version, idx = int(found.group(1)), int(found.group(2))
        segment = source.segment(version, idx)
        return [] if segment is None else [_span(version, segment, 0, len(segment.text))]
    if kind.startswith("entity_") and kind != "entity_confirm":
        found = _ENTITY_SET_ID.search(event.object_id or "")
        entity = event.after or event.before
        known = source.entity_set(int(found.group(1))) if found else None
        if known is None or not isinstance(entity, Mapping):
            return []
        return _entity_spans(source, known[0], [entity])
    if kind.startswith(("sentence_", "omission_")) and event.note_version is not None:
        known = source.sentence(event.note_version, event.object_id or "")
        if known is None:
            return []
        version, sentence = known
        return [
            _span(version, segment, ev.start_char, ev.end_char, (ev.start_s, ev.end_s))
            for ev in sentence.evidence
            if (segment := source.segment(version, ev.segment_idx)) is not None
        ]
    if kind in ("code_accept", "code_reject"):
        after = event.after or {}
        set_version = after.get("entity_set_version")
        known = source.entity_set(int(set_version)) if set_version is not None else None
        if known is None:
            return []
        version, entities = known
        picked = [entities[i] for i in after.get("evidence") or () if 0 <= i < len(entities)]
        return _entity_spans(
            source,
            version,
            [{"segment_idx": e.segment_idx, "start": e.start, "end": e.end} for e in picked],
        )
    return []


def _entity_spans(
    source: EvidenceSource, version: int, entities: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    spans = []
    for entity in entities:
        segment = source.segment(version, int(entity["segment_idx"]))
        start, end = int(entity["start"]), int(entity["end"])
        if segment is not None and 0 <= start < end <= len(segment.text):
            spans.append(_span(version, segment, start, end))
    return spans


def _span(
    version: int, segment: Segment, start: int, end: int, times: tuple[float, float] | None = None
) -> dict[str, Any]:
    start_s, end_s = times if times is not None else span_times(segment, start, end)
    return {
        "transcript_version": version,
        "segment_idx": segment.idx,
        "start_char": start,
        "end_char": end,
        "start_s": round(start_s, 3),
        "end_s": round(end_s, 3),
    }


# -- de-identification ---------------------------------------------------------------------


def _deidentify(
    event: LoggedEvent,
    before: Any,
    after: Any,
    evidence: list[dict[str, Any]],
    source: EvidenceSource,
    names: Sequence[str],
) -> tuple[Any, Any, list[dict[str, Any]]]:
    """Free text de-identified, entity and evidence offsets moved into the de-identified
    segment text (None where the span no longer maps)."""
    version = evidence[0]["transcript_version"] if evidence else None
    if version is None and (found := _ENTITY_SET_ID.search(event.object_id or "")):
        known = source.entity_set(int(found.group(1)))
        version = known[0] if known else None

    def move(segment_idx: int, start: int, end: int) -> tuple[int, int] | None:
        if version is None or source.deid_segment is None:
            return None
        plain = source.segment(version, segment_idx)
        masked = source.deid_segment(version, segment_idx)
        if plain is None or masked is None:
            return None
        return remap_span(plain.text, masked.text, start, end)

    def scrub(value: Any, key: str | None = None) -> Any:
        if isinstance(value, str):
            return value if key in _STRUCTURAL else deidentify(value, names).text
        if isinstance(value, list):
            return [scrub(v, key) for v in value]
        if not isinstance(value, Mapping):
            return value
        out = {k: scrub(v, k) for k, v in value.items()}
        if {"segment_idx", "start", "end"} <= out.keys() and isinstance(out["start"], int):
            moved = move(int(out["segment_idx"]), out["start"], out["end"])
            out["start"], out["end"] = moved if moved else (None, None)
            if moved and version is not None and source.deid_segment is not None:
                masked = source.deid_segment(version, int(out["segment_idx"]))
                out["text"] = masked.text[moved[0] : moved[1]] if masked else out["text"]
        return out

    if event.kind == "omission.added" and isinstance(after, Mapping):
        # Its offsets into the identified text: the record's ``evidence`` holds them, moved.
        after = {k: v for k, v in after.items() if k != "evidence"}
    spans = []
    for span in evidence:
        moved = move(span["segment_idx"], span["start_char"], span["end_char"])
        spans.append(
            {
                **span,
                "start_char": moved[0] if moved else None,
                "end_char": moved[1] if moved else None,
            }
        )
    return scrub(before), scrub(after), spans
