"""Seconds and counts of every training-data export on the demo encounters, after a review.

A copy of a demo data folder (``scribe demo --no-serve``) gets a scripted review of every
encounter through the real store: one transcript word fixed (``correct_transcript``), the
first entity relabelled, the last removed, the set confirmed, every sentence accepted, the
first edited, the last rejected, the note signed. Then each format of
``workbench.export_formats`` is exported twice (identified and ``--deidentified``), each
export checked against its manifest (``verify_export``).

``python -m benchmarks.exports [DATA_DIR]`` (default: builds the demo into a temporary
folder, about a minute of ASR) prints one JSON object as its last line and writes it to
``benchmarks/exports.json``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from pipelines.export.manifest import verify_export
from pipelines.nlp import NlpOptions, load_nlp
from pipelines.schema import load_label_schema
from pipelines.transcript_edit import SegmentFix
from workbench import store as st
from workbench.corrections import correct_transcript
from workbench.export_formats import FORMATS
from workbench.training_export import ExportRequest, export_dataset

REPO = Path(__file__).resolve().parents[1]
USER = "admin"


def build_demo(data: Path) -> None:
    """``scribe demo --no-serve`` into ``data``."""
    subprocess.run(
        [sys.executable, "-m", "workbench.cli", "--data-dir", str(data), "demo", "--no-serve"],
        check=True,
        cwd=REPO,
        capture_output=True,
    )


def review(store: st.Store, nlp, encounter_id: str) -> None:
    """The scripted review of one encounter (see the module docstring)."""
    version, transcript = st.get_transcript(store, encounter_id)
    segment = next(s for s in transcript.segments if len(s.text.split()) > 3)
    words = segment.text.split()
    words[1] = words[1].upper()  # a one-word correction
    correct_transcript(
        store, nlp, encounter_id, version, [SegmentFix(segment.idx, text=" ".join(words))], USER
    )
    entity_set = st.get_entity_set(store, encounter_id)
    labels = load_label_schema().names
    entity_version = entity_set.version
    if entity_set.entities:
        first = entity_set.entities[0]
        other = next(label for label in labels if label != first.label)
        entity_version = st.relabel_entity(store, encounter_id, entity_version, 0, other, USER)
    if len(entity_set.entities) > 1:
        last = len(entity_set.entities) - 1
        entity_version = st.remove_entity(store, encounter_id, entity_version, last, USER)
    st.confirm_entities(store, encounter_id, entity_version, USER)
    note = st.get_note(store, encounter_id)
    st.accept_sentences(
        store, encounter_id, note.version, [s.sentence_id for s in note.draft.sentences], USER
    )
    sentences = note.draft.sentences
    edited = (replace(sentences[0], text=sentences[0].text + " Reviewed."), *sentences[1:-1])
    st.save_note(store, encounter_id, note.version, edited, USER)
    st.sign_note(store, encounter_id, st.get_note(store, encounter_id).version, USER)


def run(source: Path | None = None) -> dict:
    """Review a copy of the demo and time every export; returns the JSON report."""
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        if source is None:
            build_demo(data)
        else:
            shutil.copytree(source, data)
        store = st.open_store(data)
        st.ensure_user(store, USER, "Demo admin", "admin")
        nlp = load_nlp(NlpOptions(vocabularies=("curated",)))
        ids = sorted(s.encounter.encounter_id for s in st.list_encounters(store))
        started = time.perf_counter()
        for encounter_id in ids:
            review(store, nlp, encounter_id)
        review_s = time.perf_counter() - started
        exports = {}
        for fmt in FORMATS:
            for deid in (False, True):
                out = Path(tmp) / f"{fmt}{'-deid' if deid else ''}"
                summary = export_dataset(store, ExportRequest(fmt, out, deidentified=deid), USER)
                manifest = summary.manifest
                exports[out.name] = {
                    "seconds": round(summary.seconds, 2),
                    "encounters": manifest["counts"]["encounters"],
                    "records": manifest["counts"]["records"],
                    "skipped": manifest["counts"]["skipped"],
                    "bytes": sum(f["bytes"] for f in manifest["files"]),
                    "verified": verify_export(out) == [],
                    **({"details": manifest["details"]} if manifest["details"] else {}),
                }
    return {
        "benchmark": "exports",
        "data": "demo encounters (scribe demo --no-serve), scripted review",
        "encounters": len(ids),
        "review_s": round(review_s, 2),
        "exports": exports,
    }


if __name__ == "__main__":
    report = run(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
    text = json.dumps(report, indent=1)
    (REPO / "benchmarks" / "exports.json").write_text(text + "\n")
    print(json.dumps(report))
