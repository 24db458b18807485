"""An annotator's edits to an entities task (``pipelines/annotation_edit.py``), as plain data:
every result is also put through the store's checker, so what the panel builds can be saved."""

from __future__ import annotations

import pytest

from pipelines import annotation_edit as ed
from pipelines.annotation_check import check_annotations
from pipelines.annotation_schema import load_task_schema
from pipelines.schema import load_label_schema
from pipelines.types import Annotation

from .conftest import make_transcript

TEXT = "Take amoxicillin 500 mg b.i.d., don't stop for 7 days."
TRANSCRIPT = make_transcript([("clinician", TEXT)])
MED = Annotation("m1-0", "span", "MEDICATION", 0, 5, 16, "amoxicillin", value={"context": []},
                 origin="suggestion", model_version="nlp.v7")  # fmt: skip


def valid(annotations) -> None:
    check_annotations("entities", annotations, TRANSCRIPT, load_label_schema(), load_task_schema())


def words(first: str, last: str, label: str, context=()) -> Annotation:
    tokens = ed.word_tokens(TEXT)
    texts = [t.text for t in tokens]
    return ed.span_from_words(0, TEXT, tokens, texts.index(first), texts.index(last), label,
                              context)  # fmt: skip


def test_words_leave_punctuation_out_and_keep_abbreviations_whole() -> None:
    expected = "Take amoxicillin 500 mg b.i.d don't stop for 7 days".split()
    assert [t.text for t in ed.word_tokens(TEXT)] == expected
    assert [t.text for t in ed.word_tokens("Hello [NAME], how are you?")][:2] == ["Hello", "[NAME]"]
    assert all(TEXT[t.start : t.end] == t.text for t in ed.word_tokens(TEXT))


def test_a_word_range_is_a_human_span_quoting_the_segment() -> None:
    dose = words("500", "mg", "DOSE")
    assert (dose.start_char, dose.end_char, dose.text, dose.origin) == (17, 23, "500 mg", "human")
    backwards = words("days", "for", "DURATION", ["uncertain"])
    assert backwards.text == "for 7 days" and backwards.value == {"context": ["uncertain"]}
    valid([dose, backwards])
    with pytest.raises(ValueError, match="Unknown context"):
        words("stop", "stop", "PROBLEM", ["sarcastic"])
    with pytest.raises(ValueError, match="no words"):
        ed.span_from_words(0, "...", (), 0, 0, "PROBLEM")


def test_the_same_label_on_the_same_words_twice_is_refused() -> None:
    dose = words("500", "mg", "DOSE")
    with pytest.raises(ValueError, match="already labelled DOSE"):
        ed.add((dose,), words("500", "mg", "DOSE"))
    assert len(ed.add((dose,), words("500", "mg", "VITAL"))) == 2


def test_accept_reject_restore_and_what_stays_pending() -> None:
    at = TEXT.index("stop")
    other = Annotation("m1-1", "span", "PROBLEM", 0, at, at + 4, "stop", origin="suggestion")
    accepted = ed.accept((), [MED])
    assert [(a.annotation_id, a.origin, a.model_version) for a in accepted] == [
        ("m1-0", "confirmed", "nlp.v7")]  # fmt: skip
    both = ed.reject(accepted, other)
    assert ed.pending_suggestions(both, [MED, other]) == ()
    assert [ed.is_label(a) for a in both] == [True, False] and ed.is_rejected(both[1])
    valid(both)
    assert ed.pending_suggestions(ed.restore(both, "m1-1"), [MED, other]) == (other,)


def test_removing_a_span_removes_its_relations_and_rejects_a_suggestion() -> None:
    med = ed.accept((), [MED])[0]
    dose = words("500", "mg", "DOSE")
    rel = ed.relation("has_dose", med.annotation_id, dose.annotation_id)
    labelled = ed.add((med, dose), rel)
    valid(labelled)
    without_dose = ed.remove_span(labelled, dose.annotation_id, [MED])
    assert without_dose == (med,)
    without_med = ed.remove_span(labelled, "m1-0", [MED])
    assert [a.annotation_id for a in without_med] == [dose.annotation_id, "m1-0"]
    assert ed.is_rejected(without_med[1]), "a removed suggestion is not offered again"


def test_a_changed_suggestion_becomes_the_annotators_own() -> None:
    med = ed.accept((), [MED])
    assert ed.relabel(med, "m1-0", "MEDICATION") == med, "no change, no new origin"
    flagged = ed.set_context(med, "m1-0", ["negated"])
    assert (flagged[0].origin, flagged[0].model_version) == ("human", "nlp.v7")
    assert ed.context_of(flagged[0]) == ("negated",)
    with pytest.raises(ValueError, match="Accept the suggestion"):
        ed.relabel((MED,), "m1-0", "PROBLEM")


def test_encounter_choices_replace_each_other() -> None:
    once = ed.set_choice((), "audio_quality", "good")
    twice = ed.set_choice(once, "audio_quality", "poor")
    assert len(twice) == 1 and ed.choice_of(twice, "audio_quality") == "poor"
    valid(twice)
    assert ed.set_choice(twice, "audio_quality", None) == ()


def test_spans_over_a_placeholder_are_caught_before_the_store() -> None:
    text = "Hello [NAME], how is the cough?"
    tokens = ed.word_tokens(text)
    over = ed.span_from_words(0, text, tokens, 0, 1, "PROBLEM")
    assert "de-identified text" in ed.placeholder_problem(over, text)
    cough = ed.span_from_words(0, text, tokens, len(tokens) - 1, len(tokens) - 1, "PROBLEM")
    assert ed.placeholder_problem(cough, text) is None
