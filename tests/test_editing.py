"""Clinician edits applied to note sentences keep ids and evidence where they should."""

from __future__ import annotations

from pipelines.editing import (
    apply_section_edit,
    apply_sentence_edits,
    new_sentence,
    section_text,
)
from pipelines.types import Evidence, NoteSentence

EV = (Evidence(0, 0, 5, 0.0, 1.0),)
NOTE = (
    NoteSentence("a", "Subjective", "Reports cough for three days.", EV),
    NoteSentence("b", "Subjective", "Denies fever.", EV),
    NoteSentence("c", "Plan", "Start amoxicillin 500 milligrams three times a day.", EV),
)


def test_sentence_edit_marks_human_and_keeps_evidence() -> None:
    out = apply_sentence_edits(NOTE, {"a": "Reports  dry cough for three days. "})
    assert out[0].text == "Reports dry cough for three days."
    assert out[0].origin == "human" and out[0].evidence == EV and out[0].sentence_id == "a"
    assert out[1:] == NOTE[1:]


def test_blank_edit_deletes_and_unchanged_text_is_kept_as_is() -> None:
    out = apply_sentence_edits(NOTE, {"b": "  ", "a": NOTE[0].text})
    assert [s.sentence_id for s in out] == ["a", "c"]
    assert out[0] is NOTE[0]


def test_section_edit_matches_surviving_sentences() -> None:
    text = "Denies fevers. Reports cough for three days. Has a sore throat."
    out = apply_section_edit(NOTE, "Subjective", text)
    assert [s.section for s in out] == ["Subjective"] * 3 + ["Plan"]
    assert out[0].sentence_id == "b" and out[0].text == "Denies fevers."
    assert out[0].origin == "human" and out[0].evidence == EV
    assert out[1] is NOTE[0]
    assert out[2].origin == "human" and out[2].evidence == ()
    assert out[2].sentence_id.startswith("h-")
    assert out[3] is NOTE[2]


def test_section_cleared_removes_its_sentences() -> None:
    out = apply_section_edit(NOTE, "Subjective", "")
    assert [s.sentence_id for s in out] == ["c"]


def test_edit_of_empty_section_appends_it() -> None:
    out = apply_section_edit(NOTE, "Assessment", "Viral bronchitis.")
    assert out[-1].section == "Assessment" and out[-1].text == "Viral bronchitis."


def test_new_sentence_and_section_text() -> None:
    s = new_sentence("Plan", "  Return   in two weeks. ")
    assert s.text == "Return in two weeks." and s.origin == "human" and not s.evidence
    assert section_text(NOTE, "Subjective") == "Reports cough for three days. Denies fever."
