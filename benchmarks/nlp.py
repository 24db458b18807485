"""Words per second of the full clinical NLP stage (spaCy pipeline + dialogue context).

Corpus: every ACI-Bench dialogue (train, valid, test1, test2; one segment per ``[doctor]`` /
``[patient]`` turn) from ``$SCRIBE_DATASETS``; without the datasets, the demo encounter
scripts. The pipeline is loaded once (``load_s`` includes importing spaCy and medspacy, with
the term table cache as found), then ``extract_entities`` runs over every transcript in this
one process (spaCy runs on one core; the second core is left to the rest of the app). Prints
one JSON object as the last line: ``words_per_second``, ``load_s``, ``peak_rss_mb``, corpus
size, ``cpu_words_per_second`` (words per CPU second of this process, steadier when other
work shares the machine) and the same without ConText and the dialogue step.
"""

from __future__ import annotations

import json
import resource
import time
from pathlib import Path

from pipelines.asr_eval.datasets import ACI_SPLITS, aci_dialogues, parse_reference
from pipelines.types import Segment, Transcript

REPO = Path(__file__).resolve().parents[1]
TARGET_WORDS_PER_SECOND = 3000


def _transcript(turns: tuple[tuple[str, str], ...]) -> Transcript:
    segments = tuple(
        Segment(i, float(i), float(i + 1), text, role if role != "unknown" else "unknown")
        for i, (role, text) in enumerate(turns)
    )
    return Transcript(segments, "en", float(len(segments)), "reference")


def corpus() -> tuple[str, list[Transcript]]:
    """ACI-Bench dialogues when the datasets are present, else the demo scripts."""
    from workbench.cli_eval import datasets_root

    aci = datasets_root() / "aci-bench"
    if (aci / "data" / "challenge_data").is_dir():
        dialogues = [d for split in ACI_SPLITS for _, d in aci_dialogues(aci, split)]
        return "aci-bench", [_transcript(parse_reference(d)) for d in dialogues]
    scripts = sorted((REPO / "demo" / "encounters").glob("*/script.txt"))
    return "demo/encounters", [_transcript(parse_reference(p.read_text())) for p in scripts]


def _words(transcripts: list[Transcript]) -> int:
    return sum(len(s.text.split()) for t in transcripts for s in t.segments)


def _throughput(nlp, transcripts: list[Transcript]) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of this process, entities) for the whole corpus."""
    from pipelines.nlp import extract_entities

    for transcript in transcripts[:2]:  # warm-up: first-call allocations, lazy imports
        extract_entities(nlp, transcript)
    started, cpu = time.perf_counter(), time.process_time()
    entities = sum(len(extract_entities(nlp, t)) for t in transcripts)
    return time.perf_counter() - started, time.process_time() - cpu, entities


def main() -> dict:
    started = time.perf_counter()
    from pipelines.nlp import NlpOptions, load_nlp

    nlp = load_nlp()
    load_s = time.perf_counter() - started
    name, transcripts = corpus()
    words = _words(transcripts)
    seconds, cpu_seconds, entities = _throughput(nlp, transcripts)
    _, plain_cpu_seconds, _ = _throughput(load_nlp(NlpOptions(context=False)), transcripts)
    return {
        "benchmark": "nlp",
        "corpus": name,
        "transcripts": len(transcripts),
        "segments": sum(len(t.segments) for t in transcripts),
        "words": words,
        "entities": entities,
        "seconds": round(seconds, 2),
        "words_per_second": round(words / seconds),
        # CPU time of this process: steadier than wall time on a machine shared with others.
        "cpu_words_per_second": round(words / cpu_seconds),
        "cpu_words_per_second_without_context": round(words / plain_cpu_seconds),
        "target_words_per_second": TARGET_WORDS_PER_SECOND,
        "meets_target": words / seconds >= TARGET_WORDS_PER_SECOND,
        "load_s": round(load_s, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "pipeline": nlp.pipe_names,
    }


if __name__ == "__main__":
    print(json.dumps(main()))
