"""pipelines.drafting: sections, evidence, audio times, determinism, no invented content."""

from __future__ import annotations

import csv
import json
import re
from itertools import pairwise
from pathlib import Path

import pytest

from pipelines.drafting import (
    DRAFTER_VERSION,
    SOAP_SECTIONS,
    DraftOptions,
    available_templates,
    draft_note,
    load_template,
    rewrite_clinician,
    rewrite_patient,
    span_times,
    split_sentences,
    unsupported_words,
)
from pipelines.drafting.templates import TEMPLATES_DIR
from pipelines.types import Draft, Entity, Segment, Transcript, Word

ACI_DIR = Path("/work/shared/datasets/aci-bench/data/challenge_data")

# -- builders ------------------------------------------------------------------------------


def seg(idx: int, start: float, text: str, speaker: str, word_s: float = 0.4) -> Segment:
    """A Whisper-like segment: words carry their leading space and concatenate to the text."""
    words, t = [], start
    for m in re.finditer(r"\s*\S+", text):
        words.append(Word(start=t, end=t + word_s * 0.9, text=m.group(), probability=0.9))
        t += word_s
    return Segment(idx=idx, start=start, end=t, text=text, speaker=speaker, words=tuple(words))


def transcript(*turns: tuple[str, str], sha: str = "abc123") -> Transcript:
    segments, t = [], 0.0
    for i, (speaker, text) in enumerate(turns):
        s = seg(i, t, text, speaker)
        segments.append(s)
        t = s.end + 0.5
    return Transcript(tuple(segments), "en", t, "test", input_sha256=sha)


def ent(tr: Transcript, idx: int, text: str, label: str, **flags: bool) -> Entity:
    start = tr.segments[idx].text.index(text)
    return Entity(idx, start, start + len(text), text, label, **flags)


VISIT = transcript(
    ("clinician", " Hi, good morning. What brings you in today?"),
    (
        "patient",
        " Um, I've had chest pain for two days. I take metformin 500 milligrams twice a day.",
    ),
    ("clinician", " Any fever?"),
    ("patient", " No."),
    ("clinician", " Any shortness of breath?"),
    ("patient", " Yes."),
    ("clinician", " Does the pain spread anywhere else?"),
    ("patient", " No."),
    (
        "clinician",
        " Your blood pressure is 148 over 92. Your lungs are clear. I can hear a soft murmur.",
    ),
    ("clinician", " I think this is likely angina."),
    (
        "clinician",
        " I'm going to start you on aspirin 81 milligrams daily. We'll order an EKG."
        " Come back in two weeks.",
    ),
    ("patient", " Okay, thank you."),
)
ENTITIES = (
    ent(VISIT, 1, "chest pain", "PROBLEM"),
    ent(VISIT, 1, "metformin", "MEDICATION"),
    ent(VISIT, 2, "fever", "PROBLEM"),
    ent(VISIT, 4, "shortness of breath", "PROBLEM"),
    ent(VISIT, 6, "pain", "PROBLEM"),
    ent(VISIT, 8, "blood pressure", "VITAL"),
    ent(VISIT, 8, "lungs", "ANATOMY"),
    ent(VISIT, 8, "murmur", "PROBLEM"),
    ent(VISIT, 9, "angina", "PROBLEM", uncertain=True),
    ent(VISIT, 10, "aspirin", "MEDICATION"),
    ent(VISIT, 10, "EKG", "TEST"),
)


def texts(draft: Draft, section: str) -> list[str]:
    return [s.text for s in draft.section_sentences(section)]


def check_evidence(draft: Draft, tr: Transcript) -> None:
    """Every sentence has evidence; spans slice real text; times inside the segment, ordered."""
    by_idx = {s.idx: s for s in tr.segments}
    for sentence in draft.sentences:
        assert sentence.evidence, sentence
        for ev in sentence.evidence:
            segment = by_idx[ev.segment_idx]
            assert 0 <= ev.start_char < ev.end_char <= len(segment.text)
            assert segment.text[ev.start_char : ev.end_char].strip()
            assert segment.start <= ev.start_s <= ev.end_s <= segment.end
        slices = [by_idx[e.segment_idx].text[e.start_char : e.end_char] for e in sentence.evidence]
        assert not unsupported_words(sentence.text, slices), sentence.text


# -- drafting --------------------------------------------------------------------------------


def test_sentences_go_to_the_right_sections():
    draft = draft_note(VISIT, ENTITIES)
    assert draft.sections == SOAP_SECTIONS
    assert texts(draft, "subjective") == [
        "Reports chest pain for two days.",
        "Takes metformin 500 milligrams twice a day.",
        "Denies fever.",
        "Reports shortness of breath.",
    ]
    assert texts(draft, "objective") == [
        "Blood pressure is 148 over 92.",
        "Lungs are clear.",
        "Clinician notes a soft murmur.",
    ]
    assert texts(draft, "assessment") == ["Likely angina."]
    assert texts(draft, "plan") == [
        "Start aspirin 81 milligrams daily.",
        "Order an EKG.",
        "Come back in two weeks.",
    ]
    assert draft.model_version == DRAFTER_VERSION
    assert draft.input_sha256 == "abc123"
    assert draft.options == {**DraftOptions().__dict__}


def test_evidence_slices_contain_the_clinical_terms():
    draft = draft_note(VISIT, ENTITIES)
    check_evidence(draft, VISIT)
    for sentence in draft.sentences:
        slices = " ".join(
            VISIT.segments[e.segment_idx].text[e.start_char : e.end_char] for e in sentence.evidence
        )
        for entity in ENTITIES:
            if entity.text.lower() in sentence.text.lower():
                assert entity.text in slices, (sentence.text, entity.text)


def test_audio_times_come_from_the_words():
    draft = draft_note(VISIT, ENTITIES)
    (bp,) = [s for s in draft.sentences if s.text.startswith("Blood pressure")]
    (ev,) = bp.evidence
    segment = VISIT.segments[8]
    words = segment.words
    assert ev.start_s == words[0].start  # " Your"
    assert ev.end_s == words[6].end  # " 92."
    for section in SOAP_SECTIONS:  # within a section, sentences follow the recording
        starts = [s.evidence[0].start_s for s in draft.section_sentences(section)]
        assert starts == sorted(starts)
    for sentence in draft.sentences:  # a question comes before its answer
        for before, after in pairwise(sentence.evidence):
            assert before.end_s <= after.start_s


def test_question_and_bare_answer_become_denial_with_evidence_on_both():
    draft = draft_note(VISIT, ENTITIES)
    (denies,) = [s for s in draft.sentences if s.text == "Denies fever."]
    assert [e.segment_idx for e in denies.evidence] == [2, 3]
    question, answer = denies.evidence
    assert VISIT.segments[2].text[question.start_char : question.end_char] == "Any fever?"
    assert VISIT.segments[3].text[answer.start_char : answer.end_char] == "No."
    (reports,) = [s for s in draft.sentences if s.text == "Reports shortness of breath."]
    assert [e.segment_idx for e in reports.evidence] == [4, 5]
    # "Does the pain spread anywhere else?" "No." is not a denial of pain.
    assert "Denies pain." not in texts(draft, "subjective")
    check_evidence(draft, VISIT)


def test_patient_denial_from_negated_entity():
    tr = transcript(("patient", " I don't have any nausea."), ("patient", " No vomiting."))
    ents = (
        ent(tr, 0, "nausea", "PROBLEM", negated=True),
        ent(tr, 1, "vomiting", "PROBLEM", negated=True),
    )
    draft = draft_note(tr, ents)
    assert texts(draft, "subjective") == ["Denies nausea.", "Denies vomiting."]
    check_evidence(draft, tr)


def test_deterministic_and_ids_depend_on_input():
    first, second = draft_note(VISIT, ENTITIES), draft_note(VISIT, ENTITIES)
    assert first == second
    ids = [s.sentence_id for s in first.sentences]
    assert len(set(ids)) == len(ids)
    other = draft_note(VISIT.with_segments(VISIT.segments[:-1]), ENTITIES)
    assert [s.sentence_id for s in other.sentences] == ids  # same encounter, same ids
    renamed = Transcript(VISIT.segments, "en", 1.0, "test", input_sha256="other")
    assert not set(ids) & {s.sentence_id for s in draft_note(renamed, ENTITIES).sentences}


def test_keyword_cues_work_without_entities():
    draft = draft_note(VISIT)
    for section in SOAP_SECTIONS:
        assert draft.section_sentences(section), section
    check_evidence(draft, VISIT)


def test_max_sentences_per_section():
    draft = draft_note(VISIT, ENTITIES, DraftOptions(max_sentences_per_section=1))
    assert [len(draft.section_sentences(s)) for s in SOAP_SECTIONS] == [1, 1, 1, 1]


def test_empty_transcript_gives_empty_draft():
    draft = draft_note(Transcript((), "en", 0.0, "test"))
    assert draft.sentences == ()
    assert draft.sections == SOAP_SECTIONS
    assert draft.render_text().count("(none)") == 4


def test_render_text():
    rendered = draft_note(VISIT, ENTITIES).render_text()
    assert rendered.startswith(
        "SUBJECTIVE\nReports chest pain for two days. Takes metformin 500 milligrams twice a day."
    )
    assert "\n\nOBJECTIVE\nBlood pressure is 148 over 92." in rendered
    assert "\n\nASSESSMENT\nLikely angina.\n\nPLAN\nStart aspirin" in rendered


# -- rewriting: never invent content --------------------------------------------------------

PATIENT_CASES = {
    "I've had chest pain for two days.": "Reports chest pain for two days.",
    "I take metformin 500 milligrams twice a day.": "Takes metformin 500 milligrams twice a day.",
    "Um, I, I feel lightheaded, you know, every once in a while.": (
        "Feels lightheaded every once in a while."
    ),
    "i do n't have any chest pain .": "Denies chest pain.",
    "My blood pressure at home was 150.": "Patient's blood pressure at home was 150.",
    "Okay so I've been feeling tired since Monday.": "Reports feeling tired since Monday.",
}
CLINICIAN_CASES = {
    (
        "This is essential hypertension that isn't controlled, and the ankle swelling is a side"
        " effect of amlodipine.",
        "assessment",
    ): (
        "Essential hypertension, not controlled, and the ankle swelling is a side effect of"
        " amlodipine."
    ),
    ("So your diabetes isn't well controlled.", "assessment"): "Diabetes, not well controlled.",
    ("It sounds like a chest infection.", "assessment"): "Likely a chest infection.",
    ("Yes, it's early diabetic neuropathy.", "assessment"): "Early diabetic neuropathy.",
    (
        "With no fever and clear lungs, this looks like acute bronchitis, most likely viral.",
        "assessment",
    ): "With no fever and clear lungs, likely acute bronchitis, most likely viral.",
    ("Let me examine you, your throat is a little red.", "objective"): "Throat is a little red.",
    ("Your blood pressure is 148 over 92.", "objective"): "Blood pressure is 148 over 92.",
    ("i do n't appreciate any murmur", "objective"): "Clinician notes no murmur.",
    ("It looks like you have a viral infection.", "assessment"): "Likely a viral infection.",
    ("This is consistent with GERD.", "assessment"): "Consistent with GERD.",
    ("I'd like to refer you to cardiology.", "plan"): "Refer patient to cardiology.",
    ("I want to see you back in two weeks.", "plan"): "See patient back in two weeks.",
}


@pytest.mark.parametrize(("source", "expected"), PATIENT_CASES.items())
def test_rewrite_patient(source, expected):
    assert rewrite_patient(source) == expected
    assert not unsupported_words(expected, [source])


@pytest.mark.parametrize(("source", "expected"), CLINICIAN_CASES.items())
def test_rewrite_clinician(source, expected):
    assert rewrite_clinician(*source) == expected
    assert not unsupported_words(expected, [source[0]])


def test_unsupported_words_catches_invention():
    evidence = ["I take metformin twice a day."]
    assert unsupported_words("Takes metformin twice a day.", evidence) == set()
    assert unsupported_words("Takes metformin 500 mg twice a day.", evidence) == {"500", "mg"}
    assert unsupported_words("Reports severe chest pain.", ["I have chest pain."]) == {"severe"}


def test_no_invented_content_words_in_any_draft_sentence():
    for draft in (draft_note(VISIT, ENTITIES), draft_note(VISIT)):
        check_evidence(draft, VISIT)  # includes unsupported_words(...) == set()


# -- sentences and times ----------------------------------------------------------------------


def test_split_sentences_offsets():
    text = " Hi there. Take 2.5 mg daily! Any fever?  "
    spans = split_sentences(text)
    assert [text[a:b] for a, b in spans] == ["Hi there.", "Take 2.5 mg daily!", "Any fever?"]
    long = "okay so " + " ".join(["word"] * 30) + " alright and then " + " ".join(["x"] * 30)
    pieces = split_sentences(long, max_words=20)
    assert all(len(long[a:b].split()) <= 20 for a, b in pieces)
    assert all(0 <= a < b <= len(long) for a, b in pieces)


def test_span_times_fall_back_to_interpolation():
    words = (Word(10.0, 10.5, "completely", 0.9), Word(10.5, 11.0, "different", 0.9))
    s = Segment(idx=0, start=10.0, end=12.0, text="abcd efgh", speaker="patient", words=words)
    assert span_times(s, 0, 4) == pytest.approx((10.0, 10.0 + 2.0 * 4 / 9))
    bare = Segment(idx=0, start=10.0, end=12.0, text="abcd efgh", speaker="patient")
    assert span_times(bare, 5, 9) == pytest.approx((10.0 + 2.0 * 5 / 9, 12.0))


def test_span_times_with_words_lacking_spaces():
    words = (Word(1.0, 1.4, "Hello", 0.9), Word(1.5, 2.0, "world", 0.9))
    s = Segment(idx=3, start=0.9, end=2.1, text="Hello world", speaker="patient", words=words)
    assert span_times(s, 6, 11) == (1.5, 2.0)
    assert span_times(s, 0, 11) == (1.0, 2.0)


# -- templates --------------------------------------------------------------------------------


def test_soap_template_round_trips():
    template = load_template("soap")
    assert template.keys == SOAP_SECTIONS
    assert [s.heading for s in template.sections] == [
        "Subjective",
        "Objective",
        "Assessment",
        "Plan",
    ]
    assert all(s.description for s in template.sections)
    path = TEMPLATES_DIR / "soap.json"
    assert template.to_dict() == json.loads(path.read_text())
    assert load_template(path) == template
    assert "soap" in available_templates()
    with pytest.raises(FileNotFoundError):
        load_template("no-such-template")


# -- a real dialogue -------------------------------------------------------------------------


def aci_transcript(dialogue: str) -> Transcript:
    """One segment per turn, speaker from the [doctor]/[patient] tag, no words (interpolated)."""
    segments, t = [], 0.0
    for line in dialogue.splitlines():
        tag, _, text = line.strip().partition(" ")
        if not text.strip():
            continue
        speaker = {"[doctor]": "clinician", "[patient]": "patient"}.get(tag, "unknown")
        dur = max(1.0, 0.35 * len(text.split()))
        segments.append(Segment(len(segments), t, t + dur, text, speaker))
        t += dur
    return Transcript(tuple(segments), "en", t, "aci-bench")


KEYWORDS = {
    "PROBLEM": (
        "pain",
        "fever",
        "chills",
        "cough",
        "nausea",
        "vomiting",
        "tired",
        "fatigued",
        "lightheaded",
        "bloated",
        "heart failure",
        "hypertension",
        "murmur",
        "edema",
        "crackles",
        "fluid",
        "short of breath",
        "diabetes",
        "strain",
        "fracture",
    ),
    "MEDICATION": ("lasix", "lisinopril", "metformin", "meloxicam", "ibuprofen", "tylenol"),
    "TEST": ("x-ray", "echocardiogram", "hemoglobin a1c", "labs"),
    "VITAL": ("blood pressure", "heart rate", "oxygenation"),
    "ANATOMY": ("lungs", "heart", "back", "legs"),
}


def keyword_entities(tr: Transcript) -> tuple[Entity, ...]:
    """Simple stand-in for pipelines.nlp: whole-word matches, negated after no/denies/any."""
    found = []
    for s in tr.segments:
        for label, terms in KEYWORDS.items():
            for term in terms:
                for m in re.finditer(rf"\b{re.escape(term)}\b", s.text, re.IGNORECASE):
                    negated = bool(re.search(r"\b(?:no|denies|without)\s+$", s.text[: m.start()]))
                    found.append(Entity(s.idx, m.start(), m.end(), m.group(), label, negated))
    return tuple(found)


@pytest.fixture(scope="module")
def aci_rows() -> list[dict[str, str]]:
    path = ACI_DIR / "valid.csv"
    if not path.is_file():
        pytest.skip("ACI-Bench not available at /work/shared/datasets/aci-bench")
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_aci_bench_dialogue_drafts_all_sections(aci_rows):
    (row,) = [r for r in aci_rows if r["encounter_id"] == "D2N068"]
    tr = aci_transcript(row["dialogue"])
    for entities in ((), keyword_entities(tr)):
        draft = draft_note(tr, entities)
        check_evidence(draft, tr)
        for section in SOAP_SECTIONS:
            assert draft.section_sentences(section), (section, entities != ())
        assert draft == draft_note(tr, entities)


def test_aci_bench_evidence_invariants_on_every_valid_dialogue(aci_rows):
    for row in aci_rows:
        tr = aci_transcript(row["dialogue"])
        draft = draft_note(tr, keyword_entities(tr))
        check_evidence(draft, tr)
        assert draft.sentences, row["encounter_id"]


# -- ASR transcripts: turns split over segments, questions without "?", impressions -----------


def test_sentence_cut_over_two_segments_is_drafted_whole_with_evidence_in_each():
    tr = transcript(
        ("clinician", " On examination your heart sounds are normal, your lungs are clear, and there's"),  # noqa: E501
        ("clinician", " no swelling in your ankles."),
        ("patient", " My ankles have been swollen since I started it two months ago"),
        ("patient", " And I get headaches in the morning."),
    )
    draft = draft_note(tr)
    (exam,) = [s for s in draft.sentences if "lungs" in s.text]
    assert exam.section == "objective"
    assert exam.text == (
        "On examination heart sounds are normal, lungs are clear, and there's no swelling"
        " in ankles."
    )
    first, second = exam.evidence
    assert (first.segment_idx, second.segment_idx) == (0, 1)
    assert tr.segments[0].text[first.start_char : first.end_char].endswith("and there's")
    assert tr.segments[1].text[second.start_char : second.end_char] == "no swelling in your ankles."
    assert first.end_s <= second.start_s
    # no punctuation, then a capital: a new sentence, one segment each
    assert texts(draft, "subjective") == [
        "Patient's ankles have been swollen since they started it two months ago.",
        "Reports headaches in the morning.",
    ]
    assert [len(s.evidence) for s in draft.section_sentences("subjective")] == [1, 1]
    check_evidence(draft, tr)


def test_function_word_at_segment_end_continues_the_sentence():
    tr = transcript(
        ("clinician", " Because of your asthma, I'll give you a"),
        ("clinician", " Salbutamol inhaler, two puffs every four hours as needed."),
    )
    draft = draft_note(tr)
    (plan,) = draft.section_sentences("plan")
    assert plan.text.endswith("a Salbutamol inhaler, two puffs every four hours as needed.")
    assert [e.segment_idx for e in plan.evidence] == [0, 1]
    check_evidence(draft, tr)


IMPRESSIONS = transcript(
    (
        "clinician",
        " This is essential hypertension that isn't controlled, and the ankle swelling is a side"
        " effect of amlodipine.",
    ),
    ("clinician", " It sounds like a chest infection."),
    ("clinician", " So your diabetes isn't well controlled at the moment."),
    ("clinician", " I think this is acute otitis media, so let's start amoxicillin."),
    ("clinician", " Your symptoms are consistent with reflux."),
    ("clinician", " It's early diabetic neuropathy."),
)
IMPRESSION_ENTITIES = (
    ent(IMPRESSIONS, 0, "essential hypertension", "PROBLEM"),
    ent(IMPRESSIONS, 0, "ankle swelling", "PROBLEM"),
    ent(IMPRESSIONS, 0, "amlodipine", "MEDICATION"),
    ent(IMPRESSIONS, 1, "chest infection", "PROBLEM"),
    ent(IMPRESSIONS, 2, "diabetes", "PROBLEM"),
    ent(IMPRESSIONS, 3, "acute otitis media", "PROBLEM"),
    ent(IMPRESSIONS, 3, "amoxicillin", "MEDICATION"),
    ent(IMPRESSIONS, 4, "reflux", "PROBLEM"),
    ent(IMPRESSIONS, 5, "diabetic neuropathy", "PROBLEM"),
)


@pytest.mark.parametrize("entities", [IMPRESSION_ENTITIES, ()], ids=["entities", "keywords"])
def test_clinician_impressions_go_to_assessment(entities):
    draft = draft_note(IMPRESSIONS, entities)
    assert texts(draft, "assessment") == [
        "Essential hypertension, not controlled, and the ankle swelling is a side effect of"
        " amlodipine.",
        "Likely a chest infection.",
        "Diabetes, not well controlled at the moment.",
        "Likely acute otitis media.",
        "Symptoms are consistent with reflux.",
        "Early diabetic neuropathy.",
    ]
    assert texts(draft, "plan") == ["Start amoxicillin."]  # the plan clause is split off
    assert texts(draft, "subjective") == texts(draft, "objective") == []
    check_evidence(draft, IMPRESSIONS)


@pytest.mark.parametrize("with_entities", [True, False], ids=["entities", "keywords"])
def test_clinician_questions_without_question_mark_are_not_findings(with_entities):
    tr = transcript(
        ("clinician", " Any shortness and breath are swelling in your ankles."),
        ("patient", " My ankles swell a bit in the evening."),
        ("clinician", " Do you smoke or drink alcohol."),
        ("patient", " I quit smoking five years ago."),
        ("clinician", " Have you had any chest pain."),
        ("patient", " No."),
        ("clinician", " What medications are you taking"),
        ("patient", " Metformin 500 milligrams twice a day."),
    )
    ents = (
        (ent(tr, 0, "swelling", "PROBLEM"), ent(tr, 0, "ankles", "ANATOMY"),
         ent(tr, 1, "ankles", "ANATOMY"), ent(tr, 4, "chest pain", "PROBLEM"),
         ent(tr, 7, "Metformin", "MEDICATION"))
        if with_entities else ()
    )
    draft = draft_note(tr, ents)
    assert texts(draft, "objective") == texts(draft, "assessment") == texts(draft, "plan") == []
    assert "Denies chest pain." in texts(draft, "subjective")  # "." question + bare "No."
    assert "Takes metformin 500 milligrams twice a day." not in texts(draft, "objective")
    check_evidence(draft, tr)


@pytest.mark.parametrize("with_entities", [True, False], ids=["entities", "keywords"])
def test_vitals_are_objective_and_ordered_tests_are_plan(with_entities):
    tr = transcript(
        ("clinician", " Okay, your temperature today is 37.1 degrees."),
        ("clinician", " Your blood pressure is 148 over 92, which is high, and your pulse is 78."),
        ("clinician", " We'll get a chest X-ray."),
        ("clinician", " You had a heart attack in 2015."),
        ("clinician", " If it stays above 140 over 90, we'll add another medicine."),
    )
    ents = (
        (ent(tr, 0, "temperature", "VITAL"), ent(tr, 1, "blood pressure", "VITAL"),
         ent(tr, 1, "pulse", "VITAL"), ent(tr, 2, "chest X-ray", "TEST"),
         ent(tr, 3, "heart attack", "PROBLEM", historical=True))
        if with_entities else ()
    )
    draft = draft_note(tr, ents)
    assert texts(draft, "objective") == [
        "Temperature today is 37.1 degrees.",
        "Blood pressure is 148 over 92, which is high, and pulse is 78.",
    ]
    assert texts(draft, "plan") == [
        "Get a chest X-ray.",
        "If it stays above 140 over 90, we'll add another medicine.",
    ]
    assert texts(draft, "subjective") == ["Patient had a heart attack in 2015."]
    check_evidence(draft, tr)


def test_patient_greetings_are_trimmed_and_exam_announcements_dropped():
    tr = transcript(
        ("clinician", " Hello, I'm Dr. Petro. What brings you in today?"),
        ("patient", " Hi, I'm Hannah, I've had this cough for about ten days now."),
        ("patient", " Hi, Leo is two, and he's had a fever since Tuesday."),
        ("patient", " Hello there."),
        ("clinician", " Let me look in his ears."),
    )
    draft = draft_note(tr)
    assert texts(draft, "subjective") == [
        "Reports this cough for about ten days now.",
        "Leo is two, and he's had a fever since Tuesday.",
    ]
    (cough, fever) = draft.section_sentences("subjective")
    (ev,) = cough.evidence
    assert tr.segments[1].text[ev.start_char : ev.end_char].startswith("I've had this cough")
    assert tr.segments[2].text[fever.evidence[0].start_char :].startswith("Leo is two")
    assert [len(draft.section_sentences(s)) for s in ("objective", "plan")] == [0, 0]
    check_evidence(draft, tr)


def test_draft_stays_deterministic_over_turns():
    tr = transcript(
        ("clinician", " Your lungs are clear, and there's"),
        ("clinician", " no swelling. This is acute bronchitis."),
        ("clinician", " We'll get a chest X-ray."),
    )
    assert draft_note(tr) == draft_note(tr)
    assert draft_note(tr).model_version == "draft.soap-rules.v2"


# -- the demo encounters' scripts, through the real NLP --------------------------------------

DEMO_DIR = Path(__file__).resolve().parents[1] / "demo" / "encounters"
DEMO_SCRIPTS = sorted(DEMO_DIR.glob("*/script.txt"))


def script_transcript(path: Path) -> Transcript:
    """One segment per script turn; times proportional to the words (0.4 s each)."""
    from pipelines.synth import parse_script

    segments, t = [], 0.0
    for i, turn in enumerate(parse_script(path.read_text(encoding="utf-8"))):
        dur = 0.4 * len(turn.text.split())
        segments.append(Segment(i, t, t + dur, turn.text, turn.speaker))
        t += dur + 0.5
    return Transcript(tuple(segments), "en", t, "script", input_sha256=path.parent.name)


@pytest.fixture(scope="module")
def nlp():
    from pipelines.nlp import load_nlp

    return load_nlp()


@pytest.mark.parametrize("path", DEMO_SCRIPTS, ids=lambda p: p.parent.name)
def test_demo_script_drafts_every_section(path, nlp):
    from pipelines.nlp import extract_entities

    tr = script_transcript(path)
    entities = extract_entities(nlp, tr)
    draft = draft_note(tr, entities)
    for section in SOAP_SECTIONS:
        assert draft.section_sentences(section), (path.parent.name, section)
    check_evidence(draft, tr)
    assert draft == draft_note(tr, entities)


def test_demo_scripts_found():
    assert len(DEMO_SCRIPTS) >= 5
