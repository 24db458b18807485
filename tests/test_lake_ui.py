"""The Review page on the shared store (``SCRIBE_LAKE``): a clinician's accept and edit land in
the lake, where another server's handle reads them, and a change another server makes shows
on this page's next run (the page's cached reads follow the catalog's snapshots)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import edit_sentence, make_draft, make_transcript, open_review, seed_encounter
from workbench import store as st

ENC = "enc-lake-ui"
TURNS = [
    ("clinician", "What brings you in today?"),
    ("patient", "I have had a cough for three days."),
    ("clinician", "We will start amoxicillin 500 milligrams three times a day."),
]
EDIT = "Reports a dry cough for three days."
ELSEWHERE = "Amoxicillin 500 mg three times daily, changed on another server."


@pytest.fixture
def data(tmp_path: Path, lake_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SCRIBE_LAKE", lake_url)
    transcript = make_transcript(TURNS)
    seed_encounter(tmp_path / "data", ENC, transcript, draft=make_draft(transcript))
    return tmp_path / "data"


def other_server(data: Path) -> st.Store:
    """A second handle on the lake: its own DuckDB host and its own lock session."""
    return st.open_store(data)


def test_accept_and_edit_on_the_review_page_land_in_the_lake(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_review(monkeypatch, data, ENC)
    at.button(key="accept-s1").click().run()
    assert not at.exception, at.exception
    edit_sentence(at, "s0").input(EDIT).run()
    at.button(key="save").click().run()
    assert not at.exception, at.exception

    other = other_server(data)
    assert other.lake is not None
    note = st.get_note(other, ENC)
    assert note.version == 2 and note.draft.sentences[0].text == EDIT
    kinds = [e.kind for e in st.list_events(other, ENC)]
    assert kinds.count("sentence.accepted") == 1 and kinds.count("note.saved") == 1
    assert not (data / st.DB_FILENAME).exists(), "nothing went to a single-file store"
    captions = " ".join(c.value for c in at.sidebar.caption)
    assert "shared store" in captions and "nothing leaves this machine" not in captions
    warnings = " ".join(w.value for w in at.sidebar.warning)
    assert "Shared store" in warnings and "SCRIBE_KEY" not in warnings, "no key to set here"


def test_a_change_made_on_another_server_shows_on_the_next_run(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_review(monkeypatch, data, ENC)
    assert not any(ELSEWHERE in m.value for m in at.markdown)

    other = other_server(data)
    note = st.get_note(other, ENC)
    sentences = list(note.draft.sentences)
    sentences[1] = replace(sentences[1], text=ELSEWHERE)
    st.save_note(other, ENC, note.version, tuple(sentences), "dr-test")

    at.run()
    assert not at.exception, at.exception
    assert any(ELSEWHERE in m.value for m in at.markdown), "the page read the lake again"
