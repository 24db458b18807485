"""Processing one encounter end to end with the real models."""

from __future__ import annotations

import pytest

from tests.conftest import REPO
from workbench import store as st
from workbench.ingest import EncounterMeta, ingest_file
from workbench.jobs import Engine, process_encounter

CLIP = REPO / "tests" / "fixtures" / "asr_short" / "audio.ogg"
pytestmark = pytest.mark.slow


def test_process_uses_the_clinicians_vocabulary_and_is_idempotent(store: st.Store) -> None:
    data = store.path.parent
    st.add_term(store, "dr-v", "ibuprofen", "dr-v")
    result = ingest_file(store, data, CLIP, "dr-v", EncounterMeta(clinician="dr-v"))
    engine = Engine()
    first = process_encounter(store, data, engine, result.encounter_id, "dr-v")
    assert first.steps_run == ("asr", "nlp", "draft", "verify")
    assert st.get_support(store, result.encounter_id, first.note_version) is not None
    _, transcript = st.get_transcript(store, result.encounter_id)
    assert "ibuprofen" in (transcript.options.get("hotwords") or "")
    assert "ibuprofen" in transcript.text.lower()
    again = process_encounter(store, data, engine, result.encounter_id, "dr-v")
    assert again.steps_run == () and again.note_version == first.note_version
    assert not any((data / "tmp").iterdir()), "decode scratch files are removed"
