"""Milliseconds for a whole Analytics page rerun (AppTest, server side) at scale, on 2 cores.

``python -m benchmarks.analytics_page [--encounters 100000] [--seed 1] [--reruns 20]``

Reuses the store of ``benchmarks.analytics`` (built once and cached; 100,000 encounters and
about 5,000,000 events by default), refreshes the facts, then signs in as an analyst and
times ``reruns`` page reruns after a filter change (the end date moves back a day each time,
so every rerun computes all nine figures and the simulated count: the cache never helps)
and ``reruns`` plain reruns (nothing changed: cached figures, plotly and CSVs rebuilt).
Prints one JSON object as the last line: ``p50_ms``/``p95_ms`` of the filtered reruns
(target p95 <= 1,000 ms), ``cached`` p50/p95 and the first (cold) run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from datetime import timedelta

os.environ.setdefault("OMP_NUM_THREADS", "2")

from benchmarks.analytics import build
from tests.conftest import APP, sign_in
from workbench.store import analytics as an

TARGET_MS = 1000.0


def _stats(times: list[float]) -> dict[str, float]:
    times = sorted(times)
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))], 1),
    }


def _timed_run(at) -> float:
    start = time.perf_counter()
    at.run()
    elapsed = (time.perf_counter() - start) * 1000
    if at.exception:
        raise RuntimeError(f"the page failed: {at.exception}")
    return elapsed


def run(encounters: int, seed: int, reruns: int) -> dict:
    """Build or reuse the store, then time the page's reruns."""
    from streamlit.testing.v1 import AppTest

    store, generator = build(encounters, seed)
    an.refresh(store)
    last = an.filter_options(store).last_date
    os.environ["SCRIBE_HOME"] = str(store.path.parent)
    at = sign_in(
        AppTest.from_file(str(APP), default_timeout=600),
        store.path.parent,
        "bench-analyst",
        "analyst",
    )
    at.run()
    start = time.perf_counter()
    at.switch_page("views/analytics.py").run()
    cold_ms = (time.perf_counter() - start) * 1000
    if at.exception:
        raise RuntimeError(f"the page failed: {at.exception}")
    filtered = []
    for day in range(1, reruns + 1):
        at.date_input(key="an_to").set_value(last - timedelta(days=day))
        filtered.append(_timed_run(at))
    cached = [_timed_run(at) for _ in range(reruns)]
    page = _stats(filtered)
    return {
        "benchmark": "analytics_page",
        "encounters": encounters,
        "generator": generator,
        "threads": int(os.environ["OMP_NUM_THREADS"]),
        "reruns": reruns,
        "cold_ms": round(cold_ms, 1),
        **page,
        "cached": _stats(cached),
        "target_ms": TARGET_MS,
        "meets_target": page["p95_ms"] <= TARGET_MS,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encounters", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reruns", type=int, default=20)
    args = parser.parse_args()
    print(json.dumps(run(args.encounters, args.seed, max(args.reruns, 5))))


if __name__ == "__main__":
    main()
