"""Seconds per audio minute for ingest -> ASR -> NLP -> draft on the demo encounters.

Runs in a fresh temporary data directory, so every step really runs. Prints one JSON
object as the last line: per-stage seconds per audio minute, real-time factor, and the
process's peak resident memory.
"""

from __future__ import annotations

import json
import resource
import tempfile
import time
from pathlib import Path

from pipelines.asr import transcribe
from pipelines.audio import load_samples
from pipelines.diarize import assign_speakers
from pipelines.drafting import draft_note
from pipelines.nlp import extract_entities
from pipelines.term_repair import repair_transcript
from workbench import store as st
from workbench.demo import demo_encounters
from workbench.ingest import ingest_file
from workbench.jobs import Engine


def main() -> dict:
    engine = Engine()
    timings = {
        "load_asr": 0.0,
        "load_nlp": 0.0,
        "ingest": 0.0,
        "asr": 0.0,
        "repair": 0.0,
        "diarize": 0.0,
        "nlp": 0.0,
        "draft": 0.0,
    }
    t = time.perf_counter()
    _ = engine.asr
    timings["load_asr"] = time.perf_counter() - t
    t = time.perf_counter()
    _ = engine.nlp
    timings["load_nlp"] = time.perf_counter() - t
    audio_s = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        store = st.open_store(Path(tmp))
        for item in demo_encounters():
            t = time.perf_counter()
            result = ingest_file(store, Path(tmp), item.audio, "bench", item.meta)
            timings["ingest"] += time.perf_counter() - t
            audio_s += result.audio.duration_s
            samples = load_samples(item.audio)
            t = time.perf_counter()
            transcript = transcribe(engine.asr, samples, engine.options.asr)
            timings["asr"] += time.perf_counter() - t
            t = time.perf_counter()
            transcript = repair_transcript(transcript)
            timings["repair"] += time.perf_counter() - t
            t = time.perf_counter()
            transcript = assign_speakers(transcript, samples)
            timings["diarize"] += time.perf_counter() - t
            t = time.perf_counter()
            entities = extract_entities(engine.nlp, transcript)
            timings["nlp"] += time.perf_counter() - t
            t = time.perf_counter()
            draft_note(transcript, entities)
            timings["draft"] += time.perf_counter() - t
    minutes = audio_s / 60
    per_min = {k: round(v / minutes, 3) for k, v in timings.items() if not k.startswith("load")}
    total = sum(v for k, v in timings.items() if not k.startswith("load"))
    return {
        "benchmark": "pipeline",
        "encounters": len(demo_encounters()),
        "audio_minutes": round(minutes, 2),
        "seconds_per_audio_minute": round(total / minutes, 3),
        "stage_seconds_per_audio_minute": per_min,
        "rtf": round(total / audio_s, 4),
        "model_load_s": {
            "asr": round(timings["load_asr"], 2),
            "nlp": round(timings["load_nlp"], 2),
        },
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


if __name__ == "__main__":
    print(json.dumps(main()))
