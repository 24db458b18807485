"""Record files of the training-data exports: JSON Lines and Parquet with fixed types.

The Parquet schema is written out (``TRAINING_SCHEMA``) instead of inferred, so every file
has the same column types whatever its first rows hold (an empty export included), and
``datasets.load_dataset("parquet")`` reads the same columns as ``load_dataset("json")``
(whose reader parses ISO times: ``signed_at`` is a timestamp in both, of seconds from
JSON and of milliseconds from Parquet, which has no seconds unit).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

_WORD = pa.struct(
    [
        ("start", pa.float64()),
        ("end", pa.float64()),
        ("text", pa.string()),
        ("probability", pa.float64()),
    ]
)
_SEGMENT = pa.struct(
    [
        ("idx", pa.int64()),
        ("start", pa.float64()),
        ("end", pa.float64()),
        ("speaker", pa.string()),
        ("text", pa.string()),
        ("words", pa.list_(_WORD)),
    ]
)
_SENTENCE = pa.struct(
    [("sentence_id", pa.string()), ("section", pa.string()), ("text", pa.string())]
)
# The columns of ``pipelines.export.training.training_record`` (scribe.training.v2).
TRAINING_SCHEMA = pa.schema(
    [
        ("format", pa.string()),
        ("encounter_id", pa.string()),
        ("deidentified", pa.bool_()),
        ("transcript_version", pa.int64()),
        ("note_version", pa.int64()),
        ("language", pa.string()),
        ("duration_s", pa.float64()),
        ("transcript", pa.string()),
        ("note_text", pa.string()),
        ("note_model_version", pa.string()),
        ("signed_at", pa.timestamp("ms")),  # Parquet has no seconds unit
        ("segments", pa.list_(_SEGMENT)),
        ("note", pa.struct([("template", pa.string()), ("sentences", pa.list_(_SENTENCE))])),
    ]
)


def write_jsonl(path: Path, records: Iterable[dict[str, Any]]) -> int:
    """One JSON object a line (UTF-8, non-ASCII kept); returns how many were written."""
    n = 0
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            n += 1
    return n


def write_parquet(path: Path, records: list[dict[str, Any]], schema: pa.Schema) -> int:
    """The records as one Parquet file with ``schema``; a field the schema lacks is an
    error, never silently dropped. Returns how many rows were written."""
    names = set(schema.names)
    for record in records:
        extra = set(record) - names
        if extra:
            raise ValueError(f"Fields not in the Parquet schema: {', '.join(sorted(extra))}")
    # Times are ISO strings in the records: read as strings, then cast (parsed) to the schema.
    as_text = pa.schema(
        [pa.field(f.name, pa.string()) if pa.types.is_timestamp(f.type) else f for f in schema]
    )
    table = pa.Table.from_pylist(records, schema=as_text).cast(schema)
    pq.write_table(table, path)
    return table.num_rows
