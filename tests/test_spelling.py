"""Spelling preferences: a clinician's "OK" rewrites the recogniser's "okay"."""

from __future__ import annotations

import pytest

from pipelines.spelling import (
    apply_spelling,
    load_variant_groups,
    preference_map,
    respell,
    split_preferences,
)
from pipelines.types import Segment, Transcript
from tests.conftest import REPO, make_transcript
from workbench import store as st
from workbench.ingest import EncounterMeta, ingest_file
from workbench.jobs import Engine, process_encounter


def test_variant_groups_are_single_words_and_disjoint() -> None:
    groups = load_variant_groups()
    forms = [form.lower() for group in groups for form in group]
    assert ("OK", "okay") in groups
    assert len(forms) == len(set(forms)), "a form may belong to one group only"
    assert all(" " not in form for form in forms)


def test_preference_maps_every_variant_to_the_clinicians_form() -> None:
    assert preference_map(["OK"]) == {"ok": "OK", "okay": "OK"}
    assert preference_map(["okay"])["ok"] == "okay"
    assert preference_map(["metformin", "hypertension"]) == {}, "ordinary terms are not spellings"


@pytest.mark.parametrize(
    ("token", "expected"),
    [(" okay,", " OK,"), (" Okay.", " OK."), ("okay", "OK"), (" OK?", " OK?"),
     (" okayish", " okayish"), (" cokay", " cokay"), (" ...", " ...")],
)
def test_respell_keeps_spacing_and_punctuation(token: str, expected: str) -> None:
    assert respell(token, preference_map(["OK"])) == expected


def test_apply_spelling_rewrites_text_and_words_alike() -> None:
    transcript = make_transcript([("clinician", "Okay, so the okay news is fine."),
                                  ("patient", "Okay.")])
    out = apply_spelling(transcript, ["OK"])
    assert [s.text for s in out.segments] == ["OK, so the OK news is fine.", "OK."]
    for segment in out.segments:
        assert "".join(w.text for w in segment.words).strip() == segment.text
        assert [w.start for w in segment.words] == [
            w.start for w in transcript.segments[segment.idx].words]
    assert apply_spelling(transcript, []) is transcript, "no preference, nothing changes"


def test_segments_without_words_are_respelled_by_token() -> None:
    segment = Segment(idx=0, start=0.0, end=1.0, text="okay, thanks", speaker="patient")
    transcript = Transcript(segments=(segment,), language="en", duration_s=1.0, model="test")
    out = apply_spelling(transcript, ["OK"])
    assert out.segments[0].text == "OK, thanks"


def test_split_preferences_keeps_spellings_out_of_the_hotwords() -> None:
    assert split_preferences(["OK", "Eliquis", "x-ray"]) == (["OK", "x-ray"], ["Eliquis"])


@pytest.mark.slow
def test_processing_applies_the_clinicians_spelling(store: st.Store) -> None:
    data = store.path.parent
    audio = REPO / "demo" / "encounters" / "hypertension-medication-change" / "audio.ogg"
    st.add_term(store, "dr-s", "OK", "dr-s")
    result = ingest_file(store, data, audio, "dr-s", EncounterMeta(clinician="dr-s"))
    process_encounter(store, data, Engine(), result.encounter_id, "dr-s")
    _, transcript = st.get_transcript(store, result.encounter_id)
    words = transcript.text.replace(",", " ").replace(".", " ").split()
    assert "OK" in words and "okay" not in [w.lower() for w in words]
    assert transcript.options["spelling"] == ["OK"]
    assert not transcript.options.get("hotwords"), "a spelling is not a hotword"
