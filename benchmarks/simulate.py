"""Seconds, rows and peak memory of ``scribe simulate`` at scale (default 100,000 encounters).

``python -m benchmarks.simulate [ENCOUNTERS] [DATA_DIR]`` simulates into a fresh temporary
store (or DATA_DIR, appending), prints one JSON object as its last line and writes it to
``benchmarks/simulate.json``: seconds, encounters per second, rows per table, events per
encounter, the database file's size and the process's peak RSS.
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
from datetime import date
from pathlib import Path

from workbench import store as st
from workbench.simulate import SimulationSpec, simulate

OUT = Path(__file__).with_suffix(".json")


def run(encounters: int, data: Path) -> dict:
    """Simulate ``encounters`` into ``data``; the benchmark's JSON object."""
    store = st.open_store(data, key=None)
    spec = SimulationSpec(encounters=encounters, seed=1, days=365, end=date(2026, 11, 30))
    result = simulate(store, spec)
    size = (data / st.DB_FILENAME).stat().st_size
    return {
        "benchmark": "simulate",
        "encounters": encounters,
        "seconds": round(result.seconds, 1),
        "encounters_per_s": round(encounters / result.seconds),
        "rows": result.counts,
        "events_per_encounter": round(result.counts["events"] / encounters, 1),
        "db_mb": round(size / 1e6),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "chunk": spec.chunk,
    }


def main() -> None:
    encounters = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    if len(sys.argv) > 2:
        found = run(encounters, Path(sys.argv[2]))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            found = run(encounters, Path(tmp))
    text = json.dumps(found, indent=1)
    if encounters >= 100_000:
        OUT.write_text(text + "\n")
    print(json.dumps(found))


if __name__ == "__main__":
    main()
