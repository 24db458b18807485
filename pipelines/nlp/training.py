"""Train a small statistical NER from reviewed entities: examples in, model folder + metrics out.

No pretrained clinical model exists offline, so the model starts from ``spacy.blank("en")``
(the same tokenizer as the rule pipeline) with one ``ner`` component whose own tok2vec is a
hashed-embedding CNN (NORM, PREFIX, SUFFIX, SHAPE): small, CPU-fast and able to learn a
new term from a handful of corrected mentions. Each transcript segment is one document.

Held-out data is split by ENCOUNTER (segments of one visit are not independent), by a
seeded hash of the encounter id, so the split does not depend on input order. Training
stops after ``max_epochs`` or when the training loss stops improving; the held-out
encounters are only ever used for the reported metrics, never to pick a model.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import fix_random_seed, minibatch

from pipelines.nlp.ner_data import (
    AnnotatedEncounter,
    encounter_docs,
    split_encounters,
)
from pipelines.nlp.ner_eval import evaluate
from pipelines.schema import load_label_schema

TRAINER_VERSION = "scribe_ner_trainer.v1"
MODEL_COMPONENT = "ner"

EpochProgress = Callable[[int, int, float], None]  # (epoch, max_epochs, loss)


class NotEnoughData(ValueError):
    """Too few reviewed encounters or entities to train and hold some out."""


@dataclass(frozen=True)
class TrainOptions:
    """How to train and evaluate.

    Attributes:
        seed: Seeds the held-out split, shuffling and weight initialisation.
        holdout: Fraction of encounters held out for evaluation (at least one).
        max_epochs: Upper bound on passes over the training encounters.
        patience: Stop after this many epochs without a ``min_improvement`` relative drop
            in training loss.
        min_improvement: Relative loss drop that counts as progress.
        dropout: Dropout during updates.
        batch_size: Segment documents per update.
        learn_rate: Adam learning rate.
        width: tok2vec width; depth: CNN layers; embed_size: rows per hashed embedding table;
        hidden_width: width of the transition parser's hidden layer.
        min_encounters: Refuse to train with fewer reviewed encounters than this.
        min_entities: Refuse to train with fewer entity spans than this in training encounters.
        labels: Labels to learn; empty means every label in ``annotations/labels.json``.
    """

    seed: int = 0
    holdout: float = 0.2
    max_epochs: int = 30
    patience: int = 3
    min_improvement: float = 0.02
    dropout: float = 0.1
    batch_size: int = 8
    learn_rate: float = 0.002
    width: int = 64
    depth: int = 2
    embed_size: int = 2000
    hidden_width: int = 64
    min_encounters: int = 5
    min_entities: int = 20
    labels: tuple[str, ...] = ()

    def label_set(self) -> tuple[str, ...]:
        return self.labels or load_label_schema().names

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["labels"] = list(self.label_set())
        return data


@dataclass(frozen=True)
class DataSummary:
    """What went into training: counts only (never text)."""

    encounters: int
    segments: int
    entities: int
    by_label: dict[str, int] = field(default_factory=dict)
    human_entities: int = 0
    dropped_overlapping: int = 0
    dropped_unknown_label: int = 0
    dropped_bad_offsets: int = 0


@dataclass(frozen=True)
class TrainResult:
    """A trained model (in memory, and its folder if one was written) and how well it does
    on the held-out encounters."""

    model_dir: Path | None
    metrics: dict[str, Any]
    train_ids: tuple[str, ...]
    heldout_ids: tuple[str, ...]
    summary: DataSummary
    epochs: int
    losses: tuple[float, ...]
    seconds: float
    model: Language | None = field(default=None, repr=False, compare=False)


def check_enough(
    encounters: Sequence[AnnotatedEncounter], train_ids: Sequence[str], options: TrainOptions
) -> None:
    """Raise NotEnoughData, saying how much is needed, when training would be meaningless."""
    train = set(train_ids)
    n_train_entities = sum(len(e.entities) for e in encounters if e.encounter_id in train)
    if len(encounters) < options.min_encounters:
        raise NotEnoughData(
            f"Training needs entities reviewed (corrected or confirmed) in at least "
            f"{options.min_encounters} encounters; found {len(encounters)}. Review the "
            f"entities of {options.min_encounters - len(encounters)} more encounter(s) first."
        )
    if n_train_entities < options.min_entities:
        raise NotEnoughData(
            f"Training needs at least {options.min_entities} entities in the training "
            f"encounters; found {n_train_entities}. Review more encounters first."
        )


def build_model(options: TrainOptions, labels: Sequence[str]) -> Language:
    """A blank English pipeline with one untrained ``ner`` (hashed-embedding CNN tok2vec)."""
    nlp = spacy.blank("en")
    tok2vec = {
        "@architectures": "spacy.HashEmbedCNN.v2",
        "pretrained_vectors": None,
        "width": options.width,
        "depth": options.depth,
        "embed_size": options.embed_size,
        "window_size": 1,
        "maxout_pieces": 3,
        "subword_features": True,
    }
    model = {
        "@architectures": "spacy.TransitionBasedParser.v2",
        "state_type": "ner",
        "extra_state_tokens": False,
        "hidden_width": options.hidden_width,
        "maxout_pieces": 2,
        "use_upper": True,
        "nO": None,
        "tok2vec": tok2vec,
    }
    ner = nlp.add_pipe(MODEL_COMPONENT, config={"model": model})
    for label in labels:
        ner.add_label(label)
    return nlp


def train_ner(
    encounters: Sequence[AnnotatedEncounter],
    output_dir: Path | None,
    options: TrainOptions | None = None,
    model_id: str = "scribe-ner",
    progress: EpochProgress | None = None,
) -> TrainResult:
    """Train on the non-held-out encounters, evaluate on the held-out ones, save the model
    to ``output_dir`` (``spacy.load``-able; ``meta["scribe"]`` holds id, labels, metrics).

    ``output_dir=None`` writes nothing: the model is only in ``TrainResult.model``, for a
    caller that stores it its own way (the workbench encrypts it).
    """
    options = options or TrainOptions()
    started = time.perf_counter()
    labels = options.label_set()
    train_ids, heldout_ids = split_encounters(
        [e.encounter_id for e in encounters], options.holdout, options.seed
    )
    check_enough(encounters, train_ids, options)

    fix_random_seed(options.seed)  # seeds random/numpy/thinc: same data + seed, same model
    nlp = build_model(options, labels)
    by_id = {e.encounter_id: e for e in encounters}
    counts: Counter[str] = Counter()
    train_docs: list[Doc] = []
    for encounter_id in train_ids:
        docs, found = encounter_docs(nlp, by_id[encounter_id], labels)
        train_docs.extend(docs)
        counts.update(found)
    heldout = [by_id[i] for i in heldout_ids]
    n_heldout_docs = 0
    for encounter in heldout:
        docs, found = encounter_docs(nlp, encounter, labels)
        n_heldout_docs += len(docs)
        counts.update(found)
    examples = [Example(nlp.make_doc(doc.text), doc) for doc in train_docs]

    optimizer = nlp.initialize(lambda: examples)
    optimizer.learn_rate = options.learn_rate
    rng = random.Random(options.seed)
    losses: list[float] = []
    best, stale = float("inf"), 0
    for epoch in range(1, options.max_epochs + 1):
        rng.shuffle(examples)
        epoch_losses: dict[str, float] = {}
        for batch in minibatch(examples, size=options.batch_size):
            nlp.update(batch, drop=options.dropout, sgd=optimizer, losses=epoch_losses)
        loss = float(epoch_losses.get(MODEL_COMPONENT, 0.0))
        losses.append(loss)
        if progress:
            progress(epoch, options.max_epochs, loss)
        if loss < best * (1 - options.min_improvement):
            best, stale = loss, 0
        else:
            stale += 1
            if stale >= options.patience:
                break

    metrics = evaluate(nlp, heldout, labels)
    summary = DataSummary(
        encounters=len(encounters),
        segments=len(train_docs) + n_heldout_docs,
        entities=sum(v for k, v in counts.items() if k.startswith("label:")),
        by_label={k[6:]: v for k, v in sorted(counts.items()) if k.startswith("label:")},
        human_entities=counts["human_entities"],
        dropped_overlapping=counts["dropped_overlapping"],
        dropped_unknown_label=counts["dropped_unknown_label"],
        dropped_bad_offsets=counts["dropped_bad_offsets"],
    )
    nlp.meta.update(name="scribe_ner", version="1.0.0")
    nlp.meta["scribe"] = {
        "model_id": model_id,
        "kind": "ner",
        "trainer": TRAINER_VERSION,
        "labels": list(labels),
        "options": options.to_dict(),
        "metrics": metrics,
    }
    if output_dir is not None:
        output_dir = Path(output_dir)
        output_dir.parent.mkdir(parents=True, exist_ok=True)
        nlp.to_disk(output_dir)
    return TrainResult(
        model_dir=output_dir,
        metrics=metrics,
        train_ids=train_ids,
        heldout_ids=heldout_ids,
        summary=summary,
        epochs=len(losses),
        losses=tuple(round(x, 4) for x in losses),
        seconds=round(time.perf_counter() - started, 2),
        model=nlp,
    )
