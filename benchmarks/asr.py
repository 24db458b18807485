"""ASR speed and memory for tiny.en on 2 threads, without and with vocabulary biasing.

Input: CAR0001 (10.4 min real OSCE interview) from ../shared/datasets/fareez-osce-interviews;
without ../shared, the demo encounters (demo/encounters/*/audio.ogg, scripted references).
Each configuration runs in its own child process so that its peak resident memory
(``ru_maxrss``) is its own. Prints one JSON object as the last line:
``{"input": ..., "audio_s": ..., "runs": {"plain": {...}, "biased": {...}}}`` with rtf
(transcription seconds / audio seconds, model load excluded), load_s, peak_rss_mb, wer,
medical_wer and medical_term_recall per run.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FAREEZ = REPO.parent / "shared" / "datasets" / "fareez-osce-interviews"
CONFIGS = ("plain", "biased")


def _items():
    from pipelines.asr_eval import EvalItem, fareez_items, parse_reference

    if FAREEZ.is_dir():
        items = [i for i in fareez_items(FAREEZ) if i.item_id == "CAR0001"]
        if items:
            return "fareez/CAR0001", items
    demo = []
    for folder in sorted((REPO / "demo" / "encounters").glob("*")):
        audio, script = folder / "audio.ogg", folder / "script.txt"
        if audio.is_file() and script.is_file():
            demo.append(EvalItem(folder.name, audio, parse_reference(script.read_text())))
    return "demo/encounters", demo


def run_one(config: str) -> dict:
    """Transcribe the benchmark input with one configuration in this process."""
    from pipelines.asr import AsrOptions, load_model
    from pipelines.asr_eval import evaluate
    from pipelines.biasing import bias_options

    options = replace(AsrOptions(), cpu_threads=2)
    if config == "biased":
        options = bias_options(options)
    name, items = _items()
    started = time.perf_counter()
    model = load_model(options)
    load_s = time.perf_counter() - started
    report = evaluate(model, items, options, dataset=name)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    scores = report.scores
    return {
        "input": name,
        "audio_s": scores["audio_s"],
        "rtf": scores["rtf"],
        "load_s": round(load_s, 2),
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "wer": scores["wer"],
        "medical_wer": scores["medical_wer"],
        "medical_term_recall": scores["medical_term_recall"],
    }


def main() -> dict:
    name, items = _items()
    if not items:
        return {"skipped": "no ../shared/datasets and no demo encounters found"}
    runs = {}
    for config in CONFIGS:
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks.asr", "--one", config],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        )
        runs[config] = json.loads(proc.stdout.strip().splitlines()[-1])
    audio_s = runs[CONFIGS[0]]["audio_s"]
    for run in runs.values():
        run.pop("input"), run.pop("audio_s")
    return {
        "benchmark": "asr",
        "model": "tiny.en",
        "threads": 2,
        "input": name,
        "audio_s": audio_s,
        "runs": runs,
    }


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        print(json.dumps(run_one(sys.argv[2])))
    else:
        print(json.dumps(main()))
