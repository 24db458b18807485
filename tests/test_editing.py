"""Clinician edits applied to note sentences keep ids and evidence where they should."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pipelines.editing import (
    apply_section_edit,
    apply_sentence_edits,
    edit_sentence,
    move_sentence,
    new_sentence,
    rebase_edits,
    restore_unchanged,
    same_note,
    saveable,
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


def test_pending_edits_blank_marks_removal_and_saved_text_restores_the_sentence() -> None:
    edited = edit_sentence(NOTE, NOTE, "a", "Reports dry cough.")
    assert edited[0].origin == "human" and edited[0].evidence == EV
    blank = edit_sentence(edited, NOTE, "b", "   ")
    assert [s.text for s in blank][1] == "" and len(blank) == 3, "kept until Save"
    assert [s.sentence_id for s in saveable(blank)] == ["a", "c"]
    assert edit_sentence(blank, NOTE, "a", NOTE[0].text)[0] == NOTE[0], "origin back to machine"


def test_move_goes_to_the_end_of_the_section_and_unknown_ids_fail() -> None:
    moved = move_sentence(NOTE, "c", "Subjective")
    assert [(s.sentence_id, s.section) for s in moved] == [
        ("a", "Subjective"),
        ("b", "Subjective"),
        ("c", "Subjective"),
    ]
    assert moved[2].text == NOTE[2].text and moved[2].origin == "machine"
    assert move_sentence(NOTE, "a", "Subjective") == NOTE
    assert [s.sentence_id for s in move_sentence(NOTE, "a", "Plan")] == ["b", "c", "a"]
    with pytest.raises(KeyError, match="No sentence z"):
        move_sentence(NOTE, "z", "Plan")


def test_rebase_carries_unsaved_edits_onto_a_newer_version() -> None:
    added = new_sentence("Plan", "Return if worse.")
    pending = (*edit_sentence(NOTE, NOTE, "a", "Dry cough."), added)
    pending = edit_sentence(pending, NOTE, "b", "")
    # The newer version moved c and someone changed its text.
    target = (NOTE[0], NOTE[1], replace(NOTE[2], section="Subjective", text="Start amoxicillin."))
    out = rebase_edits(NOTE, pending, target)
    assert [(s.sentence_id, s.section, s.text) for s in out] == [
        ("a", "Subjective", "Dry cough."),
        ("b", "Subjective", ""),
        ("c", "Subjective", "Start amoxicillin."),  # untouched here: the newer text stays
        (added.sentence_id, "Plan", "Return if worse."),
    ]
    # A sentence the newer version removed takes its pending edit with it; one already saved
    # (same id) is not added twice.
    assert [s.sentence_id for s in rebase_edits(NOTE, pending, (NOTE[0], added))] == [
        "a",
        added.sentence_id,
    ]
    assert same_note(rebase_edits(NOTE, NOTE, target), target)


def test_restore_unchanged_gives_back_the_saved_sentences() -> None:
    edited = edit_sentence(NOTE, NOTE, "a", "Reports a dry cough for three days.")
    # The whole section typed back as it was saved: sentence a is the machine's again.
    retyped = apply_section_edit(
        edited, "Subjective", "Reports cough for three days. Denies fever."
    )
    assert retyped[0].origin == "human", "the section edit alone cannot tell"
    assert restore_unchanged(NOTE, retyped) == NOTE
