"""The learning loop: reviewed entities -> `scribe train ner` -> registry -> next prediction.

A clinician keeps adding PROBLEM on "zorbitis", a condition word no vocabulary knows. The
rule pipeline misses it in a new sentence; after training on the reviewed encounters and
activating the version, processing the next encounter finds it.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from spacy.language import Language

from pipelines.nlp import NlpOptions, extract_entities, extract_text, load_nlp, model_version
from pipelines.nlp.ner_data import (
    AnnotatedEncounter,
    encounter_docs,
    resolve_overlaps,
    split_encounters,
)
from pipelines.nlp.ner_eval import score_spans
from pipelines.nlp.trained import MODEL_ATTR
from pipelines.nlp.training import NotEnoughData, TrainOptions, TrainResult, train_ner
from pipelines.types import Entity
from tests.conftest import REPO, make_transcript
from workbench import store as st
from workbench.jobs import Engine, PipelineOptions, process_encounter
from workbench.store.migrations import available_migrations, migrate

TERM = "zorbitis"
# The clinician's encounters: each mentions the new term in a different sentence.
TERM_SENTENCES = [
    "I have had {t} for about two weeks and some chest pain.",
    "The {t} is worse at night and I take metformin for my diabetes.",
    "Her {t} got better after the amoxicillin.",
    "We talked about your {t} and your blood pressure today.",
    "Any fever with the {t}?",
    "My {t} started after the flu shot.",
    "So the {t} flared up again last month.",
    "I think this is {t} rather than asthma.",
    "The cough and the {t} keep me up at night.",
    "Let's get an ECG and keep an eye on the {t}.",
    "Does the {t} hurt when you walk?",
    "It looks like {t} to me, so we will treat it.",
]
OTHER_SENTENCES = [
    "How are you feeling today?",
    "I have a headache and some nausea.",
    "Take ibuprofen twice a day with food.",
    "Your blood pressure is 130 over 80.",
    "We will order a chest X-ray.",
    "No shortness of breath or wheezing.",
    "My mother had high blood pressure.",
    "Come back in two weeks.",
]
# Never in the training data: the sentence a clinician says at the next visit.
NEW_SENTENCE = "Her zorbitis came back on Tuesday together with a rash."
CURATED = NlpOptions(vocabularies=("curated",))  # loads in a tenth of a second
FAST = TrainOptions(max_epochs=12, min_encounters=5, min_entities=20)


def _turns(i: int) -> list[tuple[str, str]]:
    """Six turns of encounter ``i``: three with the new term, three without."""
    term = [TERM_SENTENCES[(3 * i + k) % len(TERM_SENTENCES)].format(t=TERM) for k in range(3)]
    other = [OTHER_SENTENCES[(2 * i + k) % len(OTHER_SENTENCES)] for k in range(3)]
    texts = [term[0], other[0], term[1], other[1], term[2], other[2]]
    return [("patient" if k % 2 else "clinician", text) for k, text in enumerate(texts)]


def _human_terms(transcript) -> list[Entity]:
    return [
        Entity(seg.idx, k, k + len(TERM), TERM, "PROBLEM", source="human")
        for seg in transcript.segments
        if (k := seg.text.find(TERM)) >= 0
    ]


def add_reviewed_encounter(store: st.Store, nlp: Language, encounter_id: str, i: int) -> None:
    """An encounter whose rule entities were stored, then reviewed: the clinician adds the new
    term (an ``entity.added`` event per mention) and confirms the set (``entities.confirmed``)."""
    transcript = make_transcript(_turns(i))
    machine = extract_entities(nlp, transcript)
    added = _human_terms(transcript)
    reviewed = tuple(sorted([*machine, *added], key=lambda e: (e.segment_idx, e.start)))
    with store.transaction():  # one database session for the whole setup (faster)
        st.add_encounter(store, st.EncounterRecord(encounter_id, f"Visit {i}"), "dr-a")
        st.set_consent(store, encounter_id, True, "dr-a")  # training may use it
        version = st.save_transcript(store, encounter_id, transcript, "dr-a")
        st.save_entities(store, encounter_id, version, machine, model_version(nlp), "dr-a")
        set_version = st.save_entities(store, encounter_id, version, reviewed, "review", "dr-a")
        for ent in added:
            st.append_event(
                store,
                st.new_event(
                    "dr-a",
                    encounter_id,
                    "entity.added",
                    object_type="entity",
                    object_id=f"{encounter_id}/entities/{set_version}",
                    after={
                        "segment_idx": ent.segment_idx,
                        "start": ent.start,
                        "end": ent.end,
                        "label": ent.label,
                    },
                ),
            )
        st.append_event(
            store,
            st.new_event(
                "dr-a",
                encounter_id,
                "entities.confirmed",
                object_type="entity_set",
                object_id=f"{encounter_id}/entities/{set_version}",
            ),
        )


def new_visit(store: st.Store, engine: Engine, encounter_id: str) -> tuple[Entity, ...]:
    """Process a new, unreviewed encounter and return its entities as stored."""
    st.add_encounter(store, st.EncounterRecord(encounter_id, "New visit"), "dr-a")
    st.save_transcript(store, encounter_id, make_transcript([("patient", NEW_SENTENCE)]), "dr-a")
    process_encounter(store, store.path.parent, engine, encounter_id, "dr-a")
    return st.get_entities(store, encounter_id)


def scribe(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "workbench.cli", "-v", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        env={**_env(), "SCRIBE_USER": "dr-a"},
    )


def _env() -> dict[str, str]:
    import os

    return dict(os.environ, PYTHONPATH=str(REPO))


@pytest.fixture(scope="module")
def rules() -> Language:
    return load_nlp(CURATED)


@pytest.fixture(scope="module")
def annotated(rules: Language) -> list[AnnotatedEncounter]:
    """Ten reviewed encounters as the trainer sees them (rule entities + the new term)."""
    encounters = []
    for i in range(10):
        transcript = make_transcript(_turns(i))
        machine = [
            replace(e, segment_idx=seg.idx)
            for seg in transcript.segments
            for e in extract_text(rules, seg.text)
        ]
        encounters.append(
            AnnotatedEncounter(
                f"enc-{i:02d}",
                tuple((s.idx, s.text) for s in transcript.segments),
                tuple([*machine, *_human_terms(transcript)]),
            )
        )
    return encounters


@pytest.fixture(scope="module")
def training(tmp_path_factory: pytest.TempPathFactory, annotated) -> TrainResult:
    folder = tmp_path_factory.mktemp("model") / "ner-test"
    return train_ner(annotated, folder, FAST, model_id="ner-test")


@pytest.fixture(scope="module")
def trained(training: TrainResult) -> Path:
    return training.model_dir


def test_correction_changes_the_next_prediction(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = st.open_store(data)
    st.ensure_user(store, "dr-a", "Dr A", "clinician")
    engine = Engine(PipelineOptions(), store=store)  # one engine throughout, as in the UI
    for i in range(10):
        add_reviewed_encounter(store, engine.nlp, f"enc-{i:02d}", i)

    before = new_visit(store, engine, "next-1")
    assert TERM not in [e.text for e in before], "the rules alone do not know the term"
    assert "rash" in [e.text for e in before]

    trained = scribe(data, "train", "ner", "--json", "--seed", "3", "--epochs", "12")
    assert trained.returncode == 0, trained.stderr
    record = json.loads(trained.stdout)
    assert record["active"] is False and record["kind"] == "ner"
    assert record["encounters"] == 10 and record["corrections"] == 30
    assert record["metrics"]["model"]["per_label"]["PROBLEM"]["support"] > 0
    assert (data / record["path"] / "meta.json").is_file()
    # Transcript text never reaches the terminal or the log, only ids, counts and scores.
    assert TERM not in trained.stdout + trained.stderr
    assert "chest pain" not in trained.stdout + trained.stderr

    activated = scribe(data, "models", "activate", record["id"])
    assert activated.returncode == 0, activated.stderr

    after = new_visit(store, engine, "next-2")
    found = [e for e in after if e.text == TERM]
    assert [(e.label, e.attributes.get("model")) for e in found] == [("PROBLEM", record["id"])]
    rash = next(e for e in after if e.text == "rash")
    assert rash.code is not None, "the rule entity keeps its vocabulary code"
    events = st.list_events(store, "next-2", "entities.extracted")
    assert events[-1].model_version.startswith("nlp.rules.v3+kb.")
    assert events[-1].model_version.endswith(f"+{record['id']}")


def test_models_lists_versions_with_one_active_per_kind(store: st.Store) -> None:
    for n in (1, 2):
        st.register_model(
            store,
            st.NewModel(
                f"ner-{n}",
                "ner",
                f"models/ner-{n}",
                "nlp.rules.v3",
                encounters=5 + n,
                entities=40,
                corrections=3,
                metrics={"model": {"exact": {"f1": 0.5 + n / 10}}},
            ),
            "dr-a",
        )
    assert st.active_model(store) is None
    st.activate_model(store, "ner-1", "dr-a")
    st.activate_model(store, "ner-2", "dr-b")
    listed = st.list_models(store)
    assert [(m.model_id, m.active) for m in listed] == [("ner-2", True), ("ner-1", False)]
    assert st.active_model(store, "ner").model_id == "ner-2"
    events = st.list_events(store, kind="model.activated")
    assert [(e.user_id, e.before, e.after["model_id"]) for e in events] == [
        ("dr-a", {"model_id": None}, "ner-1"),
        ("dr-b", {"model_id": "ner-1"}, "ner-2"),
    ]
    assert st.deactivate_model(store, "ner", "dr-a").model_id == "ner-2"
    assert st.active_model(store) is None
    with pytest.raises(st.NotFound, match="No model ner-9"):
        st.activate_model(store, "ner-9", "dr-a")
    assert len(st.list_events(store, kind="model.activated")) == 2, "a refused call writes none"


def test_models_command_lists_and_refuses_unknown_ids(store: st.Store) -> None:
    st.register_model(
        store,
        st.NewModel(
            "ner-1",
            "ner",
            "models/ner-1",
            "nlp.rules.v3",
            6,
            40,
            3,
            metrics={"model": {"exact": {"f1": 0.75}}},
        ),
        "dr-a",
    )
    data = store.path.parent
    listed = scribe(data, "models", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [(m["id"], m["f1"], m["active"]) for m in json.loads(listed.stdout)["models"]] == [
        ("ner-1", 0.75, False)
    ]
    table = scribe(data, "models")
    assert "ner-1" in table.stdout and "0.750" in table.stdout
    refused = scribe(data, "models", "activate", "ner-404")
    assert refused.returncode == 1 and "No model ner-404" in " ".join(refused.stderr.split())
    no_files = scribe(data, "models", "activate", "ner-1")  # registered, folder deleted
    assert no_files.returncode == 1
    assert "files of ner-1 are missing" in " ".join(no_files.stderr.split())
    assert st.active_model(store) is None


def test_too_little_data_is_refused_saying_what_is_needed(tmp_path: Path, rules: Language) -> None:
    data = tmp_path / "data"
    store = st.open_store(data)
    for i in range(2):
        add_reviewed_encounter(store, rules, f"enc-{i}", i)
    result = scribe(data, "train", "ner")
    assert result.returncode == 1
    assert "at least 5 encounters; found 2" in " ".join(result.stderr.split())
    assert st.list_models(store) == []
    assert not (data / "models").exists() or not any((data / "models").iterdir())


def test_too_few_entities_is_refused(annotated) -> None:
    bare = [replace(e, entities=e.entities[:1]) for e in annotated]
    with pytest.raises(NotEnoughData, match="at least 20 entities in the training encounters"):
        train_ner(bare, Path("/nonexistent/never-written"), FAST)


def test_split_holds_out_whole_encounters_deterministically() -> None:
    ids = [f"enc-{i:02d}" for i in range(20)]
    train, held = split_encounters(ids, 0.2, seed=7)
    assert len(held) == 4 and set(train) | set(held) == set(ids) and not set(train) & set(held)
    assert split_encounters(reversed(ids), 0.2, seed=7) == (train, held), "order does not matter"
    assert split_encounters(ids, 0.2, seed=8)[1] != held, "the seed changes the split"
    assert len(split_encounters(ids[:3], 0.2, seed=7)[1]) == 1, "at least one is held out"
    with pytest.raises(ValueError, match="holdout"):
        split_encounters(ids, 1.0, seed=7)


def test_same_data_and_seed_train_the_same_model(
    tmp_path: Path, annotated, training: TrainResult
) -> None:
    again = train_ner(annotated, tmp_path / "again", FAST, model_id="ner-test")
    assert (again.heldout_ids, again.losses, again.metrics) == (
        training.heldout_ids,
        training.losses,
        training.metrics,
    )
    assert training.summary.human_entities == 30 and training.summary.encounters == 10
    assert len(training.heldout_ids) == 2 and not set(training.heldout_ids) & set(
        training.train_ids
    )


def test_overlapping_spans_are_resolved_the_same_in_any_order() -> None:
    spans = [
        (0, 10, "PROBLEM"),
        (4, 10, "ANATOMY"),
        (12, 20, "TEST"),
        (12, 20, "PROCEDURE"),
        (21, 25, "VITAL"),
    ]
    results = {tuple(resolve_overlaps(p)[0]) for p in itertools.permutations(spans)}
    # Longest wins; for the same span the label sorting first wins.
    assert results == {((0, 10, "PROBLEM"), (12, 20, "PROCEDURE"), (21, 25, "VITAL"))}
    assert resolve_overlaps(spans)[1] == 2


def test_reference_docs_keep_schema_labels_and_valid_offsets(rules: Language) -> None:
    text = "I have zorbitis and chest pain."
    encounter = AnnotatedEncounter(
        "e",
        ((0, text),),
        (
            Entity(0, 7, 15, "zorbitis", "PROBLEM", source="human"),
            Entity(0, 7, 15, "zorbitis", "SYMPTOM"),  # not in annotations/labels.json
            Entity(0, 20, 30, "chest pain", "PROBLEM"),
            Entity(0, 20, 25, "chest", "ANATOMY"),  # overlaps the longer span
            Entity(0, 0, 4, "stale", "PROBLEM"),  # text no longer at these offsets
            Entity(3, 0, 4, "gone", "PROBLEM"),  # no such segment
        ),
    )
    docs, counts = encounter_docs(rules, encounter, TrainOptions().label_set())
    assert [(e.text, e.label_) for e in docs[0].ents] == [
        ("zorbitis", "PROBLEM"),
        ("chest pain", "PROBLEM"),
    ]
    assert (
        counts["dropped_unknown_label"],
        counts["dropped_overlapping"],
        counts["dropped_bad_offsets"],
        counts["human_entities"],
    ) == (1, 1, 2, 1)


def test_trained_model_adds_what_rules_miss_and_context_applies(trained: Path) -> None:
    nlp = load_nlp(replace(CURATED, ner_model=str(trained)))
    assert nlp.meta["scribe"]["version"].endswith("+ner-test")
    assert nlp.meta["scribe"]["ner_model"] == "ner-test"
    ents = extract_text(nlp, "There is no zorbitis today, but I had chest pain.")
    by_text = {e.text: e for e in ents}
    assert by_text[TERM].negated and by_text[TERM].attributes["model"] == "ner-test"
    assert by_text["chest pain"].code == "R07.9" and "model" not in by_text["chest pain"].attributes


def test_rule_span_wins_where_the_model_overlaps_it(trained: Path) -> None:
    nlp = load_nlp(replace(CURATED, ner_model=str(trained)))
    merge = nlp.get_pipe("scribe_trained_ner")
    doc = nlp.make_doc("I had chest pain yesterday.")
    rule = doc.char_span(6, 16, label="PROBLEM")
    doc.ents = [doc.char_span(6, 11, label="ANATOMY"), doc.char_span(17, 26, label="PROBLEM")]
    merged = merge._merge(doc, (rule,))  # model spans: "chest" (overlaps), "yesterday" (new)
    assert [(e.text, e.label_) for e in merged.ents] == [
        ("chest pain", "PROBLEM"),
        ("yesterday", "PROBLEM"),
    ]
    assert [e._.get(MODEL_ATTR) for e in merged.ents] == [None, "ner-test"]


def test_missing_model_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="No trained NER model"):
        load_nlp(replace(CURATED, ner_model=str(tmp_path / "nowhere")))


def test_registry_migration_upgrades_an_older_database_with_data(tmp_path: Path) -> None:
    store = st.Store(tmp_path / "old.duckdb")
    older = [m for m in available_migrations() if m.version < 5]
    migrate(store, older)
    with store.connect() as con:  # written by the older code
        con.execute(
            "INSERT INTO encounters (encounter_id, title, created_at, created_by)"
            " VALUES ('e', 'kept', now(), 'u')"
        )
    assert 5 in migrate(store)
    assert st.get_encounter(store, "e").title == "kept"
    assert st.list_models(store) == [] and st.active_model(store) is None


def test_scores_count_exact_and_overlapping_spans_per_label() -> None:
    gold = [[(0, 5, "PROBLEM"), (10, 15, "TEST")]]
    predicted = [[(0, 5, "PROBLEM"), (10, 14, "TEST"), (20, 25, "PROBLEM")]]
    scores = score_spans(gold, predicted, ("PROBLEM", "TEST", "VITAL"))
    assert scores["exact"] == {"precision": 0.3333, "recall": 0.5, "f1": 0.4}
    assert scores["overlap"] == {"precision": 0.6667, "recall": 1.0, "f1": 0.8}
    assert scores["per_label"]["TEST"]["exact"]["f1"] == 0.0
    assert scores["per_label"]["TEST"]["overlap"]["f1"] == 1.0
    assert set(scores["per_label"]) == {"PROBLEM", "TEST"}, "labels never seen are left out"
