"""Concept linking: codes for misspelt, lay and abbreviated mentions; the index and its cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from spacy.language import Language

from pipelines.nlp import (
    LINKER_VERSION,
    NlpOptions,
    extract_text,
    linking_index,
    load_nlp,
    model_version,
)
from pipelines.nlp import kb as kb_module
from pipelines.nlp.abbreviations import load_abbreviations, looks_like_abbreviation
from pipelines.nlp.kb import Concept, build_concepts, keep_icd_code
from pipelines.nlp.link_eval import accuracy, check_linking, read_gold
from pipelines.nlp.linking import LINKER_NAME, ConceptLinker
from pipelines.nlp.linking_index import build_index, load_index, load_indexes, save_index
from pipelines.nlp.matcher import MedicalMatcher
from pipelines.nlp.vocab import VOCAB_DIR, read_tsv
from pipelines.types import Entity
from tests.conftest import REPO

GOLD = REPO / "tests" / "fixtures" / "linking_gold.tsv"


@pytest.fixture(scope="module")
def nlp() -> Language:
    # Default options: $SCRIBE_CACHE or ~/.cache/scribe-workbench, shared with every other
    # test and `make demo`, so the linker index is built once per machine.
    return load_nlp(NlpOptions())


def _one(entities: tuple[Entity, ...], text: str) -> Entity:
    found = [e for e in entities if e.text == text]
    assert len(found) == 1, [(e.text, e.label, e.code) for e in entities]
    return found[0]


# --- ASR misspellings, lay words and abbreviations ---------------------------------------


def test_misspelt_drugs_get_their_generic_name_and_id(nlp: Language) -> None:
    ents = extract_text(nlp, "I take amlodapine 5 mg every day and metforman twice a day.")
    aml = _one(ents, "amlodapine")
    assert (aml.label, aml.code, aml.code_system, aml.code_label) == (
        "MEDICATION", "DB00381", "DrugBank", "Amlodipine")
    assert aml.attributes["linked"] == "misspelling" and aml.attributes["dose"] == "5 mg"
    met = _one(ents, "metforman")
    assert (met.code, met.code_label) == ("DB00331", "Metformin")
    assert met.attributes["frequency"] == "twice a day"  # values run after linking


def test_misspelt_and_lay_problems_get_icd_codes(nlp: Language) -> None:
    ents = extract_text(nlp, "He has hypertenshun and gastro reflux, sugar diabetes and GERD.")
    htn = _one(ents, "hypertenshun")
    assert (htn.label, htn.code, htn.code_system) == ("PROBLEM", "I10", "ICD-10-CM")
    assert 0 < htn.attributes["link_score"] < 1  # a fuzzy match says how close it was
    reflux = next(e for e in ents if "reflux" in e.text)
    assert reflux.code == "K21.9"
    assert _one(ents, "sugar diabetes").code == "E11.9"
    gerd = _one(ents, "GERD")
    assert gerd.code == "K21.9" and gerd.attributes["linked_as"] == (
        "gastroesophageal reflux disease")


def test_linker_ranks_candidates_for_loose_phrasings(nlp: Language) -> None:
    linker: ConceptLinker = nlp.get_pipe(LINKER_NAME)
    for text, code in [("gastro reflux", "K21.9"), ("diabetes type two", "E11.9"),
                       ("hypertenshun", "I10"), ("atrial fibrilation", "I48.91")]:
        cands = linker.link(text, "PROBLEM")
        assert cands[0].code == code, (text, cands[:3])
        scores = [c.score for c in cands]
        assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
        assert len(cands) <= linker.top_k
    assert linker.link("metforman", "MEDICATION")[0].name == "Metformin"


def test_exact_vocabulary_code_is_kept_and_alternatives_listed(nlp: Language) -> None:
    chest = _one(extract_text(nlp, "I have chest pain."), "chest pain")
    assert chest.code == "R07.9" and chest.attributes["linked"] == "vocabulary"
    cands = chest.attributes["candidates"]
    assert cands[0] == {"code": "R07.9", "code_system": "ICD-10-CM",
                        "label": "Chest pain, unspecified", "score": 1.0}
    assert len(cands) > 1 and len({c["code"] for c in cands}) == len(cands)


def test_drug_class_terms_keep_no_code(nlp: Language) -> None:
    ents = extract_text(nlp, "I take a water pill and a statin.")
    assert [(e.text, e.code, e.attributes["candidates"]) for e in ents] == [
        ("water pill", None, []), ("statin", None, [])]


def test_abbreviation_defined_in_the_text_resolves_later_mentions(nlp: Language) -> None:
    text = "She has chronic obstructive pulmonary disease (COPD). Her COPD is worse in winter."
    ents = extract_text(nlp, text)
    assert [(e.text, e.code) for e in ents] == [
        ("chronic obstructive pulmonary disease", "J44.9"), ("COPD", "J44.9"), ("COPD", "J44.9")]
    # An abbreviation no vocabulary knows is found through its definition.
    ents = extract_text(nlp, "He has diabetic kidney disease (DKD) and the DKD is stable.")
    assert [(e.text, e.code) for e in ents] == [
        ("diabetic kidney disease", "E11.22"), ("DKD", "E11.22"), ("DKD", "E11.22")]


def test_spoken_abbreviations_without_a_long_form(nlp: Language) -> None:
    ents = extract_text(nlp, "Patient reports SOB on exertion, history of CHF, A1c was 7.2.")
    found = {e.text: (e.label, e.code) for e in ents}
    assert found["SOB"] == ("PROBLEM", "R06.02")
    assert found["CHF"] == ("PROBLEM", "I50.9")
    assert found["A1c"][0] == "TEST"
    # Written in lower case, "sob" is the verb.
    assert not extract_text(nlp, "She started to sob when she heard the news.")


def test_names_and_ordinary_words_are_not_linked(nlp: Language) -> None:
    text = ("My husband Jonathan went to Philadelphia yesterday with Stephanie; the "
            "appointment was afebrile and uneventful.")
    assert [(e.text, e.code) for e in extract_text(nlp, text)] == []


def test_negation_applies_to_linked_mentions(nlp: Language) -> None:
    htn = _one(extract_text(nlp, "She denies hypertenshun."), "hypertenshun")
    assert htn.negated and htn.code == "I10"


def test_accuracy_on_the_hand_checked_list(nlp: Language) -> None:
    checks = check_linking(nlp, read_gold(GOLD))
    assert len(checks) >= 40
    assert accuracy(checks) >= 0.9, [c for c in checks if not c.correct]


def test_outputs_record_the_knowledge_base(nlp: Language) -> None:
    meta = nlp.meta["scribe"]
    key = meta["kb"]["key"]
    assert len(key) == 16 and model_version(nlp) == meta["version"] == f"nlp.rules.v3+kb.{key}"
    assert LINKER_VERSION in meta["components"]
    assert meta["kb"]["concepts"]["icd10cm"] > 30_000 and meta["kb"]["concepts"]["drugs"] > 10_000
    assert key == linking_index.kb_key(VOCAB_DIR)


def test_repeated_mentions_are_looked_up_once(nlp: Language) -> None:
    linker: ConceptLinker = nlp.get_pipe(LINKER_NAME)
    calls: list[list[str]] = []
    real = linker.generators["icd10cm"]
    linker.generators["icd10cm"] = lambda texts, k: calls.append(texts) or real(texts, k)
    try:
        linker.candidates("icd10cm", ["zz unusual phrase", "zz unusual phrase"])
        linker.candidates("icd10cm", ["zz unusual phrase"])
    finally:
        linker.generators["icd10cm"] = real
    assert calls == [["zz unusual phrase"]]


# --- data files ----------------------------------------------------------------------------


def test_synonym_codes_are_billable_icd10cm_codes() -> None:
    import simple_icd_10_cm as cm

    rows = read_tsv(VOCAB_DIR / "synonyms.tsv")
    assert len(rows) > 100
    bad = [(r["term"], r["icd10cm"]) for r in rows
           if not (cm.is_valid_item(r["icd10cm"]) and cm.is_leaf(r["icd10cm"]))]
    assert bad == []
    terms = [r["term"].lower() for r in rows]
    assert len(terms) == len(set(terms))


def test_abbreviation_list(nlp: Language) -> None:
    abbreviations = load_abbreviations()
    assert abbreviations["sob"] == "shortness of breath" and len(abbreviations) > 50
    linker: ConceptLinker = nlp.get_pipe(LINKER_NAME)
    unresolved = [a for a, long in abbreviations.items() if linker._resolve_long_form(long) is None]
    assert unresolved == []
    assert [looks_like_abbreviation(t) for t in ("SOB", "A1c", "HbA1c", "sob", "Sob", "B")] == [
        True, True, True, False, False, False]


def test_abbreviation_without_long_form_is_refused(tmp_path: Path) -> None:
    (tmp_path / "abbreviations.tsv").write_text("term\tlong_form\nxyz\t\n", encoding="utf-8")
    with pytest.raises(ValueError, match="xyz"):
        load_abbreviations(tmp_path)


def test_icd_kb_keeps_initial_encounters_only() -> None:
    assert keep_icd_code("S93.409A") and keep_icd_code("I10")
    assert not keep_icd_code("S93.409D") and not keep_icd_code("S93.409S")
    assert not keep_icd_code("W19.XXXA")
    with pytest.raises(ValueError, match="unknown knowledge base"):
        build_concepts("snomed")


# --- the index and its cache (a small hand-built KB) ---------------------------------------

SMALL = [
    Concept("I10", "Essential (primary) hypertension", "I10", "ICD-10-CM", "PROBLEM",
            ("hypertension", "high blood pressure")),
    Concept("E11.9", "Type 2 diabetes mellitus without complications", "E11.9", "ICD-10-CM",
            "PROBLEM", ("type 2 diabetes", "sugar diabetes")),
    Concept("J45.909", "Unspecified asthma, uncomplicated", "J45.909", "ICD-10-CM", "PROBLEM",
            ("asthma",)),
]


@pytest.mark.parametrize("kind", ["exact", "hnsw"])
def test_index_round_trip_without_pickle(tmp_path: Path, kind: str) -> None:
    built, vectors = build_index("icd10cm", SMALL, kind)
    save_index(tmp_path, built, vectors)
    for path in tmp_path.iterdir():  # nothing in the cache can run code when loaded
        assert path.suffix in {".json", ".npy", ".npz", ".bin"}, path
    np.load(tmp_path / "idf.npy", allow_pickle=False)
    loaded = load_index(tmp_path, "icd10cm")
    for index in (built, loaded):
        gen = index.candidate_generator()
        found = gen(["hypertenshun", "sugar diabetis"], 5)
        best = [max(cands, key=lambda c: max(c.similarities)).concept_id for cands in found]
        assert best == ["I10", "E11.9"]


def test_indexes_are_built_once_per_cache_dir(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[str] = []

    def small(name: str, vocab_dir: Path) -> list[Concept]:
        built.append(name)
        return SMALL

    monkeypatch.setattr(kb_module, "build_concepts", small)
    key, first = load_indexes(VOCAB_DIR, tmp_path)
    key2, second = load_indexes(VOCAB_DIR, tmp_path)
    assert key == key2 and built == ["icd10cm", "drugs"]
    assert second["icd10cm"].aliases == first["icd10cm"].aliases
    assert [p.name for p in tmp_path.iterdir()] == [f"nlp-linker-{key}"]
    with pytest.raises(ValueError, match="unknown index kind"):
        load_indexes(VOCAB_DIR, tmp_path, "faiss")


def test_threshold_decides_when_a_missing_code_is_filled(nlp: Language) -> None:
    from pipelines.nlp.vocab import TermEntry

    index, _ = build_index("icd10cm", SMALL)
    drugs, _ = build_index("drugs", [Concept("metformin", "Metformin", "DB00331", "DrugBank",
                                             "MEDICATION", ("metformin",))])
    # A derived term without a code, as the drug dictionary has for a few entries.
    table = {"hypertensive disorder": TermEntry("PROBLEM", None, None, None, "icd10cm")}
    results = {}
    for threshold in (0.3, 0.99):
        linker = ConceptLinker({"icd10cm": index, "drugs": drugs}, table, {}, "k", threshold)
        doc = nlp.make_doc("history of hypertensive disorder")
        MedicalMatcher(table)(doc)
        linker(doc)
        ent = doc.ents[0]
        results[threshold] = ent._.scribe_concept.code if ent._.scribe_concept else None
    assert results == {0.3: "I10", 0.99: None}
