"""Evaluation and training data for notes: dialogue/note CSVs, prediction CSVs, ACI-Bench splits.

- A data CSV has the columns ``encounter_id, dialogue, note`` (the ACI-Bench split files);
  ``dialogue`` is one turn per line, ``[doctor]`` / ``[patient]`` (or ``D:`` / ``P:``).
- A prediction CSV has ``encounter_id`` and ``note`` (all the layouts in
  ``aci-bench/baselines/predictions``: the BART/retrieval files add ``dataset, dialogue``, the
  OpenAI files ``Dialogues, Reference Summaries``).

A dialogue becomes a ``Transcript`` with ``pipelines.verify.dialogue_transcript``.
"""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass
from pathlib import Path

from pipelines.asr_eval.datasets import ACI_SPLITS

DATA_COLUMNS = ("encounter_id", "dialogue", "note")
PREDICTION_COLUMNS = ("encounter_id", "note")


class NoteDataError(ValueError):
    """A data or prediction CSV that is missing, malformed or lacks a column."""


@dataclass(frozen=True)
class NoteExample:
    """One encounter: its dialogue text and the reference note."""

    encounter_id: str
    dialogue: str
    note: str


def _rows(path: Path, required: tuple[str, ...]) -> list[dict[str, str]]:
    path = Path(path)
    if not path.is_file():
        raise NoteDataError(f"{path}: no such file")
    csv.field_size_limit(sys.maxsize)  # whole dialogues sit in one cell
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in required if c not in (reader.fieldnames or ())]
            if missing:
                raise NoteDataError(
                    f"{path}: missing column(s) {', '.join(missing)}; "
                    f"found {', '.join(reader.fieldnames or ()) or 'none'}"
                )
            return list(reader)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise NoteDataError(f"{path}: not a readable UTF-8 CSV ({exc})") from None


def read_examples(path: Path) -> list[NoteExample]:
    """The rows of a data CSV (``encounter_id, dialogue, note``), in file order.

    Raises NoteDataError for a missing file or column, an empty file or a repeated id.
    """
    rows = _rows(path, DATA_COLUMNS)
    if not rows:
        raise NoteDataError(f"{path}: no rows")
    examples = [NoteExample(r["encounter_id"].strip(), r["dialogue"], r["note"]) for r in rows]
    ids = [e.encounter_id for e in examples]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated or "" in ids:
        raise NoteDataError(f"{path}: encounter_id empty or repeated ({repeated[:5]})")
    return examples


def read_predictions(path: Path) -> dict[str, str]:
    """``{encounter_id: note}`` of a prediction CSV; an empty cell is an empty note."""
    rows = _rows(path, PREDICTION_COLUMNS)
    return {r["encounter_id"].strip(): r["note"] or "" for r in rows}


# -- the shipped ACI-Bench splits --------------------------------------------------------

# Baselines of the paper whose predictions ship in aci-bench/baselines/predictions.
ACI_BASELINES: dict[str, dict[str, str]] = {
    "test1": {
        "GPT-4": "test1GPT-4_.csv",
        "BART+FT_SAMSum (Division)": (
            "bart-large-xsum-samsum_clinicalnlp_taskB_test1_division_combined.csv"
        ),
        "train_UMLS": "UMLS_similarity_clinicalnlp_taskB_test1.csv",
        "transcript": "transcript_clinicalnlp_taskB_test1.csv",
    },
    "test2": {"GPT-4": "test2GPT-4_.csv"},
}


def aci_split_files(aci_root: Path, split: str) -> tuple[Path, dict[str, Path]]:
    """The data CSV of an ACI-Bench split and its baselines' prediction CSVs that exist.

    Raises NoteDataError for an unknown split or a missing split file.
    """
    if split not in ACI_SPLITS:
        raise NoteDataError(f"unknown ACI-Bench split {split!r}; use one of {sorted(ACI_SPLITS)}")
    data = Path(aci_root) / "data" / "challenge_data" / ACI_SPLITS[split]
    if not data.is_file():
        raise NoteDataError(f"{data} not found (set SCRIBE_DATASETS)")
    folder = Path(aci_root) / "baselines" / "predictions"
    baselines = {
        name: folder / file
        for name, file in ACI_BASELINES.get(split, {}).items()
        if (folder / file).is_file()
    }
    return data, baselines
