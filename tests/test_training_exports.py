"""Training-data exports (`scribe export FORMAT --out DIR`): each format's content as a user
checks it, the manifest, consent, --since, de-identification, roles and bad input."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.editing import new_sentence
from pipelines.export import ExportError
from pipelines.export.manifest import MANIFEST, read_manifest, verify_export
from pipelines.nlp import NlpOptions, load_nlp
from pipelines.transcript_edit import SegmentFix
from pipelines.types import Entity
from tests.conftest import make_draft, make_transcript
from workbench import store as st
from workbench.cli import app
from workbench.corrections import correct_transcript
from workbench.export_formats import FORMATS, ExportFormat
from workbench.store.access import Actor, Forbidden
from workbench.store.audit import search_audit
from workbench.training_export import ExportRequest, export_dataset, parse_since

TURNS = [
    ("clinician", "Good morning Mrs. Lopez, I'm Dr. Adams. What brings you in today?"),
    ("patient", "I have had a cuff for three days."),
    ("clinician", "We will start amoxicillin 500 milligrams and check a chest x-ray."),
]
SECRETS = ("Lopez", "Maria", "Adams")
EDITED = "Cough for three days, no fever."
ADDED = "Start amoxicillin 500 mg."
runner = CliRunner()


def _said(result) -> str:
    """The command's output as one line: the console wraps long lines and boxes errors."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", result.output).split())


def _entities(transcript) -> tuple[Entity, ...]:
    """Machine entities found by hand: one wrong label, one mistake, one right."""

    def at(idx: int, words: str, label: str) -> Entity:
        text = transcript.segments[idx].text
        start = text.index(words)
        return Entity(idx, start, start + len(words), words, label)

    return (at(0, "morning", "PROBLEM"), at(2, "amoxicillin", "TEST"))


def _encounter(store: st.Store, encounter_id: str, *, consent: bool | None = True) -> None:
    st.add_encounter(
        store,
        st.EncounterRecord(
            encounter_id, "Visit with Maria Lopez", clinician="dr-ada", patient_label="Maria Lopez"
        ),
        "dr-ada",
    )
    if consent is not None:
        st.set_consent(store, encounter_id, consent, "dr-ada")
    transcript = make_transcript(TURNS)
    version = st.save_transcript(store, encounter_id, transcript, "dr-ada")
    st.save_entities(store, encounter_id, version, _entities(transcript), "nlp.test", "dr-ada")
    st.save_draft(store, encounter_id, make_draft(transcript), version, "dr-ada")


def _sign(store: st.Store, encounter_id: str) -> None:
    st.sign_note(store, encounter_id, st.get_note(store, encounter_id).version, "dr-ada")


def _review(store: st.Store, nlp, encounter_id: str) -> None:
    """What a clinician does on the Review page: fix a word, correct the entities, accept,
    edit and add sentences, sign."""
    correct_transcript(
        store,
        nlp,
        encounter_id,
        1,
        [SegmentFix(1, text="I have had a cough for three days.")],
        "dr-ada",
    )
    entity_set = st.get_entity_set(store, encounter_id)
    index = {e.text: i for i, e in enumerate(entity_set.entities)}
    version = st.relabel_entity(
        store, encounter_id, entity_set.version, index["amoxicillin"], "MEDICATION", "dr-ada"
    )
    version = st.remove_entity(store, encounter_id, version, index["morning"], "dr-ada")
    text = TURNS[2][1]
    start = text.index("chest x-ray")
    version = st.add_entity(
        store,
        encounter_id,
        version,
        Entity(2, start, start + len("chest x-ray"), "chest x-ray", "TEST"),
        "dr-ada",
    )
    st.confirm_entities(store, encounter_id, version, "dr-ada")
    note = st.get_note(store, encounter_id)
    st.accept_sentences(store, encounter_id, note.version, ["s0"], "dr-ada")
    edited = [replace(s, text=EDITED) if s.sentence_id == "s1" else s for s in note.draft.sentences]
    sentences = (*edited, new_sentence("Plan", ADDED))
    st.save_note(store, encounter_id, note.version, sentences, "dr-ada")
    _sign(store, encounter_id)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder: enc-a reviewed and signed; enc-b signed after a sentence was rejected;
    enc-c signed as drafted; enc-n signed without consent; enc-u consented, unsigned."""
    data = tmp_path_factory.mktemp("seed") / "data"
    store = st.open_store(data)
    st.ensure_user(store, "dr-ada", "Dr Ada Adams", "clinician")
    nlp = load_nlp(NlpOptions(vocabularies=("curated",)))
    for encounter_id, consent in (
        ("enc-a", True),
        ("enc-b", True),
        ("enc-c", True),
        ("enc-n", None),
        ("enc-u", True),
    ):
        _encounter(store, encounter_id, consent=consent)
    _review(store, nlp, "enc-a")
    note = st.get_note(store, "enc-b")
    st.save_note(store, "enc-b", note.version, note.draft.sentences[1:], "dr-ada")  # Reject s0
    _sign(store, "enc-b")
    _sign(store, "enc-c")
    _sign(store, "enc-n")
    return data


@pytest.fixture
def data(seeded: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(seeded, copy)
    return copy


def _export(data: Path, fmt: str, out: Path, **kwargs) -> dict:
    store = st.open_store(data)
    return export_dataset(store, ExportRequest(fmt, out, **kwargs), "ml-eng").manifest


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _load(kind: str, path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HF_HOME", str(cache))
    monkeypatch.setenv("HF_DATASETS_CACHE", str(cache / "datasets"))
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    import datasets

    return datasets.load_dataset(
        kind, data_files=str(path), split="train", cache_dir=str(cache / "datasets")
    )


def test_jsonl_pairs_hold_the_signed_note_and_load_in_datasets(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "pairs"
    manifest = _export(data, "jsonl", out)
    records = {r["encounter_id"]: r for r in _jsonl(out / "pairs.jsonl")}
    assert sorted(records) == ["enc-a", "enc-b", "enc-c"]
    a = records["enc-a"]
    signed = st.get_note(st.open_store(data), "enc-a")
    assert a["note_version"] == signed.version and a["signed_at"].startswith(
        str(datetime.now(UTC).year)
    )
    assert EDITED in a["note_text"] and ADDED in a["note_text"]
    assert "patient: I have had a cough for three days." in a["transcript"]  # the fixed words
    assert a["transcript_version"] == 2 and a["format"] == "scribe.training.v2"
    counts = manifest["counts"]
    assert counts["records"] == 3 and counts["encounters"] == 3
    assert counts["skipped"] == {"no_consent": 1, "not_signed": 1}
    assert manifest["skipped_encounters"] == {"no_consent": ["enc-n"], "not_signed": ["enc-u"]}
    assert manifest["store_schema_version"] == st.schema_version(st.open_store(data))
    assert manifest["created_by"] == "ml-eng" and manifest["filters"] == {
        "since": None,
        "consent": "consented-only",
        "deidentified": False,
    }

    loaded = _load("json", out / "pairs.jsonl", tmp_path / "hf", monkeypatch)
    assert loaded.num_rows == 3
    row = loaded[loaded["encounter_id"].index("enc-a")]
    assert row["note_text"] == a["note_text"] and row["segments"][1]["words"][0]["text"] == "I"


def test_parquet_has_the_jsonl_records_with_the_same_types(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _export(data, "jsonl", tmp_path / "j")
    manifest = _export(data, "parquet", tmp_path / "p")
    assert [f["path"] for f in manifest["files"]] == ["pairs.parquet"]
    from_json = _load("json", tmp_path / "j" / "pairs.jsonl", tmp_path / "hf", monkeypatch)
    from_parquet = _load("parquet", tmp_path / "p" / "pairs.parquet", tmp_path / "hf", monkeypatch)
    assert from_parquet.num_rows == from_json.num_rows == 3
    # The same columns and types; the times are timestamps in both (Parquet stores them in
    # milliseconds: it has no seconds unit, which the JSON reader infers).
    json_types, parquet_types = dict(from_json.features), dict(from_parquet.features)
    assert json_types.pop("signed_at").dtype == "timestamp[s]"
    assert parquet_types.pop("signed_at").dtype == "timestamp[ms]"
    assert parquet_types == json_types
    assert from_parquet.to_list() == from_json.to_list()


def test_preference_pairs_reject_the_ai_draft_for_the_signed_note(
    data: Path, tmp_path: Path
) -> None:
    out = tmp_path / "pref"
    manifest = _export(data, "preference", out)
    records = {r["encounter_id"]: r for r in _jsonl(out / "preference.jsonl")}
    assert sorted(records) == ["enc-a", "enc-b"]
    a = records["enc-a"]
    assert EDITED in a["chosen"] and EDITED not in a["rejected"]
    assert TURNS[1][1] in a["rejected"]  # the machine's sentence, as drafted
    assert a["model_version"] == "test-v1" and a["draft_version"] == 1
    assert "cough for three days" in a["prompt"]
    assert TURNS[0][1] not in records["enc-b"]["chosen"]  # the rejected sentence
    assert manifest["skipped_encounters"]["signed_as_drafted"] == ["enc-c"]


def test_corrections_are_typed_records_with_evidence(data: Path, tmp_path: Path) -> None:
    store = st.open_store(data)
    st.append_event(store, st.new_event("annotator", "enc-a", "future.kind"))
    out = tmp_path / "corr"
    manifest = _export(data, "corrections", out)
    records = _jsonl(out / "corrections.jsonl")
    by_type = {}
    for r in records:
        by_type.setdefault((r["encounter_id"], r["type"]), []).append(r)

    (relabel,) = by_type["enc-a", "entity_relabel"]
    assert (relabel["before"]["label"], relabel["after"]["label"]) == ("TEST", "MEDICATION")
    (span,) = relabel["evidence"]
    segment = st.get_transcript(store, "enc-a", span["transcript_version"])[1].segments[2]
    assert segment.text[span["start_char"] : span["end_char"]] == "amoxicillin"
    assert segment.start <= span["start_s"] < span["end_s"] <= segment.end
    assert relabel["model_version"] == st.get_entity_set(store, "enc-a").model_version
    assert relabel["user"] == "dr-ada" and relabel["note_version"] is None

    (fix,) = by_type["enc-a", "transcript_fix"]
    assert fix["subtype"] == "word" and fix["after"]["text"] == "I have had a cough for three days."
    assert fix["evidence"][0]["segment_idx"] == 1 and fix["evidence"][0]["transcript_version"] == 2
    (edit,) = by_type["enc-a", "sentence_edit"]
    assert edit["after"]["text"] == EDITED and edit["evidence"][0]["segment_idx"] == 1
    assert by_type["enc-a", "sentence_add"][0]["after"]["text"] == ADDED
    (accept,) = by_type["enc-a", "sentence_accept"]
    assert accept["object_id"] == "s0" and accept["model_version"] == "test-v1"  # the drafter
    assert accept["note_version"] == 2
    assert by_type["enc-a", "entity_remove"][0]["before"]["text"] == "morning"
    assert by_type["enc-a", "entity_add"][0]["after"]["label"] == "TEST"
    assert ("enc-a", "entity_confirm") in by_type
    (rejected,) = by_type["enc-b", "sentence_reject"]
    assert rejected["before"]["text"] == TURNS[0][1] and rejected["evidence"][0]["segment_idx"] == 0

    details = manifest["details"]
    assert details["events_unknown_kind"] == {"future.kind": 1}
    assert details["records_by_type"]["entity_relabel"] == 1
    assert sum(details["records_by_type"].values()) == manifest["counts"]["records"] == len(records)
    assert manifest["skipped_encounters"]["no_corrections"] == ["enc-c", "enc-u"]


def test_spacy_docbin_loads_with_the_reviewed_entities(data: Path, tmp_path: Path) -> None:
    import spacy
    from spacy.tokens import DocBin

    out = tmp_path / "ner"
    manifest = _export(data, "spacy", out)
    nlp = spacy.blank("en")
    docs = list(DocBin().from_disk(out / "ner.spacy").get_docs(nlp.vocab))
    assert {d.user_data["encounter_id"] for d in docs} == {"enc-a"}  # the only reviewed one
    assert len(docs) == manifest["counts"]["records"] == len(TURNS)
    by_segment = {d.user_data["segment_idx"]: d for d in docs}
    assert ("amoxicillin", "MEDICATION") in [(e.text, e.label_) for e in by_segment[2].ents]
    assert ("chest x-ray", "TEST") in [(e.text, e.label_) for e in by_segment[2].ents]
    assert "morning" not in [e.text for e in by_segment[0].ents]  # removed by the clinician
    details = manifest["details"]
    assert details["span_sources"] == {"entity_set": 1}
    assert details["spans_by_label"]["MEDICATION"] >= 1
    assert manifest["skipped_encounters"]["entities_not_reviewed"] == ["enc-b", "enc-c", "enc-u"]


def test_misaligned_spans_are_widened_and_counted(tmp_path: Path) -> None:
    import spacy
    from spacy.tokens import DocBin

    from pipelines.export.ner import ner_encounter, write_docbin

    transcript = make_transcript([("patient", "I take amoxicillin daily.")])
    entities = (Entity(0, 7, 14, "amoxici", "MEDICATION"),)  # ends inside a token
    annotated, _ = ner_encounter("e", transcript, entities)
    path = tmp_path / "x.spacy"
    counts = write_docbin(spacy.blank("en"), [annotated], ["MEDICATION"], path)
    (doc,) = DocBin().from_disk(path).get_docs(spacy.blank("en").vocab)
    assert counts["expanded_to_tokens"] == 1 and counts["docs"] == 1
    assert [(e.text, e.label_) for e in doc.ents] == [("amoxicillin", "MEDICATION")]


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_deidentified_exports_name_no_one(fmt: str, data: Path, tmp_path: Path) -> None:
    out = tmp_path / fmt
    manifest = _export(data, fmt, out, deidentified=True)
    assert manifest["filters"]["deidentified"] is True and manifest["counts"]["encounters"] >= 1
    if fmt == "spacy":
        import spacy
        from spacy.tokens import DocBin

        docs = DocBin().from_disk(out / "ner.spacy").get_docs(spacy.blank("en").vocab)
        text = "\n".join(d.text for d in docs)
        assert "[NAME]" in text
    else:
        import pyarrow.parquet as pq

        files = [out / f["path"] for f in manifest["files"]]
        text = "\n".join(
            json.dumps(pq.read_table(p).to_pylist(), default=str)
            if p.suffix == ".parquet"
            else p.read_text(encoding="utf-8")
            for p in files
        )
    for secret in SECRETS:
        assert secret not in text, (fmt, secret)
    assert "dr-ada" not in text  # no user ids either


def test_deidentified_corrections_keep_spans_in_the_masked_text(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "corr"
    _export(data, "corrections", out, deidentified=True)
    records = _jsonl(out / "corrections.jsonl")
    (relabel,) = [r for r in records if r["type"] == "entity_relabel"]
    assert relabel["user"] == "user-1"  # a pseudonym
    assert relabel["ts"] == f"{datetime.now(UTC).year}-01-01T00:00:00"  # only the year
    assert relabel["after"]["text"] == "amoxicillin" and relabel["after"]["start"] is not None
    (accept,) = [r for r in records if r["type"] == "sentence_accept"]
    span = accept["evidence"][0]
    assert span["start_char"] == 0 and "[NAME]" in json.dumps(records)


def test_consent_is_required_unless_deidentified(data: Path, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="only allowed with --deidentified"):
        _export(data, "jsonl", tmp_path / "x", consented_only=False)
    assert not (tmp_path / "x").exists()
    manifest = _export(data, "jsonl", tmp_path / "all", consented_only=False, deidentified=True)
    assert "enc-n" in manifest["encounter_ids"] and manifest["counts"]["without_consent"] == 1
    assert manifest["filters"]["consent"] == "all-encounters"


def test_manifest_matches_files_and_finds_tampering(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "pairs"
    manifest = _export(data, "jsonl", out)
    (entry,) = manifest["files"]
    assert entry["bytes"] == (out / "pairs.jsonl").stat().st_size
    assert verify_export(out) == []
    result = runner.invoke(app, ["export", "verify", str(out)])
    assert result.exit_code == 0 and "every file matches" in _said(result)

    raw = (out / "pairs.jsonl").read_bytes()
    (out / "pairs.jsonl").write_bytes(raw.replace(b"enc-a", b"enc-z"))  # same size
    (out / "extra.txt").write_text("added later")
    problems = verify_export(out)
    assert problems == [
        "pairs.jsonl: sha256 differs from the manifest (the file was changed)",
        "extra.txt: not in the manifest",
    ]
    result = runner.invoke(app, ["export", "verify", str(out)])
    assert result.exit_code == 1 and "sha256 differs" in _said(result)
    (out / "pairs.jsonl").unlink()
    assert "pairs.jsonl: missing" in verify_export(out)
    assert verify_export(tmp_path) == [
        f"No {MANIFEST} in {tmp_path}: not a Scribe Workbench export"
    ]


def test_since_keeps_encounters_changed_since_the_date(data: Path, tmp_path: Path) -> None:
    import duckdb

    old = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=30)
    with duckdb.connect(str(data / st.DB_FILENAME)) as con:  # enc-c: a month-old visit
        con.execute("UPDATE events SET ts = ? WHERE encounter_id = 'enc-c'", [old])
        con.execute("UPDATE encounters SET created_at = ? WHERE encounter_id = 'enc-c'", [old])
        con.execute(
            "UPDATE events SET ts = ? WHERE encounter_id = 'enc-a' AND kind = 'sentence.accepted'",
            [old],
        )
    since = (datetime.now(UTC) - timedelta(days=7)).date()
    manifest = _export(data, "jsonl", tmp_path / "recent", since=since)
    assert manifest["encounter_ids"] == ["enc-a", "enc-b"]
    assert manifest["skipped_encounters"]["unchanged_since"] == ["enc-c"]
    assert manifest["filters"]["since"] == since.isoformat()
    corrections = _export(data, "corrections", tmp_path / "corr", since=since)
    types = {r["type"] for r in _jsonl(tmp_path / "corr" / "corrections.jsonl")}
    assert "sentence_accept" not in types and "entity_relabel" in types
    assert corrections["details"]["records_by_type"].get("sentence_accept") is None
    everything = _export(data, "jsonl", tmp_path / "all", since=since - timedelta(days=60))
    assert everything["encounter_ids"] == ["enc-a", "enc-b", "enc-c"]


def test_export_is_recorded_and_audited(data: Path, tmp_path: Path) -> None:
    manifest = _export(data, "jsonl", tmp_path / "pairs", deidentified=True)
    store = st.open_store(data)
    (event,) = st.list_events(store, None, "dataset.exported")
    assert event.after["export_id"] == manifest["export_id"] and event.user_id == "ml-eng"
    assert event.after["counts"] == manifest["counts"]
    import hashlib

    digest = hashlib.sha256((tmp_path / "pairs" / MANIFEST).read_bytes()).hexdigest()
    assert event.after["manifest_sha256"] == digest
    per_encounter = st.list_events(store, "enc-a", "training.exported")
    assert [(e.after["export_id"], e.after["deidentified"]) for e in per_encounter] == [
        (manifest["export_id"], True)
    ]
    rows, _ = search_audit(store, action="dataset.exported")
    assert [r.object_id for r in rows] == [f"export/{manifest['export_id']}"]


def test_only_admins_export_training_data(data: Path, tmp_path: Path) -> None:
    clinician = st.open_store(data).as_actor(Actor("dr-ada", "clinician"))
    with pytest.raises(Forbidden, match=r"may not training\.export"):
        export_dataset(clinician, ExportRequest("jsonl", tmp_path / "x"), "dr-ada")
    assert not (tmp_path / "x").exists()
    admin = st.open_store(data).as_actor(Actor("boss", "admin"))
    assert (
        export_dataset(admin, ExportRequest("jsonl", tmp_path / "y"), "boss").manifest["role"]
        == "admin"
    )


def test_a_failing_writer_leaves_nothing_behind(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(store, encounter_ids, out_dir, options):
        (out_dir / "pairs.jsonl").write_text("half")
        raise RuntimeError("disk full")

    monkeypatch.setitem(FORMATS, "jsonl", ExportFormat("jsonl", "broken", broken))
    with pytest.raises(RuntimeError, match="disk full"):
        _export(data, "jsonl", tmp_path / "out" / "pairs")
    assert list((tmp_path / "out").iterdir()) == []
    assert st.list_events(st.open_store(data), None, "dataset.exported") == []


def test_labelstudio_tasks_export(data: Path, tmp_path: Path) -> None:
    """The Label Studio format: one task per encounter with a transcript, the model's
    entities as predictions, the labelling config beside it, all in the manifest."""
    manifest = _export(data, "labelstudio", tmp_path / "t")
    assert manifest["schema"] == "labelstudio.tasks.v1"
    assert manifest["encounter_ids"] == ["enc-a", "enc-b", "enc-c", "enc-u"]
    assert manifest["counts"]["records"] == 4
    tasks = json.loads((tmp_path / "t" / "labelstudio_tasks.json").read_text())
    assert [t["data"]["encounter_id"] for t in tasks] == manifest["encounter_ids"]
    assert all(t["predictions"] for t in tasks)
    assert "<Paragraphs" in (tmp_path / "t" / "labelstudio_config.xml").read_text()
    assert verify_export(tmp_path / "t") == []


def test_cli_exports_and_refuses_bad_input(data: Path, tmp_path: Path) -> None:
    base = ["--data-dir", str(data), "export"]
    out = tmp_path / "pairs"
    ok = runner.invoke(app, [*base, "jsonl", "--out", str(out)])
    assert ok.exit_code == 0, ok.output
    assert "jsonl: 3 encounters, 3 records" in _said(ok)
    assert "skipped 1 encounter(s): not signed" in _said(ok)
    before = (out / MANIFEST).read_bytes()

    again = runner.invoke(app, [*base, "jsonl", "--out", str(out)])
    assert again.exit_code == 1 and "is not empty" in _said(again) and "--force" in _said(again)
    assert (out / MANIFEST).read_bytes() == before  # untouched
    forced = runner.invoke(app, [*base, "jsonl", "--out", str(out), "--force"])
    assert (
        forced.exit_code == 0 and read_manifest(out)["export_id"] != json.loads(before)["export_id"]
    )

    bad_date = runner.invoke(
        app, [*base, "jsonl", "--out", str(tmp_path / "d"), "--since", "last week"]
    )
    assert bad_date.exit_code == 1 and "--since must be a date as YYYY-MM-DD" in _said(bad_date)
    unknown = runner.invoke(app, [*base, "csv", "--out", str(tmp_path / "c")])
    assert unknown.exit_code == 2 and "Unknown export format 'csv'" in _said(unknown)
    assert "spacy, jsonl, parquet, preference, corrections, labelstudio" in _said(unknown)
    no_consent = runner.invoke(
        app, [*base, "spacy", "--out", str(tmp_path / "s"), "--all-encounters"]
    )
    assert no_consent.exit_code == 1 and "only allowed with --deidentified" in _said(no_consent)
    (tmp_path / "file").write_text("x")
    on_file = runner.invoke(app, [*base, "jsonl", "--out", str(tmp_path / "file")])
    assert on_file.exit_code == 1 and "is a file" in _said(on_file)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "file", "pairs"]


def test_parse_since() -> None:
    assert parse_since("2025-03-01").isoformat() == "2025-03-01"
    assert parse_since(None) is None and parse_since("  ") is None
    for bad in ("2025-13-01", "01/03/2025", "yesterday"):
        with pytest.raises(ExportError, match="YYYY-MM-DD"):
            parse_since(bad)


def test_adjudicated_gold_replaces_the_entity_set(data: Path, tmp_path: Path) -> None:
    """enc-c's entities were never reviewed, but two annotators labelled it and a lead chose
    a gold version: the NER export teaches that gold (and only its entity labels)."""
    import spacy
    from spacy.tokens import DocBin

    from pipelines.types import Annotation
    from workbench.store import annotation_tasks as tasks

    store = st.open_store(data)
    for user in ("ann", "lead"):
        st.ensure_user(store, user, user, "annotator")
    lead = store.as_actor(Actor("lead", "annotator", frozenset({"lead"})))
    task = tasks.create_task(lead, "enc-c", "entities", "ann")
    text = TURNS[2][1]
    word = "amoxicillin"
    start = text.index(word)
    labels = [
        Annotation("a", "span", "PROBLEM", 2, start, start + len(word)),  # the annotator's call
        Annotation("d", "span", "DOSE", 2, text.index("500"), text.index("500") + 3),
    ]
    ann = store.as_actor(Actor("ann", "annotator", frozenset({"phi"})))
    tasks.save_annotations(ann, task.task_id, labels, revision=0)
    tasks.submit_task(ann, task.task_id, revision=1)
    tasks.set_gold(lead, "enc-c", "entities", [], method="task", chosen_task=task.task_id)

    out = tmp_path / "ner"
    manifest = _export(data, "spacy", out)
    assert manifest["details"]["span_sources"] == {"entity_set": 1, "gold": 1}
    docs = DocBin().from_disk(out / "ner.spacy").get_docs(spacy.blank("en").vocab)
    gold_doc = next(
        d
        for d in docs
        if d.user_data["encounter_id"] == "enc-c" and d.user_data["segment_idx"] == 2
    )
    assert [(e.text, e.label_) for e in gold_doc.ents] == [("amoxicillin", "PROBLEM")]
    assert "enc-c" not in manifest["skipped_encounters"].get("entities_not_reviewed", [])
