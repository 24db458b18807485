"""ICD-10-CM code suggestions: ranking (pure), stored decisions with events, the review panel."""

from __future__ import annotations

from pathlib import Path

import pytest
from spacy.language import Language

from pipelines.code_suggestions import CodeSuggestion, suggest_codes
from pipelines.drafting import draft_note
from pipelines.nlp import NlpOptions, extract_entities, load_nlp, model_version
from pipelines.types import Draft, Entity, Evidence, NoteSentence
from tests.conftest import make_transcript, open_review, seed_encounter
from workbench import store as st


def problem(seg: int, code: str, **flags) -> Entity:
    return Entity(seg, 0, 5, "text", "PROBLEM", code=code, code_system="ICD-10-CM",
                  code_label=f"label {code}", **flags)


# --- ranking ---------------------------------------------------------------------------------


def test_more_mentions_rank_higher_and_excluded_contexts_do_not_count() -> None:
    entities = (
        problem(0, "R05.9"),
        problem(1, "I10"), problem(2, "I10"),
        problem(3, "E11.9", negated=True),
        problem(4, "I25.10", family=True),
        problem(5, "J45.909", hypothetical=True),
        Entity(6, 0, 9, "metformin", "MEDICATION", code="DB00331", code_system="DrugBank"),
    )
    ranked = suggest_codes(entities)
    assert [(s.code, s.mentions, s.evidence) for s in ranked] == [
        ("I10", 2, (1, 2)), ("R05.9", 1, (0,))]
    assert ranked[0].score == 2.0 and ranked[0].description == "label I10"


def test_clinician_and_assessment_mentions_outrank_patient_chatter() -> None:
    transcript = make_transcript([
        ("patient", "My cough is bad and my cough keeps me up."),
        ("clinician", "Your blood pressure is high, this is hypertension."),
    ])
    entities = (problem(0, "R05.9"), problem(0, "R05.9"), problem(1, "I10"))
    plain = suggest_codes(entities)
    assert [s.code for s in plain] == ["R05.9", "I10"]  # two mentions beat one
    assert [s.code for s in suggest_codes(entities, transcript)] == ["R05.9", "I10"]
    draft = Draft("soap", ("assessment",), (NoteSentence(
        "a1", "assessment", "Hypertension.",
        (Evidence(1, 0, 40, transcript.segments[1].start, transcript.segments[1].end),)),),
        "test")
    ranked = suggest_codes(entities, transcript, draft)
    assert [s.code for s in ranked] == ["I10", "R05.9"]  # clinician x assessment = 3.0 > 2.0
    assert ranked[0].score == 3.0


def test_linker_score_weights_a_fuzzy_match_and_limit_applies() -> None:
    fuzzy = Entity(0, 0, 12, "hypertenshun", "PROBLEM", code="I10", code_system="ICD-10-CM",
                   attributes={"link_score": 0.55})
    assert suggest_codes((fuzzy,))[0].score == 0.55
    many = tuple(problem(i, f"R{i:02d}.0") for i in range(20))
    assert len(suggest_codes(many, limit=5)) == 5
    with pytest.raises(ValueError, match="limit"):
        suggest_codes(many, limit=0)


def test_suggestions_from_the_real_pipeline(nlp: Language) -> None:
    transcript = make_transcript([
        ("patient", "I have sugar diabetes and my mother had a heart attack."),
        ("clinician", "Your diabetes is getting worse. You also have hypertenshun."),
    ])
    codes = [s.code for s in suggest_codes(extract_entities(nlp, transcript), transcript)]
    assert codes[0] == "E11.9" and "I10" in codes
    assert "I21.9" not in codes  # the mother's heart attack is family history


# --- store -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nlp() -> Language:
    return load_nlp(NlpOptions())


SUGGESTION = CodeSuggestion("I10", "Essential (primary) hypertension", 3.0, (1, 2), 2)


def test_accept_then_reject_appends_rows_and_events(store: st.Store, encounter: str) -> None:
    accepted = st.accept_code(store, encounter, SUGGESTION, "dr-a", rank=1, entity_set_version=1)
    assert (accepted.decision, accepted.code, accepted.evidence) == ("accepted", "I10", (1, 2))
    rejected = st.reject_code(store, encounter, SUGGESTION, "dr-b", rank=1)
    history = st.list_code_decisions(store, encounter)
    assert [d.decision for d in history] == ["accepted", "rejected"]
    assert st.current_code_decisions(store, encounter)["I10"] == rejected
    events = [e for e in st.list_events(store, encounter) if e.kind.startswith("code.")]
    assert [(e.kind, e.user_id) for e in events] == [("code.accepted", "dr-a"),
                                                     ("code.rejected", "dr-b")]
    assert events[0].after["code"] == "I10" and events[0].after["evidence"] == [1, 2]
    assert events[1].before == {"decision": "accepted"}
    assert events[0].object_id == f"{encounter}/ICD-10-CM/I10"


def test_bad_decisions_write_nothing(store: st.Store, encounter: str) -> None:
    with pytest.raises(st.NotFound):
        st.accept_code(store, "no-such-encounter", SUGGESTION, "dr-a")
    with pytest.raises(st.StoreError, match="needs a code"):
        st.accept_code(store, encounter, CodeSuggestion(" ", "x", 1.0, (), 1), "dr-a")
    from workbench.store.codes import decide_code

    with pytest.raises(st.StoreError, match="one of"):
        decide_code(store, encounter, SUGGESTION, "maybe", "dr-a")
    assert st.list_code_decisions(store, encounter) == []
    assert not [e for e in st.list_events(store) if e.kind.startswith("code.")]


def test_a_failed_event_rolls_back_the_decision(store: st.Store, encounter: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import workbench.store.codes as codes

    def boom(con, events):
        raise RuntimeError("disk full")

    monkeypatch.setattr(codes, "insert_events", boom)
    with pytest.raises(RuntimeError):
        st.accept_code(store, encounter, SUGGESTION, "dr-a")
    assert st.list_code_decisions(store, encounter) == []


# --- the review panel --------------------------------------------------------------------------


@pytest.fixture
def review(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, nlp: Language):
    """A store with one processed encounter (real NLP and drafting, fixture audio)."""
    data = tmp_path / "data"
    transcript = make_transcript([
        ("patient", "My blood pressure has been high and I have sugar diabetes."),
        ("clinician", "So this is hypertension and type 2 diabetes, we will start amlodipine."),
    ])
    entities = extract_entities(nlp, transcript)
    store = seed_encounter(data, "enc-codes", transcript, entities=entities,
                           draft=draft_note(transcript, entities),
                           nlp_version=model_version(nlp), user="dr-test")
    return open_review(monkeypatch, data, "enc-codes"), store


def test_accepting_a_suggestion_in_review_writes_the_event(review) -> None:
    at, store = review
    assert any("suggestion" in md.value and "I10" in md.value for md in at.markdown)
    at.button(key="code-accept-I10").click().run()
    assert not at.exception, at.exception
    events = st.list_events(store, "enc-codes", "code.accepted")
    assert len(events) == 1 and events[0].user_id == "dr-test"
    assert events[0].after["code"] == "I10"
    assert st.current_code_decisions(store, "enc-codes")["I10"].decided_by == "dr-test"
    assert any("accepted by dr-test" in md.value for md in at.markdown)
    assert at.button(key="code-accept-I10").disabled
    at.button(key="code-reject-E11.9").click().run()
    assert [e.kind for e in st.list_events(store, "enc-codes") if e.kind.startswith("code.")] == [
        "code.accepted", "code.rejected"]
