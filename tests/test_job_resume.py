"""A server killed mid-job resumes it: submissions are remembered in the store, and a new
runner queues every remembered job that has no note yet."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.conftest import make_draft, make_transcript
from workbench import runner as rn
from workbench import store as st
from workbench.store.jobs import QUEUED, record_queued, unfinished_jobs


def _wait(runner: rn.Runner, encounter_id: str) -> rn.JobStatus:
    deadline = time.monotonic() + 30
    while (status := runner.status(encounter_id)) is None or status.active:
        assert time.monotonic() < deadline, "the job never finished"
        time.sleep(0.02)
    return status


def test_a_new_runner_finishes_what_the_last_one_left(
    store: st.Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    done: list[str] = []

    def fake_process(store, data_dir, engine, encounter_id, user_id, progress=None):
        # Stands in for the pipeline: its result is the note (what marks a job finished).
        transcript = make_transcript([("patient", "A cough.")])
        version = st.save_transcript(store, encounter_id, transcript, user_id)
        st.save_draft(store, encounter_id, make_draft(transcript), version, user_id)
        done.append(encounter_id)

    monkeypatch.setattr(rn, "process_encounter", fake_process)
    for eid in ("killed", "finished", "never-queued"):
        st.add_encounter(store, st.EncounterRecord(eid, "Visit"), "dr-a")
    record_queued(store, "killed", "dr-a")  # the old server died while running it
    record_queued(store, "finished", "dr-b")
    fake_process(store, None, None, "finished", "dr-b")
    done.clear()
    assert unfinished_jobs(store) == [("killed", "dr-a")]

    runner = rn.encounter_runner(store, tmp_path, engine=object())
    try:
        assert _wait(runner, "killed").state == "done"
        assert done == ["killed"] and unfinished_jobs(store) == []
        assert runner.status("never-queued") is None  # not asked for: not started
        # A submission is remembered before it runs.
        assert runner.submit("never-queued", "dr-c")
        _wait(runner, "never-queued")
        assert [e.user_id for e in st.list_events(store, "never-queued", QUEUED)] == ["dr-c"]
    finally:
        runner.shutdown()
    assert len(st.list_events(store, "killed", QUEUED)) == 1, "resuming adds no second record"


def test_purged_audio_without_a_transcript_is_not_resumed(store: st.Store) -> None:
    st.add_audio(store, st.AudioRecord("ab" * 32, "audio/x.wav", "x.wav", "wav", 1.0, 16000, 1, 10))
    st.add_encounter(store, st.EncounterRecord("gone", "Visit", audio_sha256="ab" * 32), "u")
    record_queued(store, "gone", "u")
    assert unfinished_jobs(store) == [("gone", "u")]
    from workbench.store import purge

    [audio] = purge.list_stored_audio(store)
    purge.mark_audio_purged(store, audio, "admin", {})
    assert unfinished_jobs(store) == []
