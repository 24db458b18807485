"""Hours of audio processed per wall-clock hour: the local engine against Ray, same machine.

Both engines process the same demo encounters (ASR, NLP, drafting, the support check)
into fresh temporary stores: the local engine inline in this process, as ``scribe
process`` does, and Ray on a local cluster (``ray.init()``, one actor per CPU) as
``scribe process --engine ray`` does. Wall clock includes loading the models (once per
process or actor). Prints one JSON object as the last line: audio hours per hour, audio
seconds per CPU-second (wall clock times the machine's cores), per-step seconds.

    python -m benchmarks.scale_processing [--encounters N] [--workers N]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from workbench import steps as sp
from workbench import store as st
from workbench.demo import demo_encounters
from workbench.ingest import ingest_file
from workbench.jobs import Engine, options_from_settings

USER = "bench"


def _ingest(data: Path, encounters: int) -> tuple[st.Store, list[str], float]:
    """A fresh store holding the first ``encounters`` demo encounters; their audio seconds."""
    items = demo_encounters()
    if not 0 < encounters <= len(items):
        raise ValueError(f"encounters must be 1..{len(items)} (the demo encounters)")
    store = st.open_store(data)
    st.ensure_user(store, USER, USER, "clinician")
    ids, audio_s = [], 0.0
    for item in items[:encounters]:
        result = ingest_file(store, data, item.audio, USER, item.meta)
        ids.append(result.encounter_id)
        audio_s += result.audio.duration_s
    return store, ids, audio_s


def _figures(audio_s: float, wall_s: float, cores: int, steps: dict[str, float]) -> dict:
    return {
        "audio_s": round(audio_s, 1),
        "wall_s": round(wall_s, 2),
        "audio_hours_per_hour": round(audio_s / wall_s, 2),
        "audio_s_per_cpu_s": round(audio_s / (wall_s * cores), 2),
        "step_seconds": {k: round(v, 2) for k, v in sorted(steps.items())},
    }


def run_local(data: Path, encounters: int, cores: int) -> dict:
    """The local engine: the shared steps run inline, one encounter after another."""
    store, ids, audio_s = _ingest(data, encounters)
    steps: dict[str, float] = {}
    started = time.perf_counter()
    # As `scribe process` runs it: reproducible ASR, the same as Ray's workers.
    engine = Engine(replace(options_from_settings(), reproducible_asr=True), store=store)
    for eid in ids:
        while (job := sp.plan_next(store, data, eid, USER)) is not None:
            result, seconds = sp.timed_compute(engine, job, data / "tmp")
            if not sp.write(store, job, result, USER):
                raise RuntimeError(f"{eid}: {job.step} result was stale in a fresh store")
            steps[job.step] = steps.get(job.step, 0.0) + seconds
    return _figures(audio_s, time.perf_counter() - started, cores, steps)


def run_ray(data: Path, encounters: int, workers: int, cores: int) -> dict:
    """Ray: a local cluster, ``workers`` actors, the driver writing every result."""
    from workbench.batch_ray import connect, run_batch, start_pool, worker_ner

    store, ids, audio_s = _ingest(data, encounters)
    started = time.perf_counter()
    connect(None)
    options = replace(options_from_settings(), reproducible_asr=True)  # as the local run
    pool = start_pool(options, worker_ner(store), workers)
    summary = run_batch(store, data, ids, USER, pool)
    if summary.failed or len(summary.processed) != len(ids):
        raise RuntimeError(f"Ray run incomplete: {summary.line()}")
    figures = _figures(audio_s, time.perf_counter() - started, cores, summary.step_seconds)
    return {**figures, "workers": workers}


def measure(encounters: int = 5, workers: int | None = None) -> dict:
    """Both engines over the same ``encounters`` demo encounters; one dict of figures."""
    cores = os.cpu_count() or 1
    workers = workers or cores
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        local = run_local(Path(tmp) / "local", encounters, cores)
        ray = run_ray(Path(tmp) / "ray", encounters, workers, cores)
    import ray as ray_module

    ray_module.shutdown()
    audio_s = local["audio_s"]
    return {
        "benchmark": "scale_processing",
        "encounters": encounters,
        "audio_hours": round(audio_s / 3600, 3),
        "cores": cores,
        "asr_threads": options_from_settings().asr.cpu_threads,
        "local": local,
        "ray": ray,
        "ray_speedup": round(local["wall_s"] / ray["wall_s"], 2),
        "loadavg_1m_before": round(load_before[0], 2),
        "loadavg_1m_after": round(os.getloadavg()[0], 2),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--encounters", type=int, default=5)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    print(json.dumps(measure(args.encounters, args.workers)))
