"""Transcript corrections: new version, typed events, local NLP recompute, evidence kept."""

from __future__ import annotations

import pytest

from pipelines.nlp import NlpOptions, load_nlp
from pipelines.transcript_edit import SegmentFix, apply_fix, realign_words, remap_span
from tests.conftest import make_transcript
from workbench import store as st
from workbench.corrections import correct_transcript


@pytest.fixture(scope="module")
def nlp():
    return load_nlp(NlpOptions(vocabularies=("curated",)))


def test_word_fix_keeps_timing_and_marks_human() -> None:
    seg = make_transcript([("patient", "I take met for min twice a day")]).segments[0]
    new, changes = apply_fix(seg, SegmentFix(0, text="I take metformin twice a day"))
    assert [w.text for w in new.words] == ["I", " take", " metformin", " twice", " a", " day"]
    fixed = new.words[2]
    assert fixed.probability == 1.0
    assert fixed.start == seg.words[2].start and fixed.end == seg.words[4].end
    assert new.words[3] == seg.words[5] and [c.kind for c in changes] == [
        "transcript.segment_corrected"]


def test_single_word_substitution_is_a_word_correction() -> None:
    seg = make_transcript([("patient", "I have a dry calf")]).segments[0]
    _, changes = apply_fix(seg, SegmentFix(0, text="I have a dry cough", speaker="patient"))
    assert [(c.kind, c.before, c.after) for c in changes] == [
        ("transcript.word_corrected", {"text": "I have a dry calf"},
         {"text": "I have a dry cough"})]


def test_inserted_words_fit_in_the_gap() -> None:
    seg = make_transcript([("patient", "chest pain today")]).segments[0]
    words = realign_words(seg, "chest pain since yesterday today")
    starts = [w.start for w in words]
    assert starts == sorted(starts) and words[-1] == seg.words[-1]


def test_remap_span_follows_the_words() -> None:
    old, new = "I take met for min daily.", "I take metformin daily."
    assert new[slice(*remap_span(old, new, 7, 18))] == "metformin"
    assert new[slice(*remap_span(old, new, 19, 25))] == "daily."
    assert remap_span("abc def", "def", 0, 3) is None


def test_correction_versions_events_entities_and_evidence(
    store: st.Store, encounter: str, nlp
) -> None:
    note_before = st.get_note(store, encounter)
    st.save_entities(store, encounter, 1, (), "nlp.test", "dr-a")
    result = correct_transcript(
        store, nlp, encounter, 1,
        [SegmentFix(1, text="I have had a cough and wheezing for three days."),
         SegmentFix(0, speaker="patient")],
        "dr-a",
    )
    assert result.transcript_version == 2 and result.recomputed_segments == (1,)
    _, corrected = st.get_transcript(store, encounter)
    assert corrected.segments[1].text == "I have had a cough and wheezing for three days."
    assert corrected.segments[0].speaker == "patient"
    assert st.get_transcript(store, encounter, 1)[1].segments[0].speaker == "clinician"
    kinds = [e.kind for e in st.list_events(store, encounter)]
    assert "transcript.segment_corrected" in kinds and "transcript.speaker_relabelled" in kinds
    ents = st.get_entities(store, encounter, 2)
    assert {e.text for e in ents if e.segment_idx == 1} >= {"cough", "wheezing"}
    assert all(e.segment_idx == 1 for e in ents)  # untouched segments were not re-run
    note = st.get_note(store, encounter)
    assert note.version == note_before.version + 1 and note.transcript_version == 2
    for sentence in note.draft.sentences:
        for ev in sentence.evidence:
            text = corrected.segments[ev.segment_idx].text[ev.start_char:ev.end_char]
            assert text.strip()
    first_ev = note.draft.sentences[0].evidence[0]
    assert corrected.segments[1].text[first_ev.start_char:first_ev.end_char].startswith("I have")


def test_stale_correction_is_refused(store: st.Store, encounter: str, nlp) -> None:
    correct_transcript(store, nlp, encounter, 1, [SegmentFix(0, speaker="patient")], "dr-a")
    with pytest.raises(st.ConcurrentEdit):
        correct_transcript(store, nlp, encounter, 1, [SegmentFix(0, text="Hello.")], "dr-b")
    assert st.get_transcript(store, encounter)[1].segments[0].text != "Hello."


def test_vocabulary_is_append_only_and_current(store: st.Store) -> None:
    assert st.add_term(store, "dr-a", "apixaban", "dr-a")
    assert not st.add_term(store, "dr-a", "Apixaban", "dr-a")
    assert st.add_term(store, "dr-a", "empagliflozin", "dr-a")
    assert st.remove_term(store, "dr-a", "apixaban", "dr-a")
    assert st.list_terms(store, "dr-a") == ["empagliflozin"]
    assert st.list_terms(store, "dr-b") == []
    with pytest.raises(st.StoreError):
        st.add_term(store, "dr-a", " ", "dr-a")
    assert [e.kind for e in st.list_events(store)].count("vocabulary.add") == 2
