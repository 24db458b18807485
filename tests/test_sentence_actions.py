"""Sentence actions on the Review page: accept, reject and undo, move, autosave across a
reload, stale autosaves, and the next/previous selection the keyboard shortcuts use."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import (
    edit_sentence,
    make_draft,
    make_transcript,
    open_review,
    seed_encounter,
)
from workbench import store as st
from workbench.store import autosave

ENC = "enc-act"
TURNS = [
    ("clinician", "What brings you in today?"),
    ("patient", "I have had a cough for three days."),
    ("clinician", "We will start amoxicillin 500 milligrams three times a day."),
]
EDIT = "Reports a dry cough for three days."


@pytest.fixture
def data(tmp_path: Path) -> Path:
    transcript = make_transcript(TURNS)
    seed_encounter(tmp_path / "data", ENC, transcript, draft=make_draft(transcript))
    return tmp_path / "data"


@pytest.fixture
def review(data: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[AppTest, st.Store]:
    return open_review(monkeypatch, data, ENC), st.open_store(data)


def badges(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown if "-badge[" in m.value)


def kinds(store: st.Store) -> list[str]:
    return [e.kind for e in st.list_events(store, ENC)]


def test_sentences_show_state_support_and_actions_in_a_row(review) -> None:
    at, store = review
    text = badges(at)
    assert text.count("machine suggestion") == 2
    assert "supported" in text or "not checked" in text
    assert not [t for t in at.text_area if t.key and t.key.startswith("sent-")], "shown as text"
    for sid in ("s0", "s1"):
        for action in ("play", "accept", "edit", "reject"):
            assert not at.button(key=f"{action}-{sid}").disabled
    note = st.get_note(store, ENC)
    for sentence in note.draft.sentences:
        sid = sentence.sentence_id
        assert edit_sentence(at, sid).value == sentence.text
        assert at.button(key=f"edit-{sid}").disabled, "it is the one being edited"
        assert at.selectbox(key=f"move-1-{sid}").value is None
        assert [b.key for b in at.selectbox if b.key.startswith("move-")] == [f"move-1-{sid}"]


def test_accept_records_an_event_and_the_badge_changes(review) -> None:
    at, store = review
    at.button(key="accept-s0").click().run()
    assert not at.exception, at.exception
    (event,) = st.list_events(store, ENC, "sentence.accepted")
    assert (event.object_id, event.user_id, event.note_version) == ("s0", "dr-test", 1)
    assert "accepted by you" in badges(at) and badges(at).count("machine suggestion") == 1
    assert at.button(key="accept-s0").disabled
    assert st.get_note(store, ENC).version == 1, "accepting changes no text"


def test_reject_removes_the_sentence_and_undo_restores_it(review) -> None:
    at, store = review
    at.button(key="reject-s1").click().run()
    assert not at.exception, at.exception
    note = st.get_note(store, ENC)
    assert note.version == 2 and [s.sentence_id for s in note.draft.sentences] == ["s0"]
    assert "sentence.deleted" in kinds(store)
    assert not [b for b in at.button if b.key == "reject-s1"]
    assert st.sentence_decisions(store, ENC)["s1"].kind == "sentence.deleted"

    at.button(key="undo-save").click().run()
    assert not at.exception, at.exception
    note = st.get_note(store, ENC)
    assert note.version == 3 and note.parent_version == 2
    assert note.draft.sentences == st.get_note(store, ENC, 1).draft.sentences
    assert [v for v, _, _ in st.list_note_versions(store, ENC)] == [1, 2, 3], "none deleted"
    (undone,) = st.list_events(store, ENC, "note.undone")
    assert undone.before == {"version": 2} and undone.after == {"restored_version": 1}
    decision = st.sentence_decisions(store, ENC)["s1"]
    assert decision.kind == "sentence.undone" and not decision.reviewed
    assert at.button(key="reject-s1"), "the sentence is back with its actions"
    assert "sentence.added" not in kinds(store), "an undo is not the person adding it"


def test_move_changes_the_section_with_a_moved_event(review) -> None:
    at, store = review
    edit_sentence(at, "s0")
    at.selectbox(key="move-1-s0").select("Plan").run()
    assert not at.exception, at.exception
    note = st.get_note(store, ENC)
    assert [(s.sentence_id, s.section) for s in note.draft.sentences] == [
        ("s1", "Plan"),
        ("s0", "Plan"),
    ]
    (moved,) = st.list_events(store, ENC, "sentence.moved")
    assert moved.object_id == "s0" and moved.before["section"] == "Subjective"
    assert moved.after["section"] == "Plan" and moved.note_version == 2
    assert note.draft.sentences[1].text == TURNS[0][1], "text unchanged"
    assert "moved by you" in badges(at)


def test_an_edit_survives_a_reload_and_save_clears_the_autosave(
    review, data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at, store = review
    edit_sentence(at, "s0").input(EDIT).run()
    saved = autosave.get_autosave(store, ENC, "dr-test")
    assert saved is not None and saved.note_version == 1
    assert saved.sentences[0].text == EDIT and saved.sentences[0].origin == "human"
    assert st.get_note(store, ENC).version == 1, "an edit is not saved before Save"

    again = open_review(monkeypatch, data, ENC)  # a browser reload: a new session
    assert any("Restored unsaved changes from" in i.value for i in again.info)
    assert "edited by you · unsaved" in badges(again)
    assert any(EDIT.rstrip(".") in m.value for m in again.markdown), "the list shows the edit"
    assert edit_sentence(again, "s0").value == EDIT
    assert again.button(key="save").label == "Save (1 changes)"
    again.button(key="save").click().run()
    assert not again.exception, again.exception
    assert st.get_note(store, ENC).draft.sentences[0].text == EDIT
    assert autosave.get_autosave(store, ENC, "dr-test") is None
    fresh = open_review(monkeypatch, data, ENC)
    assert not any("Restored" in i.value for i in fresh.info)
    assert edit_sentence(fresh, "s0").value == EDIT


def test_an_edit_survives_editing_another_sentence(review) -> None:
    at, store = review
    edit_sentence(at, "s0").input(EDIT)  # typed, then Edit on another sentence (one rerun,
    edit_sentence(at, "s1")  # as the browser sends the box's text and the click together)
    rows = [m.value for m in at.markdown if "-badge[" in m.value]
    assert any(EDIT.rstrip(".") in r and "edited by you · unsaved" in r for r in rows)
    assert at.button(key="save").label == "Save (1 changes)"
    assert autosave.get_autosave(store, ENC, "dr-test").sentences[0].text == EDIT
    assert edit_sentence(at, "s0").value == EDIT


def test_added_sentence_and_undo_edit_are_autosaved(review) -> None:
    at, store = review
    assert not [t for t in at.text_input if t.key == "add-1-Plan"], "it opens with its button"
    at.button(key="open-add-1-Plan").click().run()
    at.text_input(key="add-1-Plan").input("Return if fever develops.").run()
    assert at.text_input(key="add-1-Plan").value == "", "the box empties for the next one"
    added = [m for m in at.markdown if "Return if fever develops" in m.value]
    assert len(added) == 1 and "added by you · unsaved" in added[0].value
    assert len(autosave.get_autosave(store, ENC, "dr-test").sentences) == 3
    at.button(key="undo-edit").click().run()
    assert not [m for m in at.markdown if "Return if fever develops" in m.value]
    assert autosave.get_autosave(store, ENC, "dr-test") is None, "nothing left unsaved"


def test_reject_keeps_unsaved_edits_of_other_sentences(review) -> None:
    at, store = review
    edit_sentence(at, "s0").input(EDIT).run()
    at.button(key="reject-s1").click().run()
    assert not at.exception, at.exception
    note = st.get_note(store, ENC)
    assert note.version == 2 and note.draft.sentences[0].text == TURNS[0][1]
    assert at.text_area(key="sent-2-s0").value == EDIT, "the edit is still on screen"
    kept = autosave.get_autosave(store, ENC, "dr-test")
    assert kept.note_version == 2 and kept.sentences[0].text == EDIT


def test_a_stale_autosave_is_offered_not_applied(
    review, data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at, store = review
    edit_sentence(at, "s0").input(EDIT).run()
    # Meanwhile someone else saves a change to the other sentence.
    note = st.get_note(store, ENC)
    other = (note.draft.sentences[0], replace(note.draft.sentences[1], text="Start amoxicillin."))
    assert st.save_note(store, ENC, 1, other, "dr-b") == 2

    again = open_review(monkeypatch, data, ENC)
    assert any("was saved since by dr-b" in w.value for w in again.warning)
    assert edit_sentence(again, "s0").value == TURNS[0][1], "not applied silently"
    assert again.button(key="save").disabled
    again.button(key="autosave-apply").click().run()
    assert not again.exception, again.exception
    assert again.text_area(key="sent-2-s0").value == EDIT
    assert edit_sentence(again, "s1").value == "Start amoxicillin.", "theirs is kept"
    assert not again.main.warning
    assert autosave.get_autosave(store, ENC, "dr-test").note_version == 2


def test_a_stale_autosave_can_be_discarded(
    review, data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at, store = review
    edit_sentence(at, "s0").input(EDIT).run()
    note = st.get_note(store, ENC)
    st.save_note(store, ENC, 1, note.draft.sentences[:1], "dr-b")
    at.run()  # the same session sees the newer version on its next rerun
    assert any("was saved since by dr-b" in w.value for w in at.warning)
    at.button(key="autosave-discard").click().run()
    assert autosave.get_autosave(store, ENC, "dr-test") is None
    (event,) = st.list_events(store, ENC, "note.autosave_discarded")
    assert event.user_id == "dr-test" and event.note_version == 1
    assert not at.main.warning and at.text_area(key="sent-2-s0").value == TURNS[0][1]


def _select_script() -> None:
    """A page that calls the actions as the keyboard shortcuts component will."""
    from pathlib import Path as _Path

    import streamlit as stl

    from pipelines.editing import edit_sentence
    from workbench import store as db
    from workbench.ui import note_editor as ed
    from workbench.ui import sentence_actions as actions
    from workbench.ui.review_context import SELECTED_KEY, ReviewContext

    store = db.open_store(_Path(stl.session_state["data"]))
    version, transcript = db.get_transcript(store, "enc-act")
    ctx = ReviewContext(
        store,
        "dr-test",
        db.get_encounter(store, "enc-act"),
        None,
        version,
        transcript,
        None,
        db.get_note(store, "enc-act"),
        None,
    )
    stl.button("next", key="next", on_click=actions.select_next, args=(ctx, 1))
    stl.button("previous", key="previous", on_click=actions.select_next, args=(ctx, -1))
    edit = "Reports a dry cough for three days."  # EDIT: the script runs on its own
    selected = stl.session_state.get(SELECTED_KEY, "")
    stl.button("accept", key="accept-selected", on_click=actions.accept, args=(ctx, selected))
    edited = edit_sentence(ed.pending(ctx.note), ctx.note.draft.sentences, selected, edit)
    stl.button("edit", key="edit-selected", on_click=ed.commit, args=(ctx, edited))
    stl.write(f"selected={stl.session_state.get(SELECTED_KEY)}")


def test_select_next_walks_the_note_and_stops_at_the_ends(data: Path) -> None:
    at = AppTest.from_function(_select_script)
    at.session_state["data"] = str(data)
    at.run()
    picked = []
    for key in ("next", "next", "next", "previous", "previous", "previous"):
        at.button(key=key).click().run()
        picked.append(at.session_state["selected_sentence"])
    assert picked == ["s0", "s1", "s1", "s0", "s0", "s0"]


def test_the_selected_sentence_is_marked_current(review) -> None:
    at, _ = review
    at.button(key="play-s1").click().run()
    assert ":primary-badge[:material/arrow_right: current]" in badges(at)
    current = [m.value for m in at.markdown if "current]" in m.value]
    assert len(current) == 1 and "machine suggestion" in current[0]


def test_accept_is_refused_for_a_sentence_with_an_unsaved_edit(data: Path) -> None:
    store = st.open_store(data)
    at = AppTest.from_function(_select_script)
    at.session_state["data"] = str(data)
    at.run()
    at.button(key="next").click().run()
    at.button(key="edit-selected").click().run()
    assert autosave.get_autosave(store, ENC, "dr-test").sentences[0].text == EDIT
    at.button(key="accept-selected").click().run()
    assert any("unsaved edit" in str(v) for v in at.session_state["sentence-flash"])
    assert st.list_events(store, ENC, "sentence.accepted") == []
    at.button(key="next").click().run()
    at.button(key="accept-selected").click().run()  # s1 has no edit: accepted
    assert [e.object_id for e in st.list_events(store, ENC, "sentence.accepted")] == ["s1"]


def test_a_sentence_shows_as_written_not_as_markdown() -> None:
    from workbench.ui.sentence_list import markdown_text

    assert markdown_text("Take *2* tabs, $5 [x](y) <b>") == r"Take \*2\* tabs, \$5 \[x\](y) \<b\>"
    assert markdown_text("1. First") == r"1\. First" and markdown_text("- dash") == r"\- dash"
