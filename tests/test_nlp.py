"""pipelines.nlp: entities, codes, values and context on conversational sentences."""

from __future__ import annotations

import itertools

import pytest
from spacy.language import Language

from pipelines.nlp import NLP_VERSION, NlpOptions, extract_entities, extract_text, load_nlp
from pipelines.nlp.vocab import CURATED_FILES, VOCAB_DIR, read_tsv
from pipelines.types import Entity, Segment, Transcript


@pytest.fixture(scope="module")
def nlp() -> Language:
    # Default options: uses $SCRIBE_CACHE or ~/.cache/scribe-workbench, so reruns are warm.
    return load_nlp(NlpOptions())


def _one(entities: tuple[Entity, ...], text: str) -> Entity:
    found = [e for e in entities if e.text == text]
    assert len(found) == 1, [(e.text, e.label) for e in entities]
    return found[0]


def test_negation_within_sentence(nlp: Language) -> None:
    text = "I've had chest pain for two days but no shortness of breath."
    ents = extract_text(nlp, text)
    assert [(e.text, e.label, e.negated) for e in ents] == [
        ("chest pain", "PROBLEM", False),
        ("shortness of breath", "PROBLEM", True),
    ]
    chest = ents[0]
    assert (chest.start, chest.end) == (9, 19)
    assert chest.code == "R07.9" and chest.code_system == "ICD-10-CM"


def test_family_history(nlp: Language) -> None:
    diabetes = _one(extract_text(nlp, "My mother had diabetes."), "diabetes")
    assert diabetes.family and not diabetes.negated
    assert diabetes.code == "E11.9"


def test_historical(nlp: Language) -> None:
    mi = _one(extract_text(nlp, "I had a heart attack in 2015."), "heart attack")
    assert mi.historical and not mi.negated and mi.code == "I21.9"


def test_medication_sig(nlp: Language) -> None:
    met = _one(extract_text(nlp, "I take metformin 500 milligrams twice a day."), "metformin")
    assert met.label == "MEDICATION"
    assert met.code_label == "Metformin" and met.code == "DB00331"
    assert met.attributes["dose"] == "500 milligrams"
    assert met.attributes["frequency"] == "twice a day"


def test_medication_route_and_duration(nlp: Language) -> None:
    text = "Take amoxicillin 500 mg by mouth three times a day for ten days."
    ents = extract_text(nlp, text)
    assert [e.label for e in ents] == ["MEDICATION"]  # "mouth" is the route, not ANATOMY
    attrs = ents[0].attributes
    assert attrs["route_normalized"] == "oral"
    assert attrs["frequency"] == "three times a day" and attrs["duration"] == "ten days"


def test_vitals(nlp: Language) -> None:
    text = (
        "Your blood pressure today is 148 over 92, heart rate 78, temperature 38.2 "
        "and oxygen saturation 97 percent."
    )
    ents = extract_text(nlp, text)
    values = {e.text: (e.label, e.attributes.get("value"), e.attributes.get("unit")) for e in ents}
    assert values == {
        "blood pressure": ("VITAL", "148/92", "mmHg"),
        "heart rate": ("VITAL", "78", "bpm"),
        "temperature": ("VITAL", "38.2", "°C"),
        "oxygen saturation": ("VITAL", "97", "%"),
    }
    bp = _one(ents, "blood pressure")
    assert text[bp.attributes["value_start"] : bp.attributes["value_end"]] == "148 over 92"


def test_test_and_result(nlp: Language) -> None:
    a1c = _one(extract_text(nlp, "We'll check an A1c."), "A1c")
    assert a1c.label == "TEST" and a1c.code_label == "Hemoglobin A1c"
    ents = extract_text(nlp, "Your A1c came back at 7.2 percent and the strep test was negative.")
    a1c = _one(ents, "A1c")
    assert (a1c.attributes["value"], a1c.attributes["unit"], a1c.negated) == ("7.2", "%", False)
    assert _one(ents, "strep test").attributes["value"] == "negative"


def test_lay_terms_get_icd_codes(nlp: Language) -> None:
    cases = {
        "He has high blood pressure.": ("high blood pressure", "I10"),
        "She has sugar diabetes.": ("sugar diabetes", "E11.9"),
        "Any heartburn or reflux?": ("reflux", "K21.9"),
        "He was diagnosed with afib.": ("afib", "I48.91"),
        "My son has an ear infection.": ("ear infection", "H66.90"),
    }
    for text, (term, code) in cases.items():
        assert _one(extract_text(nlp, text), term).code == code, text


def test_case_insensitive_longest_match(nlp: Language) -> None:
    ents = extract_text(nlp, "HIGH BLOOD PRESSURE and Type Two Diabetes")
    assert [(e.text, e.code) for e in ents] == [
        ("HIGH BLOOD PRESSURE", "I10"),
        ("Type Two Diabetes", "E11.9"),
    ]


def test_plural_and_no_overlap(nlp: Language) -> None:
    ents = extract_text(nlp, "Headaches, chest pains and a chest x-ray last week.")
    assert [(e.text, e.label) for e in ents] == [
        ("Headaches", "PROBLEM"),
        ("chest pains", "PROBLEM"),
        ("chest x-ray", "TEST"),
    ]
    spans = sorted((e.start, e.end) for e in ents)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))


def test_answer_no_comma_does_not_negate(nlp: Language) -> None:
    cough = _one(extract_text(nlp, "No, the cough is getting worse."), "cough")
    assert not cough.negated


def test_hypothetical_and_uncertain(nlp: Language) -> None:
    ents = extract_text(nlp, "If you get chest pain, call us. Maybe it's reflux.")
    assert _one(ents, "chest pain").hypothetical
    assert _one(ents, "reflux").uncertain


def test_transcript_segments_and_offsets(nlp: Language) -> None:
    texts = [
        "What brings you in today?",
        "I've had a cough and a fever since Monday.",
        "Any wheezing?",
        "No wheezing. I use my albuterol inhaler as needed.",
    ]
    segments = tuple(
        Segment(
            idx=i + 10,
            start=float(i),
            end=float(i) + 1,
            text=t,
            speaker="clinician" if i % 2 == 0 else "patient",
        )
        for i, t in enumerate(texts)
    )
    transcript = Transcript(segments=segments, language="en", duration_s=4.0, model="test")
    ents = extract_entities(nlp, transcript)
    by_idx = {s.idx: s.text for s in segments}
    for e in ents:
        assert by_idx[e.segment_idx][e.start : e.end] == e.text
    assert [(e.segment_idx, e.text, e.negated) for e in ents] == [
        (11, "cough", False),
        (11, "fever", False),
        (12, "wheezing", True),  # asked, and the answer says "No wheezing"
        (13, "wheezing", True),
        (13, "albuterol inhaler", False),
    ]


def test_spans_equal_text_slices_on_longer_text(nlp: Language) -> None:
    text = (
        "Okay so your blood pressure was 150/95 last time. You're on lisinopril 10 mg "
        "daily and atorvastatin. We'll get a lipid panel, a CBC and an EKG, and check "
        "your kidney function. Any chest pain, palpitations or swelling in your legs?"
    )
    ents = extract_text(nlp, text)
    assert len(ents) >= 8
    for e in ents:
        assert text[e.start : e.end] == e.text and e.segment_idx == 0
    assert _one(ents, "blood pressure").attributes["value"] == "150/95"
    lisinopril = _one(ents, "lisinopril").attributes
    assert {k: lisinopril[k] for k in ("dose", "frequency", "vocabulary", "linked")} == {
        "dose": "10 mg",
        "frequency": "daily",
        "vocabulary": "drugs",
        "linked": "vocabulary",
    }


def test_meta_records_version_and_options(nlp: Language) -> None:
    assert NLP_VERSION == "nlp.rules.v3"
    assert nlp.meta["scribe"]["version"] == f"{NLP_VERSION}+kb.{nlp.meta['scribe']['kb']['key']}"
    assert nlp.meta["scribe"]["options"]["vocabularies"] == ["curated", "icd10cm", "drugs"]


def test_curated_codes_are_real_icd10cm() -> None:
    import simple_icd_10_cm as cm

    rows = read_tsv(VOCAB_DIR / "problems.tsv")
    assert len(rows) > 300
    bad = [(r["term"], r["icd10cm"]) for r in rows if not cm.is_valid_item(r["icd10cm"])]
    assert bad == []


def test_curated_files_have_headers_and_no_duplicates() -> None:
    for name in CURATED_FILES:
        header = (VOCAB_DIR / name).read_text(encoding="utf-8").splitlines()[0]
        assert header.startswith("term\t"), name
        terms = [r["term"].lower() for r in read_tsv(VOCAB_DIR / name)]
        assert len(terms) == len(set(terms)), name


def test_curated_only_pipeline_loads(tmp_path) -> None:
    nlp = load_nlp(NlpOptions(cache_dir=str(tmp_path), vocabularies=("curated",), linking=False))
    ents = extract_text(nlp, "Chest pain and metformin.")
    assert [(e.text, e.label) for e in ents] == [("Chest pain", "PROBLEM")]
    assert list(tmp_path.glob("nlp-terms-*.json"))


# --- Conversational vocabulary and the guideline's span rules (annotations/ner_guideline.md) --


def _spans(nlp: Language, text: str) -> list[tuple[str, str]]:
    return [(e.text, e.label) for e in extract_text(nlp, text)]


def test_lay_symptom_phrasing(nlp: Language) -> None:
    text = "I've been throwing up, I puked twice, my tummy ache is worse and I'm short of breath."
    assert _spans(nlp, text) == [
        ("throwing up", "PROBLEM"),
        ("puked", "PROBLEM"),
        ("tummy ache", "PROBLEM"),
        ("short of breath", "PROBLEM"),
    ]
    ents = extract_text(nlp, "It burns, I get pain when I pee. Any trouble swallowing?")
    assert [(e.text, e.code) for e in ents] == [
        ("pain when I pee", "R30.0"),
        ("trouble swallowing", "R13.10"),
    ]


def test_bare_symptom_words_and_plurals(nlp: Language) -> None:
    text = "Does it hurt when I press? Any pain, tenderness, rashes or injuries? I feel stuffy."
    assert _spans(nlp, text) == [
        ("hurt", "PROBLEM"),
        ("pain", "PROBLEM"),
        ("tenderness", "PROBLEM"),
        ("rashes", "PROBLEM"),
        ("injuries", "PROBLEM"),
        ("stuffy", "PROBLEM"),
    ]


def test_site_inside_a_problem_phrase_is_one_problem(nlp: Language) -> None:
    # Guideline rule 5: a site written as part of the problem phrase is inside the PROBLEM;
    # rule 4: laterality belongs to the site.
    text = "I've had right knee pain, a swollen left ankle, stomach problems and my back hurts."
    assert _spans(nlp, text) == [
        ("right knee pain", "PROBLEM"),
        ("swollen left ankle", "PROBLEM"),
        ("stomach problems", "PROBLEM"),
        ("back hurts", "PROBLEM"),
    ]
    dislocation = _one(
        extract_text(nlp, "It sounds like a shoulder dislocation."), "shoulder dislocation"
    )
    assert (dislocation.label, dislocation.code) == ("PROBLEM", "T14.8XXA")  # not a guess


def test_separate_site_is_its_own_anatomy_span(nlp: Language) -> None:
    text = "There's pain in my right middle finger and swelling of your lips."
    assert _spans(nlp, text) == [
        ("pain", "PROBLEM"),
        ("right middle finger", "ANATOMY"),
        ("swelling", "PROBLEM"),
        ("lips", "ANATOMY"),
    ]


def test_procedures_and_tests_with_a_site(nlp: Language) -> None:
    text = (
        "I had my appendix out and my wisdom teeth pulled. We'll get a knee x-ray, put a "
        "finger splint on, ice it, and send you to physio. Any surgeries?"
    )
    assert _spans(nlp, text) == [
        ("appendix out", "PROCEDURE"),
        ("wisdom teeth pulled", "PROCEDURE"),
        ("knee x-ray", "TEST"),
        ("finger splint", "PROCEDURE"),
        ("ice", "PROCEDURE"),
        ("physio", "PROCEDURE"),
        ("surgeries", "PROCEDURE"),
    ]


def test_phrases_that_are_not_mentions(nlp: Language) -> None:
    text = (
        "It's on the right hand side. Call the doctor's surgery. Can you put weight on it? "
        "Anyone who's been sick? I'll come right back. Ten being the worst pain you can imagine. "
        "I weigh 12 stone. Any ice cream?"
    )
    assert _spans(nlp, text) == []


def test_site_words_only_where_they_are_sites(nlp: Language) -> None:
    text = "My back is sore, I passed two stones and the stone is in the proximal right ureter."
    assert _spans(nlp, text) == [
        ("back", "ANATOMY"),
        ("sore", "PROBLEM"),
        ("stones", "PROBLEM"),
        ("stone", "PROBLEM"),
        ("proximal right ureter", "ANATOMY"),
    ]


def test_phrase_patterns_expand_and_reject_bad_patterns() -> None:
    from pipelines.nlp.vocab import expand_pattern

    assert expand_pattern("(change|changes) in (your|) vision") == [
        "change in your vision",
        "change in vision",
        "changes in your vision",
        "changes in vision",
    ]
    with pytest.raises(ValueError, match="unbalanced"):
        expand_pattern("(trouble|difficulty breathing")


def test_phrase_and_site_rule_files_are_valid(tmp_path) -> None:
    import simple_icd_10_cm as cm

    from pipelines.nlp.site_rules import SiteRules
    from pipelines.nlp.vocab import PHRASES_FILE, expand_pattern

    rows = read_tsv(VOCAB_DIR / PHRASES_FILE, key="pattern")
    assert rows and all(r["label"] in CURATED_FILES.values() for r in rows)
    problems = [r for r in rows if r["label"] == "PROBLEM"]
    assert [r["pattern"] for r in problems if not cm.is_valid_item(r["icd10cm"])] == []
    assert all(expand_pattern(r["pattern"]) for r in rows)
    rules = SiteRules.load()
    assert rules.has("modifier", ("left",)) and rules.has("removal", ("taken", "out"))
    (tmp_path / "site_rules.tsv").write_text("word\trole\nleft\tside\n", encoding="utf-8")
    with pytest.raises(ValueError, match="role 'side'"):
        SiteRules.load(tmp_path)
