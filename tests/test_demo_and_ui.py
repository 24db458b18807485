"""The whole product on the shipped demo: `scribe demo` twice, then a clinician's review.

Runs the real pipeline (faster-whisper, spaCy/medspacy, drafting) into a real DuckDB file
once per session, then drives the Streamlit app with AppTest on a copy of that data.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO, attest_box, sign_in
from workbench import store as st
from workbench.demo import demo_encounters

APP = REPO / "workbench" / "ui" / "app.py"
pytestmark = pytest.mark.slow


def _scribe(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "workbench.cli", "--data-dir", str(data_dir), *args],
        capture_output=True, text=True, timeout=900, cwd=REPO, check=True,
    )


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("demo") / "data"
    _scribe(data, "demo", "--no-serve")
    return data


def test_demo_builds_everything_and_twice_adds_nothing(demo_dir: Path) -> None:
    first = json.loads(_scribe(demo_dir, "status", "--json").stdout)
    n = len(demo_encounters())
    assert n >= 5
    assert first["encounters"] == first["transcribed"] == first["with_entities"] == n
    assert first["drafted"] == n and first["signed"] == 0
    _scribe(demo_dir, "demo", "--no-serve")
    again = json.loads(_scribe(demo_dir, "status", "--json").stdout)
    assert again == first


def test_demo_accounts_are_the_encounters_clinicians_and_one_per_role(demo_dir: Path) -> None:
    from workbench import auth
    from workbench.demo import DEMO_ACCOUNTS, clinician_user_id
    from workbench.store import users

    store = st.open_store(demo_dir)
    roles = {a.user_id: a.role for a in users.list_accounts(store) if a.has_password}
    clinicians = {clinician_user_id(e.meta.clinician) for e in demo_encounters()}
    assert {u for u, r in roles.items() if r == "clinician"} >= clinicians
    assert {roles[u] for u in ("annotator", "analyst", "admin")} == {"annotator", "analyst",
                                                                     "admin"}
    assert len(roles) >= len(DEMO_ACCOUNTS)
    assert auth.authenticate(store, "dr-okafor", "demo").role == "clinician"
    # An annotation lead, and work in the annotators' queues (one encounter for both).
    from workbench.store.annotation_tasks import list_tasks

    assert "lead" in auth.authenticate(store, "lead", "demo").grants
    made = list_tasks(store)
    assert {t.kind for t in made if t.assignee == "annotator"} >= {"entities", "sections",
                                                                   "quality"}
    both = {t.encounter_id for t in made if t.assignee == "annotator" and t.kind == "entities"}
    assert both & {t.encounter_id for t in made if t.assignee == "annotator2"}


def test_every_demo_draft_sentence_points_at_transcript_text(demo_dir: Path) -> None:
    store = st.open_store(demo_dir)
    for row in st.list_encounters(store):
        _, transcript = st.get_transcript(store, row.encounter.encounter_id)
        note = st.get_note(store, row.encounter.encounter_id)
        assert len(note.draft.sentences) >= 5
        assert {s.section for s in note.draft.sentences} >= {"subjective", "plan"}
        for sentence in note.draft.sentences:
            assert sentence.evidence
            for ev in sentence.evidence:
                seg = transcript.segments[ev.segment_idx]
                assert seg.text[ev.start_char:ev.end_char].strip()
                assert seg.start - 0.05 <= ev.start_s <= ev.end_s <= seg.end + 0.05


def test_demo_speakers_match_the_script(demo_dir: Path) -> None:
    """Share of segments attributed to the role that spoke them (>= 95% per encounter)."""
    store = st.open_store(demo_dir)
    for item in demo_encounters():
        turns = json.loads((item.folder / "turns.json").read_text())
        _, transcript = st.get_transcript(store, item.meta.encounter_id)
        right = sum(
            seg.speaker == max(
                turns, key=lambda t, s=seg: min(s.end, t["end"]) - max(s.start, t["start"])
            )["speaker"]
            for seg in transcript.segments
        )
        assert right / len(transcript.segments) >= 0.95, item.meta.encounter_id


@pytest.fixture
def review_app(demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    data = tmp_path / "data"
    shutil.copytree(demo_dir, data)
    monkeypatch.setenv("SCRIBE_HOME", str(data))
    monkeypatch.setenv("SCRIBE_USER", "dr-test")
    encounter_id = demo_encounters()[0].meta.encounter_id
    # The demo encounter is its demo clinician's; dr-test covers it (assigned by the admin).
    from workbench.store.assignments import assign_encounter

    assign_encounter(st.open_store(data), encounter_id, "dr-test")
    at = sign_in(AppTest.from_file(str(APP), default_timeout=60), data)
    at.session_state["encounter_id"] = encounter_id
    at.run()
    at.switch_page("views/review.py").run()
    assert not at.exception, at.exception
    return at, st.open_store(data), encounter_id


def test_review_edit_save_sign(review_app) -> None:
    at, store, encounter_id = review_app
    note = st.get_note(store, encounter_id)
    first = note.draft.sentences[0]

    at.button(key=f"play-{first.sentence_id}").click().run()
    assert any("Source of:" in info.value for info in at.info)
    assert at.session_state["play_from"] == min(e.start_s for e in first.evidence)

    at.text_area(key=f"sent-1-{first.sentence_id}").input("Reports a dry cough.").run()
    at.button(key="save").click().run()
    assert not at.exception, at.exception
    saved = st.get_note(store, encounter_id)
    assert saved.version == 2 and saved.created_by == "dr-test"
    assert saved.draft.sentences[0].text == "Reports a dry cough."
    assert saved.draft.sentences[0].origin == "human"
    assert saved.draft.sentences[0].evidence == first.evidence
    edit = [e for e in st.list_events(store, encounter_id) if e.kind == "sentence.edited"]
    assert len(edit) == 1 and edit[0].before["text"] == first.text
    assert edit[0].after["text"] == "Reports a dry cough." and edit[0].user_id == "dr-test"

    assert at.button(key="sign").disabled, "signing needs the attestation"
    # Sentences the check flags (unsupported, low-confidence words) need an explicit decision.
    for key in [b.key for b in at.button if b.key and b.key.startswith("signoff-accept-")]:
        at.button(key=key).click().run()
    attest_box(at).check().run()
    at.button(key="sign").click().run()
    assert not at.exception, at.exception
    signed = st.get_note(store, encounter_id)
    assert signed.signed and signed.signed_by == "dr-test" and signed.version == 2
    # Signing is the last thing done to the note; the clinician's style is relearned after it.
    kinds = [e.kind for e in st.list_events(store, encounter_id)]
    assert kinds[-2:] == ["note.signed", "style.learned"]
    assert any("read-only" in s.value for s in at.success)
    assert not [ta for ta in at.text_area if ta.key and ta.key.startswith("sent-")]
    with pytest.raises(st.NoteLocked):
        st.save_note(store, encounter_id, 2, (), "dr-test")


def test_review_section_edit_keeps_unchanged_sentences(review_app) -> None:
    at, store, encounter_id = review_app
    note = st.get_note(store, encounter_id)
    section = next(s for s in note.draft.sections if len(note.draft.section_sentences(s)) >= 2)
    old = note.draft.section_sentences(section)
    new_text = " ".join(s.text for s in old[1:]) + " Clinician added this sentence."
    assert not [t for t in at.text_area if t.key == f"section-1-{section}"], "opens on demand"
    at.button(key=f"open-section-1-{section}").click().run()
    at.text_area(key=f"section-1-{section}").input(new_text).run()
    at.button(key="save").click().run()
    assert not at.exception, at.exception
    saved = st.get_note(store, encounter_id).draft.section_sentences(section)
    assert [s.sentence_id for s in saved[:-1]] == [s.sentence_id for s in old[1:]]
    assert saved[-1].origin == "human" and saved[-1].text == "Clinician added this sentence."
    kinds = sorted(e.kind for e in st.list_events(store, encounter_id)
                   if e.kind.startswith("sentence."))
    assert kinds == ["sentence.added", "sentence.deleted"]


def test_review_transcript_correction_and_vocabulary(review_app) -> None:
    at, store, encounter_id = review_app
    version, transcript = st.get_transcript(store, encounter_id)
    seg = transcript.segments[1]
    at.selectbox(key="fix_segment").select(seg.idx).run()
    at.text_area(key=f"fix-text-{version}-{seg.idx}").input(seg.text + " Really.").run()
    other = "clinician" if seg.speaker == "patient" else "patient"
    at.radio(key=f"fix-speaker-{version}-{seg.idx}").set_value(other).run()
    at.button(key="fix_save").click().run()
    assert not at.exception, at.exception
    new_version, corrected = st.get_transcript(store, encounter_id)
    assert new_version == version + 1
    assert corrected.segments[1].text.endswith("Really.") and corrected.segments[1].speaker == other
    kinds = {e.kind for e in st.list_events(store, encounter_id)}
    assert {"transcript.segment_corrected", "transcript.speaker_relabelled"} <= kinds
    assert st.get_note(store, encounter_id).transcript_version == new_version

    at.switch_page("views/vocabulary.py").run()
    at.text_input(key="vocab_new").input("apixaban")
    at.button(key="vocab_add").click().run()
    assert st.list_terms(store, "dr-test") == ["apixaban"]
