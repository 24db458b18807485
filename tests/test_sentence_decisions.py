"""A reviewer's decision per sentence: accepted as drafted, edited, deleted; the newest wins."""

from __future__ import annotations

from dataclasses import replace

import pytest

from workbench import store as st


def test_accepting_records_who_accepted_which_sentence(store: st.Store, encounter: str) -> None:
    note = st.get_note(store, encounter)
    assert st.sentence_decisions(store, encounter) == {}
    assert st.accept_sentences(store, encounter, note.version, ["s0", "s0"], "dr-a") == 1
    decisions = st.sentence_decisions(store, encounter)
    assert set(decisions) == {"s0"}
    assert decisions["s0"].kind == "sentence.accepted" and decisions["s0"].user_id == "dr-a"
    assert decisions["s0"].reviewed and decisions["s0"].note_version == note.version
    accepted = [e for e in st.list_events(store, encounter) if e.kind == "sentence.accepted"]
    assert [(e.object_id, e.note_version) for e in accepted] == [("s0", note.version)]


def test_the_newest_decision_wins(store: st.Store, encounter: str) -> None:
    note = st.get_note(store, encounter)
    st.accept_sentences(store, encounter, note.version, ["s0", "s1"], "dr-a")
    first = note.draft.sentences[0]
    version = st.save_note(
        store, encounter, note.version, (replace(first, text="Cough for three days."),), "dr-a"
    )
    decisions = st.sentence_decisions(store, encounter)
    assert decisions["s0"].kind == "sentence.edited" and decisions["s0"].reviewed
    assert decisions["s1"].kind == "sentence.deleted" and not decisions["s1"].reviewed
    assert decisions["s0"].note_version == version


def test_accepting_a_stale_version_or_a_signed_note_is_refused(
    store: st.Store, encounter: str
) -> None:
    note = st.get_note(store, encounter)
    st.save_note(store, encounter, note.version, note.draft.sentences[:1], "dr-a")
    with pytest.raises(st.ConcurrentEdit):
        st.accept_sentences(store, encounter, note.version, ["s0"], "dr-a")
    with pytest.raises(KeyError, match="No sentence s9"):
        st.accept_sentences(store, encounter, note.version + 1, ["s9"], "dr-a")
    assert "s0" not in st.sentence_decisions(store, encounter)  # nothing was recorded
    st.sign_note(store, encounter, note.version + 1, "dr-a")
    with pytest.raises(st.NoteLocked):
        st.accept_sentences(store, encounter, note.version + 1, ["s0"], "dr-a")
