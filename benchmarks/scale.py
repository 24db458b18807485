"""Beyond one machine: batch throughput (local engine against Ray) and shared-store writes.

    python -m benchmarks.scale [--encounters N] [--workers N] [--rounds N]

Runs ``benchmarks.scale_processing`` (hours of audio processed per wall-clock hour by the
local engine and by Ray on this machine, per-core figures, per-step seconds) and
``benchmarks.scale_lake`` (corrections per second into DuckLake with one and two writer
processes, against the single-file store), writes both under one object to
``benchmarks/scale.json`` and prints it as the last line. ``docs/scaling.md`` turns these
figures into the nodes needed for a given number of encounters a day.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from benchmarks import scale_lake, scale_processing

OUT = Path(__file__).with_suffix(".json")


def measure(encounters: int, workers: int | None, rounds: int) -> dict:
    """Both measurements, one after the other on an otherwise idle machine."""
    processing = scale_processing.measure(encounters, workers)
    lake = scale_lake.measure(rounds)
    return {
        "benchmark": "scale",
        "cores": os.cpu_count(),
        "processing": processing,
        "lake_writes": lake,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--encounters", type=int, default=5)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    result = measure(args.encounters, args.workers, args.rounds)
    OUT.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result))
