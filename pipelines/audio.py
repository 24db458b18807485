"""Audio files: fingerprint, validate and decode.

Decoding goes through PyAV (bundled with faster-whisper), so every container FFmpeg
knows (wav, mp3, m4a, ogg/opus, webm, flac) works without a system ffmpeg.

Validation (``probe_audio``) refuses, with a message meant for the person who chose
the file: missing, empty, non-audio or unsupported files; truncated files (the header
promises more than decodes); recordings shorter than ``MIN_DURATION_S`` or longer than
a maximum (default ``MAX_DURATION_S``); and recordings that are digitally silent. A
file whose content is another supported format than its suffix says (an mp3 named
``.wav``) is accepted: ``AudioInfo.suffix`` gives the real format's suffix, to store it
under, and ``AudioInfo.notes`` says what was noticed.

Long recordings are decoded as a stream (``iter_chunks``, ``decode_to_memmap``), so a
three-hour file never has to sit in memory at once.
"""

from __future__ import annotations

import gc
import hashlib
import os
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from faster_whisper.audio import decode_audio

SAMPLE_RATE = 16000
MIN_DURATION_S = 0.5
MAX_DURATION_S = 4 * 3600.0
# Peak below about -80 dBFS: a muted or unplugged microphone, not a quiet speaker.
SILENCE_PEAK = 1e-4
# Sample rates a microphone or phone line really uses; a header outside this range is
# damaged or forged (a 3 Hz "recording" of one second of sound claims 1.5 hours).
MIN_SAMPLE_RATE = 4000
MAX_SAMPLE_RATE = 384000
# How much shorter than its header promises a file may decode before it counts as
# truncated: encoders pad the last frame, so allow max(1 s, 2%).
TRUNCATION_TOLERANCE_S = 1.0
TRUNCATION_TOLERANCE_FRACTION = 0.02
# faster-whisper resamples in groups of this many samples; doing the same keeps the
# streamed decode bit-identical to ``load_samples``.
_GROUP_SAMPLES = 500_000

# FFmpeg container name -> (suffix to store under, suffixes that name it correctly).
FORMATS: dict[str, tuple[str, tuple[str, ...]]] = {
    "wav": (".wav", (".wav", ".wave")),
    "mp3": (".mp3", (".mp3",)),
    "mov,mp4,m4a,3gp,3g2,mj2": (".m4a", (".m4a", ".mp4")),
    "ogg": (".ogg", (".ogg", ".oga", ".opus")),
    "matroska,webm": (".webm", (".webm", ".mka", ".mkv")),
    "flac": (".flac", (".flac",)),
}
SUPPORTED = ("wav", "mp3", "m4a", "ogg", "webm", "flac")


class AudioError(ValueError):
    """The file is not usable encounter audio; the message says why, for a person."""


@dataclass(frozen=True)
class AudioInfo:
    """What ingest learns about an audio file before storing it.

    suffix: the suffix of the content's real format (store the file under it).
    notes: things the person should be told although the file was accepted.
    """

    sha256: str
    format: str
    duration_s: float
    sample_rate: int
    channels: int
    size_bytes: int
    suffix: str = ""
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Header:
    format: str
    sample_rate: int
    channels: int
    declared_s: float | None


def sha256_file(path: Path) -> str:
    """Hex sha256 of the file's bytes (the audio's identity in the store)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def probe_audio(
    path: Path,
    max_duration_s: float = MAX_DURATION_S,
    min_duration_s: float = MIN_DURATION_S,
) -> AudioInfo:
    """Check that ``path`` holds complete, audible, speech-length audio and describe it.

    Decodes the whole file once as a stream (constant memory). Raises AudioError with a
    readable message for every refused case listed in the module docstring.
    """
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise AudioError(f"{name}: no such file")
    return _probe(path, name, path.stat().st_size, max_duration_s, min_duration_s)


def probe_audio_bytes(
    data: bytes,
    name: str,
    max_duration_s: float = MAX_DURATION_S,
    min_duration_s: float = MIN_DURATION_S,
) -> AudioInfo:
    """``probe_audio`` for a file's bytes held in memory (an upload), named ``name``: the
    same checks, and nothing is written to disk (for an encrypted data directory)."""
    return _probe(bytes(data), name, len(data), max_duration_s, min_duration_s)


def _probe(
    source: Path | bytes, name: str, size: int, max_duration_s: float, min_duration_s: float
) -> AudioInfo:
    if size == 0:
        raise AudioError(f"{name}: the file is empty")
    header = _read_header(source, name)
    if header.format not in FORMATS:
        raise AudioError(
            f"{name}: {header.format} audio is not supported; use {', '.join(SUPPORTED)}"
        )
    if header.sample_rate == 0:  # a container guess with no real audio stream inside
        raise AudioError(f"{name}: not a readable audio file, or it is damaged")
    if not MIN_SAMPLE_RATE <= header.sample_rate <= MAX_SAMPLE_RATE:
        raise AudioError(
            f"{name}: the header claims a sample rate of {header.sample_rate} Hz; a recording "
            f"has {MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE} Hz, so the file is damaged"
        )
    if header.declared_s is not None and header.declared_s > max_duration_s:
        raise AudioError(_too_long(name, header.declared_s, max_duration_s))
    decoded_s, peak = _scan(source, name, max_duration_s)
    if decoded_s == 0:
        raise AudioError(f"{name}: the audio could not be decoded (the file is damaged)")
    if _is_truncated(header.declared_s, decoded_s):
        raise AudioError(
            f"{name}: the file is truncated or damaged: it should hold "
            f"{_hms(header.declared_s)} of audio but only {_hms(decoded_s)} can be decoded. "
            "Upload the complete recording."
        )
    if decoded_s < min_duration_s:
        raise AudioError(
            f"{name}: only {decoded_s:.2f} s of audio, too short to transcribe "
            f"(minimum {min_duration_s:g} s)"
        )
    if peak < SILENCE_PEAK:
        raise AudioError(
            f"{name}: the recording is silent (no sound at all), so there is no speech "
            "to transcribe; check the microphone"
        )
    suffix, accepted = FORMATS[header.format]
    notes: tuple[str, ...] = ()
    given_suffix = Path(name).suffix.lower()
    if given_suffix in accepted:
        suffix = given_suffix
    else:
        notes = (
            f"{name} is named {Path(name).suffix or 'without a suffix'} but holds "
            f"{suffix[1:]} audio; it was stored as {suffix[1:]}.",
        )
    return AudioInfo(
        sha256=(
            hashlib.sha256(source).hexdigest() if isinstance(source, bytes)
            else sha256_file(source)
        ),
        format=header.format,
        duration_s=round(decoded_s, 3),
        sample_rate=header.sample_rate,
        channels=header.channels,
        size_bytes=size,
        suffix=suffix,
        notes=notes,
    )


def load_samples(path: Path) -> np.ndarray:
    """Decode to 16 kHz mono float32, the input every speech stage uses (in memory)."""
    try:
        return decode_audio(str(path), sampling_rate=SAMPLE_RATE)
    except (av.FFmpegError, ValueError, IndexError) as exc:
        raise AudioError(f"{Path(path).name}: the audio could not be decoded") from exc


def load_samples_from_bytes(data: bytes, name: str = "audio") -> np.ndarray:
    """``load_samples`` for a file's bytes held in memory (decrypted stored audio): the
    same decoder, and nothing is written to disk."""
    import io

    try:
        return decode_audio(io.BytesIO(data), sampling_rate=SAMPLE_RATE)
    except (av.FFmpegError, ValueError, IndexError) as exc:
        raise AudioError(f"{name}: the audio could not be decoded") from exc


def iter_blocks(path: Path) -> Iterator[np.ndarray]:
    """Decode to 16 kHz mono float32 as a stream of blocks (about 10 s each).

    The same decoder and resampler settings as ``load_samples``, so the concatenated
    blocks equal its result; damaged frames are skipped as it skips them.
    """
    resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    fifo = av.AudioFifo()
    try:
        with av.open(str(path), mode="r", metadata_errors="ignore") as container:
            for frame in _valid_frames(container.decode(audio=0)):
                frame.pts = None  # the fifo checks timestamps; decoded ones may jump
                fifo.write(frame)
                if fifo.samples >= _GROUP_SAMPLES:
                    yield from _resampled(resampler, fifo.read())
        if fifo.samples > 0:
            yield from _resampled(resampler, fifo.read())
        yield from _resampled(resampler, None)
    except (av.FFmpegError, IndexError) as exc:
        raise AudioError(f"{Path(path).name}: the audio could not be decoded") from exc
    finally:
        # PyAV resamplers hold native buffers until collected (faster-whisper #390).
        del resampler, fifo
        gc.collect()


def iter_chunks(path: Path, chunk_s: float) -> Iterator[np.ndarray]:
    """Consecutive ``chunk_s``-second float32 arrays (the last may be shorter)."""
    size = max(1, int(chunk_s * SAMPLE_RATE))
    pending: list[np.ndarray] = []
    held = 0
    for block in iter_blocks(path):
        pending.append(block)
        held += len(block)
        while held >= size:
            joined = np.concatenate(pending)
            yield joined[:size]
            rest = joined[size:]
            pending, held = ([rest] if len(rest) else []), len(rest)
    if held:
        yield np.concatenate(pending)


def decode_to_memmap(path: Path, directory: Path) -> np.memmap:
    """Decode ``path`` into a disk-backed 16 kHz mono float32 array in ``directory``.

    Blocks go straight to a raw file, so memory stays bounded however long the
    recording is; the caller owns ``directory`` and deletes it when done.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    fd, raw = tempfile.mkstemp(dir=directory, prefix="samples-", suffix=".f32")
    written = 0
    with os.fdopen(fd, "wb") as out:
        for block in iter_blocks(path):
            out.write(block.tobytes())
            written += len(block)
    if written == 0:
        Path(raw).unlink(missing_ok=True)
        raise AudioError(f"{Path(path).name}: the audio could not be decoded")
    return np.memmap(raw, dtype=np.float32, mode="r", shape=(written,))


def release_pages(samples: np.ndarray, start: int, stop: int) -> None:
    """Let the kernel drop a memmap's pages in [start, stop) from this process.

    Pages read from a memmap count towards the process's resident memory until
    unmapped; dropping the ones already used keeps a long transcription's footprint
    flat. A no-op for ordinary arrays.
    """
    mapping = getattr(samples, "_mmap", None)  # numpy keeps the mmap object here
    if mapping is None or not hasattr(mapping, "madvise"):
        return
    page = os.sysconf("SC_PAGE_SIZE")
    itemsize = samples.dtype.itemsize
    first = (start * itemsize) // page * page
    last = (stop * itemsize) // page * page
    if last > first:
        import mmap

        mapping.madvise(mmap.MADV_DONTNEED, first, last - first)


def _valid_frames(frames: Iterator[av.AudioFrame]) -> Iterator[av.AudioFrame]:
    iterator = iter(frames)
    while True:
        try:
            yield next(iterator)
        except StopIteration:
            return
        except av.error.InvalidDataError:
            continue


def _resampled(resampler: av.AudioResampler, frame: av.AudioFrame | None):
    for out in resampler.resample(frame):
        yield out.to_ndarray().reshape(-1).astype(np.float32) / 32768.0


def _av_open(source: Path | bytes):
    """PyAV container for a file or for bytes in memory."""
    import io

    target = io.BytesIO(source) if isinstance(source, bytes) else str(source)
    return av.open(target, metadata_errors="ignore")


def _head(source: Path | bytes) -> bytes:
    if isinstance(source, bytes):
        return source[: 1 << 16]
    with open(source, "rb") as fh:
        return fh.read(1 << 16)


def _read_header(source: Path | bytes, name: str) -> _Header:
    """Container format, stream layout and the duration the file itself declares."""
    try:
        with _av_open(source) as container:
            streams = container.streams.audio
            if not streams:
                raise AudioError(f"{name}: not an audio file (no audio stream found)")
            stream = streams[0]
            fmt = container.format.name
            declared = container.duration / av.time_base if container.duration else None
            ctx = stream.codec_context
            if ctx is None:  # FFmpeg knows the container but has no decoder for the codec
                raise AudioError(
                    f"{name}: the audio codec is unknown or the header is damaged"
                )
            header = _Header(fmt, int(ctx.sample_rate or 0), int(ctx.channels or 0), declared)
    except AudioError:
        raise
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise AudioError(
            f"{name}: not a readable audio file, or it is damaged"
        ) from exc
    if fmt == "wav":
        # FFmpeg derives a WAV's duration from the file size; the RIFF header knows better.
        return _Header(fmt, header.sample_rate, header.channels, _wav_declared_s(source))
    if fmt == "mp3" and not _mp3_has_frame_count(source):
        # Without a Xing/Info/VBRI header the duration is a bitrate guess: don't trust it.
        return _Header(fmt, header.sample_rate, header.channels, None)
    return header


def _scan(source: Path | bytes, name: str, max_duration_s: float) -> tuple[float, float]:
    """Decoded seconds and peak level (0..1), decoding natively without resampling."""
    seconds, peak = 0.0, 0.0
    try:
        with _av_open(source) as container:
            stream = container.streams.audio[0]
            for packet in container.demux(stream):
                try:
                    frames = packet.decode()
                except av.error.InvalidDataError:
                    continue  # a damaged frame: the truncation check judges the total
                for frame in frames:
                    if not frame.sample_rate:
                        continue  # a damaged frame without a rate carries no usable sound
                    seconds += frame.samples / frame.sample_rate
                    peak = max(peak, _peak(frame.to_ndarray()))
                if seconds > max_duration_s:
                    raise AudioError(_too_long(name, seconds, max_duration_s, "over "))
    except AudioError:
        raise
    except (av.FFmpegError, IndexError, ValueError) as exc:
        raise AudioError(f"{name}: the audio could not be decoded") from exc
    return seconds, peak


def _peak(samples: np.ndarray) -> float:
    """Largest absolute sample as a fraction of full scale, for any sample format."""
    if samples.size == 0:
        return 0.0
    if samples.dtype.kind == "u":  # 8-bit WAV: unsigned, centred on 128
        mid = (int(np.iinfo(samples.dtype).max) + 1) // 2
        return float(np.abs(samples.astype(np.int64) - mid).max()) / mid
    if samples.dtype.kind == "i":
        full = int(np.iinfo(samples.dtype).max) + 1
        return float(np.abs(samples.astype(np.int64)).max()) / full
    return float(np.abs(samples).max())


def _is_truncated(declared_s: float | None, decoded_s: float) -> bool:
    if not declared_s:
        return False
    missing = declared_s - decoded_s
    return missing > max(TRUNCATION_TOLERANCE_S, TRUNCATION_TOLERANCE_FRACTION * declared_s)


def _wav_declared_s(source: Path | bytes) -> float | None:
    """Seconds the RIFF header's ``data`` chunk declares, or None when unknown."""
    head = _head(source)
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    byte_rate, pos = 0, 12
    while pos + 8 <= len(head):
        chunk, size = head[pos : pos + 4], struct.unpack("<I", head[pos + 4 : pos + 8])[0]
        if chunk == b"fmt " and pos + 16 <= len(head):
            byte_rate = struct.unpack("<I", head[pos + 16 : pos + 20])[0]
        if chunk == b"data":
            # 0 and 0xFFFFFFFF are what streaming writers put when they cannot seek back.
            if not byte_rate or size in (0, 0xFFFFFFFF):
                return None
            return size / byte_rate
        pos += 8 + size + (size & 1)
    return None


def _mp3_has_frame_count(source: Path | bytes) -> bool:
    head = _head(source)
    start = 0
    if head[:3] == b"ID3" and len(head) >= 10:
        # ID3v2 size is four 7-bit bytes ("syncsafe").
        start = 10 + sum((b & 0x7F) << (7 * (3 - i)) for i, b in enumerate(head[6:10]))
    first_frame = head[start : start + 4096]
    return any(tag in first_frame for tag in (b"Xing", b"Info", b"VBRI"))


def _too_long(name: str, seconds: float, limit: float, prefix: str = "") -> str:
    return (
        f"{name}: the recording is {prefix}{_hms(seconds)} long; the maximum is "
        f"{_hms(limit)}. Split it into shorter recordings."
    )


def _hms(seconds: float | None) -> str:
    total = round(seconds or 0)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d} h"
    if minutes:
        return f"{minutes}:{secs:02d} min"
    return f"{seconds:.1f} s"
