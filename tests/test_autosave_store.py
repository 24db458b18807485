"""The autosave table and the undo of a save, at the store level (real DuckDB in tmp_path)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from workbench import store as st
from workbench.store import autosave, conflicts, note_undo


def test_autosave_round_trips_one_row_per_user(store: st.Store, encounter: str) -> None:
    note = st.get_note(store, encounter)
    edited = (
        replace(note.draft.sentences[0], text="Dry cough.", origin="human"),
        replace(note.draft.sentences[1], text=""),
    )
    assert autosave.get_autosave(store, encounter, "dr-a") is None
    autosave.put_autosave(store, encounter, note.version, "dr-a", note.draft.sentences)
    autosave.put_autosave(store, encounter, note.version, "dr-a", edited)
    kept = autosave.get_autosave(store, encounter, "dr-a")
    assert kept.sentences == edited and kept.note_version == note.version, "evidence too"
    assert autosave.get_autosave(store, encounter, "dr-b") is None, "each user has their own"
    autosave.clear_autosave(store, encounter, "dr-a")
    assert autosave.get_autosave(store, encounter, "dr-a") is None
    assert st.list_events(store, encounter, autosave.DISCARDED) == [], "no event for scratch"


def test_a_refused_save_keeps_the_text_as_a_conflict(store: st.Store, encounter: str) -> None:
    note = st.get_note(store, encounter)
    mine = (replace(note.draft.sentences[0], text="Dry cough.", origin="human"),)
    autosave.put_autosave(store, encounter, note.version, "dr-a", mine)
    st.save_note(store, encounter, note.version, note.draft.sentences[1:], "dr-b")
    with pytest.raises(st.ConcurrentEdit):
        autosave.save_version(store, encounter, note.version, mine, "dr-a")
    # The conflict holds the text now (offered once, not also as a stale autosave).
    [kept] = conflicts.open_conflicts(store, encounter, "dr-a")
    assert kept.sentences == mine and autosave.get_autosave(store, encounter, "dr-a") is None
    version = autosave.save_version(store, encounter, note.version + 1, mine, "dr-a")
    assert autosave.get_autosave(store, encounter, "dr-a") is None
    assert st.get_note(store, encounter, version).draft.sentences == mine


def test_undo_restores_the_parent_as_a_new_version(store: st.Store, encounter: str) -> None:
    note = st.get_note(store, encounter)
    assert note_undo.undo_target(store, encounter, note.version) is None, "a first draft"
    with pytest.raises(st.InvalidEdit):
        note_undo.undo_last_save(store, encounter, note.version, "dr-a")
    edited = (replace(note.draft.sentences[0], text="Dry cough.", origin="human"),)
    v2 = st.save_note(store, encounter, note.version, edited, "dr-a")
    v3 = note_undo.undo_last_save(store, encounter, v2, "dr-a")
    restored = st.get_note(store, encounter, v3)
    assert restored.draft.sentences == note.draft.sentences and restored.parent_version == v2
    undone = {e.object_id: e for e in st.list_events(store, encounter, "sentence.undone")}
    assert undone["s0"].before["text"] == "Dry cough." and undone["s0"].after["text"]
    assert undone["s1"].before is None, "s1 came back"
    assert {d.kind for d in st.sentence_decisions(store, encounter).values()} == {"sentence.undone"}
    assert not any(d.reviewed for d in st.sentence_decisions(store, encounter).values())
    assert "note.evidence_remapped" not in [e.kind for e in st.list_events(store, encounter)]
    with pytest.raises(st.ConcurrentEdit):
        note_undo.undo_last_save(store, encounter, v2, "dr-a")
    st.sign_note(store, encounter, v3, "dr-a")
    with pytest.raises(st.NoteLocked):
        note_undo.undo_last_save(store, encounter, v3, "dr-a")
