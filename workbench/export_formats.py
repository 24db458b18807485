"""The training-data export formats: a registry of writers, one per ``scribe export FORMAT``.

A writer reads the chosen encounters through the store's functions, formats them with
``pipelines.export`` and writes its files into an (empty, temporary) folder; the caller
(``workbench.training_export``) chose the encounters (roles, consent, ``--since``), and adds
the manifest and the export's events. A writer returns what it wrote, which encounters it
holds and which it left out and why.

Adding a format is one entry in ``FORMATS``. The writers import ``pipelines`` inside their
bodies: the CLI lists the formats on every start, and the formatting modules take about a
second to import.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench import store as db
from workbench.store.exports import entity_reviews
from workbench.store.known_names import encounter_names
from workbench.store.records import EntitySet

if TYPE_CHECKING:
    from pipelines.export.corrections import EvidenceSource
    from pipelines.types import Entity


@dataclass(frozen=True)
class ExportOptions:
    """What every writer is told: de-identify, and the ``--since`` time (UTC) if any."""

    deidentified: bool = False
    since: datetime | None = None


@dataclass
class FormatResult:
    """What a writer wrote: the record schema version, its files, how many records (None:
    the writer does not say), the encounters the files hold, those it left out by reason,
    and format details."""

    schema: str
    files: list[Path]
    records: int | None
    encounters: list[str]
    skipped: dict[str, list[str]] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    def skip(self, reason: str, encounter_id: str) -> None:
        self.skipped.setdefault(reason, []).append(encounter_id)


Writer = Callable[[db.Store, list[str], Path, ExportOptions], FormatResult]
FilesWriter = Callable[..., list[Path]]


@dataclass(frozen=True)
class ExportFormat:
    """One ``scribe export`` format: its name, a help line and its writer."""

    name: str
    description: str
    write: Writer


def write_labelstudio(
    store: db.Store, encounter_ids: list[str], out_dir: Path, options: ExportOptions
) -> FormatResult:
    """``labelstudio``: one Label Studio task per encounter with a transcript (its newest
    version, the model's entities as predictions) and the labelling config
    (``workbench.labelstudio_export``); encounters without a transcript are skipped."""
    from workbench.labelstudio_export import SCHEMA, write_labelstudio_export

    result = FormatResult(SCHEMA, [], 0, [])
    for encounter_id in encounter_ids:
        if db.latest_transcript_version(store, encounter_id) is None:
            result.skip("no_transcript", encounter_id)
        else:
            result.encounters.append(encounter_id)
    files = write_labelstudio_export(
        store, result.encounters, out_dir, deidentified=options.deidentified
    )
    result.files = [Path(f) for f in files]
    result.records = len(result.encounters)
    return result


# -- transcript -> signed note pairs (jsonl, parquet) ------------------------------------------


def signed_pairs(
    store: db.Store, encounter_ids: Sequence[str], options: ExportOptions
) -> tuple[list[dict[str, Any]], FormatResult]:
    """One ``training_record`` per encounter with a signed note: its newest signed version and
    the transcript version that note rests on. Unsigned encounters are skipped."""
    from pipelines.export.training import FORMAT, training_record

    result = FormatResult(FORMAT, [], 0, [])
    records = []
    for encounter_id in encounter_ids:
        signatures = db.list_signatures(store, encounter_id)
        if not signatures:
            result.skip("not_signed", encounter_id)
            continue
        signed = signatures[-1]
        note = db.get_note(store, encounter_id, signed.note_version)
        found = db.get_transcript(store, encounter_id, note.transcript_version)
        if found is None:
            result.skip("no_transcript", encounter_id)
            continue
        version, transcript = found
        records.append(
            training_record(
                encounter_id,
                transcript,
                note.draft,
                transcript_version=version,
                note_version=note.version,
                deid=options.deidentified,
                known_names=_names(store, encounter_id, options),
                signed_at=signed.signed_at,
            )
        )
        result.encounters.append(encounter_id)
    result.records = len(records)
    return records, result


def write_jsonl_pairs(
    store: db.Store, encounter_ids: list[str], out_dir: Path, options: ExportOptions
) -> FormatResult:
    """``pairs.jsonl``: transcript -> signed note records (``scribe.training.v2``)."""
    from pipelines.export.files import write_jsonl

    records, result = signed_pairs(store, encounter_ids, options)
    path = out_dir / "pairs.jsonl"
    write_jsonl(path, records)
    result.files.append(path)
    return result


def write_parquet_pairs(
    store: db.Store, encounter_ids: list[str], out_dir: Path, options: ExportOptions
) -> FormatResult:
    """``pairs.parquet``: the same records as ``jsonl``, with fixed column types."""
    from pipelines.export.files import TRAINING_SCHEMA, write_parquet

    records, result = signed_pairs(store, encounter_ids, options)
    path = out_dir / "pairs.parquet"
    write_parquet(path, records, TRAINING_SCHEMA)
    result.files.append(path)
    return result


# -- preference pairs --------------------------------------------------------------------------


def write_preference(
    store: db.Store, encounter_ids: list[str], out_dir: Path, options: ExportOptions
) -> FormatResult:
    """``preference.jsonl``: the AI draft (rejected) against the newest signed note (chosen)
    where the clinician changed it; the prompt is the transcript the signed note rests on."""
    from pipelines.export.files import write_jsonl
    from pipelines.export.preference import FORMAT, preference_record

    result = FormatResult(FORMAT, [], 0, [])
    records = []
    for encounter_id in encounter_ids:
        signatures = db.list_signatures(store, encounter_id)
        if not signatures:
            result.skip("not_signed", encounter_id)
            continue
        note = db.get_note(store, encounter_id, signatures[-1].note_version)
        ai = db.machine_draft(store, encounter_id, note.version)
        found = db.get_transcript(store, encounter_id, note.transcript_version)
        if ai is None or found is None:
            result.skip("no_ai_draft" if ai is None else "no_transcript", encounter_id)
            continue
        record = preference_record(
            encounter_id,
            found[1],
            ai.draft,
            note.draft,
            transcript_version=found[0],
            draft_version=ai.version,
            note_version=note.version,
            signed_at=signatures[-1].signed_at,
            deid=options.deidentified,
            known_names=_names(store, encounter_id, options),
        )
        if record is None:
            result.skip("signed_as_drafted", encounter_id)
            continue
        records.append(record)
        result.encounters.append(encounter_id)
    path = out_dir / "preference.jsonl"
    result.records = write_jsonl(path, records)
    result.files.append(path)
    return result


# -- spaCy NER ---------------------------------------------------------------------------------


def ner_spans(
    store: db.Store, encounter_id: str, entity_set: EntitySet
) -> tuple[tuple[Entity, ...], str]:
    """The spans the NER export teaches for an encounter, and where they come from.

    This is the one place where adjudicated annotation gold (``annotation_tasks.gold``)
    replaces the reviewed entity set: its entity-label spans, returned with "gold", when
    every one of them still quotes the entity set's transcript (gold made on an older
    transcript version is not trusted). Otherwise the newest entity set, "entity_set".
    """
    from pipelines.schema import load_label_schema
    from pipelines.types import Entity
    from workbench.store.annotation_tasks import gold

    choice = gold(store, encounter_id, "entities")
    if choice is None:
        return entity_set.entities, "entity_set"
    found = db.get_transcript(store, encounter_id, entity_set.transcript_version)
    labels = set(load_label_schema().names)
    spans = [
        a
        for a in choice.annotations
        if a.kind == "span" and a.label in labels and a.origin != "suggestion"
    ]
    segments = found[1].segments if found else ()
    if not all(
        a.segment_idx is not None
        and a.segment_idx < len(segments)
        and segments[a.segment_idx].text[a.start_char : a.end_char] == a.text
        for a in spans
    ):
        return entity_set.entities, "entity_set"
    flags = ("negated", "historical", "family", "hypothetical", "uncertain")
    entities = tuple(
        Entity(
            a.segment_idx, a.start_char, a.end_char, a.text or "", a.label or "",
            **{f: f in a.value.get("context", ()) for f in flags},
            attributes=dict(a.value.get("attributes") or {}),
            source="human",
        )
        for a in sorted(spans, key=lambda a: (a.segment_idx, a.start_char))
    )  # fmt: skip
    return entities, "gold"


def write_spacy(
    store: db.Store, encounter_ids: list[str], out_dir: Path, options: ExportOptions
) -> FormatResult:
    """``ner.spacy``: a DocBin with one Doc per transcript segment of every encounter whose
    entities a person reviewed (corrected or confirmed), labelled with that entity set."""
    import spacy

    from pipelines.export.ner import FORMAT, ner_encounter, write_docbin
    from pipelines.schema import load_label_schema

    result = FormatResult(FORMAT, [], 0, [])
    reviewed = entity_reviews(store, encounter_ids)
    encounters, counts, sources = [], Counter(), Counter()
    for encounter_id in encounter_ids:
        entity_set = db.get_entity_set(store, encounter_id)
        if entity_set is None:
            result.skip("no_entities", encounter_id)
            continue
        entities, source = ner_spans(store, encounter_id, entity_set)
        if source != "gold" and encounter_id not in reviewed:
            result.skip("entities_not_reviewed", encounter_id)
            continue
        _, transcript = db.get_transcript(store, encounter_id, entity_set.transcript_version)
        sources[source] += 1
        annotated, dropped = ner_encounter(
            encounter_id,
            transcript,
            entities,
            deid=options.deidentified,
            known_names=_names(store, encounter_id, options),
        )
        counts.update(dropped)
        encounters.append(annotated)
        result.encounters.append(encounter_id)
    labels = load_label_schema().names
    path = out_dir / "ner.spacy"
    counts.update(write_docbin(spacy.blank("en"), encounters, labels, path))
    result.files.append(path)
    result.records = counts.pop("docs", 0)
    result.details = {
        "tokenizer": "spacy.blank('en') " + spacy.__version__,
        "labels": list(labels),
        "spans_by_label": {k[6:]: v for k, v in sorted(counts.items()) if k.startswith("label:")},
        "span_sources": dict(sources),
        "spans_expanded_to_tokens": counts["expanded_to_tokens"],
        "spans_dropped": {
            k: counts[k]
            for k in (
                "dropped_misaligned",
                "dropped_overlapping",
                "dropped_unknown_label",
                "dropped_bad_offsets",
                "dropped_phi_overlap",
            )
        },
    }
    return result


# -- typed corrections -------------------------------------------------------------------------


def write_corrections(
    store: db.Store, encounter_ids: list[str], out_dir: Path, options: ExportOptions
) -> FormatResult:
    """``corrections.jsonl``: people's corrections as typed edit records with evidence spans
    (``pipelines.export.corrections``); with ``--since`` only those made since."""
    from pipelines.export import corrections as corr
    from pipelines.export.files import write_jsonl

    result = FormatResult(corr.FORMAT, [], 0, [])
    counts = corr.CorrectionCounts()
    users = corr.Pseudonyms()
    records: list[dict[str, Any]] = []
    for encounter_id in encounter_ids:
        events = db.list_events(store, encounter_id)
        if options.since is not None:
            events = [e for e in events if e.ts >= options.since]
        found = corr.correction_records(
            events,
            evidence_source(store, encounter_id, options.deidentified),
            counts,
            deid=options.deidentified,
            known_names=_names(store, encounter_id, options),
            users=users,
        )
        if not found:
            result.skip("no_corrections", encounter_id)
            continue
        records += found
        result.encounters.append(encounter_id)
    path = out_dir / "corrections.jsonl"
    result.records = write_jsonl(path, records)
    result.files.append(path)
    result.details = {
        "records_by_type": dict(sorted(counts.records.items())),
        "events_not_corrections": dict(sorted(counts.not_corrections.items())),
        "events_unknown_kind": dict(sorted(counts.unknown_kinds.items())),
    }
    return result


def evidence_source(store: db.Store, encounter_id: str, deid: bool) -> EvidenceSource:
    """Cached look-ups of the encounter's transcript, note and entity set versions."""
    from pipelines.deid import deidentify_transcript
    from pipelines.export.corrections import EvidenceSource

    @cache
    def transcript(version: int):
        found = db.get_transcript(store, encounter_id, version)
        return None if found is None else {s.idx: s for s in found[1].segments}

    @cache
    def masked(version: int):
        found = db.get_transcript(store, encounter_id, version)
        if found is None:
            return None
        names = encounter_names(store, encounter_id)
        return {s.idx: s for s in deidentify_transcript(found[1], names).segments}

    @cache
    def note(version: int):
        try:
            return db.get_note(store, encounter_id, version)
        except db.NotFound:
            return None

    def segment(version: int, idx: int):
        return (transcript(version) or {}).get(idx)

    def deid_segment(version: int, idx: int):
        return (masked(version) or {}).get(idx)

    def sentence(version: int, sentence_id: str):
        current = note(version)
        if current is None:
            return None
        # A deleted sentence is gone from the version its event names: read its parent.
        candidates = [current]
        if current.parent_version is not None and (parent := note(current.parent_version)):
            candidates.append(parent)
        for candidate in candidates:
            for s in candidate.draft.sentences:
                if s.sentence_id == sentence_id:
                    return candidate.transcript_version, s
        return None

    @cache
    def entity_set(version: int):
        try:
            found = db.get_entity_set(store, encounter_id, version=version)
        except db.NotFound:
            return None
        return None if found is None else (found.transcript_version, found.entities)

    def note_model(version: int):
        found = note(version)
        return None if found is None else found.draft.model_version

    return EvidenceSource(segment, sentence, entity_set, deid_segment if deid else None, note_model)


def _names(store: db.Store, encounter_id: str, options: ExportOptions) -> tuple[str, ...]:
    return encounter_names(store, encounter_id) if options.deidentified else ()


FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat(
            "spacy",
            "spaCy DocBin (ner.spacy) of reviewed entities, one Doc per transcript segment",
            write_spacy,
        ),
        ExportFormat(
            "jsonl",
            "transcript -> signed note pairs as JSON Lines (pairs.jsonl)",
            write_jsonl_pairs,
        ),
        ExportFormat(
            "parquet",
            "transcript -> signed note pairs as Parquet (pairs.parquet)",
            write_parquet_pairs,
        ),
        ExportFormat(
            "preference",
            "AI draft vs signed note preference pairs (preference.jsonl)",
            write_preference,
        ),
        ExportFormat(
            "corrections",
            "typed correction records with evidence spans (corrections.jsonl)",
            write_corrections,
        ),
        ExportFormat(
            "labelstudio",
            "Label Studio tasks with model predictions, and the labelling config",
            write_labelstudio,
        ),
    )
}
