"""Train the drafter's artefacts from the training corpora: the section router and phrase map.

``python -m pipelines.drafting.training`` (or ``scribe train drafter``) reads ACI-Bench train,
MTS-Dialog and PriMock57 from ``$SCRIBE_DATASETS``, labels every transcript sentence by
aligning it to its reference note (``alignment``), fits the router with a fixed seed and
mines lay -> clinical phrase mappings, then writes ``annotations/drafting/router.json`` and
``phrases.tsv``. The same data and seed give byte-identical files. ACI-Bench valid is used
only to choose options (``scripts`` in the README); test1/test2 are never read.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pipelines.drafting.alignment import (
    AlignOptions,
    align_units,
    idf_table,
    note_lines,
    oracle_selection,
    stems,
)
from pipelines.drafting.corpus import aci_split, mts_dialog, primock57
from pipelines.drafting.features import unit_features
from pipelines.drafting.kinds import NONE
from pipelines.drafting.learned import LearnedOptions
from pipelines.drafting.person import infer_voice
from pipelines.drafting.phrases import PHRASES_PATH, PhraseMap, mine_phrases, save_phrases
from pipelines.drafting.restate import questionish, restate, tidy
from pipelines.drafting.router import ROUTER_PATH, DrafterModel, save_model, train_router
from pipelines.drafting.units import transcript_units
from pipelines.note_eval.data import NoteExample
from pipelines.types import Entity, Transcript
from pipelines.verify.plain import dialogue_transcript

log = logging.getLogger(__name__)
CORPORA = ("aci_train", "mts_dialog", "primock57")
EntityFn = Callable[[Transcript], tuple[Entity, ...]]


@dataclass(frozen=True)
class TrainOptions:
    """What the drafter learns from and how.

    corpora: any of ``CORPORA``; seed: the classifier's random state; c: inverse L2
    regularisation; min_count: features seen fewer times are dropped; align: how training
    labels are made; phrase_support: encounters a phrase mapping must be seen in;
    max_words: sentence length limit of the units (as the drafter splits them);
    corpus_weights: sample weight of each corpus' sentences (ACI-Bench is the note style
    we write; the others add vocabulary and kinds).
    """

    corpora: tuple[str, ...] = CORPORA
    seed: int = 0
    c: float = 2.0
    min_count: int = 3
    align: AlignOptions = field(default_factory=AlignOptions)
    phrase_support: int = 3
    max_words: int = LearnedOptions.max_words_per_sentence
    corpus_weights: tuple[tuple[str, float], ...] = (
        ("aci_train", 1.0),
        ("mts_dialog", 0.3),
        ("primock57", 0.3),
    )


@dataclass(frozen=True)
class TrainResult:
    """The trained artefacts and a summary of the data (counts only, never text)."""

    model: DrafterModel
    phrases: PhraseMap
    summary: dict[str, Any]


def load_corpora(datasets: Path, names: Sequence[str]) -> dict[str, list[NoteExample]]:
    """The training corpora by name (ACI-Bench train, MTS-Dialog, PriMock57)."""
    readers = {
        "aci_train": lambda: aci_split(datasets, "train"),
        "mts_dialog": lambda: mts_dialog(datasets),
        "primock57": lambda: primock57(datasets),
    }
    unknown = [n for n in names if n not in readers]
    if unknown:
        raise ValueError(f"unknown corpora {unknown}; use {list(CORPORA)}")
    return {name: readers[name]() for name in names}


@dataclass(frozen=True)
class Labelled:
    """One training encounter's sentences: features, aligned kind, kept by the oracle, and
    the aligned (spoken, written) pairs for phrase mining."""

    features: list[list[str]]
    kinds: list[str]
    keep: list[bool]
    pairs: list[tuple[str, str]]


def labelled_units(
    example: NoteExample,
    idf: dict[str, float],
    entities_of: EntityFn | None,
    align: AlignOptions,
    max_words: int = LearnedOptions.max_words_per_sentence,
) -> Labelled:
    """Features and labels of every transcript sentence of one training encounter."""
    transcript = dialogue_transcript(example.dialogue, example.encounter_id)
    entities = entities_of(transcript) if entities_of else ()
    units = transcript_units(transcript, entities, max_words)
    lines = note_lines(example.note)
    labels = align_units([u.text for u in units], lines, idf, align)
    feats = [unit_features(units, k) for k in range(len(units))]
    voice = infer_voice(transcript)
    restated = [
        "" if questionish(u.text) else restate(u.text, u.speaker, kind, voice) or ""
        for u, (kind, _) in zip(units, labels, strict=True)
    ]
    keep = oracle_selection(restated, example.note)
    line_stems = [(line, stems(line.text)) for line in lines]
    pairs = []
    for unit, (kind, _) in zip(units, labels, strict=True):
        if kind == NONE:
            continue
        mine = stems(unit.text)
        best = max(line_stems, key=lambda ls: len(mine & ls[1]))
        pairs.append((tidy(unit.text), best[0].text))
    return Labelled(feats, [k for k, _ in labels], keep, pairs)


def train_drafter(
    datasets: Path,
    options: TrainOptions = TrainOptions(),
    entities_of: EntityFn | None = None,
    corpora: dict[str, list[NoteExample]] | None = None,
) -> TrainResult:
    """Label, fit and mine from the corpora; deterministic for the same data and options."""
    started = time.perf_counter()
    corpora = corpora if corpora is not None else load_corpora(datasets, options.corpora)
    idf = idf_table(
        stems(line.text)
        for examples in corpora.values()
        for ex in examples
        for line in note_lines(ex.note)
    )
    kind_examples: list[tuple[list[str], str]] = []
    keep_examples: list[tuple[list[str], str]] = []
    weights: list[float] = []
    corpus_weight = dict(options.corpus_weights)
    pairs: list[tuple[str, str, str]] = []
    counts: dict[str, dict[str, int]] = {}
    for name, rows in corpora.items():
        kinds: Counter[str] = Counter()
        kept = 0
        for ex in rows:
            done = labelled_units(ex, idf, entities_of, options.align, options.max_words)
            labels = done.kinds
            if name == "primock57":  # no reliable sections: only "in the note or not"
                labels = [k if k == NONE else "hpi" for k in labels]
            kind_examples += list(zip(done.features, labels, strict=True))
            keep_examples += [
                (f, "keep" if k else NONE) for f, k in zip(done.features, done.keep, strict=True)
            ]
            weights += [corpus_weight.get(name, 1.0)] * len(labels)
            kinds.update(labels)
            kept += sum(done.keep)
            pairs += [(ex.encounter_id, spoken, written) for spoken, written in done.pairs]
        counts[name] = {
            "encounters": len(rows),
            "sentences": sum(kinds.values()),
            "kept_by_oracle": kept,
            **dict(sorted(kinds.items())),
        }
        log.info("labelled %s: %d encounters", name, len(rows))
    common = {
        "seed": options.seed,
        "c": options.c,
        "min_count": options.min_count,
        "weights": weights,
    }
    kinds_model = train_router(kind_examples, meta={"data": counts}, **common)
    keep_model = train_router(keep_examples, **common)
    model = DrafterModel(
        kinds_model,
        keep_model,
        {
            "version": f"drafter.{kinds_model.version.split('.')[-1]}{keep_model.version[-4:]}",
            "options": asdict(options),
            "data": counts,
        },
    )
    phrases = mine_phrases(pairs, min_support=options.phrase_support)
    summary = {
        "corpora": counts,
        "entities": entities_of is not None,
        "model": model.version,
        "phrases": len(phrases.phrases),
        "seconds": round(time.perf_counter() - started, 1),
    }
    return TrainResult(model, phrases, summary)


def train_and_save(
    datasets: Path,
    options: TrainOptions = TrainOptions(),
    directory: Path = ROUTER_PATH.parent,
) -> dict[str, Any]:
    """Train with the clinical NLP's entities as features and write ``model.json`` and
    ``phrases.tsv`` into ``directory``; returns the summary with each file's sha256."""
    from pipelines.nlp import extract_entities, load_nlp, model_version

    nlp = load_nlp()
    result = train_drafter(datasets, options, lambda t: extract_entities(nlp, t))
    directory = Path(directory)
    model = DrafterModel(
        result.model.kinds,
        result.model.keep,
        {**result.model.meta, "nlp": model_version(nlp)},
    )
    save_model(model, directory / ROUTER_PATH.name)
    save_phrases(result.phrases, directory / PHRASES_PATH.name)
    files = {
        p.name: {"bytes": p.stat().st_size, "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
        for p in (directory / ROUTER_PATH.name, directory / PHRASES_PATH.name)
    }
    return {**result.summary, "nlp": model_version(nlp), "files": files}


def main(argv: list[str] | None = None) -> int:
    """``python -m pipelines.drafting.training [--datasets DIR] [--seed N] [--out DIR]``."""
    import argparse
    import json

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROUTER_PATH.parent)
    args = parser.parse_args(argv)
    summary = train_and_save(args.datasets, TrainOptions(seed=args.seed), args.out)
    print(json.dumps(summary, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
