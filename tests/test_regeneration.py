"""Targeted regeneration: a transcript correction re-drafts only the sentences whose
evidence it changed, never a clinician's own sentences (those are flagged instead).

The merge rules on hand-built sentences; then the whole path with a real DuckDB file, the
real spaCy pipeline and the default (learned) drafter; then the Review page via AppTest.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from pipelines.drafting.regenerate import regenerate
from pipelines.editing import apply_sentence_edits
from pipelines.transcript_edit import SegmentFix, apply_fix
from pipelines.types import Evidence, NoteSentence
from tests.conftest import make_transcript, open_review, seed_encounter
from workbench import store as st
from workbench.corrections import correct_transcript
from workbench.jobs import Engine, PipelineOptions, draft_encounter

SECTIONS = ("hpi", "plan")
VISIT = make_transcript(
    [
        ("clinician", "Hi, what brings you in today?"),
        (
            "patient",
            "I've been having pain in my right knee for about two weeks. "
            "I hurt it playing basketball.",
        ),
        ("clinician", "Any fever or chills?"),
        ("patient", "No."),
        ("clinician", "Are you taking any medicines?"),
        ("patient", "I take metformin 500 milligrams twice a day for my diabetes."),
        (
            "clinician",
            "Okay. On exam of your right knee, there is swelling and tenderness over the "
            "medial joint line.",
        ),
        ("clinician", "I think you have a medial meniscus tear."),
        (
            "clinician",
            "I'm going to start you on meloxicam fifteen milligrams once a day, and I'll refer "
            "you to physical therapy.",
        ),
        ("patient", "Okay, thank you."),
    ]
)
MED = 5  # the segment with the dose
FIXED = "I take metformin 1000 milligrams twice a day for my diabetes."


# -- the merge rules, on hand-built sentences ---------------------------------------------


def _s(sid: str, section: str, text: str, *segs: int, origin: str = "machine") -> NoteSentence:
    return NoteSentence(
        sid, section, text, tuple(Evidence(i, 0, 5, 0.0, 1.0) for i in segs), origin
    )


def _fix(idx: int, old: str, new: str):
    seg = make_transcript([("patient", "x")] * idx + [("patient", old)]).segments[idx]
    return {idx: (seg, apply_fix(seg, SegmentFix(idx, text=new))[0])}


def test_only_machine_sentences_of_the_changed_segment_are_replaced_in_place() -> None:
    current = (
        _s("a", "hpi", "Knee pain.", 1),
        _s("b", "hpi", "Takes metformin 500 mg.", 5),
        _s("c", "plan", "Meloxicam.", 8),
    )
    fresh = (
        _s("f1", "hpi", "Knee pain.", 1),
        _s("f2", "hpi", "Takes metformin 1000 mg.", 5),
        _s("f3", "plan", "Meloxicam daily.", 8),
    )
    out = regenerate(
        current, _fix(5, "metformin 500", "metformin 1000"), fresh, SECTIONS, salt="v2"
    )
    assert [s.text for s in out.sentences] == [
        "Knee pain.",
        "Takes metformin 1000 mg.",
        "Meloxicam.",
    ]
    assert out.sentences[0] is current[0] and out.sentences[2] is current[2]
    new = out.sentences[1]
    assert new.sentence_id not in {"b", "f2"} and new.origin == "machine"
    assert out.replaced == ("b",) and out.redrafted == (new.sentence_id,)
    assert out.added == () and out.flagged == () and out.kept == ("a", "c")
    again = regenerate(
        current, _fix(5, "metformin 500", "metformin 1000"), fresh, SECTIONS, salt="v3"
    )
    assert again.sentences[1].sentence_id != new.sentence_id  # unique per correction


def test_same_wording_keeps_the_old_sentence_and_its_id() -> None:
    current = (_s("b", "hpi", "Takes metformin.", 5),)
    out = regenerate(
        current,
        _fix(5, "metformin 500", "metformin 1000"),
        (_s("f", "hpi", "Takes  metformin.", 5),),
        SECTIONS,
    )
    assert [(s.sentence_id, s.text) for s in out.sentences] == [("b", "Takes metformin.")]
    assert out.redrafts == () and out.kept == ("b",)


def test_a_persons_sentence_is_kept_flagged_and_not_duplicated() -> None:
    edited = _s("b", "hpi", "Metformin 500 mg, tolerating well.", 5, origin="human")
    moved = _s("m", "plan", "Recheck sugars.", 5)  # moved here by a person, still "machine"
    current = (_s("a", "hpi", "Knee pain.", 1), edited, moved)
    fresh = (
        _s("f2", "hpi", "Takes metformin 1000 mg.", 5),
        _s("f3", "plan", "Recheck sugars on metformin 1000 mg.", 5),
    )
    out = regenerate(
        current, _fix(5, "metformin 500", "metformin 1000"), fresh, SECTIONS, human_ids={"m"}
    )
    assert [s.text for s in out.sentences] == [s.text for s in current]
    assert [s.sentence_id for s in out.sentences] == ["a", "b", "m"]
    assert out.flagged == ("b", "m") and out.redrafts == ()


def test_a_deleted_draft_sentence_is_not_brought_back() -> None:
    current = (_s("a", "hpi", "Knee pain.", 1),)
    gone = _s("b", "hpi", "Takes metformin 500 mg.", 5)
    fresh = (_s("f2", "hpi", "Takes metformin 1000 mg.", 5),)
    fix = _fix(5, "metformin 500", "metformin 1000")
    assert regenerate(current, fix, fresh, SECTIONS, declined=(gone,)).sentences == current
    added = regenerate(current, fix, fresh, SECTIONS)  # never deleted: it is new, so added
    assert [s.text for s in added.sentences] == ["Knee pain.", "Takes metformin 1000 mg."]
    assert added.added == (added.sentences[1].sentence_id,) and added.replaced == ()


def test_added_sentences_go_in_transcript_order_and_section_order() -> None:
    current = (_s("a", "hpi", "Knee pain.", 1), _s("c", "hpi", "Exam.", 7))
    fresh = (
        _s("f1", "hpi", "Takes metformin 1000 mg.", 5),
        _s("f2", "plan", "Continue metformin 1000 mg.", 5),
        _s("f3", "other", "Not a section of this note.", 5),
    )
    out = regenerate(current, _fix(5, "metformin 500", "metformin 1000"), fresh, SECTIONS)
    assert [(s.section, s.text) for s in out.sentences] == [
        ("hpi", "Knee pain."),
        ("hpi", "Takes metformin 1000 mg."),
        ("hpi", "Exam."),
        ("plan", "Continue metformin 1000 mg."),
    ]


def test_evidence_of_kept_sentences_follows_the_corrected_words() -> None:
    fix = _fix(0, "I take met for min daily.", "I take metformin daily.")
    new = fix[0][1]
    mine = NoteSentence("h", "hpi", "On metformin.", (Evidence(0, 7, 18, 0.0, 1.0),), "human")
    out = regenerate((mine,), fix, (), SECTIONS)
    ev = out.sentences[0].evidence[0]
    assert new.text[ev.start_char : ev.end_char] == "metformin" and out.flagged == ("h",)


# -- the whole path: real store, real NLP, the default drafter ------------------------------


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(PipelineOptions())


@pytest.fixture(scope="module")
def visit_entities(engine):
    from pipelines.nlp import extract_entities

    return extract_entities(engine.nlp, VISIT)


@pytest.fixture
def visit(tmp_path: Path, engine, visit_entities) -> tuple[st.Store, str]:
    draft = draft_encounter(engine, "enc-r", VISIT, visit_entities)
    store = seed_encounter(tmp_path / "data", "enc-r", VISIT, entities=visit_entities, draft=draft)
    return store, "enc-r"


def _med(note) -> list[NoteSentence]:
    return [s for s in note.draft.sentences if any(e.segment_idx == MED for e in s.evidence)]


def _others(note) -> list[NoteSentence]:
    return [s for s in note.draft.sentences if s not in _med(note)]


def test_corrected_dose_is_redrafted_and_nothing_else_changes(visit, engine) -> None:
    store, enc = visit
    before = st.get_note(store, enc)
    assert any("metformin 500" in s.text for s in _med(before))
    result = correct_transcript(
        store, engine.nlp, enc, 1, [SegmentFix(MED, text=FIXED)], "dr-a", engine=engine
    )
    after = st.get_note(store, enc)
    assert after.version == before.version + 1 and result.note_version == after.version
    med = _med(after)
    assert any("metformin 1000" in s.text for s in med)
    assert not any("500" in s.text for s in after.draft.sentences)
    assert all(s.origin == "machine" for s in med)
    assert [(s.sentence_id, s.text, s.evidence) for s in _others(after)] == [
        (s.sentence_id, s.text, s.evidence) for s in _others(before)
    ]
    regen = result.regeneration
    assert set(regen.replaced) == {s.sentence_id for s in _med(before)}
    assert set(regen.redrafted) | set(regen.added) == {s.sentence_id for s in med}

    events = st.list_events(store, enc)
    redone = [e for e in events if e.kind == "sentence.regenerated"]
    assert redone and all(e.note_version == after.version for e in redone)
    assert all(e.model_version == before.draft.model_version for e in redone)
    assert any("500" in e.before["text"] and "1000" in e.after["text"] for e in redone)
    kinds = {e.kind for e in events}
    assert not kinds & {"sentence.added", "sentence.deleted", "sentence.edited"}
    assert "transcript.word_corrected" in kinds


def test_clinicians_sentence_is_kept_and_flagged_until_edited(visit, engine) -> None:
    store, enc = visit
    note = st.get_note(store, enc)
    target = _med(note)[0]
    mine = "Metformin 500 mg twice daily, tolerating it well."
    v2 = st.save_note(
        store,
        enc,
        note.version,
        apply_sentence_edits(note.draft.sentences, {target.sentence_id: mine}),
        "dr-a",
    )
    result = correct_transcript(
        store, engine.nlp, enc, 1, [SegmentFix(MED, text=FIXED)], "dr-a", engine=engine
    )
    after = st.get_note(store, enc)
    kept = next(s for s in after.draft.sentences if s.sentence_id == target.sentence_id)
    assert kept.text == mine and kept.origin == "human"
    assert result.regeneration.flagged == (target.sentence_id,)
    assert not [s for s in _med(after) if s.section == target.section and s is not kept]
    flag = [e for e in st.list_events(store, enc) if e.kind == "sentence.evidence_changed"]
    assert [e.object_id for e in flag] == [target.sentence_id] and flag[0].note_version == v2 + 1
    assert st.evidence_changed_ids(store, enc) == {target.sentence_id}

    st.save_note(
        store,
        enc,
        after.version,
        apply_sentence_edits(
            after.draft.sentences, {target.sentence_id: "Metformin 1000 mg twice daily."}
        ),
        "dr-a",
    )
    assert st.evidence_changed_ids(store, enc) == set()


def test_sentence_the_clinician_deleted_is_not_redrafted(visit, engine) -> None:
    store, enc = visit
    note = st.get_note(store, enc)
    gone = {s.sentence_id for s in _med(note)}
    st.save_note(
        store,
        enc,
        note.version,
        tuple(s for s in note.draft.sentences if s.sentence_id not in gone),
        "dr-a",
    )
    result = correct_transcript(
        store, engine.nlp, enc, 1, [SegmentFix(MED, text=FIXED)], "dr-a", engine=engine
    )
    assert result.regeneration.added == () and result.regeneration.redrafted == ()
    assert not any("metformin" in s.text for s in st.get_note(store, enc).draft.sentences)


def test_signed_note_is_untouched(visit, engine) -> None:
    store, enc = visit
    note = st.get_note(store, enc)
    st.sign_note(store, enc, note.version, "dr-a")
    result = correct_transcript(
        store, engine.nlp, enc, 1, [SegmentFix(MED, text=FIXED)], "dr-a", engine=engine
    )
    assert result.note_version is None and result.regeneration is None
    assert st.get_note(store, enc).draft == note.draft
    assert not [e for e in st.list_events(store, enc) if e.kind == "sentence.regenerated"]


def test_concurrent_correction_is_refused_and_writes_nothing(visit, engine) -> None:
    store, enc = visit
    correct_transcript(
        store, engine.nlp, enc, 1, [SegmentFix(0, speaker="patient")], "dr-b", engine=engine
    )
    note = st.get_note(store, enc)
    with pytest.raises(st.ConcurrentEdit):
        correct_transcript(
            store, engine.nlp, enc, 1, [SegmentFix(MED, text=FIXED)], "dr-a", engine=engine
        )
    assert st.get_note(store, enc).version == note.version
    assert not [e for e in st.list_events(store, enc) if e.kind == "sentence.regenerated"]


def test_without_an_engine_only_evidence_moves(visit, engine) -> None:
    store, enc = visit
    before = st.get_note(store, enc)
    result = correct_transcript(store, engine.nlp, enc, 1, [SegmentFix(MED, text=FIXED)], "dr-a")
    assert result.regeneration is None
    after = st.get_note(store, enc)
    assert [s.text for s in after.draft.sentences] == [s.text for s in before.draft.sentences]


# -- the Review page ---------------------------------------------------------------------


def test_review_page_says_what_was_redrafted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine, visit_entities
) -> None:
    data = tmp_path / "data"
    draft = draft_encounter(engine, "enc-ui", VISIT, visit_entities)
    mine = replace(draft.sentences[0], text="Right knee pain, two weeks.", origin="human")
    draft = replace(draft, sentences=(mine, *draft.sentences[1:]))
    store = seed_encounter(data, "enc-ui", VISIT, entities=visit_entities, draft=draft)
    at = open_review(monkeypatch, data, "enc-ui")
    at.selectbox(key="fix_segment").select(MED).run()
    at.text_area(key=f"fix-text-1-{MED}").input(FIXED).run()
    at.button(key="fix_save").click().run()
    assert not at.exception, at.exception
    note = st.get_note(store, "enc-ui")
    assert note.transcript_version == 2
    assert sum("metformin 1000" in s.text for s in note.draft.sentences) == 1
    message = " ".join(s.value for s in at.success)
    assert "1 sentence re-drafted from your correction" in message
    rows = [m.value for m in at.markdown if "-badge[" in m.value]  # a sentence with its badges
    assert any("metformin 1000" in r for r in rows)
    assert not any("metformin 500" in r for r in rows)

    at.selectbox(key="fix_segment").select(1).run()
    at.text_area(key="fix-text-2-1").input(
        "I've been having pain in my right knee for about three weeks. "
        "I hurt it playing basketball."
    ).run()
    at.button(key="fix_save").click().run()
    assert not at.exception, at.exception
    message = " ".join(s.value for s in at.success)
    assert "1 sentence you wrote kept as written" in message
    badges = " ".join(m.value for m in at.markdown)
    assert "evidence changed since you edited this" in badges
    kept = st.get_note(store, "enc-ui").draft.sentences[0]
    assert kept.sentence_id == mine.sentence_id and kept.text == mine.text


def test_a_relabelled_speaker_is_redrafted_too(tmp_path: Path, engine) -> None:
    """Who spoke decides the section: the clinician's impression, mislabelled as the patient's,
    is a patient's statement until the speaker is corrected, then it is the assessment."""
    from pipelines.nlp import extract_entities

    impression = 7
    segments = list(VISIT.segments)
    segments[impression] = replace(segments[impression], speaker="patient")
    mislabelled = VISIT.with_segments(tuple(segments))
    entities = extract_entities(engine.nlp, mislabelled)
    draft = draft_encounter(engine, "enc-s", mislabelled, entities)
    store = seed_encounter(tmp_path / "data", "enc-s", mislabelled, entities=entities, draft=draft)
    before = st.get_note(store, "enc-s")
    assert not any("Likely a medial meniscus tear" in s.text for s in before.draft.sentences)

    result = correct_transcript(
        store,
        engine.nlp,
        "enc-s",
        1,
        [SegmentFix(impression, speaker="clinician")],
        "dr-a",
        engine=engine,
    )
    after = st.get_note(store, "enc-s")
    assert result.regeneration is not None and result.regeneration.replaced
    assessed = [
        s for s in after.draft.sentences if any(e.segment_idx == impression for e in s.evidence)
    ]
    assert any("Likely a medial meniscus tear" in s.text for s in assessed)
    untouched = [
        s
        for s in before.draft.sentences
        if not any(e.segment_idx == impression for e in s.evidence)
    ]
    assert all(s in after.draft.sentences for s in untouched)


def test_a_redrafted_sentence_follows_the_clinicians_style(tmp_path: Path, engine) -> None:
    """The re-draft of a personalised note is personalised too, so it reads like the rest."""
    from pipelines.drafting.style import ClinicianStyle, PhraseRule, apply_style, describe

    style = ClinicianStyle(notes=3, phrasings=(PhraseRule("The patient", "Pt", 3, 1.0),))
    from pipelines.nlp import extract_entities

    entities = extract_entities(engine.nlp, VISIT)
    draft = apply_style(draft_encounter(engine, "enc-p", VISIT, entities), style)
    store = seed_encounter(tmp_path / "data", "enc-p", VISIT, entities=entities, draft=draft)
    st.save_style(store, "dr-a", style.to_dict(), describe(style), "dr-a")
    assert any(
        s.text.startswith("Pt takes metformin 500") for s in _med(st.get_note(store, "enc-p"))
    )

    correct_transcript(
        store, engine.nlp, "enc-p", 1, [SegmentFix(MED, text=FIXED)], "dr-a", engine=engine
    )
    med = _med(st.get_note(store, "enc-p"))
    assert any(s.text.startswith("Pt takes metformin 1000") for s in med)
    assert not any(s.text.startswith("The patient") for s in med)
