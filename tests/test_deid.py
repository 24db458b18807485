"""De-identification: each PHI label in cased and lower-cased text, clinical words kept, ages
89 vs 90, no network, transcript timings kept, and the ACI-Bench evaluation."""

from __future__ import annotations

import csv
import json
import re
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.deid import (
    PHI_LABELS,
    deidentify,
    deidentify_draft,
    deidentify_transcript,
    load_analyzer,
)
from pipelines.deid.evaluate import DeidDataError, name_recall, read_aci, read_gold
from pipelines.deid.lexicon import load_lexicon
from pipelines.types import Segment, Transcript, Word
from tests.conftest import REPO, make_draft, make_transcript

SHARED = REPO.parent / "shared" / "datasets"
ACI = SHARED / "aci-bench"

# (text, label, the PHI it must replace)
CASES = [
    ("Hi Mrs. Thompson, I'm Dr. Moore.", "NAME", "Thompson"),
    ("Hi Mrs. Thompson, I'm Dr. Moore.", "NAME", "Moore"),
    ("My name is Jullia and I work nights.", "NAME", "Jullia"),
    ("Carolyn is a 34-year-old female with headaches.", "NAME", "Carolyn"),
    ("Hey Mark, nice to see you again.", "NAME", "Mark"),
    ("My son Joey has had a fever since Friday.", "NAME", "Joey"),
    ("Next patient is Pamela Cook. Medical record number is 123546.", "NAME", "Pamela Cook"),
    ("Date of birth is 09/18/1954.", "DATE", "09/18/1954"),
    ("She was last seen on November 24th, 2020.", "DATE", "November 24th, 2020"),
    ("Diagnosed in 12-2019 with anemia.", "DATE", "12-2019"),
    ("He is a 92-year-old man.", "AGE", "92"),
    ("She is ninety-three years old.", "AGE", "ninety-three"),
    ("Call me at (206) 555-0147 after five.", "PHONE", "(206) 555-0147"),
    ("My cell is 206.555.0147.", "PHONE", "206.555.0147"),
    ("She lives at 1425 Oak Hill Road, Apt 4, Seattle, WA 98101.", "ADDRESS", "1425 Oak Hill Road"),
    ("Send it to P.O. Box 772.", "ADDRESS", "P.O. Box 772"),
    ("MRN 48213377 on file.", "ID", "48213377"),
    ("Social security number 123-45-6789.", "ID", "123-45-6789"),
    ("Write to jane.doe@example.org today.", "EMAIL", "jane.doe@example.org"),
    ("It's jdoe at gmail dot com.", "EMAIL", "jdoe at gmail dot com"),
]


def _redacted(text: str, label: str, phi: str) -> None:
    out = deidentify(text)
    assert phi.lower() not in out.text.lower(), out.text
    assert f"[{label}]" in out.text, out.text
    squash = re.sub(r"\s", "", phi.lower())
    assert any(
        s.label == label
        and (
            squash in re.sub(r"\s", "", s.text.lower())
            or re.sub(r"\s", "", s.text.lower()) in squash
        )
        for s in out.spans
    ), out.spans


@pytest.mark.parametrize(("text", "label", "phi"), CASES)
def test_each_label_in_cased_text(text: str, label: str, phi: str) -> None:
    _redacted(text, label, phi)


@pytest.mark.parametrize(("text", "label", "phi"), CASES)
def test_each_label_in_aci_style_lower_case(text: str, label: str, phi: str) -> None:
    """ACI-Bench writes lower case with spaces around punctuation: "hi , mrs. thompson ."."""
    spaced = re.sub(r"\s*([,.?!])(\s|$)", r" \1\2", text).lower()
    _redacted(spaced, label, phi.lower().replace(",", " ,"))


def test_spans_point_into_the_original_text() -> None:
    text = "hi , mrs. thompson . date of birth is 07/01/1954 ."
    out = deidentify(text)
    assert [s.label for s in out.spans] == ["NAME", "DATE"]
    for span in out.spans:
        assert text[span.start : span.end] == span.text
    assert out.text == "hi , mrs. [NAME] . date of birth is [DATE] ."
    assert set(PHI_LABELS) == {"NAME", "DATE", "AGE", "PHONE", "ADDRESS", "ID", "EMAIL"}


CLINICAL = [
    "He has Parkinson's disease and Bell's palsy.",
    "History of Crohn's and early Alzheimer's.",
    "Start lisinopril 5 mg daily and metformin 500 milligrams twice a day.",
    "Blood pressure is 120 over 80, pulse 72, 4/6 systolic murmur, strength 5/5.",
    "She is a 45-year-old woman; her father is 89 years old.",
    "Use the walker and a brace; the wound is brown and the skin is white.",
    "Take Xeljanz and Wixela as before, and Tylenol if needed.",
    "hey dragon , show me the x-ray . i'm going to use dax today .",
    "McMurray's test is negative and Tinel's sign is positive.",
    "Good morning. Good to see you. Well, let's take a look.",
    "The nurse will be in soon. I live with my sister. She is 12.",
]


@pytest.mark.parametrize("text", CLINICAL)
def test_clinical_words_survive(text: str) -> None:
    for variant in (text, text.lower()):
        out = deidentify(variant)
        assert out.text == variant, out.spans


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("he is an 89-year-old man", False),
        ("he is a 90-year-old man", True),
        ("she is 89 years old", False),
        ("she is 104 years old", True),
        ("aged 89", False),
        ("aged 95", True),
        ("a man in his nineties", True),
        ("eighty-nine years old", False),
        ("ninety years old", True),
    ],
)
def test_ages_over_89_only(text: str, redacted: bool) -> None:
    out = deidentify(text)
    assert ("[AGE]" in out.text) is redacted, out.text


def test_known_names_are_always_redacted() -> None:
    text = "the walker helps . ok ."
    assert deidentify(text).text == text
    out = deidentify(text, known_names=["Dr. Walker"])
    assert out.text == "the [NAME] helps . ok ."


def test_empty_and_bad_input() -> None:
    assert deidentify("").text == ""
    assert deidentify("   ").spans == []
    with pytest.raises(TypeError, match="text must be a str"):
        deidentify(None)  # type: ignore[arg-type]


def test_nothing_touches_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Presidio's e-mail and URL recognisers call tldextract, which fetches a suffix list;
    ours never open a socket, even when the analyzer is built afresh."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("de-identification tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    load_analyzer.cache_clear()
    out = deidentify("Email jane@example.co.uk or see https://example.com/a, Dr. Lee.")
    assert "[EMAIL]" in out.text and "[NAME]" in out.text
    names = {r.name for r in load_analyzer().registry.recognizers}
    assert all(n.startswith("scribe_") for n in names), names


def test_transcript_keeps_word_timings() -> None:
    transcript = make_transcript(
        [
            ("clinician", "Hi Mrs. Hernandez, how are you?"),
            ("patient", "Fine. Call me at 555-123-4567 please."),
            ("clinician", "So, Mrs. Hernandez, your knee looks better."),
        ]
    )
    out = deidentify_transcript(transcript)
    assert len(out.segments) == len(transcript.segments)
    for before, after in zip(transcript.segments, out.segments, strict=True):
        assert (after.start, after.end, after.speaker) == (before.start, before.end, before.speaker)
        assert [(w.start, w.end, w.probability) for w in after.words] == [
            (w.start, w.end, w.probability) for w in before.words
        ]
        assert "".join(w.text for w in after.words).strip() == after.text
    assert out.segments[0].text == "Hi Mrs. [NAME], how are you?"
    assert out.segments[0].words[2].text == " [NAME],"
    assert out.segments[1].words[4].text == " [PHONE]"
    assert "Hernandez" not in " ".join(s.text for s in out.segments)


def test_transcript_context_crosses_segments_and_edited_words() -> None:
    """A name greeted in one segment is found in a later one; a segment whose text was edited
    after recognition (its words no longer spell it) loses the name in its words too."""
    segments = (
        Segment(
            0,
            0.0,
            1.0,
            "hi , jullia .",
            "clinician",
            (
                Word(0.0, 0.3, "hi", 0.9),
                Word(0.3, 0.5, " ,", 0.9),
                Word(0.5, 1.0, " jullia", 0.9),
                Word(1.0, 1.0, " .", 0.9),
            ),
        ),
        Segment(
            1,
            1.0,
            2.0,
            "so jullia , tell me more .",
            "clinician",
            (
                Word(1.0, 1.2, "so", 0.9),
                Word(1.2, 1.5, " jullia", 0.8),
                Word(1.5, 1.8, " tell", 0.9),
            ),
        ),
    )
    out = deidentify_transcript(Transcript(segments, "en", 2.0, "m"))
    assert out.segments[0].text == "hi , [NAME] ."
    assert out.segments[1].text == "so [NAME] , tell me more ."
    assert [w.text for w in out.segments[1].words] == ["so", " [NAME]", " tell"]
    assert [w.start for w in out.segments[1].words] == [1.0, 1.2, 1.5]


def test_note_sentences_keep_ids_sections_and_evidence() -> None:
    transcript = make_transcript(
        [
            ("clinician", "Mr. Gutierrez, date of birth 1/12/71, has finger pain."),
            ("clinician", "Plan: steroid injection, call 206-555-0147 with questions."),
        ]
    )
    draft = make_draft(transcript)
    out = deidentify_draft(draft, known_names=["Philip Gutierrez"])
    assert [s.sentence_id for s in out.sentences] == [s.sentence_id for s in draft.sentences]
    assert [s.evidence for s in out.sentences] == [s.evidence for s in draft.sentences]
    assert out.sentences[0].text == "Mr. [NAME], date of birth [DATE], has finger pain."
    assert out.sentences[1].text == "Plan: steroid injection, call [PHONE] with questions."


def test_lexicon_sources_are_documented() -> None:
    lexicon = load_lexicon()
    assert {"gutierrez", "carolyn", "sophia"} <= lexicon.first | lexicon.last
    readme = (REPO / "annotations" / "deid" / "README.md").read_text()
    assert "Faker" in readme and "MIT" in readme and "CC BY 4.0" in readme


def test_gold_file_is_valid(tmp_path: Path) -> None:
    gold = read_gold()
    assert len(gold) >= 15
    assert {d.split for d in gold} <= {"train", "valid"}
    bad = tmp_path / "gold.jsonl"
    bad.write_text(
        '{"encounter_id": "D2N001", "split": "train", "spans": '
        '[{"start": 0, "end": 3, "label": "PERSON"}]}\n'
    )
    with pytest.raises(DeidDataError, match="unknown label 'PERSON'"):
        read_gold(bad)


def test_name_recall_counts_every_occurrence() -> None:
    from pipelines.deid import find_phi
    from pipelines.deid.evaluate import AciEncounter

    encounters = [
        AciEncounter(
            "train",
            "E1",
            "[doctor] hi , mrs. lopez .\n[doctor] so the lopez family",
            {"patient_first": "", "patient_last": "Lopez", "doctor": ""},
        ),
        AciEncounter(
            "train",
            "E2",
            "[doctor] the walker is new .",
            {"patient_first": "", "patient_last": "Walker", "doctor": ""},
        ),
    ]
    report = name_recall(encounters, find_phi, exclusions=set())
    assert report["overall"]["occurrences"] == 3
    assert report["misses"][-1]["encounter_id"] == "E2"
    assert "walker" not in json.dumps(report).lower()
    known = name_recall(encounters, find_phi, known=True, exclusions=set())
    assert known["overall"]["recall"] == 1.0


@pytest.mark.skipif(not ACI.is_dir(), reason="needs ../shared")
def test_eval_cli_on_aci_bench(monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench.cli import app

    monkeypatch.setenv("SCRIBE_DATASETS", str(SHARED))
    result = CliRunner().invoke(app, ["eval", "deid", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["name_recall"]["overall"]["recall"] >= 0.99
    assert set(report["name_recall"]["splits"]) == {"train", "valid", "test1", "test2"}
    assert report["name_recall_known_names"]["overall"]["recall"] >= 0.99
    assert report["sample"]["documents"] >= 15
    assert report["sample"]["precision"] >= 0.9
    heldout = report["heldout"]
    assert heldout["file"] == "gold_heldout.jsonl"
    assert heldout["splits"] == ["test1", "test2"] and heldout["documents"] >= 12
    assert heldout["labels"]["NAME"]["recall"] >= 0.95
    # Ids only: no metadata first name appears in the output.
    first_names = set()
    for split in ("train", "valid", "test1", "test2"):
        for enc in read_aci(ACI, split):
            first_names.update(re.findall(r"[a-z]{4,}", enc.names["patient_first"].lower()))
    found = {n for n in first_names if re.search(rf"\b{n}\b", result.stdout.lower())}
    assert not found


@pytest.mark.skipif(not ACI.is_dir(), reason="needs ../shared")
def test_metadata_file_layout_is_what_the_eval_reads() -> None:
    meta = ACI / "data" / "challenge_data" / "valid_metadata.csv"
    with meta.open(newline="") as f:
        header = next(csv.reader(f))
    assert {"encounter_id", "doctor_name", "patient_firstname", "patient_familyname"} <= set(header)
    assert len(read_aci(ACI, "valid")) == 20


@pytest.mark.skipif(not ACI.is_dir(), reason="needs ../shared")
def test_heldout_sample_is_well_formed_and_scored(tmp_path: Path) -> None:
    from pipelines.deid import find_phi
    from pipelines.deid.evaluate import HELDOUT_FILE, sample_scores

    heldout = read_gold(HELDOUT_FILE)
    assert len(heldout) >= 12
    encounters = {s: read_aci(ACI, s) for s in ("test1", "test2")}
    # The fixed rule: every 6th encounter of each test split, from the first.
    chosen = {e.encounter_id for s in encounters for e in encounters[s][::6]}
    assert {d.encounter_id for d in heldout} == chosen
    tuning = {d.encounter_id for d in read_gold()}
    assert not tuning & chosen
    dialogues = {e.encounter_id: (s, e.dialogue) for s in encounters for e in encounters[s]}
    for doc in heldout:
        split, text = dialogues[doc.encounter_id]
        assert doc.split == split
        for span in doc.spans:
            assert span.label in PHI_LABELS
            assert span.text and text[span.start : span.end] == span.text
    scores = sample_scores(ACI, HELDOUT_FILE, find_phi)
    assert scores["splits"] == ["test1", "test2"]
    assert scores["labels"]["NAME"]["gold"] >= 30
    assert scores["labels"]["NAME"]["recall"] >= 0.95
    # A span whose text does not match its offsets is refused, not scored.
    first = heldout[0]
    bad = tmp_path / "heldout.jsonl"
    bad.write_text(
        json.dumps(
            {
                "encounter_id": first.encounter_id,
                "split": first.split,
                "spans": [{"start": 0, "end": 4, "label": "NAME", "text": "zzzz"}],
            }
        )
        + "\n"
    )
    with pytest.raises(DeidDataError, match="does not match the dialogue"):
        sample_scores(ACI, bad, find_phi)
