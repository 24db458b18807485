"""De-identified exports: the signed note (text, FHIR) and training data, API and CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fhir.resources.R4B.documentreference import DocumentReference

from pipelines.export import deidentify_note
from tests.conftest import REPO, make_draft, make_transcript
from workbench import store as st
from workbench.export import export_note, export_training, signed_note

TURNS = [
    ("clinician", "Good morning Mrs. Lopez, I'm Dr. Adams. Your pressure is 120 over 80."),
    ("patient", "Morning. My new number is 206-555-0147, and I was born 03/04/1931."),
    ("clinician", "Maria, keep lisinopril 10 mg daily."),
]
SECRETS = ("Lopez", "Maria", "Adams", "206-555-0147", "03/04/1931")


def _encounter(data: Path) -> st.Store:
    store = st.open_store(data)
    st.ensure_user(store, "dr-ada", "Dr Ada Adams", "clinician")
    st.add_encounter(
        store,
        st.EncounterRecord(
            "enc-d", "Visit with Maria Lopez", clinician="dr-ada", patient_label="Maria Lopez"
        ),
        "dr-ada",
    )
    st.set_consent(store, "enc-d", True, "dr-ada")  # training exports need it
    transcript = make_transcript(TURNS)
    version = st.save_transcript(store, "enc-d", transcript, "dr-ada")
    st.save_draft(store, "enc-d", make_draft(transcript), version, "dr-ada")
    note = st.get_note(store, "enc-d")
    st.sign_note(store, "enc-d", note.version, "dr-ada")
    return store


def test_deidentified_text_export(tmp_path: Path) -> None:
    store = _encounter(tmp_path / "data")
    plain = export_note(store, "enc-d", "text", "dr-ada").content.decode()
    assert "Lopez" in plain and "Dr Ada Adams (dr-ada)" in plain
    exported = export_note(store, "enc-d", "text", "dr-ada", deid=True)
    text = exported.content.decode()
    for secret in (*SECRETS, "dr-ada"):
        assert secret not in text, secret
    assert "De-identified copy" in text
    assert "Patient: [NAME]" in text
    # Clinical content is kept.
    assert "Good morning Mrs. [NAME], I'm Dr. [NAME]. Your pressure is 120 over 80." in text
    signature = [line for line in text.splitlines() if line.startswith("Electronically")]
    assert len(signature) == 1 and signature[0].startswith("Electronically signed by [NAME] in ")
    assert exported.filename.endswith("-deid.txt")
    event = st.list_events(store, "enc-d", "note.exported")[-1]
    assert event.after["deidentified"] is True and "Lopez" not in json.dumps(event.after)


def test_deidentified_fhir_export_validates(tmp_path: Path) -> None:
    store = _encounter(tmp_path / "data")
    raw = export_note(store, "enc-d", "fhir", "dr-ada", deid=True).content
    resource = DocumentReference.model_validate_json(raw)
    body = resource.content[0].attachment.data.decode("utf-8")
    everything = raw.decode() + body
    for secret in SECRETS:
        assert secret not in everything, secret
    assert resource.subject.display == "[NAME]"
    assert resource.date.month == 1 and resource.date.day == 1  # only the year is kept


def test_deidentify_note_keeps_versions_and_sections(tmp_path: Path) -> None:
    store = _encounter(tmp_path / "data")
    note = signed_note(store, "enc-d")
    copy = deidentify_note(note, ["Maria Lopez"])
    assert (copy.encounter_id, copy.version) == (note.encounter_id, note.version)
    assert [s.section for s in copy.draft.sentences] == [s.section for s in note.draft.sentences]
    assert copy.signed_at.year == note.signed_at_utc.year
    assert note.patient_label == "Maria Lopez"  # the original is untouched


def test_training_export_keeps_timings(tmp_path: Path) -> None:
    store = _encounter(tmp_path / "data")
    (record,) = export_training(store, ["enc-d"], "dr-ada", deid=True)
    dumped = json.dumps(record)
    for secret in SECRETS:
        assert secret not in dumped, secret
    _, original = st.get_transcript(store, "enc-d")
    for seg, out in zip(original.segments, record["segments"], strict=True):
        assert [(w.start, w.end) for w in seg.words] == [
            (w["start"], w["end"]) for w in out["words"]
        ]
        assert "".join(w["text"] for w in out["words"]).strip() == out["text"]
    assert record["deidentified"] is True
    assert record["note"]["sentences"][0]["text"].startswith("Good morning Mrs. [NAME]")
    (plain,) = export_training(store, ["enc-d"], "dr-ada")
    assert "Lopez" in json.dumps(plain)
    kinds = [e.after["deidentified"] for e in st.list_events(store, "enc-d", "training.exported")]
    assert kinds == [True, False]


def test_training_export_refuses_unknown_encounter(tmp_path: Path) -> None:
    store = _encounter(tmp_path / "data")
    with pytest.raises(st.NotFound, match="No encounter nope"):
        export_training(store, ["enc-d", "nope"], "dr-ada")


def _scribe(data: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "workbench.cli", "--data-dir", str(data), *args],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=REPO,
        env={**os.environ, "SCRIBE_USER": "dr-cli"},
    )


def test_cli_deid_flags(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _encounter(data)
    note = _scribe(data, "export", "note", "enc-d", "--deid")
    assert note.returncode == 0, note.stderr
    assert "[NAME]" in note.stdout and "Lopez" not in note.stdout
    out = tmp_path / "train.jsonl"
    training = _scribe(data, "export", "training", "--out", str(out), "--deid")
    assert training.returncode == 0, training.stderr
    (line,) = out.read_text().splitlines()
    assert json.loads(line)["encounter_id"] == "enc-d" and "Lopez" not in line
    missing = _scribe(data, "export", "training", "nope", "--out", str(out))
    assert missing.returncode == 1 and "No encounter nope" in missing.stderr
