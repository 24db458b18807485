"""Fast multi-row inserts: DuckDB inserts an Arrow table far faster than executemany.

Besides the row tables of transcripts, entity sets and notes, the head tables are here too so
that a large database (a benchmark's, an import's) can be written in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pyarrow as pa

# Table and column names are fixed identifiers from this package, never user input.
_TABLES = {
    "encounters": (
        "encounter_id",
        "title",
        "specialty",
        "visit_type",
        "clinician",
        "patient_label",
        "audio_sha256",
        "source",
        "created_at",
        "created_by",
    ),
    "audio_files": (
        "sha256",
        "stored_path",
        "original_name",
        "format",
        "duration_s",
        "sample_rate",
        "channels",
        "size_bytes",
        "created_at",
    ),
    "transcripts": (
        "encounter_id",
        "version",
        "model",
        "language",
        "duration_s",
        "input_sha256",
        "options",
        "created_at",
        "created_by",
    ),
    "notes": (
        "encounter_id",
        "version",
        "parent_version",
        "template",
        "sections",
        "model_version",
        "transcript_version",
        "input_sha256",
        "options",
        "created_at",
        "created_by",
    ),
    "signatures": ("encounter_id", "note_version", "signed_by", "signed_at", "attestation"),
    "segments": (
        "encounter_id",
        "transcript_version",
        "idx",
        "start_s",
        "end_s",
        "speaker",
        "text",
        "avg_logprob",
        "no_speech_prob",
        "compression_ratio",
    ),
    "words": (
        "encounter_id",
        "transcript_version",
        "segment_idx",
        "idx",
        "start_s",
        "end_s",
        "text",
        "probability",
    ),
    "entities": (
        "encounter_id",
        "set_version",
        "idx",
        "segment_idx",
        "start_char",
        "end_char",
        "text",
        "label",
        "negated",
        "historical",
        "family",
        "hypothetical",
        "uncertain",
        "code",
        "code_system",
        "code_label",
        "attributes",
        "source",
    ),
    "note_sentences": (
        "encounter_id",
        "note_version",
        "idx",
        "sentence_id",
        "section",
        "text",
        "origin",
    ),
    "evidence": (
        "encounter_id",
        "note_version",
        "sentence_idx",
        "idx",
        "segment_idx",
        "start_char",
        "end_char",
        "start_s",
        "end_s",
    ),
    "entity_sets": (
        "encounter_id",
        "version",
        "transcript_version",
        "model_version",
        "created_at",
        "created_by",
    ),
    "events": (
        "event_id",
        "ts",
        "user_id",
        "encounter_id",
        "kind",
        "object_type",
        "object_id",
        "before",
        "after",
        "model_version",
        "note_version",
    ),
    "support_checks": (
        "check_id",
        "encounter_id",
        "note_version",
        "transcript_version",
        "entity_set_version",
        "checker_version",
        "options",
        "sentences",
        "unsupported",
        "partly_supported",
        "omissions",
        "seconds",
        "created_at",
        "created_by",
    ),
    "sentence_support": (
        "check_id",
        "idx",
        "sentence_id",
        "section",
        "text",
        "label",
        "score",
        "reasons",
        "evidence",
        "concepts",
        "linked",
    ),
}

_INSERT_SQL = {
    table: "INSERT INTO " + table + " (" + ", ".join(cols) + ") SELECT * FROM _bulk_rows"
    for table, cols in _TABLES.items()
}


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[tuple]) -> None:
    """Insert tuples (in the column order above) into one of the known tables."""
    if not rows:
        return
    columns = _TABLES[table]
    if any(len(row) != len(columns) for row in rows):
        raise ValueError(f"{table} rows need {len(columns)} values: {', '.join(columns)}")
    # Column lists, not a dict per row: Arrow builds them several times faster.
    arrow = pa.table(dict(zip(columns, (list(c) for c in zip(*rows, strict=True)), strict=True)))
    con.register("_bulk_rows", arrow)
    try:
        con.execute(_INSERT_SQL[table])
    finally:
        con.unregister("_bulk_rows")
