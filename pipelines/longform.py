"""Long recordings: transcribe in windows cut at quiet moments, then merge.

faster-whisper holds the features of the whole input in memory, so a three-hour
encounter is cut into windows of about ``chunk_s`` seconds. Each cut is moved to the
quietest 200 ms within +-10 s of its nominal place, so no word is split; every window
goes through ``pipelines.asr.transcribe`` and the segments are shifted back onto the
recording's clock and re-numbered. Audio no longer than one window is passed to
``transcribe`` unchanged, so short encounters give exactly the direct result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, replace
from itertools import pairwise
from pathlib import Path
from tempfile import TemporaryDirectory

import numpy as np

from pipelines.asr import AsrOptions, model_version, transcribe
from pipelines.audio import SAMPLE_RATE, decode_to_memmap, release_pages, sha256_file
from pipelines.types import Segment, Transcript

CHUNK_S = 600.0
SEARCH_S = 10.0
QUIET_S = 0.2
_HOP = SAMPLE_RATE // 100  # score candidate quiet spots every 10 ms


def transcribe_long(
    model,
    samples_or_path: np.ndarray | Path,
    options: AsrOptions = AsrOptions(),
    progress: Callable[[float], None] | None = None,
    chunk_s: float = CHUNK_S,
) -> Transcript:
    """Transcribe 16 kHz mono samples (an array or memmap) or an audio file of any length.

    A file is first decoded to a temporary memmap, so memory stays bounded; its sha256
    becomes ``input_sha256`` as with ``transcribe``.
    """
    if isinstance(samples_or_path, np.ndarray):
        return _transcribe_samples(model, samples_or_path, options, progress, chunk_s, "")
    path = Path(samples_or_path)
    with TemporaryDirectory(prefix="scribe-decode-") as tmp:
        samples = decode_to_memmap(path, Path(tmp))
        try:
            return _transcribe_samples(
                model, samples, options, progress, chunk_s, sha256_file(path)
            )
        finally:
            del samples  # unmap before the directory goes


def _transcribe_samples(
    model,
    samples: np.ndarray,
    options: AsrOptions,
    progress: Callable[[float], None] | None,
    chunk_s: float,
    fingerprint: str,
) -> Transcript:
    total = len(samples)
    cuts = window_bounds(samples, chunk_s)
    if len(cuts) == 2:
        # One window: hand over untouched, so the result is exactly ``transcribe``'s.
        result = transcribe(model, np.asarray(samples), options, progress)
        return replace(result, input_sha256=fingerprint or result.input_sha256)
    parts: list[tuple[float, Transcript]] = []
    for start, stop in pairwise(cuts):
        window = np.array(samples[start:stop], dtype=np.float32)  # a plain in-RAM copy
        parts.append((start / SAMPLE_RATE, transcribe(
            model, window, options, _scaled(progress, start, stop, total)
        )))
        release_pages(samples, start, stop)
    if progress:
        progress(1.0)
    return merge_transcripts(parts, total / SAMPLE_RATE, options, fingerprint)


def window_bounds(samples: np.ndarray, chunk_s: float = CHUNK_S,
                  search_s: float = SEARCH_S, quiet_s: float = QUIET_S) -> list[int]:
    """Sample indices ``[0, cut1, ..., len]`` of the windows to transcribe.

    Each cut is placed in the middle of the quietest ``quiet_s`` stretch within
    ``search_s`` of ``previous cut + chunk_s``.
    """
    total, chunk = len(samples), int(chunk_s * SAMPLE_RATE)
    search, quiet = int(search_s * SAMPLE_RATE), int(quiet_s * SAMPLE_RATE)
    cuts = [0]
    while total - cuts[-1] > chunk:
        nominal = cuts[-1] + chunk
        lo = max(cuts[-1] + quiet, nominal - search)
        hi = min(total, nominal + search)
        cuts.append(quietest_point(samples, lo, hi, quiet))
    cuts.append(total)
    return cuts


def quietest_point(samples: np.ndarray, lo: int, hi: int, quiet: int) -> int:
    """Middle of the lowest-energy ``quiet``-sample stretch inside ``samples[lo:hi]``."""
    region = np.asarray(samples[lo:hi], dtype=np.float64)
    if len(region) <= quiet:
        return (lo + hi) // 2
    energy = np.concatenate(([0.0], np.cumsum(region * region)))
    starts = np.arange(0, len(region) - quiet + 1, _HOP)
    sums = energy[starts + quiet] - energy[starts]
    # Among equally quiet spots (digital silence) prefer the one nearest the middle.
    best = np.flatnonzero(sums <= sums.min() + 1e-12)
    middle = (len(region) - quiet) / 2
    start = int(starts[best[np.argmin(np.abs(starts[best] - middle))]])
    return lo + start + quiet // 2


def merge_transcripts(
    parts: list[tuple[float, Transcript]],
    duration_s: float,
    options: AsrOptions,
    fingerprint: str = "",
) -> Transcript:
    """One transcript from (offset seconds, window transcript) pairs, in order."""
    segments: list[Segment] = []
    for offset, part in parts:
        for seg in part.segments:
            segments.append(_shifted(seg, offset, len(segments)))
    languages = [p.language for _, p in parts if p.segments]
    return Transcript(
        segments=tuple(segments),
        language=languages[0] if languages else options.language,
        duration_s=round(duration_s, 3),
        model=parts[0][1].model if parts else model_version(options),
        input_sha256=fingerprint,
        options=asdict(options),
    )


def _shifted(seg: Segment, offset: float, idx: int) -> Segment:
    words = tuple(
        replace(w, start=round(w.start + offset, 3), end=round(w.end + offset, 3))
        for w in seg.words
    )
    return replace(seg, idx=idx, start=round(seg.start + offset, 3),
                   end=round(seg.end + offset, 3), words=words)


def _scaled(progress: Callable[[float], None] | None, start: int, stop: int, total: int):
    """Map one window's 0..1 progress onto the whole recording's."""
    if progress is None:
        return None
    return lambda fraction: progress((start + fraction * (stop - start)) / total)
