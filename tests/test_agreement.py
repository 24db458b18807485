"""Agreement figures computed in DuckDB equal the same figures worked out by hand.

Every example is built with ``annotation_tasks`` (a lead creates the tasks, annotators save
and submit) in a real DuckDB file. The arithmetic is in the comments; the SQL's doubles
must equal the exact fractions to 1e-12.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from pipelines.types import Annotation
from workbench import store as st
from workbench.store import annotation_tasks as an
from workbench.store.access import Actor, Forbidden
from workbench.store.agreement import agreement

from .conftest import make_draft, make_transcript

LEAD = Actor("lead", "annotator", frozenset({"lead"}))
PEOPLE = ("ann", "bob", "cat")

# Whitespace tokens: segment 0 has 5 (Any chest pain or cough?), segment 1 has 9
# (I take metformin 500 mg twice daily for diabetes.): 14 in all.
TURNS = [
    ("clinician", "Any chest pain or cough?"),
    ("patient", "I take metformin 500 mg twice daily for diabetes."),
]


def exactly(value: Fraction):
    return pytest.approx(float(value), rel=1e-12, abs=1e-12)


@pytest.fixture
def people(store: st.Store) -> st.Store:
    for user in ("dr-a", "lead", *PEOPLE):
        st.ensure_user(store, user, user, "clinician" if user == "dr-a" else "annotator")
    return store


def encounter(store: st.Store, encounter_id: str, turns=TURNS) -> str:
    st.add_encounter(store, st.EncounterRecord(encounter_id, "Visit", clinician_id="dr-a"), "dr-a")
    transcript = make_transcript(turns)
    version = st.save_transcript(store, encounter_id, transcript, "dr-a")
    st.save_draft(store, encounter_id, make_draft(transcript), version, "dr-a")
    return encounter_id


def labelled(store: st.Store, encounter_id: str, kind: str, who: str, annotations, submit=True):
    """A task created by the lead, saved (and submitted) by ``who``."""
    task = an.create_task(store.as_actor(LEAD), encounter_id, kind, who)
    me = store.as_actor(Actor(who, "annotator"))
    task = an.save_annotations(me, task.task_id, annotations, revision=task.revision)
    if submit:
        task = an.submit_task(me, task.task_id, revision=task.revision)
    return task


def span(aid: str, seg: int, words: str, label: str, origin: str = "human") -> Annotation:
    start = TURNS[seg][1].index(words)
    return Annotation(aid, "span", label, seg, start, start + len(words), origin=origin)


def answer(aid: str, question: str, choice: str) -> Annotation:
    return Annotation(aid, "encounter_label", question, value={"choice": choice})


def test_span_f1_and_token_kappa_match_the_hand_computed_example(people: st.Store) -> None:
    """ann (the reference) and bob (compared), one encounter:

    ann: "chest pain" PROBLEM, "cough" PROBLEM, "metformin" MEDICATION, "500 mg" DOSE,
         "diabetes" PROBLEM (a suggestion ann confirmed: counts)
    bob: "chest pain" PROBLEM, "cough?" PROBLEM, "metformin" MEDICATION, "500" DOSE,
         "twice daily" FREQUENCY, and "diabetes" PROBLEM left as an unconfirmed suggestion
         (does not count: were it counted, PROBLEM would have 2 exact matches).

    Exact match, per label (tp, fp = bob's unmatched, fn = ann's unmatched):
      PROBLEM    tp 1 (chest pain)  fp 1 (cough?)  fn 2 (cough, diabetes)  F1 = 2/(2+1+2) = 2/5
      MEDICATION tp 1  fp 0  fn 0                                          F1 = 1
      DOSE       tp 0  fp 1  fn 1                                          F1 = 0
      FREQUENCY  tp 0  fp 1  fn 0                                          F1 = 0
      all        tp 2  fp 3  fn 3                                          F1 = 4/10 = 2/5
    Overlap match (same label, overlapping): matched ann/bob spans per label:
      PROBLEM 2 of 3 / 2 of 2 -> P 1, R 2/3, F1 = 2*(2/3)/(5/3) = 4/5; DOSE 1/1, 1/1 -> 1;
      FREQUENCY 0 -> 0; all: 4 of 5 / 4 of 5 -> P = R = 4/5, F1 = 4/5.

    Tokens (14), ann / bob: Any O/O, chest P/P, pain P/P, or O/O, cough? P/P | I O/O,
    take O/O, metformin M/M, 500 D/D, mg D/O, twice O/F, daily O/F, for O/O, diabetes P/O.
      agreed 10 of 14; ann: O 7, P 4, M 1, D 2; bob: O 7, P 3, M 1, D 1, F 2
      sum n_ann(c) n_bob(c) = 49 + 12 + 1 + 2 + 0 = 64
      kappa = (14*10 - 64) / (14^2 - 64) = 76/132 = 19/33
    Per label (binary: label vs everything else), kappa = 2(n x - a b) / (a(n-b) + b(n-a))
    with a, b the tokens each gave the label and x the tokens both did:
      PROBLEM  a 4 b 3 x 3: 2(42-12)/(4*11+3*10) = 60/74 = 30/37  (p_o 13/14)
      MEDICATION a 1 b 1 x 1: 2(14-1)/(13+13) = 1
      DOSE     a 2 b 1 x 1: 2(14-2)/(2*13+1*12) = 24/38 = 12/19  (p_o 13/14)
      FREQUENCY a 0 b 2 x 0: 0 / (0+2*14) = 0                     (p_o 12/14)
    e.g. PROBLEM as p_o, p_e: p_o = 13/14, p_e = (4*3 + 10*11)/196 = 122/196,
      (13/14 - 122/196)/(1 - 122/196) = 60/74.
    """
    enc = encounter(people, "e1")
    labelled(people, enc, "entities", "ann", [
        span("a1", 0, "chest pain", "PROBLEM"), span("a2", 0, "cough", "PROBLEM"),
        span("a3", 1, "metformin", "MEDICATION"), span("a4", 1, "500 mg", "DOSE"),
        span("a5", 1, "diabetes", "PROBLEM", origin="confirmed"),
    ])  # fmt: skip
    labelled(people, enc, "entities", "bob", [
        span("b1", 0, "chest pain", "PROBLEM"), span("b2", 0, "cough?", "PROBLEM"),
        span("b3", 1, "metformin", "MEDICATION"), span("b4", 1, "500", "DOSE"),
        span("b5", 1, "twice daily", "FREQUENCY"),
        span("b6", 1, "diabetes", "PROBLEM", origin="suggestion"),
    ])  # fmt: skip

    report = agreement(people.as_actor(LEAD), "entities")
    assert (report.encounters, report.pairs, report.annotators) == (1, 1, 2)
    spans = {s.label: s for s in report.spans}
    assert list(spans) == [None, "DOSE", "FREQUENCY", "MEDICATION", "PROBLEM"]
    expected = {  # label: (tp, fp, fn, F1 exact, F1 overlap)
        None: (2, 3, 3, Fraction(2, 5), Fraction(4, 5)),
        "PROBLEM": (1, 1, 2, Fraction(2, 5), Fraction(4, 5)),
        "MEDICATION": (1, 0, 0, Fraction(1), Fraction(1)),
        "DOSE": (0, 1, 1, Fraction(0), Fraction(1)),
        "FREQUENCY": (0, 1, 0, Fraction(0), Fraction(0)),
    }
    for label, (tp, fp, fn, f1, relaxed) in expected.items():
        got = spans[label]
        assert (got.tp, got.fp, got.fn, got.units) == (tp, fp, fn, 1), label
        assert got.f1 == exactly(f1) and got.mean_f1 == exactly(f1), label
        assert got.relaxed_f1 == exactly(relaxed), label
        assert got.mean_relaxed_f1 == exactly(relaxed), label

    kappas = {k.category: k for k in report.kappas if k.measure == "tokens"}
    assert set(kappas) == {None, "DOSE", "FREQUENCY", "MEDICATION", "PROBLEM"}  # no "O" row
    assert {(k.items, k.annotator_pairs) for k in kappas.values()} == {(14, 1)}
    assert kappas[None].observed == exactly(Fraction(10, 14))
    assert kappas[None].kappa == exactly(Fraction(19, 33))
    assert kappas["PROBLEM"].kappa == exactly(Fraction(30, 37))
    assert kappas["PROBLEM"].observed == exactly(Fraction(13, 14))
    assert kappas["MEDICATION"].kappa == exactly(Fraction(1))
    assert kappas["DOSE"].kappa == exactly(Fraction(12, 19))
    assert kappas["FREQUENCY"].kappa == exactly(Fraction(0))
    assert kappas["FREQUENCY"].observed == exactly(Fraction(12, 14))
    # The figures of one encounter are the same figures (only one here).
    assert agreement(people.as_actor(LEAD), "entities", encounter_id=enc) == report


def test_section_check_and_question_kappa_by_hand(people: st.Store) -> None:
    """Sections, six segments (ann / bob; bob left segment 5 unlabelled: "(none)"):
      0 cc/cc  1 hpi/hpi  2 hpi/ros  3 ros/ros  4 pe/pe  5 ap/(none)
      agreed 4 of 6; ann: cc 1 hpi 2 ros 1 pe 1 ap 1; bob: cc 1 hpi 1 ros 2 pe 1 none 1
      sum = 1 + 2 + 2 + 1 = 6; kappa = (6*4 - 6)/(36 - 6) = 18/30 = 3/5
      hpi a 2 b 1 x 1: 2(6-2)/(2*5+1*4) = 8/14 = 4/7; ros a 1 b 2 x 1: 8/14 = 4/7;
      chief_complaint a 1 b 1 x 1: 2(6-1)/(5+5) = 1; assessment_and_plan a 1 b 0: 0.
    Transcript checks, segments 0 and 1: correct/correct, words_wrong/correct:
      agreed 1 of 2; ann: correct 1 words_wrong 1; bob: correct 2; sum = 2;
      kappa = (2*1 - 2)/(4 - 2) = 0.
    Encounter questions over three encounters (entities tasks without spans):
      visit_type: new problem/new problem, follow-up/follow-up, follow-up/chronic care:
        agreed 2 of 3; ann: new 1 follow-up 2; bob: new 1 follow-up 1 chronic 1; sum = 1 + 2
        = 3; kappa = (3*2 - 3)/(9 - 3) = 1/2.
      audio_quality: "good" from both everywhere: p_e = 1, kappa undefined (None), p_o 1.
    """
    turns = [("clinician", f"Segment number {i}.") for i in range(6)]
    enc = encounter(people, "e1", turns)
    sections = {
        "ann": ["chief_complaint", "history_of_present_illness", "history_of_present_illness",
                "review_of_systems", "physical_exam", "assessment_and_plan"],
        "bob": ["chief_complaint", "history_of_present_illness", "review_of_systems",
                "review_of_systems", "physical_exam", None],
    }  # fmt: skip
    for who, labels in sections.items():
        labelled(people, enc, "sections", who, [
            Annotation(f"s{i}", "section_label", label, i) for i, label in enumerate(labels)
            if label is not None
        ])  # fmt: skip
    checks = {"ann": ["correct", "words_wrong"], "bob": ["correct", "correct"]}
    for who, labels in checks.items():
        labelled(people, enc, "transcript", who, [
            Annotation(f"c{i}", "transcript_check", label, i,
                       value={"text": "Segment no 1."} if label == "words_wrong" else {})
            for i, label in enumerate(labels)
        ])  # fmt: skip
    visits = [("new problem", "new problem"), ("follow-up", "follow-up"),
              ("follow-up", "chronic care")]  # fmt: skip
    for n, pair in enumerate(visits):
        e = enc if n == 0 else encounter(people, f"e{n + 1}", turns)
        for who, choice in zip(("ann", "bob"), pair, strict=True):
            labelled(
                people,
                e,
                "entities",
                who,
                [answer("q1", "visit_type", choice), answer("q2", "audio_quality", "good")],
            )

    lead = people.as_actor(LEAD)
    got = {k.category: k for k in agreement(lead, "sections").kappas}
    assert got[None].kappa == exactly(Fraction(3, 5))
    assert got[None].observed == exactly(Fraction(4, 6)) and got[None].items == 6
    assert got["history_of_present_illness"].kappa == exactly(Fraction(4, 7))
    assert got["review_of_systems"].kappa == exactly(Fraction(4, 7))
    assert got["chief_complaint"].kappa == exactly(Fraction(1))
    assert got["assessment_and_plan"].kappa == exactly(Fraction(0))
    assert "(none)" not in got

    checks_kappa = {k.category: k for k in agreement(lead, "transcript").kappas}
    assert checks_kappa[None].kappa == exactly(Fraction(0)) and checks_kappa[None].items == 2

    entities = agreement(lead, "entities")
    assert (entities.encounters, entities.pairs) == (3, 3)
    assert entities.spans == ()  # nobody labelled a span: no F1, and no division by zero
    questions = {k.subject: k for k in entities.kappas if k.measure == "questions"}
    assert questions["visit_type"].kappa == exactly(Fraction(1, 2))
    assert questions["visit_type"].items == 3
    assert questions["audio_quality"].kappa is None
    assert questions["audio_quality"].observed == exactly(Fraction(1))
    tokens = next(k for k in entities.kappas if k.measure == "tokens" and k.category is None)
    assert tokens.kappa is None and tokens.observed == 1  # every token O for both: undefined


def test_pdqi_ratings_exact_agreement_difference_and_weighted_kappa(people: st.Store) -> None:
    """ "accurate" over three encounters, ann / bob: 4/4, 3/2, 5/3.
      exact 1/3; mean |difference| = (0 + 1 + 2)/3 = 1
      by chance: ann {3,4,5} x bob {2,3,4}: |3-2|+|3-3|+|3-4| = 2, 4: 2+1+0 = 3,
      5: 3+2+1 = 6 -> 11 over 9 pairs; weighted kappa = 1 - 1/(11/9) = 2/11.
    Every other item: 3 from both everywhere: exact 1, difference 0, kappa undefined."""
    scores = [(4, 4), (3, 2), (5, 3)]
    items = [q.name for q in an.load_task_schema().quality_items]
    for n, pair in enumerate(scores):
        e = encounter(people, f"e{n + 1}")
        for who, score in zip(("ann", "bob"), pair, strict=True):
            ratings = [
                Annotation(f"r{i}", "rating", item, value={"score": score if item == "accurate"
                                                           else 3})
                for i, item in enumerate(items)
            ]  # fmt: skip
            labelled(people, e, "quality", who, ratings)
    report = agreement(people.as_actor(LEAD), "quality")
    assert (report.encounters, report.pairs, report.spans, report.kappas) == (3, 3, (), ())
    rows = {r.item: r for r in report.ratings}
    assert sorted(rows) == sorted(items)
    accurate = rows["accurate"]
    assert (accurate.annotator_pairs, accurate.ratings) == (1, 3)
    assert accurate.exact == exactly(Fraction(1, 3))
    assert accurate.mean_abs_diff == exactly(Fraction(1))
    assert accurate.weighted_kappa == exactly(Fraction(2, 11))
    assert (rows["thorough"].exact, rows["thorough"].mean_abs_diff) == (1, 0)
    assert rows["thorough"].weighted_kappa is None


def test_three_annotators_give_the_mean_over_pairs(people: st.Store) -> None:
    """ann and bob: "metformin" MEDICATION; cat: "metformin 500" MEDICATION.
    F1 per pair: ann-bob 1, ann-cat 0, bob-cat 0 -> mean 1/3; summed: tp 1, 6 spans ->
    2*1/6 = 1/3. Overlap: every pair matches -> 1.
    Token kappa over the 14 tokens: ann-bob 1. ann-cat (and bob-cat): agreed 13 of 14
    ("500" differs), ann M 1 O 13, cat M 2 O 12, sum = 2 + 156 = 158,
    kappa = (14*13 - 158)/(196 - 158) = 24/38 = 12/19.
    Mean over the three pairs: (1 + 12/19 + 12/19)/3 = 43/57."""
    enc = encounter(people, "e1")
    for who, words in (("ann", "metformin"), ("bob", "metformin"), ("cat", "metformin 500")):
        labelled(people, enc, "entities", who, [span("x", 1, words, "MEDICATION")])
    report = agreement(people.as_actor(LEAD), "entities")
    assert (report.encounters, report.pairs, report.annotators) == (1, 3, 3)
    overall = report.spans[0]
    assert overall.label is None and overall.units == 3
    assert (overall.tp, overall.fp, overall.fn) == (1, 2, 2)
    assert overall.mean_f1 == exactly(Fraction(1, 3)) and overall.f1 == exactly(Fraction(1, 3))
    assert overall.mean_relaxed_f1 == exactly(Fraction(1))
    tokens = next(k for k in report.kappas if k.measure == "tokens" and k.category is None)
    assert tokens.annotator_pairs == 3 and tokens.items == 42
    assert tokens.kappa == exactly(Fraction(43, 57))


def test_one_annotator_gives_no_figure_and_drafts_do_not_count(people: st.Store) -> None:
    enc = encounter(people, "e1")
    labelled(people, enc, "entities", "ann", [span("a", 1, "metformin", "MEDICATION")])
    labelled(people, enc, "entities", "bob", [span("b", 1, "metformin", "MEDICATION")],
             submit=False)  # fmt: skip
    report = agreement(people.as_actor(LEAD), "entities")
    assert (report.encounters, report.pairs, report.annotators) == (0, 0, 0)
    assert (report.spans, report.kappas, report.ratings) == ((), (), ())
    assert agreement(people.as_actor(LEAD), "quality").pairs == 0


def test_only_leads_see_agreement_and_kinds_are_checked(people: st.Store) -> None:
    with pytest.raises(Forbidden):
        agreement(people.as_actor(Actor("ann", "annotator")), "entities")
    with pytest.raises(st.InvalidEdit, match="pairwise"):
        agreement(people.as_actor(LEAD), "pairwise")
