"""ASR with the real bundled tiny.en model on a short committed clip."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from pipelines.asr import AsrOptions, load_model, resolve_model_path, transcribe
from pipelines.audio import SAMPLE_RATE, AudioError, probe_audio
from tests.conftest import REPO

FIXTURE = REPO / "tests" / "fixtures" / "asr_short"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def model():
    return load_model(AsrOptions())


def _reference(script: Path) -> str:
    lines = [ln.split(":", 1)[1] for ln in script.read_text().splitlines()
             if ":" in ln and not ln.startswith("#")]
    return " ".join(lines)


def test_bundled_model_is_found() -> None:
    assert (resolve_model_path("tiny.en") / "model.bin").is_file()
    with pytest.raises(FileNotFoundError):
        resolve_model_path("/nonexistent/model")


def test_fixture_clip_transcribed_within_wer_bound(model) -> None:
    import jiwer
    from whisper_normalizer.english import EnglishTextNormalizer

    transcript = transcribe(model, FIXTURE / "audio.ogg")
    norm = EnglishTextNormalizer()
    wer = jiwer.wer(norm(_reference(FIXTURE / "script.txt")), norm(transcript.text))
    assert wer <= 0.15, f"WER {wer:.3f}: {transcript.text!r}"
    assert transcript.model.startswith("faster-whisper-") and "tiny.en" in transcript.model
    assert len(transcript.input_sha256) == 64


def test_timestamps_words_and_confidences_are_consistent(model) -> None:
    transcript = transcribe(model, FIXTURE / "audio.ogg")
    assert transcript.segments
    last_end = 0.0
    for seg in transcript.segments:
        assert last_end - 0.05 <= seg.start < seg.end <= transcript.duration_s + 0.5
        last_end = seg.end
        assert seg.words, "word timestamps are on"
        assert "".join(w.text for w in seg.words).strip() == seg.text
        for w in seg.words:
            assert seg.start - 0.05 <= w.start <= w.end <= seg.end + 0.05
            assert 0.0 <= w.probability <= 1.0
        assert 0.0 < seg.confidence <= 1.0


def test_silence_gives_no_words(model) -> None:
    silence = np.zeros(SAMPLE_RATE * 30, dtype=np.float32)
    assert transcribe(model, silence).segments == ()


def test_progress_reaches_one(model) -> None:
    seen: list[float] = []
    transcribe(model, FIXTURE / "audio.ogg", progress=seen.append)
    assert seen[-1] == 1.0 and seen == sorted(seen)


def test_empty_and_non_audio_files_are_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(AudioError, match="empty"):
        probe_audio(empty)
    fake = tmp_path / "notes.mp3"
    fake.write_text("Patient says hello. This is not audio at all." * 20)
    with pytest.raises(AudioError, match=r"not a readable|could not be decoded|no audio"):
        probe_audio(fake)


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")
def test_truncated_file_is_refused_or_shorter(tmp_path: Path) -> None:
    data = (FIXTURE / "audio.ogg").read_bytes()
    cut = tmp_path / "cut.ogg"
    cut.write_bytes(data[:200])
    with pytest.raises(AudioError):
        probe_audio(cut)
    wav = tmp_path / "tone.wav"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i",
                    "sine=frequency=440:duration=2", str(wav)], check=True)
    info = probe_audio(wav)
    assert abs(info.duration_s - 2.0) < 0.05 and info.format == "wav"


def test_cli_transcribe_json(tmp_path: Path) -> None:
    import json
    import sys

    run = subprocess.run(
        [sys.executable, "-m", "workbench.cli", "--data-dir", str(tmp_path), "transcribe",
         str(FIXTURE / "audio.ogg"), "--json"],
        capture_output=True, text=True, cwd=REPO, timeout=300, check=True,
    )
    data = json.loads(run.stdout)
    turns = json.loads((FIXTURE / "turns.json").read_text())
    assert [s["speaker"] for s in data["segments"]] == [t["speaker"] for t in turns]
    for seg in data["segments"]:
        assert set(seg) >= {"start", "end", "speaker", "text", "words"}
        assert all(0 <= w["probability"] <= 1 and w["word"] for w in seg["words"])
    assert not (tmp_path / "scribe.duckdb").exists(), "transcribe stores nothing"
