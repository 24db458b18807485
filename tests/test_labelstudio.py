"""Label Studio without a server: the labelling config, tasks with predictions, conversion
of annotations back (and refusal of malformed or foreign ones), the URL policy and the
tasks JSON export from a real DuckDB file with the real spaCy pipeline's entities.

The round trip through a real Label Studio server is tests/test_labelstudio_roundtrip.py.
"""

from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from spacy.language import Language

from pipelines.annotation_schema import load_task_schema
from pipelines.labelstudio import (
    LabelStudioFormatError,
    build_task,
    load_tasks_json,
    parse_task,
    project_config,
    redact_inputs,
    same_config,
)
from pipelines.nlp import NLP_VERSION, NlpOptions, extract_entities, load_nlp
from pipelines.schema import LABELS_PATH, load_label_schema
from pipelines.types import Annotation
from workbench import store as st
from workbench.labelstudio_client import LabelStudioError, connect, server_url
from workbench.labelstudio_export import CONFIG_FILE, TASKS_FILE, write_labelstudio_export
from workbench.store import annotation_tasks as an
from workbench.store.access import Actor, Forbidden
from workbench.store.events import list_events

from .conftest import make_transcript

LABELS, TASKS = load_label_schema(), load_task_schema()
TURNS = [
    ("clinician", "Good morning Mrs Jane Okafor. Any chest pain or fever?"),
    ("patient", "No chest pain. I take metformin 500 mg twice a day for my diabetes."),
    ("clinician", "Keep taking the metformin."),
]
TEXTS = [t for _, t in TURNS]


@pytest.fixture(scope="module")
def nlp() -> Language:
    return load_nlp(NlpOptions())


def _span(aid: str, seg: int, word: str, label: str, **kw) -> Annotation:
    start = TEXTS[seg].index(word)
    value = kw.pop("value", {"context": [], "attributes": {}})
    return Annotation(aid, "span", label, seg, start, start + len(word), word, value, **kw)


SUGGESTIONS = [
    _span("m1-0", 1, "chest pain", "PROBLEM", value={"context": ["negated"], "attributes": {}},
          origin="suggestion", model_version="nlp.test"),
    _span("m1-1", 1, "metformin", "MEDICATION",
          value={"context": [], "attributes": {"dose": "500 mg", "frequency": "twice a day",
                                               "vocabulary": "drugs"}},
          origin="suggestion", model_version="nlp.test"),
    _span("m1-2", 1, "diabetes", "PROBLEM", origin="suggestion", model_version="nlp.test"),
]  # fmt: skip


def _task(annotations: list[dict] | None = None, suggestions=SUGGESTIONS) -> dict:
    task = build_task("enc-1", 1, make_transcript(TURNS), suggestions, LABELS)
    return {"id": 7, **task, "annotations": annotations or []}


def _annotation(result: list[dict], **kw) -> dict:
    return {"id": 31, "completed_by": 2, "updated_at": "2026-12-01T10:00:00Z",
            "was_cancelled": False, "result": result, **kw}  # fmt: skip


def _region(rid: str, seg: int, word: str, label: str) -> dict:
    start = TEXTS[seg].index(word)
    return {"id": rid, "from_name": "entities", "to_name": "transcript",
            "type": "paragraphlabels",
            "value": {"start": seg, "end": seg, "startOffset": start,
                      "endOffset": start + len(word), "text": word,
                      "paragraphlabels": [label]}}  # fmt: skip


def _parse(task: dict) -> list:
    return parse_task(task, TEXTS, LABELS, TASKS)


# -- config --------------------------------------------------------------------------------


def test_config_has_spans_attributes_relations_context_and_encounter_questions() -> None:
    root = ET.fromstring(project_config(LABELS, TASKS, audio=True))
    labels = [e.get("value") for e in root.find("ParagraphLabels")]
    assert labels == [*LABELS.names, "DOSE", "FREQUENCY", "ROUTE", "DURATION"]
    assert [r.get("value") for r in root.find("Relations")] == [r.name for r in TASKS.relations]
    questions = {c.get("name"): [x.get("value") for x in c] for c in root.iter("Choices")}
    assert questions.pop("context") == [f.name for f in LABELS.context]
    assert questions == {f"encounter_{q.name}": list(q.choices) for q in TASKS.encounter_labels}
    names = [e.get("name") for e in root.iter() if e.get("name")]
    assert len(names) == len(set(names)), "Label Studio needs unique control names"
    paragraphs = root.find("Paragraphs")
    assert (paragraphs.get("nameKey"), paragraphs.get("audioUrl")) == ("speaker", "$audio")
    # The committed config is the generated one.
    committed = (LABELS_PATH.parent / "label_studio.xml").read_text(encoding="utf-8")
    assert committed == project_config(LABELS, TASKS, audio=True)


def test_config_without_audio_has_no_audio_variable() -> None:
    config = project_config(LABELS, TASKS, audio=False)
    assert "$audio" not in config and "<Audio" not in config
    assert not same_config(config, project_config(LABELS, TASKS, audio=True))
    # Formatting (indentation, attribute order) does not make a config another one.
    flat = ET.tostring(ET.fromstring(config), encoding="unicode").replace("\n", "")
    assert same_config(flat, config)


# -- tasks ---------------------------------------------------------------------------------


def test_task_holds_turns_ids_and_predictions_with_our_ids() -> None:
    task = build_task("enc-1", 3, make_transcript(TURNS), SUGGESTIONS, LABELS)
    data = task["data"]
    assert (data["encounter_id"], data["transcript_version"]) == ("enc-1", 3)
    assert "audio" not in data  # no audio URL given: none invented
    assert [(t["speaker"], t["text"]) for t in data["transcript"]] == TURNS
    assert all(t["start"] < t["end"] for t in data["transcript"])
    [prediction] = task["predictions"]
    assert prediction["model_version"] == "nlp.test"
    regions = [r for r in prediction["result"] if r["type"] == "paragraphlabels"]
    assert [r["id"] for r in regions] == ["m1-0", "m1-1", "m1-2"]
    by = {(r["id"], r["from_name"]): r["value"] for r in prediction["result"]}
    assert by[("m1-0", "context")]["choices"] == ["negated"]
    assert by[("m1-1", "medication_dose")]["text"] == ["500 mg"]
    assert by[("m1-1", "medication_frequency")]["text"] == ["twice a day"]
    assert not any("vocabulary" in name for _, name in by), "only the schema's attributes"
    with_audio = build_task("enc-1", 3, make_transcript(TURNS), [], LABELS,
                            audio_url="https://files.example/enc-1.ogg")  # fmt: skip
    assert with_audio["data"]["audio"] == "https://files.example/enc-1.ogg"
    assert "predictions" not in with_audio


# -- conversion back -----------------------------------------------------------------------


def test_accepted_changed_added_and_related_annotations_come_back() -> None:
    predicted = _task()["predictions"][0]["result"]
    accepted = [r for r in predicted if r["id"] in ("m1-0", "m1-1")]  # m1-2 deleted
    relabelled = _region("m1-2", 1, "diabetes", "ANATOMY")
    result = [
        *accepted,
        relabelled,
        _region("h-dose", 1, "500 mg", "DOSE"),
        {"from_id": "m1-1", "to_id": "h-dose", "type": "relation", "direction": "right",
         "labels": ["has_dose"]},
        {"id": "q", "from_name": "encounter_visit_type", "to_name": "transcript",
         "type": "choices", "value": {"choices": ["chronic care"]}},
    ]  # fmt: skip
    [pulled] = _parse(_task([_annotation(result, completed_by={"id": 2, "email": "a@x.org"})]))
    assert (pulled.ls_task_id, pulled.ls_annotation_id, pulled.annotator) == (7, 31, "a@x.org")
    assert (pulled.encounter_id, pulled.transcript_version) == ("enc-1", 1)
    got = {a.annotation_id: a for a in pulled.annotations}
    assert got["m1-0"] == _span("m1-0", 1, "chest pain", "PROBLEM", origin="confirmed",
                                model_version="nlp.test",
                                value={"context": ["negated"], "attributes": {}})  # fmt: skip
    assert got["m1-1"].value == {
        "context": [],
        "attributes": {"dose": "500 mg", "frequency": "twice a day"},
    }
    assert (got["m1-2"].label, got["m1-2"].origin, got["m1-2"].model_version) == (
        "ANATOMY", "human", None)  # a changed label is the annotator's own  # fmt: skip
    assert got["h-dose"] == _span("h-dose", 1, "500 mg", "DOSE")
    assert got["relation:m1-1:has_dose:h-dose"].value == {"from": "m1-1", "to": "h-dose"}
    assert got["encounter:visit_type"].value == {"choice": "chronic care"}
    assert len(got) == 6


def test_left_and_two_way_relations_point_from_medication_to_dose() -> None:
    regions = [_region("m", 1, "metformin", "MEDICATION"), _region("d", 1, "500 mg", "DOSE")]
    for direction, ends in (("left", ("d", "m")), ("bi", ("d", "m")), ("right", ("m", "d"))):
        rel = {"from_id": ends[0], "to_id": ends[1], "type": "relation",
               "direction": direction, "labels": ["has_dose"]}  # fmt: skip
        [pulled] = _parse(_task([_annotation([*regions, rel])]))
        [relation] = [a for a in pulled.annotations if a.kind == "relation"]
        assert relation.value == {"from": "m", "to": "d"}, direction


def test_cancelled_annotations_and_digit_string_turns() -> None:
    region = _region("r", 1, "metformin", "MEDICATION")
    region["value"].update(start="1", end="1")  # older Label Studio versions write strings
    task = _task([_annotation([region]), _annotation([], id=32, was_cancelled=True)])
    [pulled] = _parse(task)
    assert pulled.ls_annotation_id == 31 and pulled.annotations[0].segment_idx == 1


def _bad(path: str, new) -> dict:
    """A valid one-annotation task with one thing changed (``path``: keys and list indexes
    separated by '/', into the task; ``new`` None deletes it)."""
    task = _task([_annotation([
        _region("m", 1, "metformin", "MEDICATION"),
        _region("d", 1, "500 mg", "DOSE"),
        {"id": "m", "from_name": "medication_dose", "to_name": "transcript", "type": "textarea",
         "value": {"start": 1, "end": 1, "startOffset": 22, "endOffset": 31,
                   "text": ["500 mg"]}},
        {"from_id": "m", "to_id": "d", "type": "relation", "direction": "right",
         "labels": ["has_dose"]},
    ])])  # fmt: skip
    *parents, last = [int(p) if p.isdigit() else p for p in path.split("/")]
    target = task
    for p in parents:
        target = target[p]
    if new is None:
        del target[last]
    else:
        target[last] = new
    return task


A = "annotations/0"
R = f"{A}/result"
MALFORMED = [
    # (what a user would see it as, the change, a fragment of the message)
    ("no task id", ("id", "7"), "no integer 'id'"),
    ("not Scribe's task", ("data/encounter_id", None), "not a task Scribe pushed"),
    ("turn text edited in Label Studio", ("data/transcript/1/text", "Hello."), "turn 1 differs"),
    ("a turn removed", ("data/transcript/2", None), "2 turns"),
    ("result not a list", (f"{A}/result", {"x": 1}), "'result' must be a list"),
    ("no updated_at", (f"{A}/updated_at", None), "missing 'updated_at'"),
    ("no annotator", (f"{A}/completed_by", None), "missing 'completed_by'"),
    ("foreign control", (f"{R}/0/from_name", "sentiment"), "unknown control 'sentiment'"),
    ("foreign object", (f"{R}/0/to_name", "text"), "config is not the one Scribe pushed"),
    ("unknown label", (f"{R}/0/value/paragraphlabels", ["GENE"]), "unknown label 'GENE'"),
    ("two labels", (f"{R}/0/value/paragraphlabels", ["PROBLEM", "TEST"]), "exactly one label"),
    ("offsets outside", (f"{R}/0/value/endOffset", 400), "outside turn 1"),
    (
        "turn outside",
        (
            f"{R}/0/value",
            {
                "start": 9,
                "end": 9,
                "startOffset": 0,
                "endOffset": 3,
                "paragraphlabels": ["PROBLEM"],
            },
        ),
        "not in the transcript",
    ),
    ("two turns", (f"{R}/0/value/end", 2), "spans turns 1-2"),
    ("text mismatch", (f"{R}/0/value/text", "insulin"), "text does not match turn 1"),
    ("no offsets", (f"{R}/0/value/startOffset", None), "lacks start/end"),
    ("no region id", (f"{R}/0/id", None), "missing region 'id'"),
    ("box on a lost region", (f"{R}/2/id", "zzz"), "refers to no labelled region"),
    ("relation without label", (f"{R}/3/labels", []), "needs a label"),
    ("unknown relation", (f"{R}/3/labels", ["causes"]), "unknown relation 'causes'"),
    ("relation the wrong way", (f"{R}/3/direction", "left"), "goes from a MEDICATION"),
    ("relation to nothing", (f"{R}/3/to_id", "nope"), "not a labelled span"),
    ("not a result item", (f"{R}/1", "PROBLEM"), "not a result item"),
]


@pytest.mark.parametrize("case", MALFORMED, ids=[c[0] for c in MALFORMED])
def test_malformed_or_foreign_annotations_are_refused_with_a_clear_message(case) -> None:
    _, (path, new), fragment = case
    with pytest.raises(LabelStudioFormatError, match=fragment.replace("(", r"\(")) as err:
        _parse(_bad(path, new))
    # Messages name the task (and annotation) but never quote transcript text.
    assert "task 7" in str(err.value) or "a task" in str(err.value)
    assert "metformin" not in str(err.value) and "Okafor" not in str(err.value)
    assert _parse(_bad("annotations/0/id", 31))  # the unchanged task is fine


def test_wrong_context_choice_attribute_box_and_question_are_refused() -> None:
    base = _task()["predictions"][0]["result"]
    context = copy.deepcopy([r for r in base if r["id"] == "m1-0"])
    context[1]["value"]["choices"] = ["maybe"]
    box = [
        copy.deepcopy(next(r for r in base if r["id"] == "m1-0")),
        {"id": "m1-0", "from_name": "medication_dose", "to_name": "transcript",
         "type": "textarea", "value": {"text": ["5 mg"]}},
    ]  # fmt: skip
    question = [{"id": "q", "from_name": "encounter_audio_quality", "to_name": "transcript",
                 "type": "choices", "value": {"choices": ["loud"]}}]  # fmt: skip
    for result, fragment in ((context, "context choices"), (box, "belongs to MEDICATION"),
                             (question, "needs exactly one of")):  # fmt: skip
        with pytest.raises(LabelStudioFormatError, match=fragment):
            _parse(_task([_annotation(result)]))


def test_a_json_export_that_is_not_a_list_of_tasks_is_refused() -> None:
    for text, fragment in (("{not json", "not a Label Studio JSON export"),
                           ('{"id": 1}', "a list of task objects"),
                           ("[1, 2]", "a list of task objects")):  # fmt: skip
        with pytest.raises(LabelStudioFormatError, match=fragment):
            load_tasks_json(text)
    assert load_tasks_json(json.dumps([_task()])) == [_task()]


def test_redacted_inputs_move_suggestions_and_drop_those_on_phi() -> None:
    from pipelines.deid import deidentify

    on_name = _span("m1-9", 0, "Okafor", "PROBLEM", origin="suggestion")
    relation = Annotation("rel", "relation", "treats", value={"from": "m1-1", "to": "m1-9"})
    transcript, kept, dropped = redact_inputs(
        make_transcript(TURNS), [*SUGGESTIONS, on_name, relation],
        lambda text: deidentify(text, ("Jane Okafor",)),
    )  # fmt: skip
    assert "Okafor" not in transcript.text and "[NAME]" in transcript.segments[0].text
    assert dropped == 2  # the span on the name, and the relation that needed it
    assert [a.annotation_id for a in kept] == ["m1-0", "m1-1", "m1-2"]
    for a in kept:
        assert transcript.segments[a.segment_idx].text[a.start_char : a.end_char] == a.text


# -- URL policy ----------------------------------------------------------------------------


def test_plain_http_only_to_this_machine_and_a_token_is_required() -> None:
    assert server_url("http://127.0.0.1:8080/") == "http://127.0.0.1:8080"
    assert server_url("http://localhost:8080") == "http://localhost:8080"
    assert server_url("https://ls.hospital.example/") == "https://ls.hospital.example"
    with pytest.raises(LabelStudioError, match=r"Refusing plain http to ls\.hospital\.example"):
        server_url("http://ls.hospital.example:8080")
    with pytest.raises(LabelStudioError, match="Not a Label Studio URL"):
        server_url("ftp://127.0.0.1/")
    assert "secret" not in server_url("https://user:secret@ls.example/")
    with pytest.raises(LabelStudioError, match="SCRIBE_LABELSTUDIO_TOKEN"):
        connect("http://127.0.0.1:1", "  ")


# -- the tasks JSON export (real DuckDB, real spaCy pipeline) ------------------------------


@pytest.fixture
def seeded(store: st.Store, nlp: Language) -> st.Store:
    st.ensure_user(store, "dr-a", "Dr A", "clinician")
    for encounter_id in ("enc-1", "enc-2"):
        st.add_encounter(
            store,
            st.EncounterRecord(encounter_id, "Visit", patient_label="Jane Okafor",
                               clinician_id="dr-a"),
            "dr-a",
        )  # fmt: skip
        transcript = make_transcript(TURNS)
        version = st.save_transcript(store, encounter_id, transcript, "dr-a")
        entities = extract_entities(nlp, transcript)
        st.save_entities(store, encounter_id, version, entities, NLP_VERSION, "dr-a")
    return store


def test_export_writes_importable_tasks_with_the_model_entities(
    seeded: st.Store, tmp_path: Path
) -> None:
    paths = write_labelstudio_export(seeded, ["enc-1", "enc-2"], tmp_path / "out",
                                     deidentified=False)  # fmt: skip
    assert [p.name for p in paths] == [TASKS_FILE, CONFIG_FILE]
    tasks = load_tasks_json(paths[0].read_text(encoding="utf-8"))
    assert [t["data"]["encounter_id"] for t in tasks] == ["enc-1", "enc-2"]
    assert same_config(
        paths[1].read_text(encoding="utf-8"), project_config(LABELS, TASKS, audio=False)
    )
    suggestions = an.model_suggestions(seeded, "enc-1")
    assert any(s.label == "MEDICATION" and s.text == "metformin" for s in suggestions)
    [prediction] = tasks[0]["predictions"]
    assert prediction["model_version"] == NLP_VERSION
    ids = [r["id"] for r in prediction["result"] if r["type"] == "paragraphlabels"]
    assert ids == [s.annotation_id for s in suggestions]
    # An annotator who accepts every prediction gives back exactly the model's spans.
    task = {**tasks[0], "id": 1, "annotations": [_annotation(prediction["result"])]}
    [pulled] = _parse(task)
    assert [(a.annotation_id, a.label, a.segment_idx, a.start_char, a.end_char, a.origin)
            for a in pulled.annotations] == [
        (s.annotation_id, s.label, s.segment_idx, s.start_char, s.end_char, "confirmed")
        for s in suggestions]  # fmt: skip


def test_deidentified_export_has_no_names_and_consistent_offsets(
    seeded: st.Store, tmp_path: Path
) -> None:
    [tasks_path, _] = write_labelstudio_export(seeded, ["enc-1"], tmp_path, deidentified=True)
    blob = tasks_path.read_text(encoding="utf-8")
    assert "Okafor" not in blob and "Jane" not in blob and "[NAME]" in blob
    [task] = json.loads(blob)
    turns = [t["text"] for t in task["data"]["transcript"]]
    regions = [r for r in task["predictions"][0]["result"] if r["type"] == "paragraphlabels"]
    assert regions
    for r in regions:
        v = r["value"]
        assert turns[v["start"]][v["startOffset"] : v["endOffset"]] == v["text"]


def test_export_refuses_unknown_encounters_and_people_without_the_right(
    seeded: st.Store, tmp_path: Path
) -> None:
    with pytest.raises(st.NotFound, match="enc-404"):
        write_labelstudio_export(seeded, ["enc-1", "enc-404"], tmp_path / "a", deidentified=True)
    assert not (tmp_path / "a").exists()
    st.ensure_user(seeded, "ann", "ann", "annotator")
    annotator = seeded.as_actor(Actor("ann", "annotator"))
    with pytest.raises(Forbidden):
        write_labelstudio_export(annotator, ["enc-1"], tmp_path / "b", deidentified=True)


# -- command line --------------------------------------------------------------------------


def test_cli_refuses_plain_http_elsewhere_and_a_missing_token(
    seeded: st.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from workbench.cli import app

    data = str(seeded.path.parent)
    monkeypatch.delenv("SCRIBE_LABELSTUDIO_TOKEN", raising=False)
    result = CliRunner().invoke(app, ["--data-dir", data, "labelstudio", "push", "--url",
                                      "http://ls.example:8080", "--project", "P", "--token",
                                      "t", "enc-1"])  # fmt: skip
    assert result.exit_code == 1 and "Refusing plain http to ls.example" in result.output
    result = CliRunner().invoke(app, ["--data-dir", data, "labelstudio", "pull", "--url",
                                      "http://127.0.0.1:9", "--project", "P"])  # fmt: skip
    assert result.exit_code == 1 and "SCRIBE_LABELSTUDIO_TOKEN" in result.output
    assert list_events(seeded, kind="labelstudio.pulled") == []
