"""Context in conversation: negation, history, family, hypothetical, uncertainty across turns.

The cases live in tests/context_cases.py: each names one entity and the exact flags a
clinician expects on it, including cases where a flag must not fire.
"""

from __future__ import annotations

import json

import pytest
from spacy.language import Language

from pipelines.nlp import NlpOptions, extract_entities, extract_text, load_nlp
from pipelines.nlp.context import CONTEXT_FILE, load_context_rules, read_tsv_literal
from pipelines.nlp.dialogue import DIALOGUE_NAME, load_dialogue_rules, split_turns
from pipelines.nlp.vocab import VOCAB_DIR
from pipelines.types import Entity
from tests.conftest import make_transcript
from tests.context_cases import CASES, FLAGS, HOLDOUT, Case


@pytest.fixture(scope="module")
def nlp() -> Language:
    return load_nlp(NlpOptions())


def _entity(nlp: Language, case: Case) -> Entity:
    if case.is_dialogue:
        entities = extract_entities(nlp, make_transcript(list(case.turns)))
    else:
        entities = extract_text(nlp, case.turns[0][1])
    found = [
        e
        for e in entities
        if e.text.lower() == case.target.lower() and case.turn in (None, e.segment_idx)
    ]
    assert len(found) == 1, [(e.segment_idx, e.text) for e in entities]
    return found[0]


def _flags(entity: Entity) -> frozenset[str]:
    return frozenset(flag for flag in FLAGS if getattr(entity, flag))


def test_enough_cases_and_each_targets_one_entity() -> None:
    assert len(CASES) >= 60
    assert len({c.name for c in CASES + HOLDOUT}) == len(CASES) + len(HOLDOUT)
    assert sum(1 for c in CASES if not c.expect) >= 15  # flags that must not fire
    assert all(set(c.expect) <= set(FLAGS) for c in CASES + HOLDOUT)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(nlp: Language, case: Case) -> None:
    assert _flags(_entity(nlp, case)) == case.expect


def test_negation_accuracy_on_held_out_cases(nlp: Language) -> None:
    right = sum(("negated" in _flags(_entity(nlp, c))) == ("negated" in c.expect) for c in HOLDOUT)
    assert right / len(HOLDOUT) >= 0.92


def test_question_entities_settled_by_answer_keep_offsets(nlp: Language) -> None:
    transcript = make_transcript(
        [
            ("clinician", "Any chest pain, palpitations or swelling in your legs?"),
            ("patient", "No."),
        ]
    )
    entities = extract_entities(nlp, transcript)
    question = transcript.segments[0].text
    assert {e.text: e.negated for e in entities} == {
        "chest pain": True,
        "palpitations": True,
        "swelling": True,
        "legs": False,
    }  # a body site is not denied by "No."
    for e in entities:
        assert question[e.start : e.end] == e.text


def test_tagged_text_offsets_and_turns(nlp: Language) -> None:
    text = "[doctor] Any cough? [patient] Yes, at night.\nD: Any fever?\nP: No."
    entities = extract_text(nlp, text)
    assert [(e.text, e.negated, text[e.start : e.end]) for e in entities] == [
        ("cough", False, "cough"),
        ("fever", True, "fever"),
    ]
    turns = split_turns(nlp(text))
    assert [(t.speaker, t.doc[t.start : t.end].text.strip()) for t in turns] == [
        ("clinician", "Any cough?"),
        ("patient", "Yes, at night."),
        ("clinician", "Any fever?"),
        ("patient", "No."),
    ]


def test_speaker_tag_ends_the_negation_scope(nlp: Language) -> None:
    # No punctuation: only the turn boundary stops "no" from reaching "fever".
    entities = extract_text(nlp, "[patient] no chest pain [doctor] and any fever")
    assert [(e.text, e.negated) for e in entities] == [("chest pain", True), ("fever", False)]


def test_answer_kinds(nlp: Language) -> None:
    dialogue = nlp.get_pipe(DIALOGUE_NAME)
    kinds = {
        "No.": "negative",
        "Um, nope, nothing.": "negative",
        "Not that I know of.": "negative",
        "I don't think so.": "negative",
        "No ma'am.": "negative",
        "Yeah, a little.": "affirmative",
        "Maybe, I'm not sure.": "uncertain",
        "No fever.": None,
        "No?": None,
        "Never mind.": None,
        "The cough is worse.": None,
    }
    assert {text: dialogue.answer_kind(nlp(text)[:]) for text in kinds} == kinds


def test_without_context_no_flags_and_no_error(tmp_path) -> None:
    plain = load_nlp(NlpOptions(cache_dir=str(tmp_path), vocabularies=("curated",), context=False))
    assert DIALOGUE_NAME not in plain.pipe_names
    entities = extract_entities(
        plain, make_transcript([("clinician", "Any fever?"), ("patient", "No.")])
    )
    assert [(e.text, _flags(e)) for e in entities] == [("fever", frozenset())]


def test_context_rules_file_is_well_formed() -> None:
    rows = read_tsv_literal(VOCAB_DIR / CONTEXT_FILE)
    known = {
        "REMOVE",
        "NEGATED_EXISTENCE",
        "POSSIBLE_EXISTENCE",
        "HISTORICAL",
        "FAMILY",
        "HYPOTHETICAL",
        "SELF",
        "NEW_CLAUSE",
        "REPORTED",
    }
    assert {r["category"] for r in rows} <= known
    for row in rows:
        if row["pattern"]:
            assert isinstance(json.loads(row["pattern"]), list), row["literal"]
    rules = load_context_rules()
    removed = {r["literal"] for r in rows if r["category"] == "REMOVE"}
    assert not any(rule.literal in removed and rule.pattern is None for rule in rules)
    # Every FAMILY rule (default or ours) ends at the patient's own words.
    family = [rule for rule in rules if rule.category == "FAMILY"]
    assert len(family) >= 4 and all("SELF" in rule.terminated_by for rule in family)


def test_dialogue_rules_file_kinds() -> None:
    rules = load_dialogue_rules()
    kinds = set(rules.phrases.values())
    assert kinds == {
        "negative",
        "affirmative",
        "uncertain",
        "not_answer",
        "filler",
        "address",
        "wh",
        "yes_no",
        "change",
        "presupposing",
        "question_opener",
    }
    assert rules.match_at(["i", "do", "n't", "think", "so"], 0) == ("negative", 5)
    assert rules.match_at(["i", "do", "it"], 0) == ("affirmative", 2)
