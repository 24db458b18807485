"""The Review page's entity panel, driven with AppTest from the app's entry point.

A hand-built encounter (transcript, draft, machine entity set, the ASR fixture clip as its
audio) keeps these fast; each test checks the DuckDB rows and the events a click wrote.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import make_draft, make_transcript, open_review, seed_encounter
from tests.test_entity_edits import MACHINE, TURNS
from tests.test_transcript_player import player_html
from workbench import store as st
from workbench.ui.entity_panel import ADD_SEGMENT_KEY, PICK_KEY, entity_key

ENC = "enc-panel"


@pytest.fixture
def review(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    data = tmp_path / "data"
    transcript = make_transcript(TURNS)
    store = seed_encounter(data, ENC, transcript, entities=MACHINE,
                           draft=make_draft(transcript))
    return open_review(monkeypatch, data, ENC), store


def pick(at: AppTest, text: str) -> int:
    """Select the entity whose words are ``text`` in the panel's picker; returns its index."""
    box = at.selectbox(key=PICK_KEY)
    index = next(i for i, option in enumerate(box.options) if f" · {text}" in option)
    box.select_index(index).run()
    assert not at.exception, at.exception
    return index


def events(store: st.Store, kind: str) -> list[st.Event]:
    return [e for e in st.list_events(store, ENC) if e.kind == kind]


def test_panel_lists_entities_with_labels_context_and_origin(review) -> None:
    at, _ = review
    html = " ".join(m.value for m in at.markdown)
    assert "“asthma”" in html and "J45.909" in html
    assert ">negated</span>" in html, "context is shown as a text badge"
    assert "dose <b>500 mg</b>" in html and "vocabulary" not in html
    assert "machine suggestion" in html and "not yet confirmed" in html
    assert "absent: PROBLEM" in player_html(at), "negated entities in the transcript say so"


def test_add_a_span_from_typed_words(review) -> None:
    at, store = review
    at.selectbox(key=ADD_SEGMENT_KEY).select(1).run()
    at.text_input(key="ent-add-words-1").input("my  Father")
    at.selectbox(key="ent-add-label-1").select("PROBLEM")
    at.button(key="ent-add-submit-1").click().run()
    assert not at.exception, at.exception
    saved = st.get_entity_set(store, ENC)
    assert saved.version == 2 and saved.created_by == "dr-test"
    added = [e for e in saved.entities if e.source == "human"]
    assert [(e.segment_idx, e.text, e.label) for e in added] == [(1, "my father", "PROBLEM")]
    [event] = events(store, "entity.added")
    assert event.user_id == "dr-test" and event.after["text"] == "my father"
    box = at.selectbox(key=PICK_KEY)
    assert " · my father · PROBLEM" in box.options[box.index], "the new entity is selected"
    assert "clinician" in " ".join(m.value for m in at.markdown)


def test_add_words_not_in_the_segment_is_an_error(review) -> None:
    at, store = review
    at.selectbox(key=ADD_SEGMENT_KEY).select(0).run()
    at.text_input(key="ent-add-words-1").input("asthma")
    at.button(key="ent-add-submit-1").click().run()
    assert any("does not appear in this segment" in e.value for e in at.error)
    at.text_input(key="ent-add-words-1").input("chest pain")
    at.selectbox(key="ent-add-label-1").select("PROBLEM")
    at.button(key="ent-add-submit-1").click().run()
    assert any("already marked as PROBLEM" in e.value for e in at.error)
    assert st.entity_set_version(store, ENC) == 1 and not events(store, "entity.added")


def test_remove(review) -> None:
    at, store = review
    i = pick(at, "asthma")
    at.button(key=entity_key(1, i, "remove")).click().run()
    assert not at.exception, at.exception
    assert "asthma" not in {e.text for e in st.get_entities(store, ENC)}
    [event] = events(store, "entity.removed")
    assert event.before["text"] == "asthma" and event.after is None
    assert event.user_id == "dr-test"


def test_relabel(review) -> None:
    at, store = review
    i = pick(at, "metformin")
    at.selectbox(key=entity_key(1, i, "label")).select("TEST")
    at.button(key=entity_key(1, i, "relabel")).click().run()
    assert not at.exception, at.exception
    entity = st.get_entities(store, ENC)[i]
    assert entity.label == "TEST" and entity.source == "human"
    [event] = events(store, "entity.relabelled")
    assert (event.before["label"], event.after["label"]) == ("MEDICATION", "TEST")
    assert at.selectbox(key=PICK_KEY).value == i, "the same entity stays selected"


def test_change_code_takes_the_icd_description(review) -> None:
    at, store = review
    i = pick(at, "asthma")
    at.text_input(key=entity_key(1, i, "code")).input("J45.20")
    at.button(key=entity_key(1, i, "save-code")).click().run()
    assert not at.exception, at.exception
    entity = st.get_entities(store, ENC)[i]
    assert (entity.code, entity.code_system) == ("J45.20", "ICD-10-CM")
    assert entity.code_label != "Unspecified asthma, uncomplicated"  # not the old code's label
    [event] = events(store, "entity.code_changed")
    assert (event.before["code"], event.after["code"]) == ("J45.909", "J45.20")
    at.text_input(key=entity_key(2, i, "code")).input("J99.999")
    at.button(key=entity_key(2, i, "save-code")).click().run()
    assert any("not an ICD-10-CM code" in e.value for e in at.error)
    assert st.entity_set_version(store, ENC) == 2


def test_toggle_context_flags(review) -> None:
    at, store = review
    i = pick(at, "asthma")
    at.checkbox(key=entity_key(1, i, "family")).set_value(True).run()
    assert not at.exception, at.exception
    assert st.get_entities(store, ENC)[i].family
    at.checkbox(key=entity_key(2, i, "uncertain")).set_value(True).run()
    j = pick(at, "chest pain · PROBLEM · negated")
    at.checkbox(key=entity_key(3, j, "negated")).set_value(False).run()
    kinds = events(store, "entity.context_changed")
    assert [(e.before["text"], {f for f, on in e.after["flags"].items() if on}) for e in kinds] == [
        ("asthma", {"family"}),
        ("asthma", {"family", "uncertain"}),
        (st.get_entities(store, ENC)[j].text, set()),
    ]
    html = " ".join(m.value for m in at.markdown)
    assert ">family</span>" in html and ">uncertain</span>" in html
    assert "fam ?" in player_html(at), "the transcript shows the context badges"


def test_edit_attributes(review) -> None:
    at, store = review
    i = pick(at, "metformin")
    at.text_input(key=entity_key(1, i, "attr-route")).input("by mouth")
    at.text_input(key=entity_key(1, i, "attr-frequency")).input("")
    at.button(key=entity_key(1, i, "save-attrs")).click().run()
    assert not at.exception, at.exception
    assert st.get_entities(store, ENC)[i].attributes == {
        "dose": "500 mg",
        "route": "by mouth",
        "vocabulary": "curated",
    }
    [event] = events(store, "entity.attributes_changed")
    assert event.before["attributes"]["frequency"] == "daily"


def test_confirm(review) -> None:
    at, store = review
    at.button(key="ent_confirm").click().run()
    assert not at.exception, at.exception
    confirmed = st.get_entity_set(store, ENC)
    assert confirmed.confirmed and confirmed.confirmed_by == "dr-test" and confirmed.version == 2
    [event] = events(store, "entities.confirmed")
    assert len(event.after["entities"]) == len(MACHINE)
    assert at.button(key="ent_confirm").disabled
    assert "machine · confirmed" in " ".join(m.value for m in at.markdown)


def test_stale_page_edit_is_refused(review) -> None:
    at, store = review
    i = pick(at, "asthma")
    st.relabel_entity(store, ENC, 1, 0, "ANATOMY", "dr-other")  # someone else, meanwhile
    at.button(key=entity_key(1, i, "remove")).click().run()
    assert any("Reload" in e.value for e in at.error)
    assert "asthma" in {e.text for e in st.get_entities(store, ENC)}
    assert not events(store, "entity.removed")


def test_signed_note_closes_entity_corrections(review) -> None:
    at, store = review
    st.sign_note(store, ENC, 1, "dr-test")
    at.run()
    assert not at.exception, at.exception
    assert any("entity corrections are closed" in c.value for c in at.caption)
    assert not [b for b in at.button if b.key and b.key.startswith("ent-")]
    assert at.button(key="ent_confirm").disabled
