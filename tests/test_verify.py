"""The support check (pipelines.verify): labels, reasons and evidence for note sentences,
omissions, the stored checks, the Review page's badges and "Add to note".

Hand-built transcripts, the real clinical NLP, a real DuckDB file; the Review page through
AppTest from the app's entry point.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from spacy.language import Language
from streamlit.testing.v1 import AppTest

from pipelines.drafting import draft_note
from pipelines.drafting.router import load_model
from pipelines.drafting.sentences import asks_presence
from pipelines.nlp import NlpOptions, extract_entities, load_nlp, model_version
from pipelines.types import Draft, Evidence, NoteSentence, SupportResult, Transcript
from pipelines.verify import index_transcript, load_lexicon, quantities, verify_sentences
from pipelines.verify.metrics import evidence_coverage, label_counts, unsupported_rate
from pipelines.verify.omissions import find_omissions
from pipelines.verify.plain import dialogue_transcript, note_sentences
from tests.conftest import REPO, edit_sentence, make_transcript, open_review, seed_encounter
from workbench import store as st
from workbench.jobs import PipelineOptions, process_encounter
from workbench.store.migrations import available_migrations, migrate
from workbench.support import check_note, current_support

SHARED = REPO.parent / "shared" / "datasets"
SOAP = ("subjective", "objective", "assessment", "plan")

VISIT = [
    ("clinician", "What brings you in today?"),
    ("patient", "I've had pain in my left knee for about two weeks, it swells up after I walk."),
    ("clinician", "Any chest pain?"),
    ("patient", "Yes, sometimes when I climb stairs."),
    ("clinician", "Any fever or chills?"),
    ("patient", "No."),
    ("clinician", "Your blood pressure today is one fifty two over ninety six."),
    ("clinician", "I'm going to start you on meloxicam fifteen milligrams once a day with food."),
    ("clinician", "I also want to increase your lisinopril to twenty milligrams a day."),
    ("clinician", "We'll get an x-ray of the left knee and I'll see you back in two weeks."),
]


@pytest.fixture(scope="module")
def nlp() -> Language:
    return load_nlp(NlpOptions())


@pytest.fixture(scope="module")
def visit(nlp: Language):
    transcript = make_transcript(VISIT)
    return transcript, extract_entities(nlp, transcript)


def check(nlp: Language, visit, *texts: str) -> list[SupportResult]:
    transcript, entities = visit
    sentences = [NoteSentence(f"s{i}", "note", t) for i, t in enumerate(texts)]
    return list(verify_sentences(sentences, transcript, entities, nlp))


def problems(result: SupportResult, kind: str) -> list[str]:
    return [r.message for r in result.reasons if r.kind == kind and r.verdict != "ok"]


# --- labels ----------------------------------------------------------------------------------


def test_a_paraphrase_is_supported_and_linked_to_its_passage(nlp, visit) -> None:
    transcript, _ = visit
    (result,) = check(nlp, visit, "Reports left knee pain for 2 weeks with swelling after walking.")
    assert result.label == "supported" and result.score >= 0.75
    assert [e.segment_idx for e in result.evidence] == [1]
    ev = result.evidence[0]
    segment = transcript.segments[1]
    assert "left knee" in segment.text[ev.start_char : ev.end_char]
    assert segment.start <= ev.start_s <= ev.end_s <= segment.end


def test_a_wrong_number_is_unsupported(nlp, visit) -> None:
    dose, pressure, frequency, interval, right = check(
        nlp,
        visit,
        "Start meloxicam 7.5 mg daily.",
        "Blood pressure 120/80.",
        "Start meloxicam 15 mg twice a day.",
        "Follow up in 6 weeks.",
        "Start meloxicam 15 mg daily with food.",
    )
    assert dose.label == "unsupported"
    assert problems(dose, "number") == ["says “7.5 mg”, the visit says “fifteen milligrams”"]
    assert (
        pressure.label == "unsupported"
        and "one fifty two over ninety six" in problems(pressure, "number")[0]
    )
    assert frequency.label == "unsupported" and "once a day" in problems(frequency, "number")[0]
    assert interval.label == "unsupported" and "two weeks" in problems(interval, "number")[0]
    assert right.label == "supported" and not problems(right, "number")


def test_the_wrong_side_is_unsupported(nlp, visit) -> None:
    wrong, both, right = check(
        nlp,
        visit,
        "Right knee pain for 2 weeks.",
        "Bilateral knee pain.",
        "Left knee pain for 2 weeks.",
    )
    assert wrong.label == "unsupported"
    assert problems(wrong, "laterality") == ["says right, the visit says left"]
    assert both.label == "unsupported" and problems(both, "laterality")
    assert right.label == "supported" and not problems(right, "laterality")


def test_a_flipped_negation_is_unsupported(nlp, visit) -> None:
    denies_pain, reports_fever, denies_fever, reports_pain = check(
        nlp,
        visit,
        "Denies chest pain.",
        "Reports fever.",
        "Denies fever or chills.",
        "Reports chest pain on climbing stairs.",
    )
    assert denies_pain.label == "unsupported"
    assert problems(denies_pain, "negation") == ["says no “chest pain”, but the visit affirms it"]
    assert reports_fever.label == "unsupported"
    assert problems(reports_fever, "negation") == ["says “fever”, but the patient denied it"]
    assert denies_fever.label == "supported" and reports_pain.label == "supported"
    # The answer ("No.") is part of the evidence of "Denies fever or chills."
    assert [e.segment_idx for e in denies_fever.evidence] == [4, 5]


def test_symptoms_listed_as_examples_in_a_question_are_denied_by_a_no(nlp) -> None:
    turns = [
        ("clinician", "How is the cough?"),
        ("patient", "It is better."),
        ("clinician", "Okay and any other symptoms like fever or breathlessness or chest pain"),
        ("patient", "No."),
    ]
    transcript = make_transcript(turns)
    asked = (transcript, extract_entities(nlp, transcript))
    denies, reports = check(nlp, asked, "Denies fever and chest pain.", "Reports chest pain.")
    assert denies.label == "supported" and not problems(denies, "negation")
    assert reports.label == "unsupported"
    assert problems(reports, "negation") == ["says “chest pain”, but the patient denied it"]
    # Other words between the cue and the symptom still make no presence question.
    assert not asks_presence("any other questions before we talk about the cough", 42)
    assert not asks_presence("any ideas like does the cough keep you up at night", 23)


def test_swollen_and_swelling_are_one_word(nlp) -> None:
    turns = [("clinician", "Any swollen glands in your neck?"), ("patient", "No.")]
    transcript = make_transcript(turns)
    neck = (transcript, extract_entities(nlp, transcript))
    swelling, sweating = check(nlp, neck, "Denies neck swelling.", "Denies sweating.")
    assert swelling.label == "supported", swelling.reasons
    assert sweating.label == "unsupported"


def test_a_sub_label_is_structure_and_a_problem_label_is_a_claim(nlp, visit) -> None:
    labelled, plain, problem = check(
        nlp,
        visit,
        "Constitutional: Denies fever or chills.",
        "Denies fever or chills.",
        "Diabetes: start meloxicam 15 mg daily with food.",
    )
    assert labelled.text == "Constitutional: Denies fever or chills."
    assert (labelled.label, labelled.score) == (plain.label, plain.score) == ("supported", 1.0)
    assert problem.label != "supported"  # the visit never mentions diabetes


def test_a_pain_score_out_of_ten_is_a_score(nlp) -> None:
    transcript = make_transcript([("patient", "The pain is like an eleven out of ten.")])
    pain = (transcript, extract_entities(nlp, transcript))
    said, other = check(nlp, pain, "Pain 11/10.", "Pain 12/10.")
    assert said.label == "supported" and not problems(said, "number")
    assert other.label == "unsupported" and problems(other, "number")


def test_a_question_copied_into_a_note_claims_nothing(nlp, visit) -> None:
    asked, affirmed = check(nlp, visit, "Any fever or chills?", "Has fever or chills.")
    assert not problems(asked, "negation") and asked.label != "unsupported"
    assert problems(affirmed, "negation") and affirmed.label == "unsupported"


BOILERPLATE = (
    "Patient counselled on risks and benefits.",
    "Return precautions given.",
    "All questions answered.",
    "The patient understands and agrees with the plan.",
)


def test_boilerplate_the_visit_never_said_is_unsupported(nlp, visit) -> None:
    for result in check(nlp, visit, *BOILERPLATE):
        assert result.label == "unsupported", result.text
        assert problems(result, "boilerplate"), result.text


def test_boilerplate_is_fine_when_it_was_said(nlp) -> None:
    transcript = make_transcript(
        [
            ("clinician", "We talked about the risks and benefits of the injection."),
            ("clinician", "If the pain gets worse, come back, those are your return precautions."),
        ]
    )
    said = (transcript, extract_entities(nlp, transcript))
    risks, precautions = check(nlp, said, BOILERPLATE[0], BOILERPLATE[1])
    assert risks.label != "unsupported" and precautions.label != "unsupported"


def test_sentences_from_another_patients_note_are_unsupported(nlp, visit) -> None:
    results = check(
        nlp,
        visit,
        "Continue metformin 500 mg twice daily for type 2 diabetes.",
        "Colonoscopy last year was normal.",
        "Lungs are clear to auscultation bilaterally.",
    )
    assert [r.label for r in results] == ["unsupported"] * 3
    assert "“metformin” is not mentioned in the visit" in problems(results[0], "entity")
    assert "“Colonoscopy” is not mentioned in the visit" in problems(results[1], "entity")


def test_without_a_transcript_everything_is_unsupported_and_nothing_is_invented(nlp) -> None:
    empty = Transcript((), "en", 0.0, "none")
    (result,) = verify_sentences(
        [NoteSentence("a", "plan", "Start meloxicam 15 mg daily.")], empty, (), nlp
    )
    assert result.label == "unsupported" and result.evidence == ()
    assert verify_sentences([], empty, (), nlp) == ()


# --- spoken numbers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spoken", "written"),
    [
        ("blood pressure one twenty over eighty", "BP 120/80"),
        ("five hundred milligrams twice a day", "500 mg BID"),
        ("ninety eight point six", "98.6"),
        ("a hundred and twenty", "120"),
        ("type two diabetes", "type 2 diabetes"),
        ("twenty milligrams once a day", "20 mg daily"),
        ("every eight hours", "TID"),
        ("one thousand milligrams", "1,000 mg"),
        ("see you in a year", "follow up in 1 year"),
        ("fifty-nine year old", "59-year-old"),
    ],
)
def test_spoken_and_written_quantities_are_the_same(spoken: str, written: str) -> None:
    heard, said = quantities(spoken), quantities(written)
    assert heard and len(heard) == len(said)
    assert all(a.matches(b) for a, b in zip(said, heard, strict=True)), (heard, said)


def test_quantities_keep_measures_apart() -> None:
    (age,) = quantities("a 13-year-old girl")
    (duration,) = quantities("for two years")
    assert not age.matches(duration) and not age.competes(duration)
    (dose,) = quantities("500 mg")
    assert not dose.matches(quantities("500 mL")[0])
    assert quantities("COVID-19 vaccine") == () and quantities("the left one") == ()


def test_a_spoken_reading_supports_a_written_one(nlp) -> None:
    transcript = make_transcript(
        [
            (
                "clinician",
                "Your blood pressure is one twenty over eighty and your pulse is seventy two.",
            ),
            ("clinician", "Keep taking the metformin five hundred milligrams twice a day."),
        ]
    )
    visit = (transcript, extract_entities(nlp, transcript))
    vitals, metformin = check(nlp, visit, "BP 120/80, HR 72.", "Continue metformin 500 mg BID.")
    assert vitals.label == "supported" and metformin.label == "supported"


# --- other systems' notes ----------------------------------------------------------------------


def test_a_plain_note_splits_into_sections_and_sentences() -> None:
    text = (
        "Possible clinical note:  HISTORY OF PRESENT ILLNESS:  He reports knee pain. "
        "He denies fever.\nPHYSICAL EXAM:\n  Left knee swollen.\nASSESSMENT AND PLAN:\n"
        "  - Knee pain: Likely sprain. Start meloxicam 15 mg daily. - Follow up in 2 weeks.\n"
        "• Medical Reasoning: X-ray is normal."
    )
    sentences = note_sentences(text)
    assert [(s.section, s.text) for s in sentences] == [
        ("history_of_present_illness", "He reports knee pain."),
        ("history_of_present_illness", "He denies fever."),
        ("physical_exam", "Left knee swollen."),
        ("assessment_and_plan", "Knee pain: Likely sprain."),
        ("assessment_and_plan", "Start meloxicam 15 mg daily."),
        ("assessment_and_plan", "Follow up in 2 weeks."),
        ("assessment_and_plan", "X-ray is normal."),
    ]
    assert len({s.sentence_id for s in sentences}) == len(sentences)
    assert note_sentences("") == ()


def test_a_dialogue_becomes_a_transcript() -> None:
    transcript = dialogue_transcript("[doctor] any fever ?\n[patient] no .\nD: good.")
    assert [(s.speaker, s.text) for s in transcript.segments] == [
        ("clinician", "any fever ?"),
        ("patient", "no ."),
        ("clinician", "good."),
    ]


@pytest.mark.skipif(not (SHARED / "aci-bench").is_dir(), reason="needs ../shared datasets")
def test_a_note_checked_against_another_visit_is_mostly_unsupported(nlp) -> None:
    """ACI-Bench valid: each reference note against its own dialogue, then against another's."""
    with (SHARED / "aci-bench" / "data" / "challenge_data" / "valid.csv").open() as fh:
        rows = list(csv.DictReader(fh))[:4]
    lexicon = load_lexicon()
    for own, other in zip(rows, rows[1:] + rows[:1], strict=True):
        transcript = dialogue_transcript(own["dialogue"])
        entities = extract_entities(nlp, transcript)
        index = index_transcript(transcript, entities, lexicon)
        mine = verify_sentences(
            note_sentences(own["note"]), transcript, entities, nlp, lexicon=lexicon, index=index
        )
        theirs = verify_sentences(
            note_sentences(other["note"]), transcript, entities, nlp, lexicon=lexicon, index=index
        )
        ours, other_visit = unsupported_rate(mine), unsupported_rate(theirs)
        assert ours < 0.25 and other_visit > max(0.3, 2 * ours), own["encounter_id"]


# --- omissions and figures ---------------------------------------------------------------------


def covering_note(visit) -> tuple[NoteSentence, ...]:
    transcript, _ = visit
    seg = transcript.segments
    own = [Evidence(i, 0, len(seg[i].text), seg[i].start, seg[i].end) for i in range(len(seg))]
    return (
        NoteSentence(
            "a", "subjective", "Left knee pain for two weeks, swells after walking.", (own[1],)
        ),
        NoteSentence("b", "subjective", "Reports chest pain on climbing stairs.", (own[2], own[3])),
        NoteSentence("c", "plan", "Start meloxicam 15 mg daily with food.", (own[7],)),
    )


def test_omissions_are_the_important_passages_no_sentence_covers(nlp, visit) -> None:
    transcript, entities = visit
    sentences = covering_note(visit)
    index = index_transcript(transcript, entities, load_lexicon())
    results = verify_sentences(sentences, transcript, entities, nlp, index=index)
    found = find_omissions(index, sentences, results, SOAP)
    by_kind = {o.kind: o for o in found}
    assert set(by_kind) == {"abnormal_vital", "medication_change", "plan"}
    assert by_kind["abnormal_vital"].section == "objective"
    assert "152/96" in by_kind["abnormal_vital"].reason
    assert by_kind["medication_change"].section == "plan"
    assert by_kind["medication_change"].mentions == ("lisinopril",)
    assert [e.segment_idx for e in by_kind["medication_change"].evidence] == [8]
    assert "lisinopril" in by_kind["medication_change"].suggestion.lower()
    assert [e.segment_idx for e in by_kind["plan"].evidence] == [9]
    # Denied fever and chills, and the covered knee pain, are no omissions.
    assert not any({"fever", "chills", "knee"} & set(" ".join(o.mentions).split()) for o in found)


def test_note_figures() -> None:
    ev = (Evidence(0, 0, 3, 0.0, 1.0),)
    results = [
        SupportResult("a", "s", "x", "supported", 1.0, evidence=ev),
        SupportResult("b", "s", "x", "unsupported", 0.0, evidence=ev),  # aligned, not evidence
        SupportResult("c", "s", "x", "unsupported", 0.1, evidence=ev, linked=True),
        SupportResult("d", "s", "x", "partly_supported", 0.5),
    ]
    assert unsupported_rate(results) == 0.5
    assert evidence_coverage(results) == 0.5
    assert label_counts(results) == {"supported": 1, "partly_supported": 1, "unsupported": 2}
    assert unsupported_rate([]) == 0.0 and evidence_coverage([]) == 0.0


def test_a_bad_word_list_is_refused_with_its_name(tmp_path: Path) -> None:
    folder = tmp_path / "verify"
    shutil.copytree(REPO / "annotations" / "verify", folder)
    with (folder / "terms.tsv").open("a") as fh:
        fh.write("fancy\tsynonym\tnice\n")
    with pytest.raises(ValueError, match="unknown kind 'synonym' for 'fancy'"):
        load_lexicon(folder)


# --- the store and the jobs --------------------------------------------------------------------


@pytest.fixture
def stored(store: st.Store, nlp: Language, visit) -> str:
    transcript, entities = visit
    st.ensure_user(store, "dr-v", "Dr V", "clinician")
    st.add_encounter(store, st.EncounterRecord("enc-v", "Knee visit"), "dr-v")
    version = st.save_transcript(store, "enc-v", transcript, "dr-v")
    st.save_entities(store, "enc-v", version, entities, model_version(nlp), "dr-v")
    return "enc-v"


def test_drafting_an_encounter_checks_its_note(store: st.Store, stored: str, nlp) -> None:
    # Transcript and entities exist: no ASR needed, the default (rules) drafter.
    engine = SimpleNamespace(nlp=nlp, options=PipelineOptions(), drafter=load_model())
    result = process_encounter(store, store.path.parent, engine, stored, "batch")
    assert result.steps_run == ("draft", "verify")
    check = st.get_support(store, stored, result.note_version)
    note = st.get_note(store, stored)
    assert [r.sentence_id for r in check.results] == [s.sentence_id for s in note.draft.sentences]
    assert all(r.label in ("supported", "partly_supported", "unsupported") for r in check.results)
    assert unsupported_rate(check.results) <= 0.1, label_counts(check.results)
    assert evidence_coverage(check.results) == 1.0
    assert check.transcript_version == 1 and check.entity_set_version == 1
    event = st.list_events(store, stored, "note.verified")[-1]
    assert event.note_version == result.note_version and event.user_id == "batch"
    assert event.after["sentences"] == len(check.results)
    again = process_encounter(store, store.path.parent, engine, stored, "batch")
    assert again.steps_run == ()


def test_a_check_is_reused_until_the_note_or_entities_change(
    store: st.Store, stored: str, nlp, visit
) -> None:
    transcript, entities = visit
    engine = SimpleNamespace(nlp=nlp)
    st.save_draft(store, stored, draft_note(transcript, entities), 1, "dr-v")
    first = current_support(store, engine, stored, "dr-v")
    assert current_support(store, engine, stored, "dr-v").check_id == first.check_id
    note = st.get_note(store, stored)
    edited = (
        *note.draft.sentences,
        NoteSentence("h-1", "plan", "Return precautions given.", origin="human"),
    )
    version = st.save_note(store, stored, note.version, edited, "dr-v")
    after_edit = current_support(store, engine, stored, "dr-v")
    assert after_edit.note_version == version and after_edit.check_id != first.check_id
    assert after_edit.by_sentence()["h-1"].label == "unsupported"
    st.save_entities(store, stored, 1, entities[:-1], "nlp.test", "dr-v")
    assert current_support(store, engine, stored, "dr-v").check_id != after_edit.check_id


def test_bad_checks_write_nothing(
    store: st.Store, stored: str, nlp, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = SimpleNamespace(nlp=nlp)
    with pytest.raises(st.NotFound, match="No note for enc-v"):
        check_note(store, engine, stored, "dr-v")
    with pytest.raises(st.NotFound, match="No note version 7"):
        st.save_support(store, st.NewSupportCheck(stored, 7, 1, 1, "v", (), (), {}), "dr-v")
    transcript, entities = make_transcript(VISIT), ()
    st.save_draft(store, stored, draft_note(transcript, entities), 1, "dr-v")
    import workbench.store.support as support

    def boom(con, events):
        raise RuntimeError("disk full")

    monkeypatch.setattr(support, "insert_events", boom)
    with pytest.raises(RuntimeError):
        check_note(store, engine, stored, "dr-v")
    assert st.get_support(store, stored, 1) is None, "the check rolls back with its event"


def test_the_support_migration_upgrades_an_older_database(tmp_path: Path) -> None:
    store = st.Store(tmp_path / "old.duckdb")
    migrate(store, [m for m in available_migrations() if m.version < 6])
    with store.connect() as con:  # rows written by the older code (today's writes also audit)
        con.execute(
            "INSERT INTO encounters (encounter_id, title, created_at, created_by) VALUES"
            " ('enc-o', 'Old', now(), 'dr-o')"
        )
        con.execute(
            "INSERT INTO transcripts (encounter_id, version, model, created_at, created_by)"
            " VALUES ('enc-o', 1, 'old', now(), 'dr-o')"
        )
        con.execute(
            "INSERT INTO notes (encounter_id, version, template, sections, model_version,"
            " transcript_version, created_at, created_by) VALUES"
            " ('enc-o', 1, 'soap', '[\"plan\"]', 'old', 1, now(), 'dr-o')"
        )
    assert migrate(store) == [m.version for m in available_migrations() if m.version >= 6]
    assert st.get_note(store, "enc-o").version == 1
    assert st.get_support(store, "enc-o", 1) is None


# --- the Review page ---------------------------------------------------------------------------


@pytest.fixture
def review(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, nlp: Language, visit):
    """An encounter whose draft has supported, partly supported and unsupported sentences,
    and leaves out the lisinopril change, the blood pressure and the x-ray; never checked."""
    transcript, entities = visit
    data = tmp_path / "data"
    sentences = (
        *covering_note(visit),
        NoteSentence("f", "subjective", "Reports left knee pain and stiffness in the mornings."),
        NoteSentence("d", "subjective", "Reports fever and a sore throat."),
        NoteSentence("e", "plan", "Increase meloxicam to twice a day and rest the knee."),
    )
    draft = Draft("soap", SOAP, sentences, "test-v1")
    store = seed_encounter(data, "enc-r", transcript, entities=entities, draft=draft,
                           nlp_version=model_version(nlp))
    return open_review(monkeypatch, data, "enc-r", timeout=90), store


def attention_items(at: AppTest) -> list[str]:
    """The sentences listed under "Needs attention"."""
    return [m.value for m in at.markdown if "support-item" in m.value]


def markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_review_shows_badges_and_what_needs_attention_first(review) -> None:
    at, store = review
    check = st.get_support(store, "enc-r", 1)
    assert check is not None, "viewing a note that was never checked checks it"
    labels = check.by_sentence()
    assert [labels[k].label for k in "afde"] == [
        "supported",
        "partly_supported",
        "unsupported",
        "unsupported",
    ]
    text = markdown(at)
    assert "Needs attention" in text
    unsupported = [r.text for r in check.results if r.label == "unsupported"]
    partly = [r.text for r in check.results if r.label == "partly_supported"]
    order = [text.index(t) for t in unsupported + partly]
    assert order == sorted(order), "unsupported sentences are listed before partly supported"
    assert "the patient denied it" in text, "each item says why"
    badges = [m.value for m in at.markdown if "-badge[" in m.value]
    assert any(":red-badge[:material/error: unsupported]" in b for b in badges)
    assert any(":green-badge[:material/check_circle: supported]" in b for b in badges)
    assert not any(f"attn-play-{k}" in str(b.key) for b in at.button for k in "abc")
    at.button(key="attn-play-e").click().run()  # no links of its own: the aligned evidence
    assert at.session_state["play_from"] == min(e.start_s for e in labels["e"].evidence)
    assert any("Source of:" in info.value for info in at.info)


def test_add_an_omission_to_the_note(review) -> None:
    at, store = review
    check = st.get_support(store, "enc-r", 1)
    assert "Possibly missing from the note" in " ".join(e.label for e in at.expander)
    index = next(i for i, o in enumerate(check.omissions) if o.kind == "medication_change")
    omission = check.omissions[index]
    at.button(key=f"omission-add-{index}").click().run()
    assert not at.exception, at.exception
    note = st.get_note(store, "enc-r")
    assert note.version == 2 and note.created_by == "dr-test"
    added = [s for s in note.draft.sentences if s.sentence_id not in "abcdef"]
    assert len(added) == 1 and added[0].section == "plan" and added[0].origin == "human"
    assert added[0].text == omission.suggestion and added[0].evidence == omission.evidence
    plan = [s.sentence_id for s in note.draft.sentences if s.section == "plan"]
    assert plan[-1] == added[0].sentence_id, "added at the end of its section"
    kinds = [e.kind for e in st.list_events(store, "enc-r") if e.note_version == 2]
    assert {"sentence.added", "omission.added", "note.saved"} <= set(kinds)
    event = st.list_events(store, "enc-r", "omission.added")[0]
    assert event.object_id == added[0].sentence_id and event.user_id == "dr-test"
    assert event.after["kind"] == "medication_change"
    assert event.after["evidence"] == [[8, 0, len(VISIT[8][1])]]
    again = st.get_support(store, "enc-r", 2)
    assert again is not None and "lisinopril" not in " ".join(
        m for o in again.omissions for m in o.mentions
    )


def test_an_edited_sentence_is_checked_again(review) -> None:
    at, store = review
    before = attention_items(at)
    edit_sentence(at, "d").input("Denies fever or chills.").run()
    at.button(key="save").click().run()
    assert not at.exception, at.exception
    check = st.get_support(store, "enc-r", 2)
    assert check is not None and check.by_sentence()["d"].label == "supported"
    after = attention_items(at)
    assert len(after) == len(before) - 1, "the edited sentence no longer needs attention"
    assert not any("Denies fever or chills." in i for i in after)
