"""Clinical NLP speed with and without concept linking, and linking accuracy.

Texts: the demo encounters' scripts and, when ``$SCRIBE_DATASETS`` has ACI-Bench, its test1
dialogues; one segment per turn, as transcripts arrive. Each pipeline runs the whole corpus
once to warm up (the linker's per-mention cache is emptied after it), then once timed.
Prints one JSON object as the last line: words per second for each, the linker index build
time recorded in the cache, the time to load each pipeline and the accuracy on
``tests/fixtures/linking_gold.tsv``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from pipelines.asr_eval.datasets import aci_dialogues, parse_reference
from pipelines.nlp import NlpOptions, extract_entities, load_nlp
from pipelines.nlp.link_eval import accuracy, check_linking, read_gold
from pipelines.nlp.linking import LINKER_NAME
from pipelines.types import Segment, Transcript
from workbench.cli_eval import datasets_root
from workbench.demo import demo_encounters

REPO = Path(__file__).resolve().parents[1]
TARGET_WORDS_PER_S = 3000  # the whole NLP stage on 2 cores
GOLD = REPO / "tests" / "fixtures" / "linking_gold.tsv"


def corpus() -> list[Transcript]:
    """Demo scripts plus ACI-Bench test1 dialogues (if present) as transcripts."""
    texts = [item.folder.joinpath("script.txt").read_text("utf-8") for item in demo_encounters()]
    aci = datasets_root() / "aci-bench"
    if aci.is_dir():
        texts += [dialogue for _, dialogue in aci_dialogues(aci, "test1")]
    out = []
    for text in texts:
        turns = parse_reference(text)
        segments = tuple(
            Segment(i, float(i), float(i + 1), body, role) for i, (role, body) in enumerate(turns)
        )
        out.append(Transcript(segments, "en", float(len(segments)), "reference"))
    return out


def words_per_second(options: NlpOptions, transcripts: list[Transcript]) -> tuple[dict, Any]:
    started = time.perf_counter()
    nlp = load_nlp(options)
    load_s = time.perf_counter() - started
    for t in transcripts:  # warm-up: imports, lazy tables
        extract_entities(nlp, t)
    if LINKER_NAME in nlp.pipe_names:
        nlp.get_pipe(LINKER_NAME)._cache.clear()  # time cold mention look-ups too
    words = sum(len(s.text.split()) for t in transcripts for s in t.segments)
    started = time.perf_counter()
    entities = sum(len(extract_entities(nlp, t)) for t in transcripts)
    seconds = time.perf_counter() - started
    return {
        "words_per_s": round(words / seconds),
        "words": words,
        "entities": entities,
        "load_s": round(load_s, 2),
    }, nlp


def main() -> dict:
    transcripts = corpus()
    plain, _ = words_per_second(NlpOptions(linking=False), transcripts)
    linked, nlp = words_per_second(NlpOptions(), transcripts)
    linker = nlp.get_pipe(LINKER_NAME)
    checks = check_linking(nlp, read_gold(GOLD))
    return {
        "benchmark": "nlp_linking",
        "transcripts": len(transcripts),
        "without_linking": plain,
        "with_linking": linked,
        "target_words_per_s": TARGET_WORDS_PER_S,
        "meets_target": linked["words_per_s"] >= TARGET_WORDS_PER_S,
        "kb": nlp.meta["scribe"]["kb"],
        "index_build_s": {name: round(s, 1) for name, s in linker.build_seconds.items()},
        "gold_accuracy": round(accuracy(checks), 3),
        "gold_mentions": len(checks),
        "gold_missed": [c.mention for c in checks if not c.correct],
    }


if __name__ == "__main__":
    print(json.dumps(main()))
