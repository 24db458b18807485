"""NER gold set: documents, draft authoring, gold validation, scoring and `scribe eval ner`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.nlp_eval import (
    DraftError,
    GoldDocument,
    GoldEntity,
    GoldError,
    Tally,
    document_text,
    gold_text,
    label_schema,
    load_gold_dir,
    match,
    parse_draft,
    resolve,
    text_sha256,
    to_draft,
    validate,
)
from pipelines.nlp_eval.author import check, convert, main
from pipelines.nlp_eval.gold import GOLD_DIR, load_manifest
from pipelines.nlp_eval.runner import predict, utterances
from tests.conftest import REPO

SHARED = REPO.parent / "shared" / "datasets"
TEXT = (
    "D: Any fever or chest pain?\n"
    "\n"
    "P: No fever. But my left knee hurts, the pain is bad, the pain is worse at night.\n"
    "D: Take ibuprofen 400 mg three times a day for 5 days. Your blood pressure is 120 over 80.\n"
)


def ent(start: int, end: int, label: str = "PROBLEM", **flags: bool) -> GoldEntity:
    return GoldEntity(start, end, label, **flags)


# -- scoring ---------------------------------------------------------------------------------


def test_exact_needs_same_span_overlap_only_same_label() -> None:
    gold = [ent(0, 10), ent(20, 30, "ANATOMY")]
    pred = [ent(0, 8), ent(20, 30, "PROBLEM")]
    assert match(gold, pred, "exact") == []
    assert match(gold, pred, "overlap") == [(0, 0)]  # the ANATOMY/PROBLEM pair never matches
    tally = Tally()
    tally.add(gold, pred)
    report = tally.report()
    assert report["precision"]["exact"] == 0.0
    assert report["precision"]["overlap"] == 0.5
    assert report["recall"]["overlap"] == 0.5
    assert report["f1"]["per_label"]["ANATOMY"]["overlap"] == 0.0
    assert report["f1"]["per_label"]["PROBLEM"]["overlap"] == pytest.approx(2 / 3, abs=1e-4)


def test_overlap_matching_is_one_to_one() -> None:
    # One long prediction over two gold entities matches only one of them (the larger overlap).
    gold = [ent(0, 4), ent(5, 20)]
    pred = [ent(0, 20)]
    assert match(gold, pred, "overlap") == [(1, 0)]
    tally = Tally()
    tally.add(gold, pred)
    report = tally.report()
    assert report["recall"]["overlap"] == 0.5 and report["precision"]["overlap"] == 1.0


def test_flag_accuracy_counts_matched_gold_only() -> None:
    gold = [
        ent(0, 5, negated=True),
        ent(10, 15, negated=True),
        ent(20, 25, family=True),
        ent(40, 45, negated=True),
    ]  # unmatched: not in the flag denominators
    pred = [ent(0, 5, negated=True), ent(11, 15), ent(20, 25, family=True, negated=True)]
    tally = Tally()
    tally.add(gold, pred)
    report = tally.report()
    assert report["negated"]["matched_pairs"] == 3
    assert report["negation_accuracy"] == pytest.approx(1 / 3, abs=1e-4)
    assert report["flag_accuracy"]["family"] == 1.0
    assert report["negated"]["precision"] == 0.5 and report["negated"]["recall"] == 0.5


def test_empty_predictions_score_zero_recall_and_no_precision() -> None:
    tally = Tally()
    tally.add([ent(0, 3)], [])
    report = tally.report()
    assert report["recall"]["exact"] == 0.0 and report["precision"]["exact"] is None
    assert report["negation_accuracy"] is None


# -- drafts ----------------------------------------------------------------------------------

DRAFT = """doc: fareez:TST0001
annotator: A
# line 1 is the doctor's question, answered "No" on line 3
1 "fever" PROB neg
1 "chest pain" PROBLEM neg
3 "fever" PROB neg
3 "my [left knee] hurts" ANAT   # context picks the span
3 "hurts" PROB
3 "pain"#1 PROB
3 "pain"#2 PROB
4 "ibuprofen" MED dose="400 mg" freq="three times a day" dur="5 days"
4 "blood pressure" VITAL value="120 over 80"
"""


def test_draft_resolves_quotes_to_offsets() -> None:
    entities = resolve(parse_draft(DRAFT), TEXT)
    spans = [(TEXT[e.start : e.end], e.label) for e in entities]
    assert spans == [
        ("fever", "PROBLEM"),
        ("chest pain", "PROBLEM"),
        ("fever", "PROBLEM"),
        ("left knee", "ANATOMY"),
        ("hurts", "PROBLEM"),
        ("pain", "PROBLEM"),
        ("pain", "PROBLEM"),
        ("ibuprofen", "MEDICATION"),
        ("blood pressure", "VITAL"),
    ]
    assert entities[5].start < entities[6].start
    med = entities[7]
    assert {k: TEXT[s:e] for k, (s, e) in med.attributes.items()} == {
        "dose": "400 mg",
        "frequency": "three times a day",
        "duration": "5 days",
    }
    assert [e.negated for e in entities[:3]] == [True, True, True]
    assert not any(e.negated for e in entities[3:])


def test_draft_round_trip() -> None:
    entities = resolve(parse_draft(DRAFT), TEXT)
    again = resolve(parse_draft(to_draft("fareez:TST0001", "A", TEXT, entities)), TEXT)
    assert again == entities


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('3 "pain" PROB', "ambiguous"),
        ('3 "migraine" PROB', "not found"),
        ('3 "pain"#3 PROB', "occurs 2 time"),
        ('3 "knee" PROB\n3 "left knee" ANAT', "overlaps"),
        ('9 "fever" PROB', "no line 9"),
        ('3 "fever" DISEASE', "unknown word"),
        ('3 "fever"', "no label"),
        ("fever PROB", "line number"),
        ('4 "ibuprofen" MED strength="400 mg"', "unknown attribute"),
        ('3 "no fever" PROB', "overlaps"),
        ('1 "fever" PROB', "duplicates"),
        ('3 "ai" PROB', "not found"),  # inside "pain": quotes match whole words only
    ],
)
def test_draft_fails_loudly(line: str, message: str) -> None:
    base = 'doc: fareez:TST0001\nannotator: A\n1 "fever" PROB\n3 "fever" PROB\n'
    with pytest.raises(DraftError, match=message):
        resolve(parse_draft(base + line + "\n"), TEXT)


def test_draft_needs_its_header() -> None:
    with pytest.raises(DraftError, match="'doc:'"):
        parse_draft('annotator: A\n1 "fever" PROB\n')


# -- documents, gold files, conversion -----------------------------------------------------


def _datasets(tmp_path: Path, text: str = TEXT) -> Path:
    root = tmp_path / "datasets"
    folder = root / "fareez-osce-interviews" / "Clean Transcripts"
    folder.mkdir(parents=True)
    (folder / "TST0001.txt").write_bytes(text.replace("\n", "\r\n").encode())
    return root


def _gold_dir(tmp_path: Path) -> Path:
    gold = tmp_path / "gold"
    gold.mkdir()
    manifest = {"documents": [{"doc_id": "fareez:TST0001", "split": "dev", "batch": "A"}]}
    (gold / "MANIFEST.json").write_text(json.dumps(manifest))
    return gold


def test_document_text_normalises_newlines_and_utf16(tmp_path: Path) -> None:
    root = _datasets(tmp_path)
    assert document_text(root, "fareez:TST0001") == TEXT
    (root / "fareez-osce-interviews" / "Clean Transcripts" / "TST0002.txt").write_bytes(
        "D: Hello\r\nP: Hi\r\n".encode("utf-16")
    )
    assert document_text(root, "fareez:TST0002") == "D: Hello\nP: Hi\n"
    with pytest.raises(ValueError, match="unknown source"):
        document_text(root, "mimic:1")
    with pytest.raises(ValueError, match="not found"):
        document_text(root, "fareez:TST0009")


def test_primock_tiers_merge_in_time_order(tmp_path: Path) -> None:
    folder = tmp_path / "primock57" / "transcripts"
    folder.mkdir(parents=True)

    def tier(name: str, intervals: list[tuple[float, float, str]]) -> str:
        body = "".join(
            f"        intervals [{i}]:\n            xmin = {a} \n            xmax = {b} \n"
            f'            text = "{t}" \n'
            for i, (a, b, t) in enumerate(intervals, 1)
        )
        return (
            'File type = "ooTextFile"\nObject class = "TextGrid"\n\nitem []: \n'
            f'    item [1]:\n        class = "IntervalTier" \n        name = "{name}" \n'
            f"        intervals: size = {len(intervals)} \n{body}"
        )

    (folder / "day1_consultation01_doctor.TextGrid").write_text(
        tier(
            "Doctor",
            [
                (0, 1.5, ""),
                (1.5, 3, "Hello, <UNSURE>how are</UNSURE> you?"),
                (6, 7, 'Any ""fever""?'),
            ],
        )
    )
    (folder / "day1_consultation01_patient.TextGrid").write_text(
        tier("Patient", [(3.5, 5, "<UNIN/> I have a cough."), (7.5, 8, "<UNIN/>"), (8, 9, "No.")])
    )
    text = document_text(tmp_path, "primock57:day1_consultation01")
    assert text.split("\n") == [
        "[doctor] Hello, how are you?",
        "[patient] I have a cough.",
        '[doctor] Any "fever"?',
        "[patient] No.",
    ]


def test_convert_writes_offsets_only_and_check_counts(tmp_path: Path) -> None:
    root, gold = _datasets(tmp_path), _gold_dir(tmp_path)
    draft = tmp_path / "draft.txt"
    draft.write_text(DRAFT)
    doc = convert(draft, root, gold)
    stored = json.loads((gold / "fareez__TST0001.json").read_text())
    assert stored["split"] == "dev" and stored["annotator"] == "A"
    assert stored["text_sha256"] == text_sha256(TEXT)
    assert "fever" not in json.dumps(stored)  # offsets and labels only, never dataset text
    assert len(stored["entities"]) == len(doc.entities) == 9
    counts = check(root, gold)
    assert counts["per_label"] == {"ANATOMY": 1, "MEDICATION": 1, "PROBLEM": 6, "VITAL": 1}
    assert counts["not_annotated"] == []
    assert main(["--datasets", str(root), "--gold-dir", str(gold), "check"]) == 0


def test_changed_dataset_text_is_refused(tmp_path: Path) -> None:
    root, gold = _datasets(tmp_path), _gold_dir(tmp_path)
    draft = tmp_path / "draft.txt"
    draft.write_text(DRAFT)
    convert(draft, root, gold)
    (root / "fareez-osce-interviews" / "Clean Transcripts" / "TST0001.txt").write_text(
        TEXT.replace("fever", "fevers")
    )
    (doc,) = load_gold_dir(gold)
    with pytest.raises(GoldError, match="dataset text changed"):
        gold_text(doc, root)
    assert main(["--datasets", str(root), "--gold-dir", str(gold), "check"]) == 1


def test_convert_refuses_a_document_outside_the_manifest(tmp_path: Path) -> None:
    root, gold = _datasets(tmp_path), _gold_dir(tmp_path)
    draft = tmp_path / "draft.txt"
    draft.write_text(DRAFT.replace("TST0001", "TST0002"))
    with pytest.raises(GoldError, match="not in"):
        convert(draft, root, gold)


def test_validate_rejects_bad_labels_attributes_and_offsets() -> None:
    schema = label_schema()
    sha = text_sha256(TEXT)

    def doc(*entities: GoldEntity, split: str = "test") -> GoldDocument:
        return GoldDocument("fareez:TST0001", sha, split, "A", entities)

    assert TEXT[7:12] == "fever"
    validate(doc(ent(7, 12)), TEXT, schema)
    cases = [
        (doc(ent(7, 12, "DISEASE")), "not in the schema"),
        (doc(GoldEntity(7, 12, "PROBLEM", attributes={"dose": (0, 2)})), "not allowed"),
        (doc(ent(7, 500)), "out of range"),
        (doc(ent(6, 12)), "whitespace"),
        (doc(ent(7, 12), ent(9, 14)), "overlaps"),
        (doc(ent(7, 12), split="train"), "split"),
        (GoldDocument("fareez:TST0001", "0" * 64, "test", "A", ()), "sha256"),
    ]
    for bad, message in cases:
        with pytest.raises(GoldError, match=message):
            validate(bad, TEXT, schema)


def test_manifest_has_27_documents_split_and_batches() -> None:
    entries = load_manifest()
    assert len(entries) >= 27
    sources = {e.doc_id.split(":")[0] for e in entries}
    assert sources == {"aci", "primock57", "fareez"}
    assert {e.batch for e in entries} == {"A", "B", "C"}
    dev = sum(e.split == "dev" for e in entries)
    assert 0.25 <= dev / len(entries) <= 0.4


@pytest.mark.skipif(not SHARED.is_dir(), reason="needs ../shared datasets")
def test_every_committed_gold_file_validates() -> None:
    counts = check(SHARED, GOLD_DIR)
    assert counts["documents"] == len(load_gold_dir(GOLD_DIR))
    assert set(counts["per_label"]) <= set(label_schema())


# -- runner and CLI (real spaCy pipeline) ----------------------------------------------------


def test_utterances_drop_role_prefixes_keep_offsets_and_speakers() -> None:
    for offset, body, _ in utterances(TEXT):
        assert TEXT[offset : offset + len(body)] == body
        assert not body.startswith(("D:", "P:"))
    assert utterances("[doctor] hi\n[patient] ok") == [
        (len("[doctor] "), "hi", "clinician"),
        (len("[doctor] hi\n[patient] "), "ok", "patient"),
    ]
    assert utterances("D: any fever?\nP: no")[1][2] == "patient"


@pytest.fixture(scope="module")
def nlp():
    from pipelines.nlp import load_nlp

    return load_nlp()


def test_predicted_offsets_point_at_the_entity_text(nlp) -> None:
    from pipelines.nlp import extract_text

    predicted = predict(nlp, TEXT)
    expected = [e.text for _, body, _ in utterances(TEXT) for e in extract_text(nlp, body)]
    assert predicted, "the pipeline found nothing in a text with fever and ibuprofen"
    assert [TEXT[e.start : e.end] for e in predicted] == expected


def test_an_answer_in_the_next_turn_negates_the_question(nlp) -> None:
    text = "[doctor] any fever?\n[patient] no."
    (fever,) = predict(nlp, text)
    assert text[fever.start : fever.end] == "fever" and fever.negated


def test_cli_eval_ner_prints_the_report(nlp, tmp_path: Path, monkeypatch) -> None:
    from workbench.cli import app

    root, gold = _datasets(tmp_path), _gold_dir(tmp_path)
    draft = tmp_path / "draft.txt"
    draft.write_text(DRAFT)
    convert(draft, root, gold)
    monkeypatch.setenv("SCRIBE_DATASETS", str(root))
    result = CliRunner().invoke(app, ["eval", "ner", "--json", "--gold-dir", str(gold)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    for key in ("precision", "recall", "f1"):
        assert set(report[key]) == {"exact", "overlap", "per_label"}
    assert report["documents"] == 1 and report["entities"] == 9
    assert 0 < report["words_per_second"]
    assert list(report["by_split"]) == ["dev"]
    result = CliRunner().invoke(app, ["eval", "ner", "--split", "test", "--gold-dir", str(gold)])
    assert result.exit_code != 0 and "no gold documents" in result.output
