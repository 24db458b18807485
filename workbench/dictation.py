"""Dictation into a note: recognise the clinician's dictation, then interpret its commands.

This layer only runs ASR and :func:`pipelines.dictation.interpret`; it does not write to
the store. The caller (the Review page) turns the result into human note sentences and
saves them as a new note version, so dictated text goes through the same event log as
typed edits.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from pipelines.asr import AsrOptions, model_version, transcribe
from pipelines.audio import MIN_DURATION_S, SAMPLE_RATE, AudioError, load_samples
from pipelines.dictation import (
    DictationOptions,
    DictationResult,
    dictation_asr_options,
    interpret,
)

log = logging.getLogger(__name__)


def dictate(
    model,
    audio: Path | str | np.ndarray,
    note_sections: tuple[str, ...],
    start_section: str,
    custom_terms: Sequence[str] = (),
    *,
    headings: Mapping[str, str] | None = None,
    asr_options: AsrOptions = AsrOptions(),
    options: DictationOptions = DictationOptions(),
    progress: Callable[[float], None] | None = None,
) -> DictationResult:
    """Transcribe a dictation (file or 16 kHz mono samples) and interpret it.

    ``custom_terms`` bias the recogniser and keep their casing in the text; ``headings``
    (section key -> heading) are accepted as spoken section names for "go to ...".

    Raises:
        AudioError: if the audio cannot be decoded or is too short.
        ValueError: if ``start_section`` is not one of ``note_sections``.
    """
    if start_section not in note_sections:
        raise ValueError(f"start section {start_section!r} is not one of {note_sections}")
    samples = audio if isinstance(audio, np.ndarray) else load_samples(Path(audio))
    if len(samples) / SAMPLE_RATE < MIN_DURATION_S:
        raise AudioError("The dictation is too short to transcribe.")
    terms = tuple(" ".join(t.split()) for t in custom_terms if t.strip())
    asr = dictation_asr_options(asr_options, terms)
    started = time.perf_counter()
    transcript = transcribe(model, samples, asr, progress=progress)
    result = interpret(
        transcript, note_sections, start_section,
        replace(options, terms=(*options.terms, *terms)), headings=headings,
    )
    # Ids and counts only: the dictation itself is clinical text.
    log.info(
        "dictation of %.1f s interpreted in %.1f s: %d commands, sections %s",
        transcript.duration_s, time.perf_counter() - started, len(result.commands),
        ",".join(result.dictated_sections),
    )
    return result.with_model(model_version(asr))


def dictate_bytes(
    model,
    data: bytes,
    note_sections: tuple[str, ...],
    start_section: str,
    custom_terms: Sequence[str] = (),
    **kwargs,
) -> DictationResult:
    """:func:`dictate` for an uploaded or recorded file held in memory (wav, webm, mp3 ...).

    Decoded in memory, so the recording is never written to a temporary file.
    """
    return dictate(model, decode_bytes(data), note_sections, start_section, custom_terms,
                   **kwargs)


def decode_bytes(data: bytes) -> np.ndarray:
    """16 kHz mono float32 samples from an audio file's bytes.

    Raises:
        AudioError: for empty or undecodable data.
    """
    import av
    from faster_whisper.audio import decode_audio

    if not data:
        raise AudioError("The dictation is empty.")
    try:
        return decode_audio(io.BytesIO(data), sampling_rate=SAMPLE_RATE)
    except (av.FFmpegError, ValueError, IndexError) as exc:
        raise AudioError("The dictation could not be decoded as audio.") from exc
