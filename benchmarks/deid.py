"""De-identification speed on ACI-Bench dialogues about ten minutes long.

Picks the ``--dialogues`` dialogues of ``$SCRIBE_DATASETS/aci-bench`` (all splits) whose word
count is closest to ten minutes of speech (1,500 words at 150 words a minute), times
``deidentify`` on each ``--repeat`` times after one warm-up call, and also times the first
call of a fresh process (loading the gazetteers and the analyzer). Reports seconds per
dialogue (median and max), words per second and the cold-start seconds; the transcript
variant (``deidentify_transcript`` on one segment per turn, words with timings) is timed
too. Last line: one JSON object (ids and timings only).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

TEN_MINUTES_WORDS = 1500


def _transcript(dialogue: str):
    from pipelines.types import Segment, Transcript, Word

    segments, t = [], 0.0
    for i, line in enumerate(x for x in dialogue.splitlines() if x.strip()):
        tokens = line.split()
        words = tuple(
            Word(t + 0.4 * k, t + 0.4 * (k + 1), (" " if k else "") + w, 0.9)
            for k, w in enumerate(tokens)
        )
        end = t + 0.4 * len(tokens)
        segments.append(Segment(i, t, end, line, "unknown", words))
        t = end
    return Transcript(tuple(segments), "en", t, "bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dialogues", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from pipelines.deid.evaluate import SPLIT_FILES, read_aci
    from workbench.cli_eval import datasets_root

    root = datasets_root() / "aci-bench"
    if not root.is_dir():
        raise SystemExit(f"{root} not found (set SCRIBE_DATASETS)")
    encounters = [e for split in SPLIT_FILES for e in read_aci(root, split)]
    encounters.sort(key=lambda e: abs(len(e.dialogue.split()) - TEN_MINUTES_WORDS))
    chosen = encounters[: args.dialogues]

    started = time.perf_counter()
    from pipelines.deid import deidentify, deidentify_transcript

    deidentify(chosen[0].dialogue)
    cold_s = time.perf_counter() - started

    per_dialogue: list[float] = []
    per_transcript: list[float] = []
    words = 0
    for enc in chosen:
        n = len(enc.dialogue.split())
        transcript = _transcript(enc.dialogue)
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            deidentify(enc.dialogue)
            per_dialogue.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            deidentify_transcript(transcript)
            per_transcript.append(time.perf_counter() - t0)
            words += n
    report = {
        "benchmark": "deid",
        "encounters": [e.encounter_id for e in chosen],
        "words_per_dialogue": [len(e.dialogue.split()) for e in chosen],
        "cold_start_s": round(cold_s, 3),
        "text_s_median": round(statistics.median(per_dialogue), 4),
        "text_s_max": round(max(per_dialogue), 4),
        "transcript_s_median": round(statistics.median(per_transcript), 4),
        "words_per_second": round(words / sum(per_dialogue)),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
