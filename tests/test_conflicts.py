"""Two clinicians edit the same note: the second save is refused with a clear message and
both texts are kept; each way out (take theirs, take mine, merge) is an event."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import (
    APP,
    edit_sentence,
    make_draft,
    make_transcript,
    seed_encounter,
    sign_in,
)
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


def _session(data: Path, encounter_id: str, user: str):
    """One browser session on the Review page, signed in as ``user``."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=60)
    sign_in(at, data, user)
    at.session_state["encounter_id"] = encounter_id
    at.run()
    at.switch_page("views/review.py").run()
    assert not at.exception, at.exception
    return at


def _sessions(store: st.Store, data: Path, encounter_id: str, monkeypatch):
    """Two clinicians on one note: Ada and Bob both cover the encounter (assigned)."""
    from workbench.store.assignments import assign_encounter

    monkeypatch.setenv("SCRIBE_HOME", str(data))
    for user in ("dr-ada", "dr-bob"):
        assign_encounter(store, encounter_id, user)
    return _session(data, encounter_id, "dr-ada"), _session(data, encounter_id, "dr-bob")


def test_two_sessions_the_second_sees_both_texts_and_merges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    transcript = make_transcript(
        [("clinician", "What brings you in?"), ("patient", "A cough for three days.")]
    )
    store = seed_encounter(data, "enc-c", transcript, draft=make_draft(transcript))
    ada, bob = _sessions(store, data, "enc-c", monkeypatch)
    # Both opened version 1; Bob is typing when Ada saves, then he saves.
    edit_sentence(bob, "s1").input("Bob: plan is fluids.").run()
    edit_sentence(ada, "s0").input("Ada: presents with cough.").run()
    ada.button(key="save").click().run()
    assert st.get_note(store, "enc-c").version == 2
    bob.button(key="save").click().run()
    assert not bob.exception, bob.exception
    assert st.get_note(store, "enc-c").version == 2, "the second save is refused"
    [notice] = [e.value for e in bob.error if "Your save was refused" in e.value]
    assert "dr-ada saved version 2" in notice and "Nothing is lost" in notice
    shown = [t.value for t in bob.text]
    assert any("Ada: presents with cough." in t for t in shown), "theirs is shown"
    assert any("Bob: plan is fluids." in t for t in shown), "yours is shown"
    [conflict] = conflicts.open_conflicts(store, "enc-c", "dr-bob")

    bob.button(key=f"conflict-merge-{conflict.conflict_id}").click().run()
    assert not [e for e in bob.error if "Your save was refused" in e.value]
    bob.button(key="save").click().run()
    merged = st.get_note(store, "enc-c")
    assert (merged.version, merged.created_by) == (3, "dr-bob")
    assert [s.text for s in merged.draft.sentences] == [
        "Ada: presents with cough.",
        "Bob: plan is fluids.",
    ]
    [resolved] = st.list_events(store, "enc-c", conflicts.RESOLVED)
    assert resolved.after["resolution"] == "merged"


def test_two_sessions_keep_theirs_discards_mine_visibly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    transcript = make_transcript([("clinician", "Hello."), ("patient", "A rash.")])
    store = seed_encounter(data, "enc-d", transcript, draft=make_draft(transcript))
    ada, bob = _sessions(store, data, "enc-d", monkeypatch)
    edit_sentence(bob, "s0").input("Bob's version.").run()
    edit_sentence(ada, "s0").input("Ada's version.").run()
    ada.button(key="save").click().run()
    bob.button(key="save").click().run()
    [conflict] = conflicts.open_conflicts(store, "enc-d", "dr-bob")
    bob.button(key=f"conflict-theirs-{conflict.conflict_id}").click().run()
    assert not bob.exception, bob.exception
    assert st.get_note(store, "enc-d").draft.sentences[0].text == "Ada's version."
    assert conflicts.get_conflict(store, conflict.conflict_id).resolution == "took_theirs"
    assert not [e for e in bob.error if "Your save was refused" in e.value]
