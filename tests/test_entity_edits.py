"""Entity corrections in the store: each action a new version plus its typed event; people's
entities survive transcript corrections and re-processing."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from pipelines.entity_edit import FLAGS, entity_from_dict, find_phrase
from pipelines.nlp import NlpOptions, load_nlp
from pipelines.transcript_edit import SegmentFix
from pipelines.types import Entity
from tests.conftest import make_draft, make_transcript
from workbench import store as st
from workbench.corrections import correct_transcript
from workbench.jobs import process_encounter

TURNS = [
    ("clinician", "Any chest pain or shortness of breath?"),
    ("patient", "No chest pain, but my father had asthma and I take metformin 500 mg daily."),
    ("clinician", "Your blood pressure is 130 over 80, we will check an HbA1c."),
]
ENTITY_KEYS = {
    "segment_idx",
    "start",
    "end",
    "text",
    "label",
    "flags",
    "code",
    "code_system",
    "code_label",
    "attributes",
    "source",
}


def span(seg: int, words: str, label: str, **kw) -> Entity:
    """An entity on the first occurrence of ``words`` in segment ``seg`` of TURNS."""
    text = TURNS[seg][1]
    start = text.index(words)
    return Entity(seg, start, start + len(words), words, label, **kw)


MACHINE = (
    span(0, "chest pain", "PROBLEM", code="R07.9", code_system="ICD-10-CM"),
    span(1, "chest pain", "PROBLEM", negated=True),
    span(1, "asthma", "PROBLEM", code="J45.909", code_system="ICD-10-CM"),
    span(
        1,
        "metformin",
        "MEDICATION",
        attributes={"dose": "500 mg", "frequency": "daily", "vocabulary": "curated"},
    ),
    span(
        2,
        "blood pressure",
        "VITAL",
        attributes={"value": "130/80", "unit": "mmHg", "value_start": 23, "value_end": 34},
    ),
)


@pytest.fixture
def enc(store: st.Store) -> str:
    """An encounter with a transcript, a draft and a machine entity set (version 1)."""
    st.add_encounter(store, st.EncounterRecord("enc-e", "Entity visit"), "dr-a")
    transcript = make_transcript(TURNS)
    version = st.save_transcript(store, "enc-e", transcript, "dr-a")
    st.save_draft(store, "enc-e", make_draft(transcript), version, "dr-a")
    st.save_entities(store, "enc-e", version, MACHINE, "nlp.test", "pipeline")
    return "enc-e"


def entity_events(store: st.Store, enc: str) -> list[st.Event]:
    return [e for e in st.list_events(store, enc) if e.kind.startswith(("entity.", "entities.c"))]


def index_of(entities: tuple[Entity, ...], text: str, label: str | None = None) -> int:
    return next(
        i for i, e in enumerate(entities) if e.text == text and (label is None or e.label == label)
    )


def test_add_span_is_a_new_version_with_its_event(store: st.Store, enc: str) -> None:
    new = span(0, "shortness of breath", "PROBLEM")
    version = st.add_entity(store, enc, 1, new, "dr-b")
    assert version == 2
    saved = st.get_entity_set(store, enc)
    assert saved.created_by == "dr-b" and saved.model_version == "nlp.test"
    assert saved.transcript_version == 1 and not saved.confirmed
    added = saved.entities[index_of(saved.entities, "shortness of breath")]
    assert added.source == "human" and added.label == "PROBLEM"
    assert len(saved.entities) == len(MACHINE) + 1
    assert st.get_entity_set(store, enc, 1).entities == MACHINE  # the old version is kept
    [event] = entity_events(store, enc)
    assert event.kind == "entity.added" and event.user_id == "dr-b" and event.before is None
    assert set(event.after) == ENTITY_KEYS
    assert event.after["text"] == "shortness of breath" and event.after["source"] == "human"
    assert event.after["flags"] == dict.fromkeys(FLAGS, False)
    assert event.object_id == f"{enc}/entities/2" and event.model_version == "nlp.test"


@pytest.mark.parametrize(
    ("entity", "message"),
    [
        (Entity(0, 30, 99, "x", "PROBLEM"), "outside segment 0"),
        (Entity(0, 4, 14, "chest pains", "PROBLEM"), "does not match"),
        (Entity(0, 3, 14, " chest pain", "PROBLEM"), "space"),
        (span(0, "chest pain", "DIAGNOSIS"), "Unknown label"),
        (span(0, "chest pain", "PROBLEM"), "already marked as PROBLEM"),
        (Entity(7, 0, 3, "Any", "PROBLEM"), "no segment 7"),
        (span(0, "chest pain", "PROBLEM", attributes={"dose": "1"}), "takes no attributes"),
        (span(1, "metformin", "TEST", attributes={"dose": "1"}), "takes value, unit"),
        (
            span(0, "chest", "ANATOMY", code="Q99.999", code_system="ICD-10-CM"),
            "not an ICD-10-CM code",
        ),
    ],
)
def test_bad_additions_are_refused_and_write_nothing(
    store: st.Store, enc: str, entity: Entity, message: str
) -> None:
    with pytest.raises(st.InvalidEdit, match=message):
        st.add_entity(store, enc, 1, entity, "dr-b")
    assert st.entity_set_version(store, enc) == 1 and not entity_events(store, enc)


def test_same_span_with_another_label_is_allowed(store: st.Store, enc: str) -> None:
    st.add_entity(store, enc, 1, span(0, "chest", "ANATOMY"), "dr-b")
    assert [e.label for e in st.get_entities(store, enc) if e.text.startswith("chest")][:2] == [
        "PROBLEM",
        "ANATOMY",
    ]


def test_remove(store: st.Store, enc: str) -> None:
    i = index_of(MACHINE, "asthma")
    assert st.remove_entity(store, enc, 1, i, "dr-b") == 2
    assert "asthma" not in {e.text for e in st.get_entities(store, enc)}
    [event] = entity_events(store, enc)
    assert event.kind == "entity.removed" and event.after is None
    assert entity_from_dict(event.before) == MACHINE[i]
    assert st.removed_entities(store, enc) == (MACHINE[i],)
    with pytest.raises(st.NotFound, match="no entity 9"):
        st.remove_entity(store, enc, 2, 9, "dr-b")


def test_relabel_keeps_machine_metadata_and_drops_foreign_attributes(
    store: st.Store, enc: str
) -> None:
    i = index_of(MACHINE, "metformin")
    st.relabel_entity(store, enc, 1, i, "TEST", "dr-b")
    entity = st.get_entities(store, enc)[i]
    assert entity.label == "TEST" and entity.source == "human"
    assert entity.attributes == {"vocabulary": "curated"}  # dose/frequency are not TEST's
    [event] = entity_events(store, enc)
    assert event.kind == "entity.relabelled"
    assert (event.before["label"], event.after["label"]) == ("MEDICATION", "TEST")
    assert event.before["attributes"]["dose"] == "500 mg"
    assert st.relabel_entity(store, enc, 2, i, "TEST", "dr-b") == 2, "same label: no change"
    with pytest.raises(st.InvalidEdit, match="Unknown label"):
        st.relabel_entity(store, enc, 2, i, "DRUG", "dr-b")
    st.add_entity(store, enc, 2, span(0, "chest pain", "ANATOMY"), "dr-b")
    with pytest.raises(st.InvalidEdit, match="already marked as ANATOMY"):
        st.relabel_entity(
            store,
            enc,
            3,
            index_of(st.get_entities(store, enc), "chest pain", "PROBLEM"),
            "ANATOMY",
            "dr-b",
        )
    assert len(entity_events(store, enc)) == 2


def test_change_code_checks_icd_and_takes_free_codes(store: st.Store, enc: str) -> None:
    i = index_of(MACHINE, "asthma")
    assert st.change_entity_code(store, enc, 1, i, " j45.20 ", "ICD-10-CM", "", "dr-b") == 2
    entity = st.get_entities(store, enc)[i]
    assert (entity.code, entity.code_system) == ("J45.20", "ICD-10-CM")
    assert "asthma" in entity.code_label.lower() and entity.source == "human"
    st.change_entity_code(store, enc, 2, i, "J4520", "ICD-10-CM", None, "dr-b")
    assert st.entity_set_version(store, enc) == 2, "the same code without its dot: no change"
    st.change_entity_code(store, enc, 2, i, "exercise asthma", "local", None, "dr-b")
    entity = st.get_entities(store, enc)[i]
    assert (entity.code, entity.code_system, entity.code_label) == (
        "exercise asthma",
        "local",
        "exercise asthma",
    )
    st.change_entity_code(store, enc, 3, i, "", None, None, "dr-b")
    assert st.get_entities(store, enc)[i].code is None
    kinds = [(e.kind, e.before["code"], e.after["code"]) for e in entity_events(store, enc)]
    assert kinds == [
        ("entity.code_changed", "J45.909", "J45.20"),
        ("entity.code_changed", "J45.20", "exercise asthma"),
        ("entity.code_changed", "exercise asthma", None),
    ]
    for bad, system, message in [
        ("J45.99999", "ICD-10-CM", "not an ICD-10-CM code"),
        ("123", None, "code system"),
        ("", "local", None),
    ]:
        if message is None:  # a label without a code is a mistake too
            with pytest.raises(st.InvalidEdit, match="Give a code"):
                st.change_entity_code(store, enc, 4, i, bad, system, "a label", "dr-b")
            continue
        with pytest.raises(st.InvalidEdit, match=message):
            st.change_entity_code(store, enc, 4, i, bad, system, None, "dr-b")
    assert st.entity_set_version(store, enc) == 4


def test_context_flags(store: st.Store, enc: str) -> None:
    i = index_of(MACHINE, "asthma")
    st.set_entity_context(store, enc, 1, i, {"family": True, "historical": True}, "dr-b")
    entity = st.get_entities(store, enc)[i]
    assert entity.family and entity.historical and not entity.negated
    [event] = entity_events(store, enc)
    assert event.kind == "entity.context_changed"
    assert not event.before["flags"]["family"] and event.after["flags"]["family"]
    assert st.set_entity_context(store, enc, 2, i, {"family": True}, "dr-b") == 2
    with pytest.raises(st.InvalidEdit, match="Unknown context absent"):
        st.set_entity_context(store, enc, 2, i, {"absent": True}, "dr-b")
    j = index_of(MACHINE, "chest pain")
    st.set_entity_context(store, enc, 2, j, {"uncertain": True}, "dr-b")
    assert st.get_entities(store, enc)[j].uncertain


def test_attributes(store: st.Store, enc: str) -> None:
    i = index_of(MACHINE, "metformin")
    st.set_entity_attributes(
        store, enc, 1, i, {"dose": "1000 mg", "route": "by mouth", "frequency": ""}, "dr-b"
    )
    assert st.get_entities(store, enc)[i].attributes == {
        "dose": "1000 mg",
        "route": "by mouth",
        "vocabulary": "curated",
    }
    [event] = entity_events(store, enc)
    assert event.kind == "entity.attributes_changed"
    assert event.before["attributes"]["frequency"] == "daily"
    v = index_of(MACHINE, "blood pressure")
    st.set_entity_attributes(store, enc, 2, v, {"value": "128/82", "unit": "mmHg"}, "dr-b")
    # The machine's character offsets of the old value no longer hold.
    assert st.get_entities(store, enc)[v].attributes == {"value": "128/82", "unit": "mmHg"}
    with pytest.raises(st.InvalidEdit, match="PROBLEM takes no attributes, not dose"):
        st.set_entity_attributes(store, enc, 3, index_of(MACHINE, "asthma"), {"dose": "x"}, "dr-b")


def test_confirm_marks_the_set_reviewed_until_the_next_edit(store: st.Store, enc: str) -> None:
    assert st.confirm_entities(store, enc, 1, "dr-b") == 2
    confirmed = st.get_entity_set(store, enc)
    assert confirmed.confirmed and confirmed.confirmed_by == "dr-b"
    assert confirmed.entities == MACHINE
    [event] = entity_events(store, enc)
    assert event.kind == "entities.confirmed" and event.after["version"] == 2
    assert [entity_from_dict(d) for d in event.after["entities"]] == list(MACHINE)
    assert st.confirm_entities(store, enc, 2, "dr-b") == 2, "already confirmed: no new version"
    st.remove_entity(store, enc, 2, 0, "dr-b")
    assert not st.get_entity_set(store, enc).confirmed
    assert st.get_entity_set(store, enc, 2).confirmed


def test_concurrent_edit_is_refused_and_loses_nothing(store: st.Store, enc: str) -> None:
    st.relabel_entity(store, enc, 1, 0, "ANATOMY", "dr-a")
    with pytest.raises(st.ConcurrentEdit, match="you worked on version 1, the newest is 2"):
        st.remove_entity(store, enc, 1, 0, "dr-b")
    with pytest.raises(st.ConcurrentEdit):
        st.confirm_entities(store, enc, 1, "dr-b")
    assert st.get_entities(store, enc)[0].label == "ANATOMY"
    assert [e.kind for e in entity_events(store, enc)] == ["entity.relabelled"]
    with pytest.raises(st.NotFound):
        st.remove_entity(store, enc, 9, 0, "dr-b")


def test_signed_note_locks_the_entities(store: st.Store, enc: str) -> None:
    st.sign_note(store, enc, 1, "dr-a")
    with pytest.raises(st.NoteLocked):
        st.add_entity(store, enc, 1, span(0, "shortness of breath", "PROBLEM"), "dr-b")
    with pytest.raises(st.NoteLocked):
        st.confirm_entities(store, enc, 1, "dr-b")
    assert st.entity_set_version(store, enc) == 1


def test_find_phrase_ignores_case_and_spacing_but_not_word_edges() -> None:
    text = "Chest pain, chest  pain and chest painful"
    assert find_phrase(text, "chest pain") == [(0, 10), (12, 23)]
    assert find_phrase(text, "  ") == [] and find_phrase(text, "hest") == []


# --- people's entities when the machine recomputes -------------------------------------


@pytest.fixture(scope="module")
def nlp():
    return load_nlp(NlpOptions(vocabularies=("curated",)))


def test_transcript_correction_keeps_human_entities(store: st.Store, enc: str, nlp) -> None:
    # People's work: a new span in untouched segment 0, one in segment 1 that the fix
    # keeps, one whose words the fix deletes, and a machine entity removed in segment 1.
    v = st.add_entity(store, enc, 1, span(0, "shortness of breath", "PROBLEM"), "dr-b")
    v = st.add_entity(store, enc, v, span(1, "my father", "PROBLEM", family=True), "dr-b")
    v = st.add_entity(store, enc, v, span(1, "500 mg", "TEST"), "dr-b")
    ents = st.get_entities(store, enc)
    gone = next(i for i, e in enumerate(ents) if e.segment_idx == 1 and e.text == "chest pain")
    v = st.remove_entity(store, enc, v, gone, "dr-b")
    assert not any(
        e.segment_idx == 1 and e.text == "chest pain" for e in st.get_entities(store, enc)
    )
    fixed = "No chest pain, but my father had asthma and I take metformin every day."
    result = correct_transcript(store, nlp, enc, 1, [SegmentFix(1, text=fixed)], "dr-b")
    assert result.recomputed_segments == (1,)
    after = st.get_entities(store, enc, result.transcript_version)
    human = {(e.segment_idx, e.text, e.label) for e in after if e.source == "human"}
    assert human == {(0, "shortness of breath", "PROBLEM"), (1, "my father", "PROBLEM")}
    father = next(e for e in after if e.text == "my father")
    assert fixed[father.start : father.end] == "my father" and father.family
    assert not any(e.segment_idx == 1 and e.text == "chest pain" for e in after), (
        "the entity the clinician removed came back"
    )
    assert any(
        e.segment_idx == 1 and e.text == "asthma" and e.source == "machine" for e in after
    )  # re-extracted
    kinds = {e.kind: e for e in st.list_events(store, enc)}
    assert kinds["entity.dropped"].before["text"] == "500 mg"
    assert kinds["entity.dropped"].after is None


def test_human_entities_follow_their_words(store: st.Store, enc: str, nlp) -> None:
    v = st.add_entity(store, enc, 1, span(1, "my father", "PROBLEM", family=True), "dr-b")
    fixed = "No chest pain at all, but my father had asthma and I take metformin 500 mg daily."
    correct_transcript(store, nlp, enc, 1, [SegmentFix(1, text=fixed)], "dr-b")
    father = next(e for e in st.get_entities(store, enc) if e.text == "my father")
    assert (father.start, father.end) == (fixed.index("my father"), fixed.index(" had"))
    [moved] = [e for e in st.list_events(store, enc) if e.kind == "entity.remapped"]
    assert moved.before["start"] + len(" at all") == moved.after["start"]
    assert st.entity_set_version(store, enc) == v + 1


def test_correction_refused_when_entities_changed_meanwhile(
    store: st.Store, enc: str, nlp, monkeypatch: pytest.MonkeyPatch
) -> None:
    import workbench.corrections as corrections

    real = corrections.keep_human_work

    def edit_meanwhile(*args, **kwargs):
        out = real(*args, **kwargs)
        st.add_entity(store, enc, 1, span(0, "shortness of breath", "PROBLEM"), "dr-c")
        return out

    monkeypatch.setattr(corrections, "keep_human_work", edit_meanwhile)
    with pytest.raises(st.ConcurrentEdit):
        correct_transcript(store, nlp, enc, 1, [SegmentFix(1, text="No chest pain.")], "dr-b")
    assert st.latest_transcript_version(store, enc) == 1
    assert "shortness of breath" in {e.text for e in st.get_entities(store, enc)}


def test_reprocessing_keeps_human_entities(store: st.Store, enc: str, nlp) -> None:
    st.add_entity(store, enc, 1, span(2, "HbA1c", "TEST", attributes={"value": "7.1"}), "dr-b")
    st.relabel_entity(store, enc, 2, index_of(MACHINE, "asthma"), "ANATOMY", "dr-b")
    engine = SimpleNamespace(nlp=nlp)  # the transcript exists, so only NLP is needed
    again = process_encounter(store, store.path.parent, engine, enc, "batch")
    assert again.steps_run == ("verify",), "nothing re-run; the unchecked draft is checked"
    # A newer transcript without entities (as an import would leave it) is re-extracted:
    _, transcript = st.get_transcript(store, enc)
    st.save_transcript(store, enc, transcript, "importer", kind="imported")
    result = process_encounter(store, store.path.parent, engine, enc, "batch")
    assert result.steps_run == ("nlp",)
    ents = st.get_entities(store, enc, 2)
    human = {(e.text, e.label, e.attributes.get("value")) for e in ents if e.source == "human"}
    assert human == {("HbA1c", "TEST", "7.1"), ("asthma", "ANATOMY", None)}
    assert not any(e.text == "asthma" and e.label == "PROBLEM" for e in ents)
    assert any(e.text == "shortness of breath" and e.source == "machine" for e in ents)
