"""Training corpora for the drafter, read from ``$SCRIBE_DATASETS`` (never test splits).

- ACI-Bench ``train`` (and ``valid`` for model selection): whole visits with full notes.
- MTS-Dialog training set: short dialogue snippets, each with one note section and its
  heading (``GENHX``, ``ROS``, ``PLAN``, ...), written here as a one-section note.
- PriMock57: mock consultations (doctor and patient TextGrid tiers) with the clinician's own
  free-text note, which has no headings (its lines count as ``hpi`` for phrase mining; the
  router does not learn kinds from it).
"""

from __future__ import annotations

import json
from pathlib import Path

from pipelines.asr_eval.datasets import ACI_SPLITS
from pipelines.note_eval.data import NoteDataError, NoteExample, read_examples

TRAINING_SPLITS = ("train", "valid")  # test1/test2 are for measuring only
MTS_TRAIN = Path("mts-dialog") / "Main-Dataset" / "MTS-Dialog-TrainingSet.csv"


def aci_split(datasets: Path, split: str) -> list[NoteExample]:
    """An ACI-Bench training split; refuses test splits."""
    if split not in TRAINING_SPLITS:
        raise NoteDataError(f"{split!r} is not a training split (use {TRAINING_SPLITS})")
    return read_examples(
        Path(datasets) / "aci-bench" / "data" / "challenge_data" / ACI_SPLITS[split]
    )


def mts_dialog(datasets: Path) -> list[NoteExample]:
    """MTS-Dialog training snippets as one-section notes ("PLAN\\n<section text>")."""
    import csv

    path = Path(datasets) / MTS_TRAIN
    if not path.is_file():
        raise NoteDataError(f"{path} not found")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [
        NoteExample(
            f"mts:{r['ID']}",
            r["dialogue"],
            f"{r['section_header'].strip().upper()}\n{r['section_text']}",
        )
        for r in rows
    ]


def primock57(datasets: Path) -> list[NoteExample]:
    """PriMock57 consultations: merged doctor/patient transcript and the clinician's note."""
    from pipelines.nlp_eval.documents import primock_text

    root = Path(datasets) / "primock57"
    if not (root / "notes").is_dir():
        raise NoteDataError(f"{root / 'notes'} not found")
    out = []
    for note_file in sorted((root / "notes").glob("day*_consultation*.json")):
        name = note_file.stem
        note = json.loads(note_file.read_text(encoding="utf-8"))
        out.append(NoteExample(f"primock57:{name}", primock_text(root, name), note["note"]))
    return out
