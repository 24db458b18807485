"""ICD-10-CM codes per assessed problem: a hand-built visit through the real NLP and the learned
drafter, laterality, negation, the description search, decisions per problem in a real DuckDB
file, and the Review page showing the codes under their problems."""

from __future__ import annotations

from pathlib import Path

import pytest
from spacy.language import Language

from pipelines.drafting import draft_visit
from pipelines.nlp import NlpOptions, extract_entities, load_nlp, model_version
from pipelines.problem_coding import (
    LINKED,
    TEXT_SEARCH,
    IcdCatalog,
    assessed_problems,
    load_icd_catalog,
    side_code,
    stated_side,
    suggest_problem_codes,
)
from pipelines.types import Draft, Entity, Evidence, NoteSentence, Transcript
from tests.conftest import make_transcript, open_review, seed_encounter
from workbench import store as st
from workbench.store.migrations import available_migrations, migrate
from workbench.ui.components import fmt_time

VISIT = make_transcript([
    ("clinician", "Hi, what brings you in today?"),
    ("patient", "My right knee has been hurting for about three weeks, especially on the stairs."),
    ("clinician", "Any fever or chills?"),
    ("patient", "No."),
    ("clinician", "And how has your diabetes been? Are you checking your sugars?"),
    ("patient", "I take metformin five hundred milligrams twice a day and my sugars run about "
                "one fifty."),
    ("clinician", "On exam of your right knee there is tenderness over the medial joint line."),
    ("clinician", "Your hemoglobin a1c came back at eight."),
    ("clinician", "For your first problem, the right knee pain, I think this is likely "
                  "osteoarthritis. We will get an x-ray of the right knee and start meloxicam "
                  "fifteen milligrams daily."),
    ("clinician", "For your type 2 diabetes, it is not well controlled. We will increase the "
                  "metformin to one thousand milligrams twice a day."),
    ("clinician", "You do not have hypertension, your blood pressure is fine."),
    ("patient", "Okay, thank you."),
])  # fmt: skip


@pytest.fixture(scope="module")
def nlp() -> Language:
    return load_nlp(NlpOptions())


@pytest.fixture(scope="module")
def catalog() -> IcdCatalog:
    return load_icd_catalog()


@pytest.fixture(scope="module")
def visit(nlp: Language) -> tuple[tuple[Entity, ...], Draft]:
    entities = extract_entities(nlp, VISIT)
    return entities, draft_visit(VISIT, entities)


def said(transcript: Transcript, ev: Evidence) -> str:
    return transcript.segments[ev.segment_idx].text[ev.start_char : ev.end_char]


def by_name(groups, words: str):
    found = [g for g in groups if words in g.problem.name.lower()]
    assert len(found) == 1, [g.problem.name for g in groups]
    return found[0]


# --- the hand-built visit, end to end ----------------------------------------------------------


def test_each_assessed_problem_gets_its_code_with_evidence_on_the_words(visit, catalog) -> None:
    entities, draft = visit
    groups = suggest_problem_codes(draft, entities, VISIT, catalog)
    assert len(groups) == 2
    diabetes = by_name(groups, "diabetes")
    best = diabetes.codes[0]
    assert (best.code, best.confidence) == ("E11.9", LINKED)
    assert best.description == "Type 2 diabetes mellitus without complications"
    # every piece of evidence is a diabetes mention, with the times of its words
    assert [said(VISIT, ev) for ev in best.evidence] == ["diabetes", "type 2 diabetes"]
    for ev in best.evidence:
        seg = VISIT.segments[ev.segment_idx]
        assert seg.start <= ev.start_s < ev.end_s <= seg.end
    assert [entities[i].code for i in best.entities] == ["E11.9", "E11.9"]
    # the assessment's heading sentence is the A&P sentence it rests on
    assert best.sentence_ids[0] == diabetes.problem.sentence_id
    assert diabetes.problem.heading.section == "assessment_and_plan"
    assert "names the problem" in best.why


def test_laterality_picks_the_right_side_code_the_transcript_states(visit, catalog) -> None:
    entities, draft = visit
    knee = by_name(suggest_problem_codes(draft, entities, VISIT, catalog), "knee")
    best = knee.codes[0]
    # the linker gave the unspecified-side code; "right knee pain" was said
    assert best.linked_code == "M25.569"
    assert (best.code, best.description) == ("M25.561", "Pain in right knee")
    assert "right side is stated" in best.why and "M25.569" in best.why
    assert [said(VISIT, ev) for ev in best.evidence] == ["right knee pain"]
    # the reasoning sentence's "likely osteoarthritis" ranks below, hedged
    assert [c.code for c in knee.codes][1:] == ["M19.90"]
    assert knee.codes[1].score < best.score


def test_a_negated_problem_gets_no_code(visit, catalog) -> None:
    entities, draft = visit
    assert any(e.code == "I10" and e.negated for e in entities)  # "You do not have hypertension"
    groups = suggest_problem_codes(draft, entities, VISIT, catalog)
    assert "hypertension" not in " ".join(g.problem.name.lower() for g in groups)
    assert not [c for g in groups for c in g.codes if c.code.startswith("I1")]


# --- laterality and the classification ----------------------------------------------------------


def test_side_codes_exist_only_where_the_classification_has_them(catalog) -> None:
    assert side_code(catalog, "M25.569", "left") == "M25.562"  # unspecified -> side sibling
    assert side_code(catalog, "M25.56", "right") == "M25.561"  # parent -> side child
    assert side_code(catalog, "H66.9", "bilateral") == "H66.93"
    assert side_code(catalog, "E11.9", "right") is None  # diabetes has no side
    assert side_code(catalog, "M25.561", "left") is None  # a stated side is never overridden
    assert side_code(catalog, "M25.569", "bilateral") is None  # no bilateral knee pain code
    assert side_code(catalog, "Q99.99", "right") is None  # not a code
    with pytest.raises(ValueError, match="side must be"):
        side_code(catalog, "M25.569", "top")


def test_the_side_must_be_said_next_to_the_mention() -> None:
    text = "Pain in my left knee, and the right shoulder is fine. Both ankles swell."
    assert stated_side(text, 0, 4) == "left"  # "pain in my left knee"
    assert stated_side("right-sided chest pain", 12, 22) == "right"
    assert stated_side(text, 58, 64) is None  # "swell": no side next to it
    assert stated_side("swelling of both ankles", 0, 8) == "bilateral"
    assert stated_side("right and left knee pain", 15, 24) == "bilateral"
    assert stated_side("right knee pain and left hip pain", 0, 15) == "right"
    assert stated_side("knee pain", 0, 9) is None


def problem(seg: int, start: int, end: int, text: str, code: str | None, **flags) -> Entity:
    return Entity(seg, start, end, text, "PROBLEM", code=code,
                  code_system="ICD-10-CM" if code else None, code_label=code, **flags)  # fmt: skip


def ap_draft(transcript: Transcript, *sentences: tuple[str, tuple[int, int, int]]) -> Draft:
    """An aci_visit draft whose assessment and plan has these (text, evidence span) lines."""
    out = []
    for i, (text, (seg, start, end)) in enumerate(sentences):
        s = transcript.segments[seg]
        ev = Evidence(seg, start, end, s.start, s.end)
        out.append(NoteSentence(f"ap{i}", "assessment_and_plan", text, (ev,)))
    return Draft("aci_visit", ("chief_complaint", "assessment_and_plan"), tuple(out), "test")


def test_both_sides_stated_keeps_the_linked_code_and_says_why(catalog) -> None:
    said = "Knee pain in the right knee and knee pain in the left."
    t = make_transcript([("clinician", said)])
    second = said.index("knee pain")
    ents = (problem(0, 0, 9, "Knee pain", "M25.569"),
            problem(0, second, second + 9, "knee pain", "M25.569"))  # fmt: skip
    draft = ap_draft(t, ("Knee pain.", (0, 0, 9)), ("Medical Reasoning: Both knees.", (0, 0, 52)))
    (group,) = suggest_problem_codes(draft, ents, t, catalog)
    assert group.codes[0].code == "M25.569" and group.codes[0].linked_code is None
    assert "right and left" in group.codes[0].why or "left and right" in group.codes[0].why


def test_an_unlinked_problem_gets_a_lower_confidence_description_search(catalog) -> None:
    t = make_transcript(
        [
            ("clinician", "This is carpal tunnel syndrome in your right wrist."),
            ("clinician", "We will get a wrist splint for nighttime."),
        ]
    )
    uncoded = problem(0, 8, 30, "carpal tunnel syndrome", None)
    draft = ap_draft(
        t,
        ("Carpal tunnel syndrome.", (0, 8, 30)),
        ("Medical Treatment: Wrist splint at night.", (1, 0, 41)),
    )
    (group,) = suggest_problem_codes(draft, (uncoded,), t, catalog)
    assert group.problem.name == "Carpal tunnel syndrome"
    best = group.codes[0]
    assert best.confidence == TEXT_SEARCH and "lower confidence" in best.why
    assert best.code.startswith("G56.0")  # carpal tunnel syndrome, by the description search
    assert best.code == "G56.01"  # "in your right wrist": the right upper limb
    assert [said(t, ev) for ev in best.evidence] == ["carpal tunnel syndrome"]
    assert best.score <= 0.5 and best.entities == ()


def test_denied_family_or_hypothetical_headings_get_nothing(catalog) -> None:
    t = make_transcript([("clinician", "Your mother had breast cancer, so we will screen you.")])
    family = problem(0, 16, 29, "breast cancer", "C50.919", family=True)
    draft = ap_draft(
        t, ("Breast cancer.", (0, 16, 29)), ("Additional Testing: Screening mammogram.", (0, 0, 52))
    )
    (group,) = suggest_problem_codes(draft, (family,), t, catalog)
    assert group.codes == ()  # neither the linked code nor a description search


def test_problems_are_read_from_the_problem_section_only() -> None:
    t = make_transcript([("clinician", "Hypertension is stable, no fever today, continue it.")])
    hyper = problem(0, 0, 12, "Hypertension", "I10")
    draft = ap_draft(
        t,
        ("Continue it.", (0, 40, 51)),  # before any heading: no problem
        ("1. Hypertension.", (0, 0, 12)),
        ("Medical Treatment: Continue lisinopril.", (0, 36, 51)),
        ("No fever.", (0, 24, 32)),  # a negated line is never a heading
    )
    (found,) = assessed_problems(draft, (hyper,))
    assert found.name == "Hypertension" and found.sentence_id == "ap1"
    assert [s.sentence_id for s in found.sentences] == ["ap2", "ap3"]
    soap = Draft("soap", draft.sections, draft.sentences, "test")
    assert assessed_problems(soap, (hyper,)) == ()  # the SOAP template has no problem layout


def test_bad_limit_is_refused(visit, catalog) -> None:
    entities, draft = visit
    with pytest.raises(ValueError, match="limit"):
        suggest_problem_codes(draft, entities, VISIT, catalog, limit=0)


# --- decisions per problem in the store -------------------------------------------------------


@pytest.fixture
def coded(tmp_path: Path, visit, catalog):
    entities, draft = visit
    store = seed_encounter(tmp_path / "data", "enc-icd", VISIT, entities=entities, draft=draft,
                           user="dr-a")  # fmt: skip
    return store, suggest_problem_codes(draft, entities, VISIT, catalog)


def test_accepting_a_code_for_a_problem_stores_it_with_an_event(coded) -> None:
    store, groups = coded
    diabetes = by_name(groups, "diabetes")
    ref = st.ProblemRef(diabetes.problem.sentence_id, diabetes.problem.name)
    code = diabetes.codes[0]
    st.accept_code(store, "enc-icd", code.as_suggestion(), "dr-a", 1, 1, problem=ref,
                   detail={"why": code.why, "confidence": code.confidence})  # fmt: skip
    (row,) = st.list_code_decisions(store, "enc-icd")
    assert (row.code, row.decision, row.problem, row.problem_sentence_id) == (
        "E11.9", "accepted", diabetes.problem.name, diabetes.problem.sentence_id)  # fmt: skip
    (event,) = st.list_events(store, "enc-icd", "code.accepted")
    assert event.after["problem_sentence_id"] == ref.sentence_id
    assert event.after["detail"]["confidence"] == LINKED
    assert event.model_version == "problem_codes.v1"
    # the same code rejected under another problem leaves this problem's decision alone
    knee = by_name(groups, "knee")
    other = st.ProblemRef(knee.problem.sentence_id, knee.problem.name)
    st.reject_code(store, "enc-icd", code.as_suggestion(), "dr-a", problem=other)
    decisions = st.problem_code_decisions(store, "enc-icd")
    assert decisions[(ref.sentence_id, "E11.9")].decision == "accepted"
    assert decisions[(other.sentence_id, "E11.9")].decision == "rejected"
    rejected = st.list_events(store, "enc-icd", "code.rejected")
    assert rejected[0].before is None  # nothing was decided for the knee before


def test_a_problem_without_its_sentence_id_writes_nothing(coded) -> None:
    store, groups = coded
    with pytest.raises(st.StoreError, match="sentence id"):
        st.accept_code(store, "enc-icd", groups[0].codes[0].as_suggestion(), "dr-a",
                       problem=st.ProblemRef(" ", "Knee"))  # fmt: skip
    assert st.list_code_decisions(store, "enc-icd") == []
    assert not [e for e in st.list_events(store, "enc-icd") if e.kind.startswith("code.")]


def test_migration_0009_upgrades_older_decisions(tmp_path: Path) -> None:
    store = st.Store(tmp_path / "old.duckdb")
    migrate(store, [m for m in available_migrations() if m.version < 9])
    with store.connect() as con:  # an encounter and a decision written by the older code
        con.execute(
            "INSERT INTO encounters (encounter_id, title, created_at, created_by)"
            " VALUES ('enc-o', 'Old', now(), 'dr-o')"
        )
        con.execute(
            "INSERT INTO code_decisions (encounter_id, code_system, code, decision, decided_at,"
            " decided_by) VALUES ('enc-o', 'ICD-10-CM', 'I10', 'accepted', now(), 'dr-o')"
        )
    assert 9 in migrate(store)
    (old,) = st.list_code_decisions(store, "enc-o")
    assert (old.code, old.problem, old.problem_sentence_id) == ("I10", None, None)
    assert st.problem_code_decisions(store, "enc-o")[(None, "I10")] == old
    assert st.current_code_decisions(store, "enc-o")["I10"] == old


# --- the Review page ----------------------------------------------------------------------------


def test_review_page_shows_codes_under_their_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, nlp: Language, visit, catalog
) -> None:
    entities, draft = visit
    data = tmp_path / "data"
    store = seed_encounter(data, "enc-ui", VISIT, entities=entities, draft=draft,
                           nlp_version=model_version(nlp), user="dr-test")  # fmt: skip
    at = open_review(monkeypatch, data, "enc-ui", timeout=120)
    headings = [md.value for md in at.markdown if md.value.startswith("##### ")]
    assert headings[:2] == ["##### 1. Right knee pain", "##### 2. Type 2 diabetes"]
    text = [md.value for md in at.markdown]
    knee_at = text.index("##### 1. Right knee pain")
    diabetes_at = text.index("##### 2. Type 2 diabetes")
    assert any("M25.561" in t for t in text[knee_at:diabetes_at])
    assert any("E11.9" in t for t in text[diabetes_at:])
    # the mention behind the code (the clinician's earlier "diabetes") plays and is marked
    at.button(key="pcode-ev-2-E11.9-0").click().run()
    assert not at.exception, at.exception
    mention = by_name(suggest_problem_codes(draft, entities, VISIT, catalog), "diabetes")
    clicked = mention.codes[0].evidence[0]
    assert said(VISIT, clicked) == "diabetes" and clicked.segment_idx == 4
    assert any(f"“diabetes” ({fmt_time(clicked.start_s)})" in i.value for i in at.info)
    assert at.session_state["play_from"] == clicked.start_s
    assert at.session_state["selected_sentence"] == mention.problem.sentence_id
    at.button(key="pcode-accept-2-E11.9").click().run()
    assert not at.exception, at.exception
    (event,) = st.list_events(store, "enc-ui", "code.accepted")
    assert event.user_id == "dr-test" and event.after["problem"] == "Type 2 diabetes"
    assert at.button(key="pcode-accept-2-E11.9").disabled
    assert any("accepted by dr-test" in md.value for md in at.markdown)
