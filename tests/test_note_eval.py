"""`scribe eval notes`: ROUGE as rouge-score computes it, the baselines in the same run,
the support check of pipelines.verify for every system, predictions with their evidence,
clear errors, and the paper's published figures."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path

import pytest
from rouge_score import rouge_scorer
from typer.testing import CliRunner

from pipelines.nlp import NlpOptions, extract_entities, load_nlp
from pipelines.note_eval import (
    NoteExample,
    aci_split_files,
    concept_f1,
    draft_example,
    evaluate_notes,
    read_examples,
    read_predictions,
    rouge_per_note,
    support_results,
)
from pipelines.note_eval.rouge import mean_scores
from pipelines.verify import dialogue_transcript, load_lexicon, note_sentences
from tests.conftest import REPO
from workbench.cli import app

runner = CliRunner()
SHARED = REPO.parent / "shared" / "datasets"
ACI = SHARED / "aci-bench"

DIALOGUES = {
    "E1": (
        "[doctor] what brings you in today ?\n"
        "[patient] i've had a cough for three days and a sore throat .\n"
        "[doctor] any fever ?\n[patient] no .\n"
        "[doctor] your lungs are clear . i think this is a viral infection .\n"
        "[doctor] i'm going to have you take tylenol five hundred milligrams every six hours ."
    ),
    "E2": (
        "[doctor] how is your blood pressure ?\n"
        "[patient] i take lisinopril twenty milligrams once a day and it's been fine .\n"
        "[doctor] your blood pressure today is one twenty over eighty .\n"
        "[doctor] let's continue the lisinopril and check your kidney function ."
    ),
}
NOTES = {
    "E1": "CHIEF COMPLAINT\n\nCough.\n\nHISTORY OF PRESENT ILLNESS\n\nThe patient reports a "
    "cough for 3 days and a sore throat. Denies fever.\n\nASSESSMENT AND PLAN\n\nViral "
    "infection. Tylenol 500 mg every 6 hours.",
    "E2": "HISTORY OF PRESENT ILLNESS\n\nHypertension, takes lisinopril 20 mg daily.\n\n"
    "PHYSICAL EXAM\n\nBlood pressure 120/80.\n\nASSESSMENT AND PLAN\n\nContinue lisinopril. "
    "Check kidney function.",
}
BASELINE = {"E1": "The patient has a cough and a sore throat. Take Tylenol.", "E2": ""}


def _csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def data_csv(tmp_path: Path) -> Path:
    rows = [[eid, DIALOGUES[eid], NOTES[eid]] for eid in DIALOGUES]
    return _csv(tmp_path / "data.csv", ["encounter_id", "dialogue", "note"], rows)


@pytest.fixture
def baseline_csv(tmp_path: Path) -> Path:
    # the OpenAI layout of aci-bench/baselines/predictions: extra columns, note last
    rows = [["d", "r", BASELINE[eid], eid] for eid in DIALOGUES]
    header = ["Dialogues", "Reference Summaries", "note", "encounter_id"]
    return _csv(tmp_path / "baseline.csv", header, rows)


def _direct_rouge(refs: list[str], preds: list[str]) -> dict[str, float]:
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeLsum"], use_stemmer=False)
    scores = [scorer.score(r, p) for r, p in zip(refs, preds, strict=True)]
    return {
        k: round(100 * sum(s[k].fmeasure for s in scores) / len(scores), 2)
        for k in ("rouge1", "rouge2", "rougeLsum")
    }


def test_eval_notes_json_matches_rouge_score_and_has_every_metric(
    data_csv: Path, baseline_csv: Path, tmp_path: Path
) -> None:
    saved = tmp_path / "ours.csv"
    result = runner.invoke(
        app,
        [
            "eval",
            "notes",
            "--data",
            str(data_csv),
            "--baseline",
            f"tiny={baseline_csv}",
            "--save-predictions",
            str(saved),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(report) == {"ours", "baselines"} and set(report["baselines"]) == {"tiny"}
    keys = {"rouge1", "rouge2", "rougeLsum", "concept_f1", "unsupported_rate", "evidence_coverage"}
    assert keys <= set(report["ours"]) and keys <= set(report["baselines"]["tiny"])
    refs = [NOTES["E1"], NOTES["E2"]]
    tiny = report["baselines"]["tiny"]
    assert {k: tiny[k] for k in ("rouge1", "rouge2", "rougeLsum")} == _direct_rouge(
        refs, [BASELINE["E1"], BASELINE["E2"]]
    )
    # our notes, read back from --save-predictions, give the same ROUGE as reported
    with open(saved, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["encounter_id"] for r in rows] == ["E1", "E2"]
    ours = report["ours"]
    assert {k: ours[k] for k in ("rouge1", "rouge2", "rougeLsum")} == _direct_rouge(
        refs, [r["note"] for r in rows]
    )
    assert ours["evidence_coverage"] == 100.0 and ours["unsupported_rate"] == 0.0
    # every saved sentence quotes the dialogue turn its evidence points at
    for row in rows:
        turns = dialogue_transcript(DIALOGUES[row["encounter_id"]]).segments
        for sentence in json.loads(row["evidence"]):
            assert sentence["evidence"]
            for ev in sentence["evidence"]:
                text = turns[ev["segment"]].text
                assert text[ev["start_char"] : ev["end_char"]] == ev["quote"]
    assert "500 mg every 6 hours" in rows[0]["note"]


def test_limit_and_a_missing_baseline_note(data_csv: Path, tmp_path: Path) -> None:
    partial = _csv(tmp_path / "p.csv", ["encounter_id", "note"], [["E2", NOTES["E2"]]])
    result = runner.invoke(
        app,
        [
            "eval",
            "notes",
            "--data",
            str(data_csv),
            "--baseline",
            f"p={partial}",
            "--limit",
            "1",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["ours"]["notes"] == 1
    assert report["baselines"]["p"]["missing_notes"] == 1  # E1 has no prediction: empty
    assert report["baselines"]["p"]["rouge1"] == 0.0


def test_bad_input_is_refused_with_a_reason(data_csv: Path, tmp_path: Path) -> None:
    no_note = _csv(tmp_path / "bad.csv", ["encounter_id", "dialogue"], [["E1", "[doctor] hi"]])
    result = runner.invoke(app, ["eval", "notes", "--data", str(no_note), "--json"])
    assert result.exit_code == 1 and "missing column(s) note" in result.output
    result = runner.invoke(app, ["eval", "notes", "--json"])
    assert result.exit_code == 2 and "exactly one of --data" in result.output
    result = runner.invoke(
        app, ["eval", "notes", "--data", str(data_csv), "--baseline", "nameonly", "--json"]
    )
    assert result.exit_code == 2 and "is not NAME=CSV" in result.output
    result = runner.invoke(app, ["eval", "notes", "--split", "test9", "--json"])
    assert result.exit_code == 2 and "is not test1 or test2" in result.output
    result = runner.invoke(app, ["eval", "notes", "--data", str(tmp_path / "none.csv"), "--json"])
    assert result.exit_code == 1 and "no such file" in result.output


@pytest.fixture(scope="module")
def nlp():
    return load_nlp(NlpOptions())


EXAMPLES = [NoteExample(eid, DIALOGUES[eid], NOTES[eid]) for eid in DIALOGUES]
# Other systems' notes: a copy of E2's transcript, and for E1 a note with one faithful
# sentence, one about another patient (E2's visit) and one template boilerplate sentence.
COPY = "\n".join(s.text for s in dialogue_transcript(DIALOGUES["E2"]).segments)
MIXED = (
    "HISTORY OF PRESENT ILLNESS\n\nThe patient reports a cough for 3 days and a sore throat.\n"
    "She takes lisinopril 20 mg once a day for her blood pressure.\n\n"
    "ASSESSMENT AND PLAN\n\nThe patient understands and agrees with the recommended "
    "medical treatment plan."
)


def test_every_system_is_judged_by_the_verifier(nlp) -> None:
    report, drafted = evaluate_notes(EXAMPLES, {"copy": {"E2": COPY}, "mixed": {"E1": MIXED}}, nlp)
    copy, mixed = report["baselines"]["copy"], report["baselines"]["mixed"]
    assert copy["sentences"] == len(note_sentences(COPY)) > 0
    assert copy["unsupported_rate"] == 0.0 and copy["evidence_coverage"] == 100.0
    # one of three sentences is said in the visit: the other patient's and the boilerplate
    # are unsupported and have no evidence
    assert mixed["sentences"] == 3
    assert mixed["unsupported_rate"] == pytest.approx(200 / 3, abs=0.01)
    assert mixed["evidence_coverage"] == pytest.approx(100 / 3, abs=0.01)
    ours = report["ours"]
    assert ours["sentences"] == sum(len(d.draft.sentences) for d in drafted) > 0
    assert ours["evidence_coverage"] == 100.0 and ours["unsupported_rate"] == 0.0


def test_the_same_rules_read_ours_and_theirs(nlp) -> None:
    """Our sentences' links are only a hint: without them each gets the same label."""
    drafted = draft_example(EXAMPLES[1], lambda t: extract_entities(nlp, t))
    lexicon = load_lexicon()
    linked = support_results(drafted.draft.sentences, drafted, nlp, lexicon)
    assert linked and all(r.linked and r.label != "unsupported" for r in linked)
    unlinked = [replace(s, evidence=()) for s in drafted.draft.sentences]
    aligned = support_results(unlinked, drafted, nlp, lexicon)
    assert [r.label for r in aligned] == [r.label for r in linked]
    assert not any(r.linked for r in aligned) and all(r.evidence for r in aligned)
    (wrong,) = support_results(
        note_sentences("Takes lisinopril 40 mg daily.", lexicon), drafted, nlp, lexicon
    )
    assert wrong.label == "unsupported"  # the visit says twenty milligrams


def test_concept_f1_on_sets() -> None:
    assert concept_f1({"a", "b"}, {"a", "b"}) == 100.0
    assert concept_f1({"a", "b"}, {"a", "c", "d"}) == pytest.approx(100 * 2 * 0.5 / 3 / (5 / 6))
    assert concept_f1(set(), set()) == 100.0 and concept_f1({"a"}, set()) == 0.0


@pytest.mark.skipif(not (ACI / "baselines").is_dir(), reason="needs ../shared datasets")
def test_published_test1_figures_reproduce_with_our_protocol() -> None:
    data, baselines = aci_split_files(ACI, "test1")
    examples = read_examples(data)
    references = [e.note for e in examples]
    published = {"GPT-4": (51.76, 22.58, 45.97), "train_UMLS": (43.87, 17.55, 40.47)}
    for name, figures in published.items():
        notes = read_predictions(baselines[name])
        scores = mean_scores(rouge_per_note(references, [notes[e.encounter_id] for e in examples]))
        assert (scores["rouge1"], scores["rouge2"], scores["rougeLsum"]) == figures
