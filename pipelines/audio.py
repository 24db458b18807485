"""Audio files: fingerprint, validate and decode.

Decoding goes through PyAV (bundled with faster-whisper), so every container FFmpeg
knows (wav, mp3, m4a, ogg/opus, webm, flac) works without a system ffmpeg.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from faster_whisper.audio import decode_audio

SAMPLE_RATE = 16000
MIN_DURATION_S = 0.5


class AudioError(ValueError):
    """The file is not usable encounter audio; the message says why, for a person."""


@dataclass(frozen=True)
class AudioInfo:
    """What ingest learns about an audio file before storing it."""

    sha256: str
    format: str
    duration_s: float
    sample_rate: int
    channels: int
    size_bytes: int


def sha256_file(path: Path) -> str:
    """Hex sha256 of the file's bytes (the audio's identity in the store)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def probe_audio(path: Path) -> AudioInfo:
    """Check that ``path`` holds decodable speech-length audio and describe it.

    Raises AudioError for missing, empty, non-audio, undecodable or too-short files.
    """
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path.name}: no such file")
    size = path.stat().st_size
    if size == 0:
        raise AudioError(f"{path.name}: the file is empty")
    try:
        with av.open(str(path)) as container:
            streams = container.streams.audio
            if not streams:
                raise AudioError(f"{path.name}: the file has no audio stream")
            stream = streams[0]
            fmt = container.format.name
            sample_rate = int(stream.codec_context.sample_rate or 0)
            channels = int(stream.codec_context.channels or 0)
    except AudioError:
        raise
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise AudioError(f"{path.name}: not a readable audio file ({type(exc).__name__})") from exc
    samples = load_samples(path)
    duration = len(samples) / SAMPLE_RATE
    if duration < MIN_DURATION_S:
        raise AudioError(f"{path.name}: only {duration:.2f} s of audio, too short to transcribe")
    return AudioInfo(
        sha256=sha256_file(path),
        format=fmt,
        duration_s=round(duration, 3),
        sample_rate=sample_rate,
        channels=channels,
        size_bytes=size,
    )


def load_samples(path: Path) -> np.ndarray:
    """Decode to 16 kHz mono float32, the input every speech stage uses."""
    try:
        return decode_audio(str(path), sampling_rate=SAMPLE_RATE)
    except (av.FFmpegError, ValueError, IndexError) as exc:
        raise AudioError(f"{Path(path).name}: the audio could not be decoded") from exc
