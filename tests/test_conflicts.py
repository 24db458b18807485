"""Two clinicians edit the same note: the second save is refused with a clear message and
both texts are kept; each way out (take theirs, take mine, merge) is an event."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from workbench import store as st
from workbench.store import autosave, conflicts


def _edit(note: st.NoteVersion, text: str):
    first = replace(note.draft.sentences[0], text=text)
    return (first, *note.draft.sentences[1:])


def _race(data: Path, encounter: str) -> tuple[st.Store, st.Store, conflicts.EditConflict]:
    """Two handles on one database file (two server sessions or processes) both load
    version 1 and both save."""
    ada, bob = st.open_store(data), st.open_store(data)
    seen_a, seen_b = st.get_note(ada, encounter), st.get_note(bob, encounter)
    autosave.put_autosave(bob, encounter, 1, "dr-bob", _edit(seen_b, "Bob's cough text."))
    assert (
        autosave.save_version(
            ada, encounter, seen_a.version, _edit(seen_a, "Ada's text."), "dr-ada"
        )
        == 2
    )
    with pytest.raises(st.ConcurrentEdit) as refused:
        autosave.save_version(
            bob, encounter, seen_b.version, _edit(seen_b, "Bob's cough text."), "dr-bob"
        )
    assert isinstance(refused.value, conflicts.EditConflict)
    return ada, bob, refused.value


def test_second_save_is_refused_and_both_texts_are_kept(
    tmp_path: Path, store: st.Store, encounter: str
) -> None:
    ada, bob, refused = _race(store.path.parent, encounter)
    assert "version 2" in str(refused) and "Your text is kept" in str(refused)
    assert [v for v, *_ in st.list_note_versions(ada, encounter)] == [1, 2]  # one new version
    assert st.get_note(bob, encounter).draft.sentences[0].text == "Ada's text."
    [kept] = conflicts.open_conflicts(bob, encounter, "dr-bob")
    assert (kept.base_version, kept.theirs_version) == (1, 2)
    assert kept.sentences[0].text == "Bob's cough text."
    assert kept.sentences[0].evidence == st.get_note(ada, encounter, 1).draft.sentences[0].evidence
    assert autosave.get_autosave(bob, encounter, "dr-bob") is None  # held by the conflict now
    [event] = st.list_events(ada, encounter, conflicts.CONFLICT)
    assert event.user_id == "dr-bob" and event.after["theirs_version"] == 2
    assert conflicts.open_conflicts(bob, encounter, "dr-ada") == []


def test_take_mine_saves_it_on_top_of_theirs(store: st.Store, encounter: str) -> None:
    _, bob, refused = _race(store.path.parent, encounter)
    version = conflicts.take_mine(bob, refused.conflict.conflict_id, "dr-bob")
    assert version == 3
    assert st.get_note(bob, encounter).draft.sentences[0].text == "Bob's cough text."
    assert st.get_note(bob, encounter, 2).draft.sentences[0].text == "Ada's text."  # kept too
    assert conflicts.open_conflicts(bob, encounter, "dr-bob") == []
    [event] = st.list_events(bob, encounter, conflicts.RESOLVED)
    assert event.after == {"resolution": "took_mine", "saved_version": 3}
    with pytest.raises(st.NotFound):  # decided once
        conflicts.resolve_conflict(bob, refused.conflict.conflict_id, "took_theirs", "dr-bob")


def test_take_theirs_keeps_the_refused_text_on_record(store: st.Store, encounter: str) -> None:
    _, bob, refused = _race(store.path.parent, encounter)
    conflicts.resolve_conflict(bob, refused.conflict.conflict_id, "took_theirs", "dr-bob")
    assert conflicts.open_conflicts(bob, encounter, "dr-bob") == []
    closed = conflicts.get_conflict(bob, refused.conflict.conflict_id)
    assert closed.resolution == "took_theirs" and closed.sentences[0].text == "Bob's cough text."
    assert st.get_note(bob, encounter).version == 2
    with pytest.raises(ValueError):
        conflicts.resolve_conflict(bob, refused.conflict.conflict_id, "whatever", "dr-bob")


def test_take_mine_after_yet_another_save_is_refused_again(store: st.Store, encounter: str) -> None:
    ada, bob, refused = _race(store.path.parent, encounter)
    newest = st.get_note(ada, encounter)
    st.save_note(ada, encounter, 2, _edit(newest, "Ada again."), "dr-ada")
    with pytest.raises(st.ConcurrentEdit, match="newest is 3"):
        conflicts.take_mine(bob, refused.conflict.conflict_id, "dr-bob")
    assert len(conflicts.open_conflicts(bob, encounter, "dr-bob")) == 1  # still there


def test_inside_a_callers_transaction_the_refusal_is_plain(store: st.Store, encounter: str) -> None:
    note = st.get_note(store, encounter)
    st.save_note(store, encounter, 1, _edit(note, "first"), "dr-a")
    with pytest.raises(st.ConcurrentEdit) as refused, store.transaction():
        autosave.save_version(store, encounter, 1, _edit(note, "second"), "dr-b")
    assert not isinstance(refused.value, conflicts.EditConflict)
