"""Two-voice dialogue synthesis for demo encounters and test fixtures.

A script is a list of turns (clinician / patient). Each turn is spoken by espeak-ng with the
role's voice, resampled to 16 kHz mono with sox, trimmed of its own edge silence, and laid on
one timeline with a fixed gap between turns. Because we place every sample ourselves, the
returned :class:`TurnTiming` list is exact ground truth for diarisation tests.

Output is chosen by suffix: ``.ogg`` / ``.opus`` (Ogg Opus via ffmpeg, bit-exact flags so the
same script gives the same bytes on the same build) or ``.wav`` (16-bit PCM).

Pure module: no streamlit, no database, no network. Needs the ``espeak-ng``, ``sox`` and (for
Opus) ``ffmpeg`` executables.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROLES: tuple[str, ...] = ("clinician", "patient")
_PREFIXES: dict[str, str] = {"CLINICIAN": "clinician", "PATIENT": "patient"}
_SILENCE_THRESHOLD = 0.01  # of full scale; espeak-ng pads clips with digital near-silence


@dataclass(frozen=True)
class SynthOptions:
    """How a dialogue is voiced and encoded.

    Defaults were chosen by measuring faster-whisper ``tiny.en`` WER on two demo scripts
    (``python -m demo.evaluate --sweep``): espeak-ng's default US male voice for the clinician
    and its "steph" female variant for the patient gave the lowest WER of the pairs tried
    (about 13% at 150 wpm; slower and faster rates and other variants scored worse), and the
    two roles are easy to tell apart by ear and by pitch.

    Attributes:
        clinician_voice: espeak-ng voice (``language+variant``) for the clinician.
        patient_voice: espeak-ng voice for the patient (or parent).
        clinician_pitch: espeak-ng pitch 0..99 for the clinician.
        patient_pitch: espeak-ng pitch 0..99 for the patient.
        words_per_minute: espeak-ng speaking rate for both roles.
        gap_seconds: silence between consecutive turns.
        lead_in_seconds: silence before the first turn.
        tail_seconds: silence after the last turn.
        sample_rate: output sample rate in Hz (16 kHz is what Whisper consumes).
        bitrate_kbps: Opus bitrate for ``.ogg`` / ``.opus`` output; ignored for ``.wav``.
    """

    clinician_voice: str = "en-us"
    patient_voice: str = "en-us+steph"
    clinician_pitch: int = 50
    patient_pitch: int = 60
    words_per_minute: int = 150
    gap_seconds: float = 0.6
    lead_in_seconds: float = 0.3
    tail_seconds: float = 0.05
    sample_rate: int = 16000
    bitrate_kbps: int = 28

    def voice(self, speaker: str) -> tuple[str, int]:
        """Return ``(voice, pitch)`` for a role."""
        if speaker == "clinician":
            return self.clinician_voice, self.clinician_pitch
        if speaker == "patient":
            return self.patient_voice, self.patient_pitch
        raise ValueError(f"unknown speaker {speaker!r}; expected one of {ROLES}")


@dataclass(frozen=True)
class Turn:
    """One line of a script: who speaks and what they say."""

    speaker: str
    text: str


@dataclass(frozen=True)
class TurnTiming:
    """A turn placed in the output audio; ``start``/``end`` are seconds from file start."""

    speaker: str
    text: str
    start: float
    end: float


def parse_script(text: str) -> list[Turn]:
    """Parse a dialogue script into turns.

    Format: one turn per line, ``CLINICIAN: text`` or ``PATIENT: text`` (prefix is
    case-insensitive). Blank lines and lines starting with ``#`` are ignored.

    Raises:
        ValueError: naming the 1-based line number of a line without a known speaker prefix
            or with no text after it.
    """
    turns: list[Turn] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        prefix, sep, rest = line.partition(":")
        speaker = _PREFIXES.get(prefix.strip().upper())
        if not sep or speaker is None:
            raise ValueError(
                f"line {lineno}: expected 'CLINICIAN: text' or 'PATIENT: text', got {raw!r}"
            )
        utterance = " ".join(rest.split())
        if not utterance:
            raise ValueError(f"line {lineno}: {prefix.strip()} turn has no text")
        turns.append(Turn(speaker=speaker, text=utterance))
    return turns


def synthesize_dialogue(
    turns: list[Turn], out_path: str | Path, options: SynthOptions | None = None
) -> list[TurnTiming]:
    """Synthesise ``turns`` into one mono audio file and return where each turn lies in it.

    The file format follows the suffix of ``out_path``: ``.ogg``/``.opus`` (Ogg Opus at
    ``options.bitrate_kbps``) or ``.wav`` (16-bit PCM). Timings are exact to one sample of the
    PCM timeline that is encoded.

    Raises:
        RuntimeError: if espeak-ng, sox or (for Opus) ffmpeg is not installed, or a tool fails.
        ValueError: for an empty turn list, an unknown speaker or an unsupported suffix.
    """
    opts = options or SynthOptions()
    out = Path(out_path)
    suffix = out.suffix.lower()
    if suffix not in (".ogg", ".opus", ".wav"):
        raise ValueError(f"unsupported output suffix {suffix!r}; use .ogg, .opus or .wav")
    if not turns:
        raise ValueError("no turns to synthesise")
    _require("espeak-ng", "sox", *(["ffmpeg"] if suffix != ".wav" else []))

    sr = opts.sample_rate
    gap = np.zeros(round(opts.gap_seconds * sr), dtype=np.int16)
    pieces: list[np.ndarray] = [np.zeros(round(opts.lead_in_seconds * sr), dtype=np.int16)]
    timings: list[TurnTiming] = []
    cursor = len(pieces[0])
    with tempfile.TemporaryDirectory(prefix="synth-") as tmp:
        for i, turn in enumerate(turns):
            voice, pitch = opts.voice(turn.speaker)
            clip = _speak(turn.text, voice, pitch, opts.words_per_minute, sr, Path(tmp))
            if i:
                pieces.append(gap)
                cursor += len(gap)
            end = cursor + len(clip)
            timings.append(TurnTiming(turn.speaker, turn.text, cursor / sr, end / sr))
            pieces.append(clip)
            cursor += len(clip)
        pieces.append(np.zeros(round(opts.tail_seconds * sr), dtype=np.int16))
        pcm = np.concatenate(pieces)
        out.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".wav":
            _write_wav(out, pcm, sr)
        else:
            wav = Path(tmp) / "dialogue.wav"
            _write_wav(wav, pcm, sr)
            _encode_opus(wav, out, sr, opts.bitrate_kbps)
    return timings


def _require(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        raise RuntimeError(
            f"speech synthesis needs {', '.join(missing)} on PATH "
            "(Debian: apt-get install espeak-ng sox ffmpeg)"
        )


def _run(cmd: list[str], stdin: bytes | None = None) -> None:
    proc = subprocess.run(cmd, input=stdin, capture_output=True, check=False)
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip()[-500:]
        raise RuntimeError(f"{cmd[0]} failed (exit {proc.returncode}): {err}")


def _speak(text: str, voice: str, pitch: int, wpm: int, sr: int, tmp: Path) -> np.ndarray:
    """Voice one utterance; return int16 samples at ``sr`` with edge silence trimmed."""
    raw, resampled = tmp / "turn-raw.wav", tmp / "turn.wav"
    # Text goes through stdin so a leading "-" or shell characters are never options.
    _run(
        ["espeak-ng", "-v", voice, "-p", str(pitch), "-s", str(wpm), "-w", str(raw)],
        stdin=text.encode("utf-8"),
    )
    # -R: repeatable; -D: no dither (random noise would make builds non-deterministic).
    _run(["sox", "-R", "-D", str(raw), "-r", str(sr), "-c", "1", "-b", "16", str(resampled)])
    samples = _read_wav(resampled)
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > _SILENCE_THRESHOLD * 32768)
    if loud.size == 0:
        raise RuntimeError(f"espeak-ng produced silence for {text[:40]!r}")
    return samples[loud[0] : loud[-1] + 1]


def _read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2 or w.getnchannels() != 1:
            raise RuntimeError(f"{path.name}: expected 16-bit mono PCM")
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").copy()


def _write_wav(path: Path, pcm: np.ndarray, sr: int) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm.astype("<i2").tobytes())


def _encode_opus(wav: Path, out: Path, sr: int, kbps: int) -> None:
    # bitexact flags drop the encoder version tag and fix the Ogg serial number, so the
    # same PCM gives the same file (reviewable diffs, stable fingerprints).
    _run(
        [
            "ffmpeg",
            "-nostdin",
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-i",
            str(wav),
            "-map_metadata",
            "-1",
            "-c:a",
            "libopus",
            "-b:a",
            f"{kbps}k",
            "-application",
            "voip",
            "-ac",
            "1",
            "-ar",
            str(sr),
            "-fflags",
            "+bitexact",
            "-flags:a",
            "+bitexact",
            "-f",
            "ogg",
            str(out),
        ]
    )
