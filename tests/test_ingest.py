"""Ingest: valid audio becomes one encounter; bad audio gets a clear error and writes nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.audio import AudioError
from tests.conftest import REPO
from workbench import store as st
from workbench.ingest import EncounterMeta, ingest_file

CLIP = REPO / "tests" / "fixtures" / "asr_short" / "audio.ogg"


def test_ingest_stores_audio_by_hash_once(store: st.Store, tmp_path: Path) -> None:
    data = store.path.parent
    first = ingest_file(store, data, CLIP, "u", EncounterMeta(title="Clip"))
    again = ingest_file(store, data, CLIP, "u")
    assert first.created and not again.created
    assert again.encounter_id == first.encounter_id == f"enc-{first.audio.sha256[:12]}"
    audio = st.get_audio(store, first.audio.sha256)
    stored = data / audio.stored_path
    assert stored.read_bytes() == CLIP.read_bytes()
    assert audio.duration_s == pytest.approx(first.audio.duration_s)
    assert st.status_counts(store)["encounters"] == 1
    assert [s.status for s in st.list_encounters(store)] == ["ingested"]


def test_bad_audio_writes_nothing(store: st.Store, tmp_path: Path) -> None:
    bad = tmp_path / "visit.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" * 10)
    with pytest.raises(AudioError):
        ingest_file(store, store.path.parent, bad, "u")
    assert st.status_counts(store)["encounters"] == 0
    assert not (store.path.parent / "audio").exists()


def test_cli_reports_bad_files_and_keeps_good_ones(tmp_path: Path) -> None:
    empty = tmp_path / "empty.m4a"
    empty.write_bytes(b"")
    data = tmp_path / "data"
    run = subprocess.run(
        [sys.executable, "-m", "workbench.cli", "--data-dir", str(data), "ingest",
         str(empty), str(CLIP)],
        capture_output=True, text=True, cwd=REPO, timeout=120,
    )
    assert run.returncode == 1
    assert "empty.m4a: the file is empty" in run.stderr
    assert st.status_counts(st.open_store(data))["encounters"] == 1
