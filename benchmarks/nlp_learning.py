"""The learning loop's cost and benefit: training time, held-out F1, NLP words/s with a model.

Simulated reviews: the full rule pipeline (curated + ICD-10-CM + drug vocabularies) plays
the clinician whose reviewed entities are the training data, and the curated-only pipeline
plays a deployment whose vocabulary lacks those terms. On held-out ENCOUNTERS this shows how
much of the missing vocabulary a model trained from corrections recovers: curated rules
alone vs curated rules + the trained model, both scored against the reviewed entities.
Speed is measured on every turn of the data with the default (full) rule pipeline, without
and with the trained model (target: >= 3,000 words/s).

Input: ACI-Bench train dialogues (``$SCRIBE_DATASETS/aci-bench``, first ``LIMIT``) or,
without the datasets, the demo scripts. Prints one JSON object as the last line.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from pipelines.nlp import NlpOptions, extract_text, load_nlp
from pipelines.nlp.ner_data import AnnotatedEncounter
from pipelines.nlp.ner_eval import evaluate
from pipelines.nlp.training import TrainOptions, train_ner

REPO = Path(__file__).resolve().parents[1]
LIMIT = 30


def _dialogues() -> tuple[str, list[tuple[str, list[str]]]]:
    """(source name, [(encounter id, turn texts)])."""
    from pipelines.asr_eval.datasets import aci_dialogues
    from workbench.cli_eval import datasets_root

    root = datasets_root() / "aci-bench"
    if root.is_dir():
        rows = list(aci_dialogues(root, "train"))[:LIMIT]
        return "aci-bench/train", [
            (eid, [line.split("]", 1)[-1].strip() for line in text.splitlines() if line.strip()])
            for eid, text in rows
        ]
    demo = []
    for script in sorted((REPO / "demo" / "encounters").glob("*/script.txt")):
        lines = [
            line.split(":", 1)[-1].strip()
            for line in script.read_text().splitlines()
            if line.strip() and not line.startswith("#")
        ]
        demo.append((script.parent.name, lines))
    return "demo/encounters", demo


def _annotate(nlp, encounter_id: str, turns: list[str]) -> AnnotatedEncounter:
    entities = tuple(
        replace(e, segment_idx=i) for i, text in enumerate(turns) for e in extract_text(nlp, text)
    )
    return AnnotatedEncounter(encounter_id, tuple(enumerate(turns)), entities)


def _words_per_s(nlp, texts: list[str]) -> float:
    words = sum(len(t.split()) for t in texts)
    started = time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=64):
        pass
    return round(words / (time.perf_counter() - started))


def main() -> dict:
    source, dialogues = _dialogues()
    full = load_nlp(NlpOptions())
    encounters = [_annotate(full, eid, turns) for eid, turns in dialogues]
    options = TrainOptions(seed=0, min_encounters=min(5, len(encounters)))
    labels = options.label_set()
    with tempfile.TemporaryDirectory() as tmp:
        result = train_ner(encounters, Path(tmp) / "ner", options, model_id="bench")
        heldout = [e for e in encounters if e.encounter_id in set(result.heldout_ids)]
        curated = NlpOptions(vocabularies=("curated",))
        curated_only = evaluate(load_nlp(curated), heldout, labels)
        curated_model = evaluate(
            load_nlp(replace(curated, ner_model=str(result.model_dir))), heldout, labels
        )
        texts = [text for _, turns in dialogues for text in turns]
        with_model = load_nlp(NlpOptions(ner_model=str(result.model_dir)))
        speed = {"rules": _words_per_s(full, texts), "rules+model": _words_per_s(with_model, texts)}
    return {
        "benchmark": "nlp_learning",
        "input": source,
        "encounters": len(encounters),
        "train_encounters": len(result.train_ids),
        "heldout_encounters": len(result.heldout_ids),
        "entities": result.summary.entities,
        "words": sum(len(t.split()) for t in texts),
        "train_seconds": result.seconds,
        "epochs": result.epochs,
        "heldout_f1": {
            "model": result.metrics["exact"]["f1"],
            "curated_rules": curated_only["exact"]["f1"],
            "curated_rules+model": curated_model["exact"]["f1"],
        },
        "heldout_recall": {
            "curated_rules": curated_only["exact"]["recall"],
            "curated_rules+model": curated_model["exact"]["recall"],
        },
        "words_per_s": speed,
        "target_words_per_s": 3000,
    }


if __name__ == "__main__":
    print(json.dumps(main()))
    sys.exit(0)
