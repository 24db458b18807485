"""Write throughput of corrections into the shared store (DuckLake on PostgreSQL).

Seeds one encounter per writer (transcript, draft, entity set), then runs 1 and 2 writer
processes at once (``tests/lake_writer.py``: each round a transcript word fix, an entity
relabel and a note edit through the store's functions, each its own transaction under the
store's one-writer lock) against a fresh lake, and the same single writer against the
single-file DuckDB store for comparison. Reports corrections per second of wall time (from
the first correction's start to the last one's end: process start-up and the first attach
excluded) and p50/p95 of one correction's latency. Also p50/p95 of a review heartbeat
(``review.active``, the most frequent write: one small insert), in this process.

PostgreSQL: ``SCRIBE_TEST_POSTGRES`` if set, else a throwaway cluster started by
``tests/postgres_server.sh`` on loopback. Writes ``benchmarks/scale_lake.json``; last line:
one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests import lake_support

REPO = Path(__file__).resolve().parents[1]


def _seed(home: Path, lake: str | None, encounters: list[str]) -> None:
    from workbench import store as st

    store = st.open_store(home, key=None, lake=st.parse_lake_url(lake) if lake else None)
    for enc in encounters:
        lake_support.seed(store, enc)


def _run(home: Path, lake: str | None, writers: int, rounds: int) -> dict:
    users = [f"dr-{n}" for n in range(writers)]
    _seed(home if lake is None else home / "seed", lake, [f"enc-{u}" for u in users])
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.lake_writer",
                str(home if lake is None else home / u),
                u,
                str(rounds),
                f"enc-{u}",
                *(["--lake", lake] if lake else []),
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for u in users
    ]
    acks = []
    for proc in procs:
        stdout, _ = proc.communicate(timeout=1800)
        if proc.returncode != 0:
            raise RuntimeError(f"writer failed ({proc.returncode})")
        acks += [json.loads(line) for line in stdout.splitlines() if line.strip()]
    latencies = sorted(a["seconds"] * 1000 for a in acks)
    # Wall time of writing: first correction's start to last one's end (start-up excluded).
    busy = max(a["at"] for a in acks) - min(a["at"] - a["seconds"] for a in acks)
    return {
        "writers": writers,
        "corrections": len(acks),
        "corrections_per_s": round(len(acks) / busy, 1),
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 1),
    }


def _heartbeats(home: Path, lake: str | None, count: int) -> dict:
    """p50/p95 of ``count`` review heartbeats on one encounter, each its own transaction."""
    from datetime import timedelta

    from workbench import store as st
    from workbench.review_time import record_heartbeat
    from workbench.store.db import utcnow

    store = st.open_store(home, key=None, lake=st.parse_lake_url(lake) if lake else None)
    lake_support.seed(store, "enc-heartbeat")
    start, latencies = utcnow(), []
    for n in range(count):
        began = time.perf_counter()
        record_heartbeat(
            store,
            "enc-heartbeat",
            "dr-0",
            {"active_s": 15},
            now=start + timedelta(seconds=15 * (n + 1)),
        )
        latencies.append((time.perf_counter() - began) * 1000)
    latencies.sort()
    return {
        "heartbeats": count,
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(latencies[int(0.95 * (count - 1))], 1),
    }


def measure(rounds: int = 20) -> dict:
    """Corrections per second and per-correction latency: DuckLake with 1 and 2 writer
    processes, and the single-file store with 1 (each writer: ``rounds`` x 3 corrections)."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        lake_support.postgres_server(Path(tmp) / "pg") as server,
    ):
        tmp = Path(tmp)
        with lake_support.fresh_lake(server, tmp / "lakes" / "1", "scribe_bench") as lake:
            one = _run(tmp / "l1", lake, 1, rounds)
        with lake_support.fresh_lake(server, tmp / "lakes" / "2", "scribe_bench") as lake:
            two = _run(tmp / "l2", lake, 2, rounds)
        single_file = _run(tmp / "f1", None, 1, rounds)
        with lake_support.fresh_lake(server, tmp / "lakes" / "h", "scribe_bench") as lake:
            lake_heartbeat = _heartbeats(tmp / "hl", lake, 3 * rounds)
        file_heartbeat = _heartbeats(tmp / "hf", None, 3 * rounds)
    return {
        "benchmark": "scale_lake",
        "rounds_per_writer": rounds,
        "lake_1_writer": one,
        "lake_2_writers": two,
        "single_file_1_writer": single_file,
        "lake_heartbeat": lake_heartbeat,
        "single_file_heartbeat": file_heartbeat,
        "note": "a correction = one transcript word fix, entity relabel or note edit with its "
        "events, one transaction under the one-writer lock (PostgreSQL advisory lock for the "
        "lake); PostgreSQL on loopback on the same 2-core machine",
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    out = measure(args.rounds)
    (REPO / "benchmarks" / "scale_lake.json").write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out))
