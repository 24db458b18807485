"""Audio validation and streaming decode: every bad input is refused with a clear message
and leaves nothing in the store or the data directory; long files decode in bounded memory.

Fixtures are generated with the ffmpeg command line (lavfi tones and silence) in tmp_path.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from pipelines.audio import (
    SAMPLE_RATE,
    AudioError,
    decode_to_memmap,
    iter_chunks,
    load_samples,
    probe_audio,
    probe_audio_bytes,
)
from tests.conftest import REPO
from workbench import store as st
from workbench.ingest import ingest_bytes, ingest_file

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")
CLIP = REPO / "tests" / "fixtures" / "asr_short" / "audio.ogg"


def ffmpeg(out: Path, source: str, *args: str) -> Path:
    """Render a lavfi source (e.g. "sine=frequency=440:duration=3") into ``out``."""
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    source, "-ac", "1", *args, str(out)], check=True, timeout=120)
    return out


def tone(out: Path, seconds: float = 3.0, *args: str) -> Path:
    return ffmpeg(out, f"sine=frequency=440:sample_rate=16000:duration={seconds}", *args)


def cut_in_half(path: Path, out: Path) -> Path:
    data = path.read_bytes()
    out.write_bytes(data[: len(data) // 2])
    return out


def assert_nothing_written(store: st.Store) -> None:
    """No encounter, no audio row and no file left anywhere in the data directory."""
    counts = st.status_counts(store)
    assert counts["encounters"] == 0 and counts["audio_files"] == 0
    data = store.path.parent
    leftovers = [p for p in data.rglob("*") if p.is_file()
                 and not p.name.startswith(store.path.name)]
    assert leftovers == []


def refused(store: st.Store, path: Path, match: str, **kwargs) -> str:
    """Probe and ingest ``path`` (as a file and as uploaded bytes): both refuse it alike."""
    with pytest.raises(AudioError, match=match) as probed:
        probe_audio(path, **kwargs)
    with pytest.raises(AudioError, match=match) as in_memory:  # as an encrypted store probes
        probe_audio_bytes(path.read_bytes(), path.name, **kwargs)
    assert str(in_memory.value) == str(probed.value)
    limit = kwargs.get("max_duration_s")
    with pytest.raises(AudioError, match=match):
        ingest_file(store, store.path.parent, path, "u", max_duration=limit)
    with pytest.raises(AudioError, match=match):
        ingest_bytes(store, store.path.parent, path.read_bytes(), path.name, "u",
                     max_duration=limit)
    assert_nothing_written(store)
    message = str(probed.value)
    assert message.startswith(f"{path.name}: ")  # the person sees which file
    return message


@pytest.mark.parametrize("suffix", ["wav", "mp3", "m4a", "ogg", "webm", "flac"])
def test_every_supported_format_is_accepted(tmp_path: Path, suffix: str) -> None:
    path = tone(tmp_path / f"visit.{suffix}")
    info = probe_audio(path)
    assert probe_audio_bytes(path.read_bytes(), path.name) == info  # an upload, in memory
    assert abs(info.duration_s - 3.0) < 0.1
    assert info.suffix == f".{suffix}" and info.notes == ()
    assert len(info.sha256) == 64 and info.channels == 1


def test_empty_file_is_refused(store: st.Store, tmp_path: Path) -> None:
    empty = tmp_path / "visit.m4a"
    empty.write_bytes(b"")
    assert refused(store, empty, "the file is empty") == "visit.m4a: the file is empty"


@pytest.mark.parametrize("name, content", [
    ("notes.mp3", b"Patient says hello. This is not audio at all.\n" * 40),
    ("visit.wav", b"RIFF\x00\x00\x00\x00WAVEjunk" * 10),
    ("noise.ogg", bytes(range(256)) * 64),
])
def test_non_audio_is_refused(store: st.Store, tmp_path: Path, name: str,
                              content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    refused(store, path, r"not an audio file|not a readable audio file|could not be decoded")


def test_unsupported_audio_format_is_refused(store: st.Store, tmp_path: Path) -> None:
    aiff = tone(tmp_path / "visit.aiff")
    message = refused(store, aiff, "not supported")
    assert "wav, mp3, m4a, ogg, webm, flac" in message


@pytest.mark.parametrize("suffix", ["wav", "mp3", "flac", "webm", "m4a"])
def test_truncated_file_is_refused(store: st.Store, tmp_path: Path, suffix: str) -> None:
    """Decision: a file that decodes only partly is refused, never stored shortened."""
    extra = ("-movflags", "+faststart") if suffix == "m4a" else ()
    whole = tone(tmp_path / f"whole.{suffix}", 10.0, *extra)
    cut = cut_in_half(whole, tmp_path / f"visit.{suffix}")
    message = refused(store, cut, r"truncated or damaged")
    assert "Upload the complete recording" in message
    assert "10.0 s" in message  # what the header promised


def test_truncated_ogg_decodes_as_a_shorter_recording(tmp_path: Path) -> None:
    """Ogg declares no total length: a cut Ogg is indistinguishable from a shorter one."""
    cut = cut_in_half(tone(tmp_path / "whole.ogg", 10.0), tmp_path / "cut.ogg")
    assert 1.0 < probe_audio(cut).duration_s < 9.0


def test_truncated_m4a_without_index_is_refused(store: st.Store, tmp_path: Path) -> None:
    cut = cut_in_half(tone(tmp_path / "whole.m4a", 10.0), tmp_path / "visit.m4a")
    refused(store, cut, r"not a readable audio file, or it is damaged")


def test_mislabelled_file_is_stored_under_its_real_format(store: st.Store,
                                                          tmp_path: Path) -> None:
    """Decision: an mp3 named .wav is accepted, stored as .mp3, and the person is told."""
    mp3 = tone(tmp_path / "real.mp3")
    named_wav = tmp_path / "visit.wav"
    named_wav.write_bytes(mp3.read_bytes())
    info = probe_audio(named_wav)
    assert info.format == "mp3" and info.suffix == ".mp3"
    assert info.notes == ("visit.wav is named .wav but holds mp3 audio; it was stored as mp3.",)
    result = ingest_file(store, store.path.parent, named_wav, "u")
    stored = st.get_audio(store, result.audio.sha256)
    assert stored.stored_path.endswith(".mp3") and stored.original_name == "visit.wav"
    assert (store.path.parent / stored.stored_path).read_bytes() == mp3.read_bytes()
    assert result.audio.notes == info.notes


def test_over_long_file_is_refused(store: st.Store, tmp_path: Path) -> None:
    wav = tone(tmp_path / "visit.wav", 10.0)
    message = refused(store, wav, "the maximum is", max_duration_s=5.0)
    assert message == ("visit.wav: the recording is 10.0 s long; the maximum is 5.0 s. "
                       "Split it into shorter recordings.")


def test_over_long_is_caught_while_decoding_when_the_header_has_no_length(
    store: st.Store, tmp_path: Path
) -> None:
    # An mp3 without a Xing header: its length is only a guess, so decoding decides.
    mp3 = tone(tmp_path / "visit.mp3", 10.0, "-write_xing", "0")
    refused(store, mp3, r"the recording is over .* the maximum is 5.0 s", max_duration_s=5.0)


def test_too_short_file_is_refused(store: st.Store, tmp_path: Path) -> None:
    short = tone(tmp_path / "visit.wav", 0.2)
    message = refused(store, short, "too short")
    assert message == "visit.wav: only 0.20 s of audio, too short to transcribe (minimum 0.5 s)"


def test_silent_file_is_refused(store: st.Store, tmp_path: Path) -> None:
    silent = ffmpeg(tmp_path / "visit.wav", "anullsrc=r=16000:cl=mono:d=5")
    message = refused(store, silent, "silent")
    assert "no speech to transcribe" in message and "microphone" in message


def test_stream_decode_equals_in_memory_decode(tmp_path: Path) -> None:
    expected = load_samples(CLIP)
    mapped = decode_to_memmap(CLIP, tmp_path / "scratch")
    assert isinstance(mapped, np.memmap) and mapped.dtype == np.float32
    np.testing.assert_array_equal(np.asarray(mapped), expected)
    chunks = list(iter_chunks(CLIP, 2.0))
    assert all(len(c) == 2 * SAMPLE_RATE for c in chunks[:-1])
    np.testing.assert_array_equal(np.concatenate(chunks), expected)


_MEASURE = textwrap.dedent("""
    import json, sys
    from pathlib import Path

    def hwm_kb():
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM"):
                return int(line.split()[1])

    from pipelines.audio import decode_to_memmap
    before = hwm_kb()
    samples = decode_to_memmap(Path(sys.argv[1]), Path(sys.argv[2]))
    print(json.dumps({"before_kb": before, "after_kb": hwm_kb(), "samples": len(samples)}))
""")


@pytest.mark.slow
def test_three_hour_file_decodes_in_bounded_memory(tmp_path: Path) -> None:
    """3 h of 16 kHz float32 is 691 MB; decoding it to a memmap grows peak RSS < 100 MB."""
    # Ten minutes (a tone, then silence), looped 18 times by stream copy: fast to make.
    ten = ffmpeg(tmp_path / "ten.ogg", "sine=frequency=440:sample_rate=16000:duration=1",
                 "-af", "apad=whole_dur=600", "-c:a", "libopus", "-b:a", "6k")
    long = tmp_path / "long.ogg"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-stream_loop", "17",
                    "-i", str(ten), "-c", "copy", str(long)], check=True, timeout=120)
    run = subprocess.run([sys.executable, "-c", _MEASURE, str(long), str(tmp_path / "mm")],
                         capture_output=True, text=True, cwd=REPO, timeout=300, check=True)
    measured = json.loads(run.stdout.strip().splitlines()[-1])
    assert abs(measured["samples"] / SAMPLE_RATE - 3 * 3600) < 2.0
    growth_mb = (measured["after_kb"] - measured["before_kb"]) / 1024
    assert growth_mb < 100, f"peak RSS grew by {growth_mb:.0f} MB"
    print(f"3 h decode: peak RSS growth {growth_mb:.1f} MB")
    # The header already says 3 h: a 2 h limit refuses it without decoding.
    with pytest.raises(AudioError, match=r"3:00:00 h long; the maximum is 2:00:00 h"):
        probe_audio(long, max_duration_s=2 * 3600)
