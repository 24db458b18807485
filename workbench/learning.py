"""The learning loop: reviewed entities in the store -> a trained NER version in the registry.

Training data is every encounter whose entities a person corrected or confirmed, taken as
its newest entity set on that set's transcript version. The model is stored under
``DATA_DIR/models/<id>`` by ``workbench.model_store``: one encrypted file when the store has
a key (trained, evaluated and encrypted in memory, so no plaintext copy is ever written), a
spaCy folder without. The registry row records where, on what data (entity set versions)
and how well it did on held-out encounters: the model alone, the rules alone, and the two
together as the pipeline would run them. Logs carry ids, counts and scores, never text.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from pipelines.nlp import NLP_VERSION, NlpOptions, load_nlp
from pipelines.nlp.ner_data import AnnotatedEncounter
from pipelines.nlp.ner_eval import evaluate
from pipelines.nlp.trained import TRAINED_NAME
from pipelines.nlp.training import EpochProgress, TrainOptions, TrainResult, train_ner
from workbench import model_store
from workbench import store as st
from workbench.store.db import utcnow

log = logging.getLogger(__name__)

StageProgress = Callable[[str], None]


def annotated_encounters(
    sources: list[st.TrainingSource],
) -> list[AnnotatedEncounter]:
    """The store's training sources as the trainer's plain input."""
    return [AnnotatedEncounter(s.encounter_id, s.segments, s.entities) for s in sources]


def new_model_id(kind: str = "ner") -> str:
    """A sortable, readable id: kind and UTC time to the second (``ner-20250101-120000``)."""
    return f"{kind}-{utcnow():%Y%m%d-%H%M%S}"


def train_and_register(
    store: st.Store,
    data_dir: Path,
    user_id: str,
    options: TrainOptions,
    nlp_options: NlpOptions,
    activate: bool = False,
    on_stage: StageProgress | None = None,
    on_epoch: EpochProgress | None = None,
) -> st.ModelRecord:
    """Train a NER version from the reviewed entities, evaluate it, register it (and make it
    active if asked). Raises ``NotEnoughData`` (nothing written) when there is too little."""
    stage = on_stage or (lambda name: None)
    stage("reading reviewed entities")
    found = st.training_set(store)
    sources = found.sources
    if found.skipped_no_consent:  # ids and counts only
        log.info("training skips %d reviewed encounters without training-use consent",
                 len(found.skipped_no_consent))
    encounters = annotated_encounters(sources)
    model_id = new_model_id("ner")
    path = model_store.model_path(model_id)
    if model_store.exists(data_dir, path):
        raise st.StoreError(f"Model {model_id} already exists; try again in a second")
    stage("training")
    result = train_ner(encounters, None, options, model_id=model_id, progress=on_epoch)
    stage("evaluating on held-out encounters")
    metrics, base_version = _compare(result, path, encounters, nlp_options, options)
    model_store.save_model(data_dir, path, result.model, store.key)
    new = _new_model(model_id, path, result, sources, metrics, base_version, options)
    new = replace(new, training={**new.training,
                                 "skipped_no_consent": len(found.skipped_no_consent)})
    try:
        record = st.register_model(store, new, user_id)
    except BaseException:
        model_store.remove_model(data_dir, path)  # an unregistered model is only clutter
        raise
    log.info(
        "trained %s: %d encounters, %d entities, %d epochs in %.1f s, held-out F1 %.3f",
        model_id,
        result.summary.encounters,
        result.summary.entities,
        result.epochs,
        result.seconds,
        metrics["model"]["exact"]["f1"],
    )
    if activate:
        record = st.activate_model(store, model_id, user_id)
    return record


def _compare(
    result: TrainResult,
    path: str,
    encounters: list[AnnotatedEncounter],
    nlp_options: NlpOptions,
    options: TrainOptions,
) -> tuple[dict[str, Any], str]:
    """Held-out scores of the model alone, the rules alone and both together, and the
    version of the rule pipeline the model was trained beside."""
    heldout = [e for e in encounters if e.encounter_id in set(result.heldout_ids)]
    labels = options.label_set()
    combined = load_nlp(replace(nlp_options, ner_model=path), trained=result.model)
    with combined.select_pipes(disable=[TRAINED_NAME]):  # the same pipeline, rules only
        rules = evaluate(combined, heldout, labels)
    metrics = {
        "model": result.metrics,
        "rules": rules,
        "combined": evaluate(combined, heldout, labels),
    }
    return metrics, NLP_VERSION


def _new_model(
    model_id: str,
    path: str,
    result: TrainResult,
    sources: list[st.TrainingSource],
    metrics: dict[str, Any],
    base_version: str,
    options: TrainOptions,
) -> st.NewModel:
    heldout = set(result.heldout_ids)
    snapshot = [
        {
            "encounter_id": s.encounter_id,
            "transcript_version": s.transcript_version,
            "entity_set_version": s.entity_set_version,
            "split": "heldout" if s.encounter_id in heldout else "train",
        }
        for s in sources
    ]
    training: dict[str, Any] = {
        "options": options.to_dict(),
        "train_encounters": len(result.train_ids),
        "heldout_encounters": len(result.heldout_ids),
        "epochs": result.epochs,
        "losses": list(result.losses),
        "seconds": result.seconds,
        "data": asdict(result.summary),
        "confirmations": sum(s.confirmations for s in sources),
    }
    return st.NewModel(
        model_id=model_id,
        kind="ner",
        path=path,
        base_nlp_version=base_version,
        encounters=result.summary.encounters,
        entities=result.summary.entities,
        corrections=sum(s.corrections for s in sources),
        data_snapshot=snapshot,
        training=training,
        metrics=metrics,
    )
