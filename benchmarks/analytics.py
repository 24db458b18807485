"""Milliseconds for the Analytics page's figures at scale, on 2 cores.

``python -m benchmarks.analytics [--encounters 100000] [--seed 1] [--repeats 20]``

Builds (once, cached under $SCRIBE_CACHE or the temp dir, keyed by the parameters) a store of
``encounters`` simulated encounters with ``workbench.simulate.simulate`` when it is available,
else with the local bulk generator ``benchmarks._analytics_data`` (50 events per encounter:
5,000,000 at 100,000), then times a full ``analytics.refresh`` and ``repeats`` runs of
``analytics.figures`` (the whole page: every figure, unfiltered, one connection, the open
included) and of each figure alone. Prints one JSON object as the last line: ``p50_ms``,
``p95_ms`` (whole page), ``figures`` (per-figure p50/p95), ``refresh_s``, ``events``,
``peak_rss_mb``. Target: whole page p95 <= 1,000 ms at 100,000 encounters.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")

from workbench import store as st
from workbench.store import analytics as an

TARGET_MS = 1000.0
BUILD = "analytics-bench.v1"


def _timed(call, repeats: int) -> dict[str, float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))], 1),
    }


def _populate(store: st.Store, encounters: int, seed: int) -> str:
    """Fill the store; returns which generator did it."""
    try:
        from workbench.simulate import SimulationSpec, simulate
    except ImportError:
        from benchmarks._analytics_data import generate

        generate(store, encounters, seed=seed, beats=37)
        return "benchmarks._analytics_data"
    simulate(store, SimulationSpec(encounters=encounters, seed=seed))
    return "workbench.simulate"


def build(encounters: int, seed: int) -> tuple[st.Store, str]:
    """The cached benchmark store (built on first use)."""
    root = Path(os.environ.get("SCRIBE_CACHE") or tempfile.gettempdir())
    data = root / f"{BUILD}-{encounters}-{seed}"
    marker = data / "bench-analytics.json"
    if marker.exists():
        return st.open_store(data), json.loads(marker.read_text())["generator"]
    data.mkdir(parents=True, exist_ok=True)
    store = st.open_store(data)
    generator = _populate(store, encounters, seed)
    marker.write_text(json.dumps({"generator": generator}))
    return store, generator


def run(encounters: int, seed: int, repeats: int) -> dict:
    """Build or reuse the store, refresh the facts and time the figures."""
    start = time.perf_counter()
    store, generator = build(encounters, seed)
    build_s = time.perf_counter() - start
    refreshed = an.refresh(store, full=True)
    with store.connect() as con:
        events = con.execute("SELECT count(*) FROM events").fetchone()[0]
    filters = an.Filters(grain="week")
    page = _timed(lambda: an.figures(store, filters), repeats)
    per_figure = {
        name: _timed(lambda name=name: an.figure(store, name, filters), repeats)
        for name in an.FIGURES
    }
    return {
        "benchmark": "analytics",
        "encounters": encounters,
        "events": events,
        "generator": generator,
        "threads": int(os.environ["OMP_NUM_THREADS"]),
        "repeats": repeats,
        "build_s": round(build_s, 1),
        "refresh_s": round(refreshed.seconds, 2),
        **page,
        "target_ms": TARGET_MS,
        "meets_target": page["p95_ms"] <= TARGET_MS,
        "figures": per_figure,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encounters", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    print(json.dumps(run(args.encounters, args.seed, max(args.repeats, 20))))


if __name__ == "__main__":
    main()
