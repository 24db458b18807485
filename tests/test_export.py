"""Export of a signed note: plain text and a FHIR R4 DocumentReference, CLI and Review page."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from fhir.resources.R4B.documentreference import DocumentReference

from pipelines.export import ExportError, document_reference, render_text
from tests.conftest import REPO, make_draft, make_transcript, open_review, seed_encounter
from workbench import store as st
from workbench.export import export_note, signed_note
from workbench.simulate import SimulationSpec, simulate

TURNS = [
    ("clinician", "What brings you in today?"),
    ("patient", "I have had a cough for three days."),
    ("clinician", "We will start amoxicillin 500 milligrams three times a day."),
]


def _signed(store: st.Store, encounter_id: str = "enc-1") -> int:
    st.ensure_user(store, "dr-ada", "Dr Ada Adams", "clinician")
    note = st.get_note(store, encounter_id)
    st.sign_note(store, encounter_id, note.version, "dr-ada")
    return note.version


def test_plain_text_has_header_sections_and_signature(store: st.Store, encounter: str) -> None:
    version = _signed(store, encounter)
    text = render_text(signed_note(store, encounter))
    lines = text.splitlines()
    assert lines[0] == "Test visit"
    assert f"Encounter: {encounter}" in lines and f"Note version: {version}" in lines
    # Template headings, in note order, each followed by its sentences; empty sections left out.
    assert lines.index("SUBJECTIVE") < lines.index("What brings you in today?")
    assert lines.index("PLAN") < lines.index("I have had a cough for three days.")
    assert "OBJECTIVE" not in lines
    assert any(
        line.startswith("Electronically signed by Dr Ada Adams (dr-ada) at ")
        and line.endswith(" UTC.")
        for line in lines
    )
    assert f"Attestation: {st.ATTESTATION}" in lines


def test_fhir_document_reference_round_trips(store: st.Store, encounter: str) -> None:
    version = _signed(store, encounter)
    note = signed_note(store, encounter)
    raw = export_note(store, encounter, "fhir", "dr-a").content
    resource = DocumentReference.model_validate_json(raw)
    assert resource.status == "current" and resource.docStatus == "final"
    assert resource.type.coding[0].system == "http://loinc.org"
    assert resource.type.coding[0].code == "11506-3"  # soap -> Progress note
    assert resource.authenticator.display == "Dr Ada Adams"
    assert resource.masterIdentifier.value == f"{encounter}/note/{version}"
    assert resource.context.encounter[0].identifier.value == encounter
    assert resource.date.tzinfo is not None and resource.relatesTo is None
    attachment = resource.content[0].attachment
    assert attachment.contentType == "text/plain; charset=utf-8"
    # The JSON carries base64 (the model hands back the decoded bytes).
    data = base64.b64decode(json.loads(raw)["content"][0]["attachment"]["data"])
    assert data == attachment.data
    assert data.decode("utf-8") == render_text(note)
    assert attachment.size == len(data)
    assert attachment.hash == hashlib.sha1(data).digest()


def test_amended_version_replaces_the_earlier_one(store: st.Store, encounter: str) -> None:
    """A later signature of a newer version (an amendment) relates to the one it replaces."""
    _signed(store, encounter)
    note = signed_note(store, encounter)
    amended = document_reference(replace(note, version=3, replaces_version=note.version))
    assert amended["docStatus"] == "amended"
    assert amended["relatesTo"] == [
        {
            "code": "replaces",
            "target": {
                "identifier": {
                    "system": "urn:scribe-workbench:note",
                    "value": f"{encounter}/note/{note.version}",
                }
            },
        }
    ]
    DocumentReference.model_validate(amended)


def test_unsigned_note_is_refused_and_nothing_recorded(store: st.Store, encounter: str) -> None:
    with pytest.raises(ExportError, match="not signed"):
        export_note(store, encounter, "fhir", "dr-a")
    assert not st.list_events(store, encounter, "note.exported")
    with pytest.raises(st.NotFound):
        export_note(store, "no-such-encounter", "text", "dr-a")


def test_unknown_format_is_refused(store: st.Store, encounter: str) -> None:
    _signed(store, encounter)
    with pytest.raises(ExportError, match="Unknown export format 'pdf'"):
        export_note(store, encounter, "pdf", "dr-a")


def test_export_records_an_event_without_text(store: st.Store, encounter: str) -> None:
    version = _signed(store, encounter)
    exported = export_note(store, encounter, "text", "dr-b")
    (event,) = st.list_events(store, encounter, "note.exported")
    assert event.user_id == "dr-b" and event.note_version == version
    assert event.after == {
        "format": "text",
        "bytes": len(exported.content),
        "sha256": hashlib.sha256(exported.content).hexdigest(),
    }
    assert "cough" not in json.dumps(event.after)


def _scribe(data: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "workbench.cli", "--data-dir", str(data), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env={**os.environ, "SCRIBE_USER": "dr-cli"},
    )


def test_cli_export_round_trip(tmp_path: Path) -> None:
    data = tmp_path / "data"
    transcript = make_transcript(TURNS)
    store = seed_encounter(data, "enc-cli", transcript, draft=make_draft(transcript))
    refused = _scribe(data, "export", "note", "enc-cli", "--format", "fhir")
    assert refused.returncode == 1 and "not signed" in refused.stderr and not refused.stdout
    _signed(store, "enc-cli")

    text = _scribe(data, "export", "note", "enc-cli", "--format", "text")
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("Visit enc-cli\nEncounter: enc-cli\n")
    out = tmp_path / "note.json"
    fhir = _scribe(data, "export", "note", "enc-cli", "--format", "fhir", "--out", str(out))
    assert fhir.returncode == 0, fhir.stderr
    resource = DocumentReference.model_validate_json(out.read_text())
    assert resource.content[0].attachment.data.decode("utf-8") == text.stdout
    events = st.list_events(store, "enc-cli", "note.exported")
    assert [(e.user_id, e.after["format"]) for e in events] == [
        ("dr-cli", "text"),
        ("dr-cli", "fhir"),
    ]


def test_review_page_offers_downloads_only_when_signed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    transcript = make_transcript(TURNS)
    store = seed_encounter(data, "enc-ui", transcript, draft=make_draft(transcript))
    at = open_review(monkeypatch, data, "enc-ui")
    assert not at.get("download_button")
    _signed(store, "enc-ui")
    at.run()
    assert not at.exception, at.exception
    buttons = at.get("download_button")
    assert len(buttons) == 2
    labels = " ".join(b.proto.label for b in buttons)
    assert "Download text" in labels and "FHIR" in labels


def _signed_simulated(store: st.Store) -> str:
    """A signed encounter made by ``scribe simulate``'s own code."""
    simulate(store, SimulationSpec(encounters=5, seed=1, end=date(2026, 11, 30)))
    with store.connect() as con:
        row = con.execute(
            "SELECT e.encounter_id FROM encounters e JOIN signatures s USING (encounter_id)"
            " WHERE e.source = 'simulated' ORDER BY 1 LIMIT 1"
        ).fetchone()
    assert row, "the simulator signed none of 5 encounters"
    return row[0]


def _fhir(raw: bytes) -> tuple[dict, str]:
    """The DocumentReference (validated) and the text of its attachment."""
    DocumentReference.model_validate_json(raw)
    resource = json.loads(raw)
    attachment = resource["content"][0]["attachment"]
    data = base64.b64decode(attachment["data"])
    assert attachment["size"] == len(data)
    assert attachment["hash"] == base64.b64encode(hashlib.sha1(data).digest()).decode()
    return resource, data.decode("utf-8")


SIMULATED_LINE = "SIMULATED ENCOUNTER (scribe simulate): not a real patient"
SIMULATED_TAG = {"system": "urn:scribe-workbench:data-source", "code": "simulated"}


def test_a_simulated_note_exports_marked_simulated(store: st.Store, encounter: str) -> None:
    simulated = _signed_simulated(store)
    text = export_note(store, simulated, "text", "dr-a").content.decode("utf-8")
    assert text.splitlines()[0] == SIMULATED_LINE
    assert f"Encounter: {simulated}" in text.splitlines()
    resource, attached = _fhir(export_note(store, simulated, "fhir", "dr-a").content)
    assert [{k: t[k] for k in ("system", "code")} for t in resource["meta"]["tag"]] == [
        SIMULATED_TAG
    ]
    assert attached == text  # the attached text is the marked one
    # A de-identified copy keeps the mark.
    deid = export_note(store, simulated, "text", "dr-a", deid=True).content.decode("utf-8")
    assert deid.splitlines()[0] == SIMULATED_LINE

    # A real encounter's note, in the same store, carries neither.
    _signed(store, encounter)
    text = export_note(store, encounter, "text", "dr-a").content.decode("utf-8")
    assert "SIMULATED" not in text and text.splitlines()[0] == "Test visit"
    resource, attached = _fhir(export_note(store, encounter, "fhir", "dr-a").content)
    assert "meta" not in resource and attached == text
