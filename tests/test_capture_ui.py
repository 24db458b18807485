"""The "New encounter" page, driven with AppTest from the app's entry point.

Processing is replaced by a quick stand-in job (the real pipeline is tested elsewhere),
so these tests check the page: upload or record, errors shown, nothing written for bad
audio, progress polled, and the way on to Review.
"""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO, sign_in
from workbench import runner as runner_module
from workbench import store as st
from workbench.ingest import ingest_bytes

APP = REPO / "workbench" / "ui" / "app.py"
CLIP = REPO / "tests" / "fixtures" / "asr_short" / "audio.ogg"


@pytest.fixture
def release() -> threading.Event:
    return threading.Event()


@pytest.fixture
def capture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, release: threading.Event):
    """AppTest on the capture page over an empty data dir, with a stand-in job."""
    data = tmp_path / "data"
    monkeypatch.setenv("SCRIBE_HOME", str(data))
    monkeypatch.setenv("SCRIBE_USER", "dr-test")

    def fake_runner(store, data_dir, engine=None):
        def work(encounter_id, user_id, progress):
            progress("transcribing", 0.4)
            release.wait(30)

        return runner_module.Runner(work)

    monkeypatch.setattr(runner_module, "encounter_runner", fake_runner)
    at = sign_in(AppTest.from_file(str(APP), default_timeout=60), data)
    at.run()
    at.switch_page("views/capture.py").run()
    assert not at.exception, at.exception
    return at, st.open_store(data)


def assert_store_empty(store: st.Store) -> None:
    assert st.status_counts(store)["encounters"] == 0
    assert not (store.path.parent / "audio").exists()
    assert not [p for p in (store.path.parent / "tmp").rglob("*") if p.is_file()]


def test_page_renders_with_metadata_and_recorder(capture) -> None:
    at, _ = capture
    assert [t.value for t in at.title] == ["New encounter"]
    for key in ("capture_title", "capture_specialty", "capture_visit_type",
                "capture_clinician", "capture_patient"):
        assert at.text_input(key=key) is not None
    assert at.text_input(key="capture_clinician").value == "dr-test"
    assert at.audio_input(key="capture_record") is not None
    assert at.button(key="capture_create").disabled  # nothing recorded yet
    at.radio(key="capture_source").set_value("Upload").run()
    uploader = at.file_uploader(key="capture_upload")
    assert {t.lstrip(".") for t in uploader.allowed_type} == {
        "wav", "mp3", "m4a", "ogg", "webm", "flac"}


def test_bad_upload_shows_an_error_and_writes_nothing(capture) -> None:
    at, store = capture
    at.radio(key="capture_source").set_value("Upload").run()
    at.file_uploader(key="capture_upload").upload("visit.mp3", b"not audio at all\n" * 50,
                                                  "audio/mpeg")
    at.run()
    at.button(key="capture_create").click().run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == [
        "visit.mp3: not a readable audio file, or it is damaged"
    ]
    assert "capture_encounter" not in at.session_state
    assert_store_empty(store)


def test_silent_recording_is_refused(capture, tmp_path: Path) -> None:
    at, store = capture
    wav = tmp_path / "rec.wav"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
                    "anullsrc=r=16000:cl=mono:d=3", str(wav)], check=True)
    at.audio_input(key="capture_record").upload("rec.wav", wav.read_bytes())
    at.run()
    at.button(key="capture_create").click().run()
    assert any("silent" in e.value for e in at.error)
    assert_store_empty(store)


def test_upload_creates_encounter_polls_progress_and_opens_review(
    capture, release: threading.Event
) -> None:
    at, store = capture
    at.text_input(key="capture_title").input("Cough visit")
    at.radio(key="capture_source").set_value("Upload").run()
    # An Ogg named .wav: accepted, stored as .ogg, and the page says so.
    at.file_uploader(key="capture_upload").upload("visit.wav", CLIP.read_bytes(), "audio/wav")
    at.run()
    at.button(key="capture_create").click().run()
    assert not at.exception, at.exception
    assert not at.error
    encounter_id = at.session_state["capture_encounter"]
    encounter = st.get_encounter(store, encounter_id)
    assert encounter.title == "Cough visit" and encounter.clinician == "dr-test"
    assert st.get_audio(store, encounter.audio_sha256).stored_path.endswith(".ogg")
    assert any("stored as ogg" in w.value for w in at.warning)
    _wait(lambda: "transcribing" in " ".join(s.label for s in at.status), at)
    assert at.get("progress")

    release.set()
    _wait(lambda: any("drafted" in s.value for s in at.success), at)
    at.button(key="capture_open").click().run()
    assert at.session_state["encounter_id"] == encounter_id


def test_uploaded_bytes_are_ingested_by_a_plain_function(store: st.Store) -> None:
    result = ingest_bytes(store, store.path.parent, CLIP.read_bytes(), "../../visit.ogg", "u")
    audio = st.get_audio(store, result.audio.sha256)
    assert result.created and audio.original_name == "visit.ogg"
    assert not [p for p in (store.path.parent / "tmp").rglob("*") if p.is_file()]


def _wait(condition, at: AppTest, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "the page never showed the expected state"
        time.sleep(0.2)
        at.run()


def test_runner_is_idempotent_and_reports_failures() -> None:
    gate = threading.Event()
    calls: list[str] = []

    def work(encounter_id, user_id, progress):
        calls.append(encounter_id)
        progress("transcribing", 0.5)
        gate.wait(10)
        if encounter_id == "bad":
            raise st.NotFound("Encounter bad has no stored audio")

    runner = runner_module.Runner(work)
    try:
        assert runner.submit("a", "u") and runner.submit("bad", "u")
        assert not runner.submit("a", "u") and not runner.submit("bad", "u")
        assert runner.status("bad").state == "queued"  # one worker: "a" goes first
        _until(lambda: runner.status("a").step == "transcribing")
        assert runner.status("a").state == "running" and runner.status("a").fraction == 0.5
        gate.set()
        _until(lambda: not runner.status("bad").active)
        assert runner.status("a").state == "done" and runner.status("a").fraction == 1.0
        failed = runner.status("bad")
        assert failed.state == "failed" and failed.error == "Encounter bad has no stored audio"
        assert calls == ["a", "bad"]
        assert runner.submit("a", "u")  # finished jobs may run again (steps are skipped)
        _until(lambda: runner.status("a").state == "done")
        assert runner.status("nobody") is None
    finally:
        runner.shutdown()


def _until(condition, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.02)
