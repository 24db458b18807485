"""Training-use consent: recorded per encounter, and every export of training data honours
it (NER training, style learning); the clinical note export is care and is not gated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.types import Entity
from tests.conftest import make_draft, make_transcript, open_review, seed_encounter
from workbench import personalisation as ps
from workbench import store as st
from workbench.cli import app
from workbench.export import export_note, export_training, training_skipped

runner = CliRunner()


def _reviewed(store: st.Store, encounter_id: str, source: str | None = None) -> None:
    """An encounter whose entities a person confirmed: what NER training reads."""
    st.add_encounter(store, st.EncounterRecord(encounter_id, "Visit", source=source), "dr-a")
    transcript = make_transcript([("patient", "I have a rash on my arm.")])
    version = st.save_transcript(store, encounter_id, transcript, "dr-a")
    rash = Entity(0, 9, 13, "rash", "PROBLEM", source="human")
    set_version = st.save_entities(store, encounter_id, version, (rash,), "review", "dr-a")
    st.append_event(
        store,
        st.new_event(
            "dr-a",
            encounter_id,
            "entities.confirmed",
            object_type="entity_set",
            object_id=f"{encounter_id}/entities/{set_version}",
        ),
    )


def test_new_encounters_are_not_consented_and_demo_ones_are(store: st.Store) -> None:
    st.add_encounter(store, st.EncounterRecord("real", "Visit"), "dr-a")
    st.add_encounter(store, st.EncounterRecord("demo-1", "Demo", source="demo"), "dr-a")
    assert st.get_consent(store, "real").granted is False
    assert st.get_consent(store, "real").label == "not recorded (no training use)"
    assert st.get_consent(store, "demo-1").granted is True
    assert st.consented_ids(store) == {"demo-1"}
    with pytest.raises(st.NotFound):
        st.get_consent(store, "nope")


def test_grant_and_withdraw_are_events_and_the_newest_counts(store: st.Store) -> None:
    st.add_encounter(store, st.EncounterRecord("e1", "Visit"), "dr-a")
    st.set_consent(store, "e1", True, "dr-a", "  signed form 12  ")
    assert st.get_consent(store, "e1").granted and st.consented_ids(store) == {"e1"}
    st.set_consent(store, "e1", False, "dr-b")
    state = st.get_consent(store, "e1")
    assert (state.granted, state.recorded_by, state.label) == (False, "dr-b", "withdrawn")
    assert state.note is None  # the newest row's note, not an older one
    history = st.consent_history(store, "e1")
    assert [(h.granted, h.recorded_by, h.note) for h in history] == [
        (True, "dr-a", "signed form 12"),
        (False, "dr-b", None),
    ]
    events = [e for e in st.list_events(store, "e1") if e.kind.startswith("consent.")]
    assert [(e.kind, e.user_id, e.before, e.after["granted"]) for e in events] == [
        ("consent.granted", "dr-a", {"granted": False}, True),
        ("consent.withdrawn", "dr-b", {"granted": True}, False),
    ]
    with pytest.raises(st.NotFound):  # nothing written for an unknown encounter
        st.set_consent(store, "nope", True, "dr-a")
    assert st.consent_history(store, "nope") == []


def test_ner_training_data_skips_encounters_without_consent(store: st.Store) -> None:
    _reviewed(store, "no-consent")
    _reviewed(store, "granted")
    _reviewed(store, "withdrawn")
    _reviewed(store, "demo", source="demo")
    st.set_consent(store, "granted", True, "dr-a")
    st.set_consent(store, "withdrawn", True, "dr-a")
    st.set_consent(store, "withdrawn", False, "dr-a")
    found = st.training_set(store)
    assert [s.encounter_id for s in found.sources] == ["demo", "granted"]
    assert found.skipped_no_consent == ("no-consent", "withdrawn")
    assert [s.encounter_id for s in st.training_sources(store)] == ["demo", "granted"]


def test_train_command_says_how_many_were_skipped_and_why(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = st.open_store(data)
    _reviewed(store, "a")
    _reviewed(store, "b")
    result = runner.invoke(app, ["--data-dir", str(data), "train", "ner", "--epochs", "1"])
    assert result.exit_code == 1
    assert "Not trained" in result.output
    assert "Skipped 2 reviewed encounter(s) without training-use consent" in result.output


def _signed(store: st.Store, encounter_id: str, consent: bool | None) -> None:
    st.add_encounter(store, st.EncounterRecord(encounter_id, "Visit", clinician="dr-a"), "dr-a")
    if consent is not None:
        st.set_consent(store, encounter_id, consent, "dr-a")
    transcript = make_transcript([("clinician", "How are you?"), ("patient", "Fine thanks.")])
    version = st.save_transcript(store, encounter_id, transcript, "dr-a")
    st.save_draft(store, encounter_id, make_draft(transcript), version, "dr-a")
    st.sign_note(store, encounter_id, 1, "dr-a")


def test_style_learning_reads_only_consented_notes(store: st.Store) -> None:
    st.ensure_user(store, "dr-a", "Dr A", "clinician")
    _signed(store, "yes", True)
    _signed(store, "never", None)
    _signed(store, "withdrawn", False)
    assert [signed.encounter_id for _, signed in st.signed_drafts(store, "dr-a")] == ["yes"]
    assert st.signed_without_consent(store, "dr-a") == ["never", "withdrawn"]
    assert ps.learn_clinician_style(store, "dr-a", "dr-a").notes == 1


def test_signed_note_export_to_the_record_is_not_gated(store: st.Store) -> None:
    """Sending the signed note to the EHR is care, not training: no consent needed."""
    st.ensure_user(store, "dr-a", "Dr A", "clinician")
    _signed(store, "care", None)
    exported = export_note(store, "care", "fhir", "dr-a")
    assert exported.version == 1 and b"DocumentReference" in exported.content


def test_consent_commands_set_and_list(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = st.open_store(data)
    st.add_encounter(store, st.EncounterRecord("e1", "Visit"), "dr-a")
    st.add_encounter(store, st.EncounterRecord("e2", "Visit"), "dr-a")
    base = ["--data-dir", str(data), "consent"]
    granted = runner.invoke(app, [*base, "set", "e1", "--granted", "--note", "form 3"])
    assert granted.exit_code == 0, granted.output
    assert "e1: training use granted" in granted.output
    listed = runner.invoke(app, [*base, "list"])
    lines = listed.output.splitlines()
    assert lines[0].startswith("e1  granted") and lines[1] == "e2  not recorded (no training use)"
    assert runner.invoke(app, [*base, "set", "e1", "--withdrawn"]).exit_code == 0
    assert st.get_consent(store, "e1").granted is False
    missing = runner.invoke(app, [*base, "set", "zz", "--granted"])
    assert missing.exit_code == 1 and "No encounter zz" in missing.output
    assert runner.invoke(app, [*base, "set", "e2"]).exit_code == 2  # must say which


def test_review_page_shows_and_changes_consent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    transcript = make_transcript([("clinician", "Hello."), ("patient", "A rash.")])
    seed_encounter(data, "enc-r", transcript, draft=make_draft(transcript))
    at = open_review(monkeypatch, data, "enc-r")
    [toggle] = [t for t in at.toggle if t.key and t.key.startswith("consent-enc-r")]
    assert toggle.value is False
    assert any("Training use: not recorded" in c.value for c in at.caption)
    toggle.set_value(True).run()
    assert not at.exception, at.exception
    store = st.open_store(data)
    assert st.get_consent(store, "enc-r").granted is True
    assert st.get_consent(store, "enc-r").recorded_by == "dr-test"
    assert any("Training use: granted by dr-test" in c.value for c in at.caption)


def test_training_export_skips_encounters_without_consent(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = st.open_store(data)
    st.ensure_user(store, "dr-a", "Dr A", "clinician")
    _signed(store, "yes", True)
    _signed(store, "no", None)
    assert [r["encounter_id"] for r in export_training(store, ["yes", "no"], "dr-a")] == ["yes"]
    assert training_skipped(store, ["yes", "no"]) == ["no"]
    assert st.list_events(store, "no", "training.exported") == []
    out = tmp_path / "train.jsonl"
    result = runner.invoke(app, ["--data-dir", str(data), "export", "training", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["encounter_id"] for line in out.read_text().splitlines()] == ["yes"]
    assert "Skipped 1 encounter(s) without training-use consent" in result.output
