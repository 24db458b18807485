"""Analytics facts and figures (issue 9) on a small real store built by the app's own store
functions, every figure checked against values worked out by hand below.

The store (all created today):

- enc-1, dr-a, Cardiology, soap, drafter test-v1. Transcript of 23 words (5 + 8 + 10); two
  corrections: a word inserted in segment 1 (segment_corrected, 1 error) and "500" -> "250"
  in segment 2 (word_corrected, 1 error): WER 2/23. Draft: Subjective "Cough for three
  days." (supported), Assessment "Viral illness." (partly_supported; viewed, then accepted),
  Plan "abc" (unsupported; edited to "abd"). Signed with no active time: the signed note
  has 4 + 2 + 1 = 7 words, reading time 7 / 450 * 60 = 0.93 s > 0 s, so a fast signature.
  Sections: Subjective ned 0, Assessment ned 0, Plan ned 1/3.
- enc-2, dr-b, Primary care, soap, test-v1. Draft: Subjective "Patient reports headache."
  (supported, deleted: rejected), Plan "Start ibuprofen." (partly_supported, accepted without
  being viewed: flagged unopened accepted). 15 s of active review, 2 signed words (0.27 s):
  not fast. Entities: machine PROBLEM "headache", PROBLEM "ibuprofen"; "ibuprofen"
  relabelled PROBLEM -> TEST, "headache" removed: PROBLEM -> TEST 1, PROBLEM -> (none) 1, no
  PROBLEM -> PROBLEM left. Sections: Subjective (draft 25 chars, signed none) ned 1, Plan 0.
- enc-3, dr-a, Cardiology, progress note by drafter test-v2, simulated, drafted only.
"""

from __future__ import annotations

import tracemalloc
from dataclasses import replace
from datetime import date, timedelta

import pytest

from pipelines.nlp import NlpOptions, load_nlp
from pipelines.transcript_edit import SegmentFix
from pipelines.types import Draft, Entity, Evidence, NoteSentence, SupportResult
from tests.conftest import make_transcript
from workbench import review_time as rt
from workbench import store as st
from workbench.corrections import correct_transcript
from workbench.store import analytics as an
from workbench.store.access import Actor, Forbidden

TURNS = [
    ("clinician", "What brings you in today?"),
    ("patient", "I have had a cough for three days."),
    ("clinician", "We will start amoxicillin 500 milligrams three times a day."),
]
SECTIONS = ("Subjective", "Objective", "Assessment", "Plan")
ANALYST = Actor("ana", "analyst")
ADMIN = Actor("adm", "admin")
TODAY = date.today()


@pytest.fixture(scope="module")
def nlp():
    return load_nlp(NlpOptions(vocabularies=("curated",)))


def draft(transcript, texts: list[tuple[str, str, str]], template="soap", model="test-v1"):
    """A draft of (sentence id, section, text), each sentence resting on segment 1."""
    seg = transcript.segments[1]
    evidence = (Evidence(1, 0, len(seg.text), seg.start, seg.end),)
    sentences = tuple(NoteSentence(i, sec, text, evidence) for i, sec, text in texts)
    return Draft(template, SECTIONS, sentences, model)


def support(store, eid: str, version: int, labels: dict[str, str]) -> None:
    note = st.get_note(store, eid, version)
    results = tuple(
        SupportResult(s.sentence_id, s.section, s.text, labels[s.sentence_id], 0.0)
        for s in note.draft.sentences
    )
    st.save_support(store, st.NewSupportCheck(eid, version, 1, None, "test", results, (), {}), "x")


def add(store, eid, owner, specialty, source=None):
    record = st.EncounterRecord(
        eid, f"Visit {eid}", specialty=specialty, clinician_id=owner, source=source
    )
    st.add_encounter(store, record, owner)
    transcript = make_transcript(TURNS)
    return transcript, st.save_transcript(store, eid, transcript, owner)


def build_enc1(store, nlp) -> None:
    transcript, tv = add(store, "enc-1", "dr-a", "Cardiology")
    st.save_entities(store, "enc-1", tv, (), "nlp.test", "dr-a")
    st.save_draft(
        store,
        "enc-1",
        draft(
            transcript,
            [
                ("s0", "Subjective", "Cough for three days."),
                ("s1", "Assessment", "Viral illness."),
                ("s2", "Plan", "abc"),
            ],
        ),
        tv,
        "dr-a",
    )
    support(store, "enc-1", 1, {"s0": "supported", "s1": "partly_supported", "s2": "unsupported"})
    correct_transcript(
        store,
        nlp,
        "enc-1",
        1,
        [
            SegmentFix(1, text="I have had a bad cough for three days."),
            SegmentFix(2, text="We will start amoxicillin 250 milligrams three times a day."),
        ],
        "dr-a",
    )
    note = st.get_note(store, "enc-1")
    s0, s1, s2 = note.draft.sentences
    st.append_event(
        store,
        st.new_event(
            "dr-a",
            "enc-1",
            "sentence.viewed",
            object_type="sentence",
            object_id="s1",
            note_version=note.version,
        ),
    )
    st.accept_sentences(store, "enc-1", note.version, ["s1"], "dr-a")
    v = st.save_note(store, "enc-1", note.version, (s0, s1, replace(s2, text="abd")), "dr-a")
    st.sign_note(store, "enc-1", v, "dr-a")


def build_enc2(store) -> None:
    transcript, tv = add(store, "enc-2", "dr-b", "Primary care")
    text = transcript.segments[1].text
    machine = tuple(
        Entity(1, text.index(w), text.index(w) + len(w), w, "PROBLEM") for w in ("cough", "days")
    )
    st.save_entities(store, "enc-2", tv, machine, "nlp.test", "pipeline")
    st.save_draft(
        store,
        "enc-2",
        draft(
            transcript,
            [
                ("s0", "Subjective", "Patient reports headache."),
                ("s1", "Plan", "Start ibuprofen."),
            ],
        ),
        tv,
        "dr-b",
    )
    support(store, "enc-2", 1, {"s0": "supported", "s1": "partly_supported"})
    v = st.relabel_entity(store, "enc-2", 1, 1, "TEST", "dr-b")  # "days" (sorted by position)
    st.remove_entity(store, "enc-2", v, 0, "dr-b")  # "cough"
    rt.record_heartbeat(store, "enc-2", "dr-b", {"active_s": 15.0}, 1)
    st.accept_sentences(store, "enc-2", 1, ["s1"], "dr-b")
    s1 = st.get_note(store, "enc-2", 1).draft.sentences[1]
    v = st.save_note(store, "enc-2", 1, (s1,), "dr-b")
    st.sign_note(store, "enc-2", v, "dr-b")


def build_enc3(store) -> None:
    transcript, tv = add(store, "enc-3", "dr-a", "Cardiology", source="simulated")
    st.save_draft(
        store,
        "enc-3",
        draft(transcript, [("s0", "Subjective", "Cough.")], template="progress", model="test-v2"),
        tv,
        "dr-a",
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory, nlp) -> st.Store:
    store = st.open_store(tmp_path_factory.mktemp("analytics") / "data")
    for user, role in [
        ("dr-a", "clinician"),
        ("dr-b", "clinician"),
        ("ana", "analyst"),
        ("adm", "admin"),
        ("x", "admin"),
    ]:
        st.ensure_user(store, user, user.upper(), role)
    build_enc1(store, nlp)
    build_enc2(store)
    build_enc3(store)
    result = an.refresh(store, full=True)
    assert result.encounters == 3
    return store


def rows(df, key):
    return {r[key]: r for r in df.to_dict("records")}


def test_volume_counts_ingested_reviewed_and_signed(built) -> None:
    df = an.figure(built, "volume", an.Filters(grain="month"))
    assert list(df.columns)[:4] == ["period", "ingested", "reviewed", "signed"]
    assert (df.ingested.sum(), df.reviewed.sum(), df.signed.sum()) == (3, 2, 2)


def test_edit_burden_per_section(built) -> None:
    """Plan: enc-1 1/3, enc-2 0 -> mean 1/6, accept-as-is 1/2. Subjective: 0 and 1."""
    got = rows(an.figure(built, "edit_burden", an.Filters()), "section")
    assert got["Plan"]["sections"] == 2
    assert got["Plan"]["mean_ned"] == pytest.approx(1 / 6)
    assert got["Plan"]["accept_as_is_rate"] == pytest.approx(0.5)
    assert got["Subjective"]["mean_ned"] == pytest.approx(0.5)
    assert got["Assessment"]["median_ned"] == 0
    one = rows(an.figure(built, "edit_burden", an.Filters(clinicians=("dr-a",))), "section")
    assert one["Plan"]["mean_ned"] == pytest.approx(1 / 3)


def test_sentence_outcomes_by_support_label(built) -> None:
    got = rows(an.figure(built, "sentence_outcomes", an.Filters()), "support_label")
    assert (got["supported"]["accepted"], got["supported"]["rejected"]) == (1, 1)
    assert got["partly_supported"]["accepted_rate"] == 1.0
    assert (got["unsupported"]["edited"], got["unsupported"]["edited_rate"]) == (1, 1.0)
    assert list(got) == ["supported", "partly_supported", "unsupported"]


def test_entity_confusion_shows_the_relabel_and_the_removal(built) -> None:
    """enc-2 (dr-b's): "days" relabelled, "cough" removed. (enc-1's entities are the NLP
    pipeline's re-extraction after its transcript fix, kept as they are: the diagonal.)"""
    df = an.figure(built, "entity_confusion", an.Filters(clinicians=("dr-b",)))
    cells = {(r.model_label, r.final_label): r.n for r in df.itertuples()}
    assert cells == {("PROBLEM", "TEST"): 1, ("PROBLEM", "(none)"): 1}
    kept = an.figure(built, "entity_confusion", an.Filters(clinicians=("dr-a",)))
    assert (kept.model_label == kept.final_label).all()


def test_an_entity_edited_twice_counts_once_and_a_fix_undone_is_no_asr_error(tmp_path, nlp) -> None:
    """enc-9: relabel PROBLEM -> TEST -> MEDICATION: one PROBLEM -> MEDICATION cell, no
    TEST. enc-10: correct "500" to "250", then back to "500": the transcript is as the
    machine heard it, so 0 word errors (summing the two fixes would say 2)."""
    store = st.open_store(tmp_path / "data")
    transcript, tv = add(store, "enc-9", "dr-a", "Cardiology")
    word = transcript.segments[1].text.split()[0]
    machine = (Entity(1, 0, len(word), word, "PROBLEM"),)
    st.save_entities(store, "enc-9", tv, machine, "nlp.test", "pipeline")
    v = st.relabel_entity(store, "enc-9", 1, 0, "TEST", "dr-a")
    st.relabel_entity(store, "enc-9", v, 0, "MEDICATION", "dr-a")
    transcript, tv = add(store, "enc-10", "dr-a", "Cardiology")
    original = transcript.segments[2].text
    for fix in (original.replace("500", "250"), original):
        version = st.get_transcript(store, "enc-10")[0]
        correct_transcript(store, nlp, "enc-10", version, [SegmentFix(2, text=fix)], "dr-a")
    for eid in ("enc-9", "enc-10"):
        st.save_draft(store, eid, draft(transcript, [("s0", "Plan", "Start.")]), 1, "dr-a")
        st.sign_note(store, eid, st.get_note(store, eid).version, "dr-a")
    an.refresh(store)
    with store.connect() as con:
        errors = con.execute(
            "SELECT asr_word_errors FROM analytics_encounters WHERE encounter_id = 'enc-10'"
        ).fetchone()[0]
    assert errors == 0
    cells = an.figure(store, "entity_confusion", an.Filters())
    chain = cells[cells.model_label == "PROBLEM"]
    assert chain.final_label.tolist() == ["MEDICATION"] and chain.n.tolist() == [1]
    assert "TEST" not in set(cells.model_label) | set(cells.final_label)


def test_asr_wer_from_transcript_corrections(built) -> None:
    got = rows(an.figure(built, "asr_wer", an.Filters()), "clinician")
    assert (got["dr-a"]["words"], got["dr-a"]["word_errors"]) == (23, 2)
    assert got["dr-a"]["wer"] == pytest.approx(2 / 23)
    assert got["dr-b"]["wer"] == 0


def test_time_adoption_and_model_versions(built) -> None:
    tts = an.figure(built, "time_to_sign", an.Filters())
    assert tts.signed.sum() == 2 and (tts.median_hours_to_sign < 1).all()
    adoption = rows(an.figure(built, "adoption", an.Filters()), "clinician")
    assert (adoption["dr-a"]["encounters"], adoption["dr-a"]["signed"]) == (2, 1)
    assert adoption["dr-a"]["signed_rate"] == 0.5
    assert adoption["dr-b"]["median_active_minutes"] == pytest.approx(0.25)
    versions = rows(an.figure(built, "model_versions", an.Filters()), "drafter_version")
    assert (versions["test-v1"]["signed"], versions["test-v2"]["signed"]) == (2, 0)
    # sections: 0, 0, 1/3 (enc-1), 1, 0 (enc-2); sentences: 1 rejected of 5
    assert versions["test-v1"]["mean_ned"] == pytest.approx((1 / 3 + 1) / 5)
    assert versions["test-v1"]["rejected_rate"] == pytest.approx(1 / 5)


def test_rubber_stamp_fast_signatures_and_unopened_flagged_accepts(built) -> None:
    got = rows(an.figure(built, "rubber_stamp", an.Filters()), "clinician")
    assert (got["dr-a"]["fast_signatures"], got["dr-b"]["fast_signatures"]) == (1, 0)
    assert (got["dr-a"]["flagged_accepted"], got["dr-a"]["flagged_unopened_accepted"]) == (1, 0)
    assert got["dr-b"]["flagged_unopened_accepted"] == 1 and got["dr-b"]["unopened_rate"] == 1


@pytest.mark.parametrize(
    ("filters", "ingested", "signed"),
    [
        (an.Filters(clinicians=("dr-a",)), 2, 1),
        (an.Filters(specialties=("Primary care",)), 1, 1),
        (an.Filters(note_types=("progress",)), 1, 0),
        (an.Filters(model_versions=("test-v1",)), 2, 2),
        (an.Filters(simulated=True), 1, 0),
        (an.Filters(simulated=False), 2, 2),
        (an.Filters(start=TODAY + timedelta(days=1)), 0, 0),
        (an.Filters(end=TODAY - timedelta(days=1)), 0, 0),
        (an.Filters(start=TODAY, end=TODAY), 3, 2),
    ],
)
def test_filters_change_the_figures(built, filters, ingested, signed) -> None:
    got = an.figures(built, filters)
    assert got["volume"].ingested.sum() == ingested
    assert got["volume"].signed.sum() == signed
    assert got["adoption"].signed.sum() == signed


def test_bad_filters_are_refused_clearly(built) -> None:
    with pytest.raises(ValueError, match="grain"):
        an.figures(built, an.Filters(grain="year"))
    with pytest.raises(ValueError, match="after the end date"):
        an.figure(built, "volume", an.Filters(start=TODAY, end=TODAY - timedelta(days=2)))
    with pytest.raises(ValueError, match="Unknown figure"):
        an.figure(built, "nope", an.Filters())


def test_figures_carry_no_encounter_ids_or_text(built) -> None:
    got = an.figures(built.as_actor(ANALYST), an.Filters())
    assert list(got) == list(an.FIGURES)
    shown = repr({k: v.to_dict("records") for k, v in got.items()})
    for secret in ("enc-1", "enc-2", "Visit", "Cough", "abd", "headache", "ibuprofen"):
        assert secret not in shown


def test_analyst_sees_aggregates_admin_drills_down_clinician_sees_nothing(built) -> None:
    analyst = built.as_actor(ANALYST)
    assert an.filter_options(analyst).simulated == 1
    with pytest.raises(Forbidden, match=r"analytics\.drilldown"):
        an.drilldown(analyst, an.Filters())
    with pytest.raises(Forbidden, match=r"analytics\.view"):
        an.figures(built.as_actor(Actor("dr-a", "clinician")), an.Filters())
    admin = built.as_actor(ADMIN)
    fast = an.drilldown(admin, an.Filters(), fast_sign=True)
    assert list(fast.encounter_id) == ["enc-1"]
    relabelled = an.drilldown(admin, an.Filters(), model_label="PROBLEM", final_label="TEST")
    assert list(relabelled.encounter_id) == ["enc-2"]
    top = an.drilldown(admin, an.Filters(), limit=1)
    assert list(top.encounter_id) == ["enc-2"]  # mean ned 1/2 beats enc-1's 1/9
    assert top.ned[0] == pytest.approx(0.5)


def test_filter_options(built) -> None:
    opts = an.filter_options(built)
    assert opts.clinicians == ("dr-a", "dr-b") and opts.note_types == ("progress", "soap")
    assert opts.model_versions == ("test-v1", "test-v2")
    assert (opts.first_date, opts.encounters, opts.clinician_names["dr-a"]) == (TODAY, 3, "DR-A")


def test_incremental_refresh_picks_up_a_new_signature_only(built) -> None:
    with built.connect() as con:
        before = dict(
            con.execute("SELECT encounter_id, refreshed_at FROM analytics_encounters").fetchall()
        )
    assert an.refresh(built).encounters == 0
    st.sign_note(built, "enc-3", 1, "dr-a")
    result = an.refresh(built.as_actor(ANALYST))
    assert result.encounters == 1
    with built.connect() as con:
        after = dict(
            con.execute("SELECT encounter_id, refreshed_at FROM analytics_encounters").fetchall()
        )
    assert after["enc-1"] == before["enc-1"] and after["enc-2"] == before["enc-2"]
    assert after["enc-3"] > before["enc-3"]
    assert an.figure(built, "volume", an.Filters(simulated=True)).signed.sum() == 1
    assert an.refresh(built, full=True).encounters == 3
    assert an.figure(built, "volume", an.Filters()).signed.sum() == 3


def test_clinician_may_not_refresh(built) -> None:
    with pytest.raises(Forbidden):
        an.refresh(built.as_actor(Actor("dr-a", "clinician")))


def test_figures_at_a_few_thousand_encounters_stay_small(tmp_path) -> None:
    """3,000 simulated encounters: every figure is an aggregate (a few rows), and the Python
    heap grows by far less than the facts would take as DataFrames."""
    from workbench.simulate import SimulationSpec, simulate

    store = st.open_store(tmp_path / "data")
    simulate(store, SimulationSpec(encounters=3000, seed=7))
    assert an.refresh(store, full=True).encounters == 3000
    tracemalloc.start()
    got = an.figures(store, an.Filters(grain="month"))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 5_000_000
    assert got["adoption"].encounters.sum() == 3000
    assert sum(len(df) for df in got.values()) < 500
    assert 0 < got["edit_burden"].mean_ned.max() <= 1


def test_benchmark_reports_page_and_figure_percentiles(tmp_path, monkeypatch) -> None:
    """The benchmark at a tiny scale: builds its cached store, then reuses it."""
    from benchmarks import analytics as bench

    monkeypatch.setenv("SCRIBE_CACHE", str(tmp_path))
    report = bench.run(encounters=200, seed=3, repeats=20)
    assert report["encounters"] == 200 and report["events"] > 200 * 40
    assert 0 < report["p50_ms"] <= report["p95_ms"]
    assert set(report["figures"]) == set(an.FIGURES)
    assert bench.run(encounters=200, seed=3, repeats=20)["build_s"] < report["build_s"]
