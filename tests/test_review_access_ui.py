"""The Review page for someone the store refuses: a clear message, nothing shown, audited."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import APP, make_draft, make_transcript, seed_encounter, sign_in
from workbench import store as st
from workbench.store.access import Actor
from workbench.store.audit import search_audit


def test_another_clinicians_encounter_is_refused_on_the_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("SCRIBE_HOME", str(data))
    turns = [("clinician", "Any cough?"), ("patient", "A dry cough since Monday.")]
    transcript = make_transcript(turns)
    store = seed_encounter(data, "enc-1", transcript, draft=make_draft(transcript),
                           clinician="dr-owner")
    at = sign_in(AppTest.from_file(str(APP), default_timeout=60), data, "dr-other")
    at.session_state["encounter_id"] = "enc-1"
    at.run()
    at.switch_page("views/review.py").run()

    assert not at.exception, at.exception
    assert "not theirs" in at.error[0].value
    shown = " ".join(m.value for m in at.markdown) + " ".join(t.value for t in at.title)
    assert "dry cough" not in shown and "Visit enc-1" not in shown
    assert not [b for b in at.button if b.key == "save"]  # no note, no actions
    admin = store.as_actor(Actor("adm", "admin"))
    denied = search_audit(admin, user="dr-other", limit=10)[0]
    assert denied and {r.outcome for r in denied} == {"denied"}
    assert denied[0].object_id == "enc-1"
    assert st.get_note(store, "enc-1").version == 1  # nothing changed
